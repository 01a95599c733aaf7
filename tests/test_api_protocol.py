"""The HTTP protocol `ecp serve` runs: httptools' C parser for speed, and h11's answer for every
request that parser refuses (an unknown method), on a real server over raw sockets.
"""

from __future__ import annotations

import json
import socket
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from api_server import ADMIN_TOKEN, LiveServer, make_workspace, running_server
from uvicorn.protocols.http.h11_impl import H11Protocol
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from compiler.service.serving import KEEP_ALIVE_SECONDS, http_protocol
from compiler.settings import Settings


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    root = make_workspace(tmp_path_factory.mktemp("protocol") / "ws", tenants=("shop-chat-lite",))
    with running_server(root) as live:
        yield live


def test_the_server_parses_with_httptools_and_keeps_h11_for_what_it_refuses(
    tmp_path: Path,
) -> None:
    protocol = http_protocol(Settings(root=tmp_path, http_header_timeout=3))
    assert issubclass(protocol, HttpToolsProtocol)
    fallback = protocol.h11_protocol  # type: ignore[attr-defined]
    assert issubclass(fallback, H11Protocol)
    assert protocol.header_timeout == fallback.header_timeout == 3  # type: ignore[attr-defined]


def _request(method: str, path: str) -> bytes:
    return (
        f"{method} {path} HTTP/1.1\r\nHost: t\r\nX-Demo-Mode: false\r\n"
        f"Authorization: Bearer {ADMIN_TOKEN}\r\n\r\n"
    ).encode()


def _answer(sock: socket.socket) -> tuple[int, dict[str, str], bytes]:
    """One HTTP/1.1 answer with a Content-Length body."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        assert chunk, f"connection closed after {data!r}"
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = {k.lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:])}
    length = int(headers["content-length"])
    while len(body) < length:
        chunk = sock.recv(65536)
        assert chunk
        body += chunk
    return int(lines[0].split()[1]), headers, body


def test_an_unknown_method_gets_the_apps_answer_even_mid_connection(server: LiveServer) -> None:
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as sock:
        sock.sendall(_request("GET", "/api/v1/tenants/shop-chat-lite"))
        status, _, body = _answer(sock)
        assert status == 200 and json.loads(body)["tenant_id"] == "shop-chat-lite"
        # llhttp knows no BREW: the connection goes on in h11, which passes it to the app.
        sock.sendall(_request("BREW", "/api/v1/tenants/"))
        status, headers, body = _answer(sock)
        assert status == 405, body
        assert headers["x-request-id"].startswith("req-")
        # The same connection still serves the next request.
        sock.sendall(_request("GET", "/api/v1/tenants/shop-chat-lite"))
        status, _, body = _answer(sock)
        assert status == 200 and json.loads(body)["tenant_id"] == "shop-chat-lite"
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as sock:
        sock.sendall(_request("BREW", "/api/v1/tenants/"))  # as the connection's first request
        assert _answer(sock)[0] == 405


def test_a_request_arriving_on_a_kept_alive_connection_stops_its_idle_timer(
    server: LiveServer,
) -> None:
    """The idle timer (KEEP_ALIVE_SECONDS after an answer) must not close the connection under
    a request that is still arriving or being served when it would have fired."""
    body = json.dumps({"manifest_content": "kind: ConfigMap\n"}).encode()
    with socket.create_connection(("127.0.0.1", server.port), timeout=30) as sock:
        sock.sendall(_request("GET", "/api/v1/tenants/shop-chat-lite"))
        assert _answer(sock)[0] == 200
        head = (
            "POST /api/v1/tenants/validate-manifest HTTP/1.1\r\nHost: t\r\n"
            f"X-Demo-Mode: false\r\nAuthorization: Bearer {ADMIN_TOKEN}\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
        ).encode()
        sock.sendall(head)
        deadline = time.monotonic() + KEEP_ALIVE_SECONDS + 2  # past the idle timer
        for byte in range(len(body)):
            sock.sendall(body[byte : byte + 1])
            if byte < len(body) - 1:
                time.sleep(max(0.0, (deadline - time.monotonic()) / (len(body) - byte)))
        status, _, answer = _answer(sock)
        assert status == 200, answer
