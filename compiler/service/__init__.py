"""The HTTP API (Starlette): a thin shell over the compiler, publishing, monitoring and access
control (one middleware, access_middleware.py, and one guard per route, guard.py)."""
