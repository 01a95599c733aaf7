"""API tokens: stored hashed in a private file, shown once, revocable while a server runs."""

from __future__ import annotations

import json
import stat
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from access_support import create_token, revoke_token, ws_probe
from api_server import LiveServer, make_workspace, running_server
from conftest import EcpRunner
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect

from compiler.access.roles import TenantScope
from compiler.access.tokens import TokenStore
from compiler.errors import UsageError
from ecp_orchestrator import ECPClient, ForbiddenError, UnauthorizedError


def test_a_created_token_is_stored_only_as_its_sha256_in_a_private_file(tmp_path: Path) -> None:
    store = TokenStore(tmp_path / ".ecp" / "tokens.json")
    token, record = store.create("ci-bot", "editor", TenantScope.parse(("acme",)))
    assert token.startswith("ecp_") and len(token) == 52
    text = store.path.read_text(encoding="utf-8")
    assert token not in text and token[4:] not in text
    assert record.sha256 in text
    assert stat.S_IMODE(store.path.stat().st_mode) == 0o600
    assert store.lookup(token) == record


def test_a_token_with_a_known_id_but_a_wrong_secret_is_refused(tmp_path: Path) -> None:
    store = TokenStore(tmp_path / "tokens.json")
    token, _ = store.create("ci-bot", "viewer")
    forged = token[:-1] + ("A" if token[-1] != "A" else "B")
    assert store.lookup(forged) is None
    assert store.lookup("ecp_short") is None
    assert store.lookup(token.upper()) is None


def test_revoked_and_expired_tokens_keep_their_record_but_change_state(tmp_path: Path) -> None:
    store = TokenStore(tmp_path / "tokens.json")
    token, _ = store.create("short", "viewer", expires_in=1)
    long_lived, _ = store.create("long", "viewer")
    store.revoke("long")
    now = time.time()
    assert store.lookup(long_lived) is not None
    assert store.lookup(long_lived).state(now) == "revoked"  # type: ignore[union-attr]
    assert store.lookup(token).state(now + 2) == "expired"  # type: ignore[union-attr]
    with pytest.raises(UsageError, match="no active token"):
        store.revoke("long")


def test_two_active_tokens_cannot_share_a_name_and_bad_names_and_roles_are_refused(
    tmp_path: Path,
) -> None:
    store = TokenStore(tmp_path / "tokens.json")
    store.create("ci", "viewer")
    with pytest.raises(UsageError, match="exists"):
        store.create("ci", "viewer")
    with pytest.raises(UsageError, match="token name"):
        store.create("Bad Name", "viewer")
    with pytest.raises(UsageError, match="role"):
        store.create("ok", "root")


def test_the_cli_prints_the_token_once_and_lists_no_secret(ecp: EcpRunner, workspace: Path) -> None:
    made = ecp("token", "create", "--name", "ci-bot", "--role", "admin", "--format", "json")
    assert made.code == 0, made.stderr
    token = json.loads(made.stdout)["token"]
    listed = ecp("token", "list", "--format", "json")
    assert token not in listed.stdout
    record = json.loads(listed.stdout)["tokens"][0]
    assert record["name"] == "ci-bot" and record["state"] == "active"
    assert "sha256" not in record
    text = ecp("token", "list")
    assert "ci-bot" in text.stdout and token not in text.stdout
    assert ecp("token", "revoke", "ci-bot").code == 0
    assert (
        json.loads(ecp("token", "list", "--format", "json").stdout)["tokens"][0]["state"]
        == "revoked"
    )


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--expires", "soon"), "duration"),
        (("--tenant-selector", "novalue"), "KEY=VALUE"),
        (("--role", "root"), "root"),
    ],
    ids=["bad-duration", "bad-selector", "bad-role"],
)
def test_bad_token_options_are_usage_errors(
    ecp: EcpRunner, args: tuple[str, ...], message: str
) -> None:
    base = ["token", "create", "--name", "x"]
    if "--role" not in args:
        base += ["--role", "viewer"]
    run = ecp(*base, *args)
    assert run.code == 2
    assert message in run.stderr
    assert "Traceback" not in run.stderr


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    root = make_workspace(tmp_path_factory.mktemp("tokens") / "ws")
    with running_server(root) as live:
        yield live


def _list(server: LiveServer, token: str) -> int:
    headers = {"X-Demo-Mode": "false", "Authorization": f"Bearer {token}"}
    return httpx.get(f"{server.api}/tenants/", headers=headers).status_code


def _within(seconds: float, condition: object) -> float:
    started = time.monotonic()
    while time.monotonic() - started < seconds:
        if condition():  # type: ignore[operator]
            return time.monotonic() - started
        time.sleep(0.05)
    raise AssertionError(f"not within {seconds} s")


def test_a_token_created_or_revoked_takes_effect_on_a_running_server_within_a_second(
    server: LiveServer,
) -> None:
    token = create_token(server.root, "late", "viewer")
    assert _within(1.0, lambda: _list(server, token) == 200) < 1.0
    revoke_token(server.root, "late")
    assert _within(1.0, lambda: _list(server, token) == 401) < 1.0


def test_a_stream_is_closed_4401_when_its_token_is_revoked(server: LiveServer) -> None:
    token = create_token(server.root, "streamer", "viewer")
    url = server.url.replace("http", "ws") + "/ws/alerts/my-ai-service"
    with connect(url, additional_headers={"Authorization": f"Bearer {token}"}) as ws:
        ws.send(json.dumps({"action": "ping"}))
        assert json.loads(ws.recv(timeout=10)) == {"action": "pong"}
        revoke_token(server.root, "streamer")
        started = time.monotonic()
        frame = json.loads(ws.recv(timeout=5))
        assert frame["error"]["code"] == "UNAUTHORIZED"
        with pytest.raises(ConnectionClosed):
            ws.recv(timeout=5)
        assert ws.close_code == 4401
        assert time.monotonic() - started < 1.5


def test_an_expired_token_closes_its_stream_4401(server: LiveServer) -> None:
    token = create_token(server.root, "brief", "viewer", "--expires", "2s")
    url = server.url.replace("http", "ws") + "/ws/alerts/my-ai-service"
    outcome = ws_probe(url, headers={"Authorization": f"Bearer {token}"}, timeout=6)
    assert outcome.first is not None and outcome.first["error"]["code"] == "UNAUTHORIZED"
    assert outcome.close_code == 4401


def test_a_damaged_token_file_keeps_a_server_closed_without_telling_why(tmp_path: Path) -> None:
    store = TokenStore(tmp_path / "tokens.json")
    token, _ = store.create("ci", "viewer")
    server_side = TokenStore(store.path)
    assert server_side.lookup(token) is not None
    store.path.write_text("{not json", encoding="utf-8")
    time.sleep(0.3)  # past CHECK_S
    assert server_side.lookup(token) is not None  # the last good tokens stay
    fresh = TokenStore(store.path)
    assert fresh.lookup(token) is None  # nothing good was ever read: closed
    with pytest.raises(UsageError, match="cannot read the token file"):
        fresh.records()  # the CLI says what is wrong


def test_the_sdk_sends_its_token_and_raises_typed_access_errors(server: LiveServer) -> None:
    viewer = create_token(server.root, "sdk-viewer", "viewer")
    with ECPClient(server.api, token=viewer) as client:
        assert client.get_tenants()["total_count"] >= 1
        with pytest.raises(ForbiddenError) as forbidden:
            client.update_tenant("my-ai-service", {"description": "no"})
        assert forbidden.value.details["permission"] == "tenants:write"
        alerts = client.subscribe_alerts("my-ai-service")
        with pytest.raises(UnauthorizedError):  # after revocation the stream is refused too
            revoke_token(server.root, "sdk-viewer")
            time.sleep(0.3)
            next(alerts)
    with (
        ECPClient(server.api, token="ecp_" + "x" * 48) as stranger,
        pytest.raises(UnauthorizedError),
    ):
        stranger.get_tenants()
