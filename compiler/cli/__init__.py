"""The `ecp` command line: a thin click shell over the stages.

Command modules load on first use and register on `cli` (see `LAZY_COMMANDS`); errors become
messages and exit codes in one place (`compiler.cli.app.main`). Exit codes: 0 ok, 1 findings or
errors in what was checked, 2 bad usage.
"""

import os

# ecp uses no pydantic plugins; without this pydantic scans every installed distribution's entry
# points when it builds its first model (~20-40 ms of every command, bench/bench_calc_cli.py).
# setdefault: a user who does want a plugin can still say so.
os.environ.setdefault("PYDANTIC_DISABLE_PLUGINS", "__all__")

from compiler.cli.app import cli, main  # after the environment it reads

__all__ = ["cli", "main"]
