"""Read-modify-write by 20 clients on one tenant against a real server: no update is lost, and
every GET's ETag belongs to the body it came with (one committed state per read). The ten runs
go at once, each on its own tenant, so they also share batches of the writer."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
from api_server import AUTH, LiveServer, make_workspace, running_server

CLIENTS = 20
RUNS = 10
TENANT = "shop-chat-lite"
HEADERS = {"X-Demo-Mode": "false", **AUTH}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    root = make_workspace(tmp_path_factory.mktemp("rmw") / "ws", tenants=(TENANT,))
    with running_server(root) as live:
        yield live


def _append(
    api: str, tenant_id: str, token: str, written: dict[str, str], lock: threading.Lock
) -> int:
    """GET, add `token` to the description, PUT with If-Match; again on 412. The attempts."""
    url = f"{api}/tenants/{tenant_id}"
    with httpx.Client(headers=HEADERS, timeout=120) as client:
        for attempt in range(1, 400):
            got = client.get(url)
            if _throttled(got):
                continue
            assert got.status_code == 200, got.text
            description = got.json()["description"]
            new = f"{description} {token}".strip()
            put = client.put(
                url, json={"description": new}, headers={"If-Match": got.headers["ETag"]}
            )
            if put.status_code == 412 or _throttled(put):
                continue
            assert put.status_code == 200, put.text
            with lock:
                written[put.headers["ETag"]] = new
            return attempt
    raise AssertionError(f"{token} never got its write in")


def _throttled(answer: httpx.Response) -> bool:
    """A 429 from the rate limiter (200 clients share one token): wait as told, then go again."""
    if answer.status_code != 429:
        return False
    time.sleep(min(5.0, float(answer.headers.get("retry-after", "1"))))
    return True


def _watch(
    api: str, tenant_ids: list[str], stop: threading.Event, seen: list[tuple[str, str]]
) -> None:
    with httpx.Client(headers=HEADERS, timeout=30) as client:
        while not stop.is_set():
            for tenant_id in tenant_ids:
                got = client.get(f"{api}/tenants/{tenant_id}")
                if not _throttled(got):
                    seen.append((got.headers["ETag"], got.json()["description"]))


def _run(api: str, tenant_id: str, written: dict[str, str], lock: threading.Lock) -> list[int]:
    """One run: 20 clients append their token to one tenant's description at once."""
    tokens = [f"{tenant_id}-c{client}" for client in range(CLIENTS)]
    with ThreadPoolExecutor(max_workers=CLIENTS) as pool:
        attempts = list(pool.map(lambda t: _append(api, tenant_id, t, written, lock), tokens))
    final = httpx.get(f"{api}/tenants/{tenant_id}", headers=HEADERS).json()
    present = final["description"].split()
    assert [t for t in tokens if t not in present] == [], f"{tenant_id} lost updates"
    return attempts


@pytest.mark.slow
def test_twenty_read_modify_write_clients_lose_no_update_in_ten_runs(server: LiveServer) -> None:
    tenant_ids = [f"rmw-{run}" for run in range(RUNS)]
    for tenant_id in tenant_ids:
        body = {"tenant_id": tenant_id, "name": tenant_id, "service_requirements": {"chatbot": 2}}
        created = httpx.post(f"{server.api}/tenants/", json=body, headers=HEADERS, timeout=60)
        assert created.status_code == 201, created.text
    written: dict[str, str] = {}
    seen: list[tuple[str, str]] = []
    lock = threading.Lock()
    stop = threading.Event()
    watcher = threading.Thread(target=_watch, args=(server.api, tenant_ids, stop, seen))
    watcher.start()
    try:
        with ThreadPoolExecutor(max_workers=RUNS) as pool:
            runs = list(pool.map(lambda t: _run(server.api, t, written, lock), tenant_ids))
    finally:
        stop.set()
        watcher.join(timeout=30)
    assert all(max(attempts) > 1 for attempts in runs)  # clients collided: If-Match was used
    # Every body a reader saw matches the ETag it came with (where that ETag was one we wrote).
    checked = [(etag, body) for etag, body in seen if etag in written]
    assert len(checked) > 20
    assert [(etag, body) for etag, body in checked if written[etag] != body] == []


def test_if_match_star_matches_any_current_spec_and_a_weak_tag_never_matches(
    server: LiveServer,
) -> None:
    url = f"{server.api}/tenants/{TENANT}"
    with httpx.Client(headers=HEADERS, timeout=60) as client:
        star = client.put(url, json={"description": "star"}, headers={"If-Match": "*"})
        assert star.status_code == 200
        etag = star.headers["ETag"]
        # RFC 9110 13.1.1: If-Match uses the strong comparison; W/ of the current tag is 412.
        weak = client.put(url, json={"description": "weak"}, headers={"If-Match": f"W/{etag}"})
        assert weak.status_code == 412
        assert weak.json()["error"]["details"]["current_etag"] == etag
        listed = client.put(
            url, json={"description": "listed"}, headers={"If-Match": f'"nope", {etag}'}
        )
        assert listed.status_code == 200
        stale = client.put(url, json={"description": "stale"}, headers={"If-Match": etag})
        assert stale.status_code == 412
        assert stale.json()["error"]["details"]["current_etag"] == listed.headers["ETag"]
        got = client.get(url)
        assert got.headers["ETag"] == listed.headers["ETag"]
        assert got.json()["description"] == "listed"
        assert "GMT" in got.headers["Last-Modified"]
