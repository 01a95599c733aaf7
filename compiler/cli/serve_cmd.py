"""`ecp serve`: the HTTP API (Starlette app from compiler.service) on uvicorn, port 8001 by default.

A thin shell: settings from --root / ecp.toml / ECP_*, the safe-defaults check, then the
service's own uvicorn set-up (compiler/service/serving.py: timeouts, a connection limit) on
create_app(settings). Binds 127.0.0.1 unless told otherwise; auth = "none" only on loopback.
"""

from __future__ import annotations

import ipaddress

import click

from compiler.access.tokens import TokenStore
from compiler.cli.app import cli, settings_from
from compiler.errors import UsageError
from compiler.service.app import create_app
from compiler.service.serving import serve
from compiler.settings import Settings

DEFAULT_HOST = "127.0.0.1"  # `--host 0.0.0.0` serves the network: an explicit choice
DEFAULT_PORT = 8001


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_auth(settings: Settings, host: str) -> None:
    """auth = "none" lets anyone who reaches the port do anything: loopback only, and said."""
    if settings.auth != "none":
        tokens = TokenStore(settings.resolve(settings.tokens_path))
        if not settings.oidc_issuer and not tokens.records():
            click.echo(
                "note: no API tokens yet: every real-mode call will be 401; create one with "
                "`ecp token create --name NAME --role admin` (make run does it for you)",
                err=True,
            )
        return
    if not is_loopback(host):
        raise UsageError(
            f'auth = "none" (ECP_AUTH=none) is refused on {host}: anyone on the network could '
            "change tenants. Bind 127.0.0.1, or create a token with `ecp token create`."
        )
    click.echo(
        'warning: auth = "none": every local caller is an admin (local experiments only)',
        err=True,
    )


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
    check_auth(settings, host)
    serve(create_app(settings, freeze_heap=True), settings, host, port, log_level)
