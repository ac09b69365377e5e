# Fixture: semgrep --test ignores `paths`; localcloud/tests/architecture checks them.
# ruleid: localcloud-ecs-below-the-runtimes
from localcloud.runtime.scripted import Something

# ruleid: localcloud-ecs-below-the-runtimes
import localcloud.runtime.scripted

# ruleid: localcloud-ecs-below-the-runtimes
from localcloud import runtime

# ok: localcloud-ecs-below-the-runtimes
from localcloud.alb import Something

# ok: localcloud-ecs-below-the-runtimes
import moto

# ok: localcloud-ecs-below-the-runtimes
from localcloud_extras.runtime import Something

# ruleid: localcloud-ecs-below-the-runtimes
from localcloud import (
    errors,
    cloud,
)

# ok: localcloud-ecs-below-the-runtimes
from localcloud.ecs import runtime
