# Fixture: semgrep --test ignores `paths`; localcloud/tests/architecture checks them.
# ruleid: localcloud-cloud-below-testing
from localcloud.testing.stacks import Something

# ruleid: localcloud-cloud-below-testing
import localcloud.testing.stacks

# ruleid: localcloud-cloud-below-testing
from localcloud import testing

# ok: localcloud-cloud-below-testing
from localcloud.runtime.processes import Something

# ok: localcloud-cloud-below-testing
import moto

# ok: localcloud-cloud-below-testing
from localcloud_extras.testing import Something

# ruleid: localcloud-cloud-below-testing
from localcloud import (
    errors,
    testing,
)

# ok: localcloud-cloud-below-testing
from localcloud.cloud import testing
