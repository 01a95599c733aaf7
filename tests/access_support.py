"""Helpers for the access-control tests: tokens made by the real CLI, snapshots of everything a
refused call must leave alone, and a WebSocket probe. No tests here."""

from __future__ import annotations

import contextlib
import hashlib
import json
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect

CLI = (sys.executable, "-c", "from compiler.cli import main; main()")


def create_token(root: Path, name: str, role: str, *options: str) -> str:
    """`ecp --root ROOT token create --name NAME --role ROLE --format json`: its "token"."""
    done = subprocess.run(
        [
            *CLI,
            "--root",
            str(root),
            "token",
            "create",
            "--name",
            name,
            "--role",
            role,
            *options,
            "--format",
            "json",
        ],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    token = json.loads(done.stdout)["token"]
    assert isinstance(token, str)
    return token


def revoke_token(root: Path, name: str) -> None:
    subprocess.run(
        [*CLI, "--root", str(root), "token", "revoke", name],
        capture_output=True,
        check=True,
        timeout=60,
    )


def _head(repo: Path) -> str:
    done = subprocess.run(
        ["git", "rev-parse", "HEAD"], cwd=repo, capture_output=True, text=True, check=False
    )
    return done.stdout.strip()


def _tree_digest(folder: Path) -> str:
    digest = hashlib.sha256()
    if folder.is_dir():
        for path in sorted(folder.rglob("*")):
            if path.is_file():
                digest.update(str(path.relative_to(folder)).encode())
                digest.update(path.read_bytes())
    return digest.hexdigest()


@dataclass(frozen=True)
class Snapshot:
    """Everything a write could change: specs, output/, and both repos' HEADs."""

    specs: str
    output: str
    workspace_head: str
    deploy_head: str

    @classmethod
    def of(cls, root: Path) -> Snapshot:
        return cls(
            specs=_tree_digest(root / "tenants"),
            output=_tree_digest(root / "output"),
            workspace_head=_head(root),
            deploy_head=_head(root / ".ecp" / "deploy-repo"),
        )


@dataclass(frozen=True)
class WsOutcome:
    first: dict[str, Any] | None  # the first frame
    close_code: int | None  # None: still open after the first frame
    subprotocol: str | None


def ws_probe(
    url: str,
    *,
    headers: dict[str, str] | None = None,
    subprotocols: list[str] | None = None,
    send: dict[str, Any] | None = None,
    timeout: float = 10,
) -> WsOutcome:
    """Open a stream, optionally send one command, read one frame and see if it closes."""
    with connect(
        url,
        additional_headers=headers,
        subprotocols=subprotocols,  # type: ignore[arg-type]
        open_timeout=timeout,
    ) as ws:
        if send is not None:
            with contextlib.suppress(ConnectionClosed):  # a refusal may already be on its way
                ws.send(json.dumps(send))
        try:
            first = json.loads(ws.recv(timeout=timeout))
        except ConnectionClosed:
            return WsOutcome(None, ws.close_code, ws.subprotocol)
        code = None
        if isinstance(first, dict) and "error" in first:
            try:
                ws.recv(timeout=timeout)
            except ConnectionClosed:
                code = ws.close_code
        return WsOutcome(first, code, ws.subprotocol)
