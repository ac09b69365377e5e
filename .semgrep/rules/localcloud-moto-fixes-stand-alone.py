# Fixture: semgrep --test ignores `paths`; localcloud/tests/architecture checks them.
# ruleid: localcloud-moto-fixes-stand-alone
from localcloud.emulator import Something

# ruleid: localcloud-moto-fixes-stand-alone
import localcloud.emulator

# ruleid: localcloud-moto-fixes-stand-alone
from localcloud import net

# ok: localcloud-moto-fixes-stand-alone
from localcloud.moto_fixes.ecr import Something

# ok: localcloud-moto-fixes-stand-alone
import moto

# ok: localcloud-moto-fixes-stand-alone
from localcloud_extras.emulator import Something

# ruleid: localcloud-moto-fixes-stand-alone
from localcloud import (
    emulator,
    errors,
)

# ok: localcloud-moto-fixes-stand-alone
from localcloud.moto_fixes import net
