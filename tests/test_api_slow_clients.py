"""Slow clients against a real server (timeouts shortened to 1 s by settings): slow headers and
slow bodies are closed, a kept-alive idle connection is closed, and a normal request still works."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from api_server import AUTH, make_workspace
from test_write_crash import KillableServer, server_process

from compiler.settings import Settings

TIMEOUTS = {"ECP_HTTP_HEADER_TIMEOUT": "1", "ECP_HTTP_BODY_TIMEOUT": "1"}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[KillableServer]:
    root = make_workspace(tmp_path_factory.mktemp("slow") / "ws", tenants=("shop-chat-lite",))
    with server_process(root, TIMEOUTS) as live:
        yield live


def _closed_after(sock: socket.socket, limit: float) -> tuple[float, bytes]:
    """Seconds until the server closes `sock`, and whatever it answered before that."""
    started = time.monotonic()
    sock.settimeout(limit)
    received = b""
    while chunk := sock.recv(65536):
        received += chunk
    return time.monotonic() - started, received


def _connect(server: KillableServer) -> socket.socket:
    return socket.create_connection(("127.0.0.1", server.port), timeout=10)


def test_a_client_that_never_finishes_its_headers_is_closed(server: KillableServer) -> None:
    with _connect(server) as sock:
        sock.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\n")
        assert _closed_after(sock, 10)[0] < 5


def test_a_client_that_drips_header_bytes_is_closed(server: KillableServer) -> None:
    with _connect(server) as sock:
        started = time.monotonic()
        try:
            for byte in b"GET /health HTTP/1.1\r\nX-Slow: " + b"a" * 50:
                sock.sendall(bytes([byte]))
                time.sleep(0.2)
        except OSError:
            pass  # closed under us: what should happen
        assert time.monotonic() - started < 5


def test_a_body_shorter_than_its_content_length_is_a_408_and_closed(
    server: KillableServer,
) -> None:
    with _connect(server) as sock:
        sock.sendall(
            b"POST /api/v1/tenants/calculate-resources HTTP/1.1\r\nHost: x\r\n"
            b"X-Demo-Mode: false\r\nContent-Type: application/json\r\n"
            + f"Authorization: {AUTH['Authorization']}\r\n".encode()
            + b"Content-Length: 100000\r\n\r\n"
            + b'{"service_requirements":'
            + b" " * 26
        )
        seconds, answer = _closed_after(sock, 10)
        assert answer.startswith(b"HTTP/1.1 408"), answer[:100]
        assert b"REQUEST_TIMEOUT" in answer
        assert seconds < 5


def test_an_idle_kept_alive_connection_is_closed_and_normal_requests_work(
    server: KillableServer,
) -> None:
    with httpx.Client() as client:
        assert client.get(f"{server.url}/health").status_code == 200
    with _connect(server) as sock:
        sock.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
        seconds, answer = _closed_after(sock, 10)
        assert answer.startswith(b"HTTP/1.1 200")
        assert seconds < 7  # keep-alive 5 s, or the next headers' 1 s


def test_the_settings_take_their_timeouts_from_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ECP_HTTP_HEADER_TIMEOUT", "2.5")
    assert Settings.load(tmp_path).http_header_timeout == 2.5
    assert Settings.load(tmp_path).http_body_timeout == 10.0
