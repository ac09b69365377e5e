from fastapi import FastAPI
from starlette.applications import Starlette

# ruleid: fastapi-no-debug
app = FastAPI(title="x", debug=True)

# ruleid: fastapi-no-debug
inner = Starlette(debug=True)

# ruleid: fastapi-no-debug
app.debug = True

# ok: fastapi-no-debug
safe = FastAPI(title="x")

# ok: fastapi-no-debug
also_safe = FastAPI(debug=False)
