"""How a GET monitoring answer asks Prometheus: the cluster series' range and summary queries and
the tenant's own gauges' raw read in flight together, on kept-alive connections, asking for
uncompressed answers; with no cluster series, one raw read and no range query at all.

The answers themselves are checked against a real Prometheus in test_prometheus_backend.py; this
is about the requests, so the server here is a stand-in speaking Prometheus's HTTP API shape
(`{"status": "success", "data": ...}`) that records what it was asked and how.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from test_monitoring_support import make_workspace

from compiler.monitoring import MonitoringQuery, MonitoringService
from compiler.monitoring.prometheus.queries import CLUSTER_SERIES
from compiler.settings import Settings

TENANT = "my-ai-service"


class Recorder:
    def __init__(self, series: tuple[str, ...] = (), together: int = 1) -> None:
        self.lock = threading.Lock()
        self.requests: list[dict[str, Any]] = []
        self.series = series  # the cluster series names /api/v1/series answers
        # The queries of one GET each wait here for the others: answered only when all are in
        # flight at once (a timeout breaks it, and the answer is a 503).
        self.together = threading.Barrier(together, timeout=5)


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
            data: Any = [{"__name__": name} for name in recorder.series]
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


@contextmanager
def stand_in(recorder: Recorder) -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(recorder))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def _answers(root: Path, recorder: Recorder) -> list[str]:
    """Two GETs' request paths."""
    with stand_in(recorder) as url:
        service = _service(root, url)
        try:
            space = service.space(False)
            for _ in range(2):
                recorder.together.reset()
                answer = space.query(TENANT, MonitoringQuery(hours=24, interval="5m"))
                assert answer["tenant_id"] == TENANT and answer["summary"]["avg_cpu"] is None
        finally:
            service.close()
    return [r["path"] for r in recorder.requests]


def _service(root: Path, url: str) -> MonitoringService:
    make_workspace(root, tenants=(TENANT,))
    settings = Settings.load(root, metrics_backend="prometheus", prometheus_url=url)
    return MonitoringService(settings, clock=lambda: 1_800_000_000.0)


def test_cluster_queries_and_the_raw_read_go_out_together(tmp_path: Path) -> None:
    recorder = Recorder(series=tuple(CLUSTER_SERIES.values()), together=3)
    paths = _answers(tmp_path, recorder)
    assert paths.count("/api/v1/series") == 2
    # the cluster metrics' range and summary queries, and the own gauges' raw read
    assert sorted(paths[1:4]) == ["/api/v1/query", "/api/v1/query", "/api/v1/query_range"]
    # Uncompressed (gzip cost Prometheus as much CPU as the query on loopback) ...
    assert {r["accept_encoding"] for r in recorder.requests} == {"identity"}
    # ... and kept alive: eight requests over at most the three connections of the three.
    assert len({r["port"] for r in recorder.requests}) <= 3


def test_without_cluster_series_one_raw_read_answers_and_no_range_query(tmp_path: Path) -> None:
    recorder = Recorder()
    paths = _answers(tmp_path, recorder)
    assert paths == ["/api/v1/series", "/api/v1/query"] * 2
