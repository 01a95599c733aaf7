"""Helpers for the monitoring and WebSocket tests: a temp workspace and a real uvicorn server.

No tests here. The server runs create_app(settings) in a thread on a loopback socket the test
binds itself, so the port is known before the server starts and never collides.
"""

from __future__ import annotations

import shutil
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import uvicorn
from api_server import install_admin_token
from starlette.applications import Starlette

from compiler.monitoring import MonitoringService
from compiler.service.app import create_app
from compiler.service.monitoring_routes import monitoring_service
from compiler.settings import Settings

REPO = Path(__file__).resolve().parent.parent
SPEC = """\
tenant_id: {tenant_id}
name: Test tenant {tenant_id}
preset: small
service_requirements:
  chatbot: 10
sla_target:
  availability: "99.9%"
  response_time: "{response_time}"
"""


def write_spec(folder: Path, tenant_id: str, response_time: str = "200ms") -> None:
    folder.mkdir(parents=True, exist_ok=True)
    text = SPEC.format(tenant_id=tenant_id, response_time=response_time)
    (folder / f"{tenant_id}.yaml").write_text(text, encoding="utf-8")


def make_workspace(
    root: Path, tenants: tuple[str, ...] = ("my-ai-service",), demo: tuple[str, ...] = ()
) -> Settings:
    shutil.copytree(REPO / "presets", root / "presets")
    for tenant_id in tenants:
        write_spec(root / "tenants", tenant_id)
    settings = Settings.load(root)
    for tenant_id in demo:
        write_spec(settings.demo_view().tenants_dir, tenant_id)
    return settings


@dataclass
class LiveServer:
    app: Starlette
    port: int

    @property
    def http(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def ws(self) -> str:
        return f"ws://127.0.0.1:{self.port}"

    @property
    def service(self) -> MonitoringService:
        return monitoring_service(self.app.state.ecp)


@contextmanager
def live_server(settings: Settings) -> Iterator[LiveServer]:
    install_admin_token(settings.root)
    app = create_app(settings)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    config = uvicorn.Config(app, log_level="warning", lifespan="on", ws_ping_interval=None)
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.02)
    try:
        yield LiveServer(app, port)
    finally:
        server.should_exit = True
        thread.join(timeout=15)
        sock.close()
