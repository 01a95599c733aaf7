"""The `ecp` command line: a thin click shell over the stages.

Each command module registers on `cli`; errors become messages and exit codes in one place
(`compiler.cli.app.main`). Exit codes: 0 ok, 1 findings or errors in what was checked, 2 bad usage.
"""

import compiler.cli.compile_cmd
import compiler.cli.publish_cmd
import compiler.cli.serve_cmd  # noqa: F401 - registers `ecp serve`
from compiler.cli.app import cli, main

__all__ = ["cli", "main"]
