# Fixture: semgrep --test ignores `paths`; localcloud/tests/architecture checks them.
# ruleid: localcloud-runtime-below-the-cloud
from localcloud.cloud.state import Something

# ruleid: localcloud-runtime-below-the-cloud
import localcloud.cloud.state

# ruleid: localcloud-runtime-below-the-cloud
from localcloud import cloud

# ok: localcloud-runtime-below-the-cloud
from localcloud.ecs.taskruntime import Something

# ok: localcloud-runtime-below-the-cloud
import moto

# ok: localcloud-runtime-below-the-cloud
from localcloud_extras.cloud import Something

# ruleid: localcloud-runtime-below-the-cloud
from localcloud import (
    errors,
    testing,
)

# ok: localcloud-runtime-below-the-cloud
from localcloud.runtime import cloud
