"""The HTTP API (Starlette): a thin shell over the compiler, publishing and monitoring."""
