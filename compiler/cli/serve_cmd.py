"""`ecp serve`: the HTTP API (Starlette app from compiler.service) on uvicorn, port 8001 by default.

A thin shell: settings from --root / ecp.toml / ECP_*, then uvicorn.run on create_app(settings).
"""

from __future__ import annotations

import click
import uvicorn

from compiler.cli.app import cli, settings_from
from compiler.service.app import create_app

DEFAULT_HOST = "0.0.0.0"  # noqa: S104 - `make run` serves the API to the network, as documented
DEFAULT_PORT = 8001


@cli.command("serve")
@click.option("--host", default=DEFAULT_HOST, show_default=True, help="Interface to listen on.")
@click.option(
    "--port",
    default=DEFAULT_PORT,
    show_default=True,
    type=click.IntRange(0, 65535),
    help="TCP port.",
)
@click.option(
    "--log-level",
    type=click.Choice(["critical", "error", "warning", "info", "debug"]),
    default="info",
    show_default=True,
)
@click.pass_context
def serve_command(ctx: click.Context, host: str, port: int, log_level: str) -> None:
    """Serve the API (tenants, manifests, deployment status, monitoring) over HTTP."""
    app = create_app(settings_from(ctx))
    uvicorn.run(app, host=host, port=port, log_level=log_level, server_header=False)
