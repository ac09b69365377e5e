# Fixture: semgrep --test ignores `paths`; test_semgrep_rules.py checks the path scoping.
# ruleid: service-no-backtracking-jsonschema
import jsonschema

# ruleid: service-no-backtracking-jsonschema
from jsonschema import Draft202012Validator

# ruleid: service-no-backtracking-jsonschema
import jsonschema.exceptions as schema_errors

# ok: service-no-backtracking-jsonschema
import jsonschema_rs

# ok: service-no-backtracking-jsonschema
from jsonschema_rs import validator_for
