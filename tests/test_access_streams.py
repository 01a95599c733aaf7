"""WebSocket access: the token by header, subprotocol or query; the Origin allow-list."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from access_support import ws_probe
from test_monitoring_support import LiveServer, live_server, make_workspace

from compiler.access.tokens import TokenStore

PING = {"action": "ping"}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[LiveServer, str]]:
    root = tmp_path_factory.mktemp("streams")
    (root / "ecp.toml").write_text(
        '[access]\nallowed_origins = ["https://console.example.com"]\n', encoding="utf-8"
    )
    settings = make_workspace(root)
    token, _ = TokenStore(Path(root) / ".ecp" / "tokens.json").create("browser", "viewer")
    with live_server(settings) as live:
        yield live, token


def test_a_browser_may_send_its_token_as_the_bearer_subprotocol(
    server: tuple[LiveServer, str],
) -> None:
    live, token = server
    outcome = ws_probe(
        f"{live.ws}/ws/alerts/my-ai-service", subprotocols=["bearer", token], send=PING
    )
    assert outcome.first == {"action": "pong"}
    assert outcome.subprotocol == "bearer"  # a browser drops a socket whose protocol it lacks


def test_a_query_token_is_accepted_and_a_missing_one_closes_4401(
    server: tuple[LiveServer, str],
) -> None:
    live, token = server
    assert ws_probe(f"{live.ws}/ws/alerts/my-ai-service?access_token={token}", send=PING).first == {
        "action": "pong"
    }
    refused = ws_probe(f"{live.ws}/ws/alerts/my-ai-service", send=PING)
    assert refused.close_code == 4401
    assert refused.first is not None and refused.first["error"]["code"] == "UNAUTHORIZED"


@pytest.mark.parametrize(
    ("origin", "close"),
    [
        ("https://evil.example.com", 4403),
        ("https://console.example.com", None),
        ("same-origin", None),
    ],
    ids=["foreign-origin-refused", "allow-listed-origin", "same-origin"],
)
def test_a_browser_origin_must_be_the_servers_own_or_allow_listed(
    server: tuple[LiveServer, str], origin: str, close: int | None
) -> None:
    live, token = server
    if origin == "same-origin":
        origin = live.http
    outcome = ws_probe(
        f"{live.ws}/ws/alerts/my-ai-service",
        headers={"Origin": origin, "Authorization": f"Bearer {token}"},
        send=PING,
    )
    if close is None:
        assert outcome.first == {"action": "pong"}
    else:
        assert outcome.close_code == close
        assert outcome.first is not None and outcome.first["error"]["code"] == "FORBIDDEN"
