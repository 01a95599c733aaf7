"""The `ecp` command line: a thin click shell over the stages.

Command modules load on first use and register on `cli` (see `LAZY_COMMANDS`); errors become
messages and exit codes in one place (`compiler.cli.app.main`). Exit codes: 0 ok, 1 findings or
errors in what was checked, 2 bad usage.
"""

from compiler.cli.app import cli, main

__all__ = ["cli", "main"]
