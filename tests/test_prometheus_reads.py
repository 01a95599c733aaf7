"""How a GET monitoring answer asks Prometheus: its range and summary queries in flight together,
on kept-alive connections, asking for uncompressed answers.

The answers themselves are checked against a real Prometheus in test_prometheus_backend.py; this
is about the requests, so the server here is a stand-in speaking Prometheus's HTTP API shape
(`{"status": "success", "data": ...}`) that records what it was asked and how.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from test_monitoring_support import make_workspace

from compiler.monitoring import MonitoringQuery, MonitoringService
from compiler.settings import Settings

TENANT = "my-ai-service"


class Recorder:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.requests: list[dict[str, Any]] = []
        # The range and the summary query each wait here for the other: answered only when
        # both are in flight at once (a timeout breaks it, and the answer is a 503).
        self.together = threading.Barrier(2, timeout=5)


def _handler(recorder: Recorder) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive, as Prometheus

        def do_POST(self) -> None:
            length = int(self.headers.get("content-length", "0"))
            self.rfile.read(length)
            with recorder.lock:
                recorder.requests.append(
                    {
                        "path": self.path,
                        "accept_encoding": self.headers.get("accept-encoding"),
                        "port": self.client_address[1],
                        "at": time.monotonic(),
                    }
                )
            data: Any = []
            status = 200
            if self.path in ("/api/v1/query", "/api/v1/query_range"):
                kind = "matrix" if self.path.endswith("range") else "vector"
                data = {"resultType": kind, "result": []}
                try:
                    recorder.together.wait()
                except threading.BrokenBarrierError:
                    status = 503
            body = json.dumps({"status": "success" if status == 200 else "error", "data": data})
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body.encode())

        def log_message(self, format: str, *args: Any) -> None:
            return

    return Handler


@pytest.fixture
def stand_in() -> Iterator[tuple[str, Recorder]]:
    recorder = Recorder()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(recorder))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", recorder
    finally:
        server.shutdown()
        server.server_close()


def _service(root: Path, url: str) -> MonitoringService:
    make_workspace(root, tenants=(TENANT,))
    settings = Settings.load(root, metrics_backend="prometheus", prometheus_url=url)
    return MonitoringService(settings, clock=lambda: 1_800_000_000.0)


def test_range_and_summary_queries_go_out_together(
    tmp_path: Path, stand_in: tuple[str, Recorder]
) -> None:
    url, recorder = stand_in
    service = _service(tmp_path, url)
    try:
        space = service.space(False)
        for _ in range(2):
            recorder.together.reset()
            answer = space.query(TENANT, MonitoringQuery(hours=24, interval="5m"))
            assert answer["tenant_id"] == TENANT and answer["summary"]["avg_cpu"] is None
    finally:
        service.close()
    paths = [r["path"] for r in recorder.requests]
    assert paths.count("/api/v1/series") == 2
    assert sorted(paths[1:3]) == ["/api/v1/query", "/api/v1/query_range"]
    # Uncompressed (gzip cost Prometheus as much CPU as the query on loopback) ...
    assert {r["accept_encoding"] for r in recorder.requests} == {"identity"}
    # ... and kept alive: six requests over at most the two connections of the pair.
    assert len({r["port"] for r in recorder.requests}) <= 2
