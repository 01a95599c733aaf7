"""`ecp token create|list|revoke|bootstrap` and `ecp audit`: a thin shell over compiler.access.

Tokens are printed once, at creation, and never again; `list` shows names, roles, scopes and
states, never a hash. `bootstrap` (what `make run` calls) makes the first admin token and keeps it
in `.ecp/admin-token` (mode 0600) for the person who started the server.
"""

from __future__ import annotations

import os
import time
from datetime import UTC, datetime
from pathlib import Path

import click

from compiler.access.audit_log import AuditLog
from compiler.access.history import AuditQuery, audit_trail
from compiler.access.roles import ROLES, TenantScope
from compiler.access.tokens import TokenStore, parse_duration
from compiler.cli.app import cli, settings_from
from compiler.cli.output import print_json, table
from compiler.errors import UsageError
from compiler.settings import Settings

BOOTSTRAP_NAME = "bootstrap-admin"
ADMIN_TOKEN_FILE = ".ecp/admin-token"  # noqa: S105 - a path, not a secret
_FORMAT = click.option(
    "--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True
)


def _store(settings: Settings) -> TokenStore:
    return TokenStore(settings.resolve(settings.tokens_path))


def _when(epoch: float | None) -> str:
    if epoch is None:
        return "-"
    return datetime.fromtimestamp(epoch, tz=UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@cli.group("token")
def token_group() -> None:
    """API tokens: create (printed once), list, revoke. Stored hashed in .ecp/tokens.json."""


@token_group.command("create")
@click.option("--name", required=True, help="A name for audit trails, e.g. ci-bot.")
@click.option("--role", required=True, type=click.Choice(ROLES))
@click.option("--tenant", "tenants", multiple=True, help="Limit to this tenant (repeatable).")
@click.option("--tenant-selector", "selectors", multiple=True, help="KEY=VALUE over spec labels.")
@click.option("--expires", default=None, help="Lifetime such as 30d, 12h or 15m (default: none).")
@_FORMAT
@click.pass_context
def create_command(
    ctx: click.Context,
    name: str,
    role: str,
    tenants: tuple[str, ...],
    selectors: tuple[str, ...],
    expires: str | None,
    fmt: str,
) -> None:
    """Create a token and print it once."""
    try:
        scope = TenantScope.parse(tenants, selectors)
    except ValueError as exc:
        raise UsageError(str(exc)) from exc
    lifetime = parse_duration(expires) if expires else None
    token, record = _store(settings_from(ctx)).create(name, role, scope, lifetime)
    if fmt == "json":
        print_json({"token": token, **record.public(time.time())})
        return
    click.echo(token)
    click.echo(
        f"created token {name!r} (role {role}, scope {scope.describe()}, "
        f"expires {_when(record.expires_at)}); it is shown only now",
        err=True,
    )


@token_group.command("list")
@_FORMAT
@click.pass_context
def list_command(ctx: click.Context, fmt: str) -> None:
    """Tokens by name, with role, scope and state (never the token or its hash)."""
    now = time.time()
    records = [r.public(now) for r in _store(settings_from(ctx)).records()]
    if fmt == "json":
        print_json({"tokens": records})
        return
    rows = [
        (
            r["name"],
            r["role"],
            r["scope"],
            r["state"],
            _when(r["created_at"]),
            _when(r["expires_at"]),
        )
        for r in records
    ]
    click.echo(table(("NAME", "ROLE", "SCOPE", "STATE", "CREATED", "EXPIRES"), rows))


@token_group.command("revoke")
@click.argument("name")
@click.pass_context
def revoke_command(ctx: click.Context, name: str) -> None:
    """Revoke a token; a running server refuses it within a second."""
    _store(settings_from(ctx)).revoke(name)
    click.echo(f"revoked token {name!r}")


@token_group.command("bootstrap")
@click.option("--port", default=8001, show_default=True, help="For the printed curl line.")
@click.pass_context
def bootstrap_command(ctx: click.Context, port: int) -> None:
    """First start: create an admin token, keep it in .ecp/admin-token (0600), print it once."""
    settings = settings_from(ctx)
    path = settings.resolve(ADMIN_TOKEN_FILE)
    store = _store(settings)
    if path.is_file() and store.lookup(path.read_text(encoding="utf-8").strip()) is not None:
        click.echo(f"admin token: {path} (export ECP_TOKEN=$(cat {path}))", err=True)
        return
    if any(r.name == BOOTSTRAP_NAME and r.revoked_at is None for r in store.records()):
        store.revoke(BOOTSTRAP_NAME)  # its file was lost: the token is no use to anyone
    token, _ = store.create(BOOTSTRAP_NAME, "admin")
    _write_private(path, token + "\n")
    click.echo(f"created an admin token (shown once; kept in {path}, mode 0600):\n\n  {token}\n")
    click.echo(f"  export ECP_TOKEN=$(cat {path})")
    click.echo(
        '  curl -H "Authorization: Bearer $ECP_TOKEN" -H "X-Demo-Mode: false" '
        f"http://127.0.0.1:{port}/api/v1/tenants/\n"
    )


def _write_private(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.fchmod(fd, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(text)


@cli.command("audit")
@click.option("--tenant-id", default=None)
@click.option("--since", default=None, help="ISO-8601 time.")
@click.option("--principal", default=None, help="e.g. token:ci-bot or oidc:alice")
@_FORMAT
@click.pass_context
def audit_command(
    ctx: click.Context, tenant_id: str | None, since: str | None, principal: str | None, fmt: str
) -> None:
    """Who changed what and when (deploy repo history), and refused attempts (audit log)."""
    settings = settings_from(ctx)
    log = AuditLog(settings.resolve(".ecp/audit.sqlite3"), settings.access.audit_log_size)
    try:
        trail = audit_trail(settings, log, AuditQuery(tenant_id, since, principal), None)
    finally:
        log.close()
    if fmt == "json":
        print_json(trail)
        return
    rows = [
        (c["timestamp"], c["principal"] or "-", c["deployment_id"], _tenants(c["tenants"]))
        for c in trail["changes"]
    ]
    click.echo(table(("WHEN", "WHO", "DEPLOYMENT", "CHANGES"), rows))
    if trail["refused"]:
        click.echo("\nrefused:")
        refused = [
            (r["timestamp"], r["principal"], r["client"], r["status"], f"{r['method']} {r['path']}")
            for r in trail["refused"]
        ]
        click.echo(table(("WHEN", "WHO", "CLIENT", "STATUS", "REQUEST"), refused))


def _tenants(changes: list[dict[str, str]]) -> str:
    return ", ".join(f"{c['action']} {c['tenant_id']}" for c in changes)
