"""The writer's compiles and publishes, run in a worker process of their own (spawned, not forked).

Input: Settings and a batch's writes. Output: each write prepared (its new spec text, or the
error it fails with, checked against the catalogue loaded here), the pipeline's CompileReport, as
if compile_workspace had run here; then the batch's PublishResult, as if publish had run here (the
deploy repo's state memo lives in the worker, between batches). Why a process: a compile and a
publish's planning are pure Python CPU work; in the server's process they would hold the GIL
against the event loop (every read waits) and use one core. The
worker is spawned (a fresh interpreter, so no lock of the server's threads is copied), compiles
large batches with the pipeline's own forked workers, and dies with the server (PR_SET_PDEATHSIG),
so a killed server never leaves a compile writing output/ behind its recovery.
"""

from __future__ import annotations

import ctypes
import multiprocessing
import os
import signal
import threading
from collections.abc import Callable, Collection, Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from concurrent.futures.process import BrokenProcessPool
from typing import TypeVar

from compiler.errors import OrchestratorError
from compiler.pipeline import CompileReport, Workspace, compile_workspace
from compiler.publishing import CommitAuthor, PublishResult, StateMemo, publish, unpublished
from compiler.service.tenant_writes import Prepared, WriteIntent, prepare_all
from compiler.settings import Settings

T = TypeVar("T")

# From this many tenants a batch's compile forks a second worker (the machine's second core):
# the worker is warm and ~75 MB, so a fork costs milliseconds against ~20 ms a tenant.
PARALLEL_FROM = 8
# A batch of 64 tenants compiles in seconds; minutes mean the worker is gone or stuck.
COMPILE_TIMEOUT_S = 300
_PR_SET_PDEATHSIG = 1


def _die_with_parent(parent: int) -> None:
    """In the worker: be killed the moment the server dies (Linux), or exit if it already has."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
    except (OSError, AttributeError):
        pass  # not Linux: the pool's own pipes end the worker once the server is gone
    if os.getppid() != parent:
        os._exit(1)


# The worker process's one piece of state (it lives in that process only, never the server's):
# the Workspace loaded for the last settings, with the presets/ files' stats it was loaded from.
_LOADED: dict[str, tuple[Settings, tuple[tuple[str, int, int], ...], Workspace]] = {}


def _presets_key(settings: Settings) -> tuple[tuple[str, int, int], ...]:
    try:
        with os.scandir(settings.presets_dir) as entries:
            stats = [(e.name, e.stat()) for e in entries if e.is_file()]
    except OSError:
        return ()
    return tuple(sorted((name, st.st_mtime_ns, st.st_size) for name, st in stats))


def _workspace(settings: Settings) -> Workspace:
    """The loaded compiler for `settings`, loaded again when presets/ changed."""
    key = _presets_key(settings)
    loaded = _LOADED.get("last")
    if loaded is not None and loaded[0] == settings and loaded[1] == key:
        return loaded[2]
    workspace = Workspace(settings)
    _LOADED["last"] = (settings, key, workspace)
    return workspace


def _compile(settings: Settings, tenant_ids: list[str]) -> CompileReport:
    workers = 2 if len(tenant_ids) >= PARALLEL_FROM else 1
    workspace = _workspace(settings)
    return compile_workspace(
        settings, tenant_ids, workers=workers, workspace=workspace, fork_from=PARALLEL_FROM // 2
    )


# The deploy repo's published state as this worker last saved it (a new worker reads it again).
_MEMO: dict[str, StateMemo] = {}


def _memo(settings: Settings) -> StateMemo:
    return _MEMO.setdefault(str(settings.root), StateMemo())


def _publish(
    settings: Settings,
    trailers: Sequence[tuple[str, str]],
    author: CommitAuthor | None,
    only: Collection[str] | None,
) -> PublishResult:
    return publish(settings, trailers=trailers, author=author, only=only, memo=_memo(settings))


def _prepare(
    settings: Settings, intents: Sequence[WriteIntent], current: Mapping[str, bytes | None]
) -> list[Prepared]:
    return prepare_all(_workspace(settings).catalogue, intents, current)


def _unpublished(settings: Settings) -> bool:
    return unpublished(settings, _memo(settings))


class CompileWorker:
    """One spawned process, started on first use (or by `start`), reused for every batch."""

    def __init__(self) -> None:
        self._pool: ProcessPoolExecutor | None = None
        self._lock = threading.Lock()

    def start(self, warm: Settings | None = None) -> None:
        """Spawn the worker; with `warm`, let it import and load the compiler now (not waited
        for), so the first write after start pays no cold start."""
        with self._lock:
            if self._pool is None:
                self._pool = ProcessPoolExecutor(
                    1,
                    mp_context=multiprocessing.get_context("spawn"),
                    initializer=_die_with_parent,
                    initargs=(os.getpid(),),
                )
                if warm is not None:
                    self._pool.submit(_compile, warm, [])

    def compile(self, settings: Settings, tenant_ids: list[str]) -> CompileReport:
        """The batch's compile in the worker; a worker that died or hangs fails the batch and
        is replaced next time."""
        what = f"the compile of {len(tenant_ids)} tenant(s)"
        return self._run(what, _compile, settings, tenant_ids)

    def prepare(
        self,
        settings: Settings,
        intents: Sequence[WriteIntent],
        current: Mapping[str, bytes | None],
    ) -> list[Prepared]:
        """tenant_writes.prepare_all in the worker, with the catalogue loaded there."""
        return self._run("the preparation of the writes", _prepare, settings, intents, current)

    def publish(
        self,
        settings: Settings,
        *,
        trailers: Sequence[tuple[str, str]],
        author: CommitAuthor | None,
        only: Collection[str] | None,
    ) -> PublishResult:
        """publish(settings, ...) in the worker, with the worker's state memo; raises what
        publish raises."""
        return self._run("the publish", _publish, settings, trailers, author, only)

    def unpublished(self, settings: Settings) -> bool:
        """publishing.unpublished in the worker (its memo then holds the published state)."""
        return self._run("the check of the deploy repo", _unpublished, settings)

    def _run(self, what: str, fn: Callable[..., T], *args: object) -> T:
        self.start()
        assert self._pool is not None  # started above
        try:
            return self._pool.submit(fn, *args).result(COMPILE_TIMEOUT_S)
        except (FutureTimeout, BrokenProcessPool) as exc:
            self.close()
            raise OrchestratorError(
                f"{what} failed in its worker process ({type(exc).__name__}); "
                "the batch is rolled back"
            ) from exc

    def close(self) -> None:
        with self._lock:
            pool, self._pool = self._pool, None
        if pool is not None:
            # Not waiting: the worker ends with its queue (and by PR_SET_PDEATHSIG at the latest).
            pool.shutdown(wait=False, cancel_futures=True)
