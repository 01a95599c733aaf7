"""Follow a tenant's rollout from watches: list, then watch from the list's resourceVersion.

Input: a ClusterReader, the namespace, `judge` (Deployments + Pods -> an update dict, and whether
it is final) and `report`. Output: a report() per change, until judge says final or `stop` is set.
One thread per watched kind; bookmarks move the resourceVersion on without a change; a 410 Gone
re-lists that kind and watches on from the fresh version. No polling: nothing happens between
events. Blocking: run in a worker thread.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any

from compiler.cluster.client import WATCH_SECONDS, ClusterReader, Gone
from compiler.errors import OrchestratorError

log = logging.getLogger("ecp.cluster")
KINDS = ("Deployment", "Pod")
Judge = Callable[[list[dict[str, Any]], list[dict[str, Any]]], tuple[dict[str, Any], bool]]


def _name(obj: dict[str, Any]) -> str:
    return str((obj.get("metadata") or {}).get("name", ""))


class _Follower:
    def __init__(
        self,
        reader: ClusterReader,
        namespace: str,
        judge: Judge,
        report: Callable[[dict[str, Any]], object],
        stop: threading.Event,
        seconds: int,
    ) -> None:
        self.reader, self.namespace, self.judge, self.report = reader, namespace, judge, report
        self.stop, self.seconds = stop, seconds
        self.lock = threading.Lock()
        self.objects: dict[str, dict[str, dict[str, Any]]] = {k: {} for k in KINDS}
        self.versions: dict[str, str] = {}
        self.last: dict[str, Any] | None = None

    def relist(self, kind: str) -> None:
        listing = self.reader.deployments if kind == "Deployment" else self.reader.pods
        items, version = listing(self.namespace)
        with self.lock:
            self.objects[kind] = {_name(o): o for o in items}
            self.versions[kind] = version

    def changed(self) -> None:
        with self.lock:
            deployments = list(self.objects["Deployment"].values())
            pods = list(self.objects["Pod"].values())
        update, final = self.judge(deployments, pods)
        with self.lock:
            if update == self.last:
                return
            self.last = update
        self.report(update)
        if final:
            self.stop.set()

    def watch(self, kind: str) -> None:
        while not self.stop.is_set():
            try:
                for event in self.reader.watch(
                    kind, self.namespace, self.versions[kind], self.seconds
                ):
                    obj = event["object"]
                    version = (obj.get("metadata") or {}).get("resourceVersion")
                    with self.lock:
                        if version:
                            self.versions[kind] = str(version)
                        if event["type"] == "DELETED":
                            self.objects[kind].pop(_name(obj), None)
                        elif event["type"] in ("ADDED", "MODIFIED"):
                            self.objects[kind][_name(obj)] = obj
                    if event["type"] != "BOOKMARK":
                        self.changed()
                    if self.stop.is_set():
                        return
            except Gone:
                try:
                    self.relist(kind)  # the version expired: a fresh list, then watch on from it
                    self.changed()
                except OrchestratorError as exc:
                    log.warning("re-listing %s in %s failed: %s", kind, self.namespace, exc)
                    self.stop.wait(1.0)
            except OrchestratorError as exc:
                log.warning("watching %s in %s failed: %s", kind, self.namespace, exc)
                self.stop.wait(1.0)


def follow_rollout(
    reader: ClusterReader,
    namespace: str,
    judge: Judge,
    report: Callable[[dict[str, Any]], object],
    stop: threading.Event,
    *,
    seconds: int = WATCH_SECONDS,
) -> None:
    follower = _Follower(reader, namespace, judge, report, stop, seconds)
    while not stop.is_set():
        try:
            for kind in KINDS:
                follower.relist(kind)
            follower.changed()
            break
        except OrchestratorError as exc:  # the cluster is unreachable: try again shortly
            log.warning("listing %s failed: %s", namespace, exc)
            stop.wait(2.0)
    if stop.is_set():
        return
    threads = [
        threading.Thread(target=follower.watch, args=(kind,), daemon=True, name=f"watch-{kind}")
        for kind in KINDS
    ]
    for thread in threads:
        thread.start()
    stop.wait()
    for thread in threads:
        thread.join(timeout=seconds + reader.timeout_s)
