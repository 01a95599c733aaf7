"""The reference's JavaScript WebSocket snippets, unchanged, under Node.js against a real server.

tests/js/reference_*.js are the reference's three code blocks byte for byte (checked against the
repository's copy of the reference, docs/reference/); tests/js/run_snippet.js only routes their
ws://localhost:8001 to the test server's port and reports what their socket receives.
"""

from __future__ import annotations

import functools
import json
import re
import subprocess
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from api_server import AUTH
from required_tools import missing, require_tool
from test_monitoring_support import LiveServer, held, live_server, make_workspace

JS = Path(__file__).resolve().parent / "js"
REFERENCE = JS.parent.parent / "docs" / "reference" / "ecp-orchestrator-api-v1.51.md"


@functools.cache
def node_command() -> tuple[str, ...]:
    """Node and the flags that give it a global WebSocket (built in from Node 22, behind a flag
    in 20); missing, it fails under CI=true and skips elsewhere (tests/required_tools.py)."""
    node = require_tool("node")
    for flags in ((), ("--experimental-websocket",)):
        probe = subprocess.run(
            [node, *flags, "-e", "process.exit(typeof WebSocket === 'function' ? 0 : 1)"],
            capture_output=True,
            timeout=30,
            check=False,
        )
        if probe.returncode == 0:
            return (node, *flags)
    return missing(
        f"{node} has no global WebSocket (Node >= 22, or 20 with --experimental-websocket)"
    )


class Snippet:
    def __init__(self, name: str, port: int) -> None:
        self.process = subprocess.Popen(
            [
                *node_command(),
                str(JS / "run_snippet.js"),
                str(JS / f"reference_{name}.js"),
                str(port),
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            encoding="utf-8",
        )
        self.output: list[str] = []

    def next_event(self, timeout: float = 20) -> dict[str, Any]:
        """The next report of the harness (the snippet's own console output is kept aside)."""
        assert self.process.stdout is not None
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            line = self.process.stdout.readline()
            if not line:
                break
            if line.startswith('{"event"'):
                event: dict[str, Any] = json.loads(line)
                return event
            self.output.append(line)
        raise AssertionError(f"no event from node; stderr: {self.stderr()}")

    def stderr(self) -> str:
        if self.process.poll() is None or self.process.stderr is None:
            return ""
        return self.process.stderr.read()

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait(timeout=10)
        for stream in (self.process.stdout, self.process.stderr):
            if stream is not None:
                stream.close()


@pytest.fixture
def server(tmp_path: Path) -> Iterator[LiveServer]:
    """Each test's own (in process, ~0.5 s): the snippets all watch my-ai-service, and the
    monitoring snippet must see its own sample, not the alert test's later one."""
    settings = make_workspace(tmp_path, ("my-ai-service",))
    with live_server(settings) as live:
        yield live


@pytest.fixture
def run(server: LiveServer) -> Iterator[Any]:
    started: list[Snippet] = []

    node_command()  # a missing Node fails the test here under CI=true, skips it elsewhere

    def start(name: str) -> Snippet:
        snippet = Snippet(name, server.port)
        started.append(snippet)
        return snippet

    yield start
    for snippet in started:
        snippet.stop()


def test_the_snippets_are_the_references_code_blocks_verbatim() -> None:
    text = REFERENCE.read_text(encoding="utf-8")
    section = text[text.index("## WebSocket API") : text.index("## Error codes")]
    blocks = re.findall(r"```javascript\n(.*?)```", section, re.S)
    for name, block in zip(("monitoring", "deployment", "alerts"), blocks, strict=True):
        assert (JS / f"reference_{name}.js").read_text(encoding="utf-8") == block


def test_the_monitoring_snippet_subscribes_and_receives_metrics(
    server: LiveServer, run: Any
) -> None:
    httpx.post(
        f"{server.http}/api/v1/tenants/my-ai-service/monitoring",
        json={"metrics": {"cpu_usage": 65.5, "memory_usage": 78.2, "gpu_usage": 85.0}},
        headers={"X-Demo-Mode": "false", **AUTH},
    )
    snippet = run("monitoring")
    assert snippet.next_event() == {"event": "open"}
    message = snippet.next_event()["data"]
    assert message["tenant_id"] == "my-ai-service"
    assert message["metrics"] == {"cpu": 65.5, "memory": 78.2, "gpu": 85.0}
    assert snippet.process.stdout is not None
    # The snippet's own handler runs right after the harness's listener: its console.log line.
    assert snippet.process.stdout.readline().startswith("실시간 메트릭:")


def test_the_deployment_snippet_follows_a_deployment_to_its_end(
    server: LiveServer, run: Any
) -> None:
    # report() is the seam the cluster follower feeds in production (DeploymentFeed.follow hands
    # it to live_source: compiler/service/cluster_status.live_follower, from watches). Here the
    # test stands in for the follower to drive the stream; the whole path from a cluster's
    # watches is test_cluster_api's test_the_deployment_stream_follows_watches_until_running.
    feed = server.service.deployments
    feed.report(
        {
            "deployment_id": "dep-abc123",
            "status": "deploying",
            "progress": 75,
            "phase": "scaling-services",
            "message": "Chatbot deployment 완료, Advisor deployment 시작",
        }
    )
    snippet = run("deployment")
    assert snippet.next_event() == {"event": "open"}
    assert snippet.next_event()["data"]["progress"] == 75
    feed.report(
        {
            "deployment_id": "dep-abc123",
            "status": "completed",
            "progress": 100,
            "phase": "completed",
            "message": "완료",
        }
    )
    assert snippet.next_event()["data"]["status"] == "completed"
    assert snippet.next_event() == {"event": "close", "code": 1000}


def test_the_alert_snippet_receives_an_alert_as_it_fires(server: LiveServer, run: Any) -> None:
    snippet = run("alerts")
    assert snippet.next_event() == {"event": "open"}
    hub = server.service.hub
    deadline = time.monotonic() + 10
    while hub.subscribers("alerts:real:my-ai-service") == 0 and time.monotonic() < deadline:
        time.sleep(0.02)
    httpx.post(
        f"{server.http}/api/v1/tenants/my-ai-service/monitoring",
        # Ending 3 minutes ahead (5 are allowed), well after any sample stamped "now".
        json=held({"memory_usage": 96.5}, ahead=timedelta(minutes=3)),
        headers={"X-Demo-Mode": "false", **AUTH},
    )
    alert = snippet.next_event()["data"]
    assert alert["severity"] == "critical"
    assert alert["metric"] == "memory" and alert["threshold"] == 95.0
