"""The click group, --root, and the single place where errors become messages and exit codes.

Exit codes: 0 ok; 1 errors or findings in what was checked (or an expected failure such as a bad
spec); 2 bad usage; 70 an internal error (a bug: ECP_DEBUG=1 shows its traceback).
"""

from __future__ import annotations

import importlib
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import click

from compiler import __version__
from compiler.errors import OrchestratorError

if TYPE_CHECKING:  # imported by settings_from: `ecp --version` and `--help` load no pydantic
    from compiler.settings import Settings

EXIT_OK, EXIT_FINDINGS, EXIT_USAGE = 0, 1, 2
EXIT_INTERNAL = 70  # EX_SOFTWARE (sysexits.h): CI can tell a crash from a finding
# Command modules, imported on first use: `ecp compile` need not load uvicorn or GitPython, and
# `ecp --version` loads neither. Each module registers its commands on `cli` when imported.
LAZY_COMMANDS = {
    "compile": "compiler.cli.compile_cmd",
    "validate": "compiler.cli.validate_cmd",
    "calc": "compiler.cli.calc_cmd",
    "new": "compiler.cli.compile_cmd",
    "schema": "compiler.cli.compile_cmd",
    "init": "compiler.cli.init_cmd",
    "publish": "compiler.cli.publish_cmd",
    "diff": "compiler.cli.publish_cmd",
    "deployments": "compiler.cli.publish_cmd",
    "serve": "compiler.cli.serve_cmd",
    "token": "compiler.cli.token_cmd",
    "audit": "compiler.cli.token_cmd",
}


class LazyGroup(click.Group):
    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(set(super().list_commands(ctx)) | set(LAZY_COMMANDS))

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in self.commands and cmd_name in LAZY_COMMANDS:
            importlib.import_module(LAZY_COMMANDS[cmd_name])
        return super().get_command(ctx, cmd_name)


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--root",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path(),
    show_default=True,
    help="Workspace holding tenants/, presets/ and output/.",
)
@click.version_option(__version__, prog_name="ecp")
@click.pass_context
def cli(ctx: click.Context, root: Path) -> None:
    """ECP-AI Orchestrator: compile tenant specs into validated Kubernetes manifests."""
    ctx.obj = root.resolve()


def settings_from(ctx: click.Context, **overrides: object) -> Settings:
    """The one Settings object a command hands to the stages (never the click context)."""
    from compiler.settings import Settings

    root = ctx.find_root().obj
    assert isinstance(root, Path)
    return Settings.load(root, **overrides)


def main() -> None:
    try:
        code = cli.main(prog_name="ecp", standalone_mode=False)
    except click.exceptions.Exit as exc:
        sys.exit(exc.exit_code)
    except click.ClickException as exc:
        exc.show()
        sys.exit(EXIT_USAGE)
    except click.exceptions.Abort:
        click.echo("aborted", err=True)
        sys.exit(EXIT_FINDINGS)
    except OrchestratorError as exc:
        click.echo(f"error: {exc} [{exc.code}]", err=True)
        sys.exit(exc.exit_code)
    except KeyboardInterrupt:
        sys.exit(130)
    except Exception as exc:  # a bug of ours, not the user's input: say so, keep it short
        if os.environ.get("ECP_DEBUG"):
            raise
        click.echo(
            f"internal error: {type(exc).__name__}: {exc} (a bug in ecp; run with ECP_DEBUG=1 "
            "for the traceback and report it)",
            err=True,
        )
        sys.exit(EXIT_INTERNAL)
    sys.exit(code if isinstance(code, int) else EXIT_OK)
