"""Run a build over many tenants in forked children: the CLI's cold compiles use both cores.

Fork only from single-threaded callers (the CLI), never inside a threaded server, where a fork
would copy other threads' held locks.
"""

from __future__ import annotations

import os
import pickle
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")
Progress = Callable[[int, int], None]
# Below this many tenants a fork costs more than it saves.
FORK_THRESHOLD = 64


def map_forked(
    fn: Callable[[str], T],
    items: list[str],
    workers: int,
    progress: Progress | None,
    threshold: int = FORK_THRESHOLD,
) -> list[T]:
    """fn over items, in order, split across forked children when the run is large.

    Each child builds one contiguous chunk and sends its pickled results through a pipe; the
    parent builds the first chunk itself. A child that fails is redone in the parent, so a
    crash in a worker costs time, never results. A child is forked per `threshold` items (a
    long-lived caller whose process is small and warm forks for fewer).
    """
    total = len(items)
    workers = min(workers, os.cpu_count() or 1, max(1, total // max(1, threshold)))
    if workers <= 1 or not hasattr(os, "fork"):
        out = []
        for done, item in enumerate(items, start=1):
            out.append(fn(item))
            if progress:
                progress(done, total)
        return out
    size = -(-total // workers)
    chunks = [items[i : i + size] for i in range(0, total, size)]
    children: list[tuple[int, int, list[str]]] = []
    for chunk in chunks[1:]:
        read_end, write_end = os.pipe()
        pid = os.fork()
        if pid == 0:  # child: build, send, and leave without running the parent's cleanup
            os.close(read_end)
            code = 0
            try:
                payload = pickle.dumps([fn(item) for item in chunk])
                with os.fdopen(write_end, "wb") as pipe:
                    pipe.write(payload)
            except BaseException:  # noqa: BLE001 - any failure: the parent redoes the chunk
                code = 1
            os._exit(code)
        os.close(write_end)
        children.append((pid, read_end, chunk))
    out = []
    for done, item in enumerate(chunks[0], start=1):
        out.append(fn(item))
        if progress:  # the children advance at the same pace; report the whole run
            progress(min(total, done * len(chunks)), total)
    for pid, read_end, chunk in children:
        with os.fdopen(read_end, "rb") as pipe:
            payload = pipe.read()
        _, status = os.waitpid(pid, 0)
        if status == 0 and payload:
            out.extend(pickle.loads(payload))  # noqa: S301 - our own child's output
        else:
            out.extend(fn(item) for item in chunk)
    if progress:
        progress(total, total)
    return out
