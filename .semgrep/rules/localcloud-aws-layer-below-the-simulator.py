# Fixture: semgrep --test ignores `paths`; localcloud/tests/architecture checks them.
# ruleid: localcloud-aws-layer-below-the-simulator
from localcloud.ecs.simulator import Something

# ruleid: localcloud-aws-layer-below-the-simulator
import localcloud.ecs.simulator

# ruleid: localcloud-aws-layer-below-the-simulator
from localcloud import ecs

# ok: localcloud-aws-layer-below-the-simulator
from localcloud.moto_fixes import Something

# ok: localcloud-aws-layer-below-the-simulator
import moto

# ok: localcloud-aws-layer-below-the-simulator
from localcloud_extras.ecs import Something

# ruleid: localcloud-aws-layer-below-the-simulator
from localcloud import (
    errors,
    testing,
)

# ok: localcloud-aws-layer-below-the-simulator
from localcloud.moto_fixes import ecs
