"""`ecp serve`: the HTTP API (Starlette app from compiler.service) on uvicorn, port 8001 by default.

A thin shell: settings from --root / ecp.toml / ECP_*, then the service's own uvicorn set-up
(compiler/service/serving.py: timeouts and a connection limit) on create_app(settings).
"""

from __future__ import annotations

import click

from compiler.cli.app import cli, settings_from
from compiler.service.app import create_app
from compiler.service.serving import serve

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
    settings = settings_from(ctx)
    serve(create_app(settings), settings, host, port, log_level)
