"""Read-modify-write by 20 clients on one tenant against a real server: no update is lost, and
every GET's ETag belongs to the body it came with (one committed state per read)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
from api_server import LiveServer, make_workspace, running_server

CLIENTS = 20
RUNS = 10
TENANT = "shop-chat-lite"
HEADERS = {"X-Demo-Mode": "false"}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    root = make_workspace(tmp_path_factory.mktemp("rmw") / "ws", tenants=(TENANT,))
    with running_server(root) as live:
        yield live


def _append(api: str, token: str, written: dict[str, str], lock: threading.Lock) -> int:
    """GET, add `token` to the description, PUT with If-Match; again on 412. The attempts."""
    url = f"{api}/tenants/{TENANT}"
    with httpx.Client(headers=HEADERS, timeout=120) as client:
        for attempt in range(1, 200):
            got = client.get(url)
            assert got.status_code == 200, got.text
            description = got.json()["description"]
            new = f"{description} {token}".strip()
            put = client.put(
                url, json={"description": new}, headers={"If-Match": got.headers["ETag"]}
            )
            if put.status_code == 412:
                continue
            assert put.status_code == 200, put.text
            with lock:
                written[put.headers["ETag"]] = new
            return attempt
    raise AssertionError(f"{token} never got its write in")


def _watch(api: str, stop: threading.Event, seen: list[tuple[str, str]]) -> None:
    with httpx.Client(headers=HEADERS, timeout=30) as client:
        while not stop.is_set():
            got = client.get(f"{api}/tenants/{TENANT}")
            seen.append((got.headers["ETag"], got.json()["description"]))


@pytest.mark.slow
def test_twenty_read_modify_write_clients_lose_no_update_in_ten_runs(server: LiveServer) -> None:
    written: dict[str, str] = {}
    seen: list[tuple[str, str]] = []
    lock = threading.Lock()
    stop = threading.Event()
    watcher = threading.Thread(target=_watch, args=(server.api, stop, seen))
    watcher.start()
    try:
        for run in range(RUNS):
            tokens = [f"r{run}c{client}" for client in range(CLIENTS)]
            with ThreadPoolExecutor(max_workers=CLIENTS) as pool:
                attempts = list(pool.map(lambda t: _append(server.api, t, written, lock), tokens))
            final = httpx.get(f"{server.api}/tenants/{TENANT}", headers=HEADERS).json()
            present = final["description"].split()
            lost = [t for t in tokens if t not in present]
            assert lost == [], f"run {run}: lost {lost}"
            assert max(attempts) > 1  # the clients did collide: If-Match was exercised
    finally:
        stop.set()
        watcher.join(timeout=30)
    # Every body a reader saw matches the ETag it came with (where that ETag was one we wrote).
    checked = [(etag, body) for etag, body in seen if etag in written]
    assert len(checked) > 20
    mismatched = [(etag, body) for etag, body in checked if written[etag] != body]
    assert mismatched == []


def test_if_match_star_matches_any_current_spec_and_a_weak_tag_is_compared_by_its_value(
    server: LiveServer,
) -> None:
    url = f"{server.api}/tenants/{TENANT}"
    with httpx.Client(headers=HEADERS, timeout=60) as client:
        star = client.put(url, json={"description": "star"}, headers={"If-Match": "*"})
        assert star.status_code == 200
        etag = star.headers["ETag"]
        weak = client.put(url, json={"description": "weak"}, headers={"If-Match": f"W/{etag}"})
        assert weak.status_code == 200
        stale = client.put(url, json={"description": "stale"}, headers={"If-Match": etag})
        assert stale.status_code == 412
        assert stale.json()["error"]["details"]["current_etag"] == weak.headers["ETag"]
        got = client.get(url)
        assert got.headers["ETag"] == weak.headers["ETag"]
        assert got.json()["description"] == "weak"
        assert "GMT" in got.headers["Last-Modified"]
