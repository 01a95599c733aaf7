"""The click group, --root, and the single place where errors become messages and exit codes."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from compiler import __version__


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
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


def main() -> None:
    cli.main(prog_name="ecp")
    sys.exit(0)
