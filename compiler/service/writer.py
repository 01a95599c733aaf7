"""The workspace's one writer: a thread that takes queued writes in batches (group commit).

Input: WriteIntents submitted from request handlers (`await writer.submit(intent)`). Output: each
intent's WriteOutcome, or the error it failed with, delivered to the handler's event loop. While a
batch runs, new writes queue up and form the next batch, in arrival order (write_batch.py applies
one write per tenant per batch and sends the rest round again). Writers never hold a worker thread
while they wait, so reads never queue behind them. Recovery runs before every batch.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections import Counter, deque
from dataclasses import dataclass
from typing import TYPE_CHECKING

from compiler.errors import Conflict, OrchestratorError
from compiler.journal import Journal
from compiler.service.compile_worker import CompileWorker
from compiler.service.recovery import recover
from compiler.service.tenant_writes import WriteIntent
from compiler.service.write_batch import Answer, Retry, WriteOutcome, run_batch

if TYPE_CHECKING:
    from compiler.service.state import Workspace

logger = logging.getLogger(__name__)
# Enough to amortise a compile, a commit and a publish; small enough that one batch stays short.
MAX_BATCH = 64


@dataclass
class _Pending:
    intent: WriteIntent
    loop: asyncio.AbstractEventLoop
    future: asyncio.Future[WriteOutcome]


class WriteQueue:
    def __init__(self, ws: Workspace) -> None:
        self.ws = ws
        self.journal = Journal(ws.settings.journal_dir)
        self.compiler = CompileWorker()
        self._cond = threading.Condition()
        self._queue: deque[_Pending] = deque()
        self._queued: Counter[str] = Counter()
        self._thread: threading.Thread | None = None
        self._stopping = False
        self.batches = 0  # batches applied since start (bench and tests read it)
        # True until a publish succeeds, and again after one fails: the next publish then plans
        # every tenant, so it carries whatever an earlier one (or another process) left behind.
        self.publish_all = True
        self._settle = False  # warm(): compare output/ with the deploy repo before any batch

    def recover(self) -> None:
        """Finish or undo an interrupted batch now (the app's startup runs it once)."""
        with self._cond:
            recover(self.ws, self.journal)

    def warm(self) -> None:
        """Start the compile worker ahead of the first write (the app's startup, real mode),
        and let the writer thread find out whether the deploy repo lacks anything (off the
        event loop, before any batch): when it does not, even the first batch publishes its
        own tenants only, and the published state is in memory already."""
        self.compiler.start(warm=self.ws.settings)
        with self._cond:
            self._settle = True
            self._start()

    async def submit(self, intent: WriteIntent, *, refuse_if_busy: bool = False) -> WriteOutcome:
        """Queue `intent` and wait for its batch. `refuse_if_busy` answers 409 at once when
        a write of the same tenant is still queued or running."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[WriteOutcome] = loop.create_future()
        tenant_id = intent.tenant_id
        with self._cond:
            if refuse_if_busy and self._queued[tenant_id]:
                raise Conflict(
                    f"tenant {tenant_id} has a publish in progress; retry, or delete with "
                    "force=true",
                    details={"tenant_id": tenant_id, "existing_status": "pending"},
                )
            self._start()
            self._queue.append(_Pending(intent, loop, future))
            self._queued[tenant_id] += 1
            self.ws.in_flight.add(tenant_id)
            self._cond.notify()
        return await future

    def _start(self) -> None:
        if self._thread is None or not self._thread.is_alive():
            self._stopping = False
            self._thread = threading.Thread(
                target=self._run, name=f"ecp-writer-{self.ws.settings.tenants_path}", daemon=True
            )
            self._thread.start()

    def stop(self, timeout: float = 30.0) -> None:
        """Finish the queued writes, then end the thread."""
        with self._cond:
            self._stopping = True
            self._cond.notify()
            thread = self._thread
        if thread is not None:
            thread.join(timeout)
        self.compiler.close()

    def _take(self) -> list[_Pending]:
        """The next batch: the queued writes in arrival order, up to MAX_BATCH."""
        count = min(MAX_BATCH, len(self._queue))
        return [self._queue.popleft() for _ in range(count)]

    def _check_published(self) -> None:
        try:
            self.publish_all = self.compiler.unpublished(self.ws.settings)
        except Exception:  # the first batch plans every tenant, and reports what is wrong
            logger.warning("could not compare output/ with the deploy repo", exc_info=True)
            self.publish_all = True
        # What the first batch would read first otherwise (one `git log` each, over the whole
        # history): the deployment records and the specs' dates.
        try:
            self.ws.ledger.refresh()
            self.ws.read.dates("")
        except Exception:  # a read answers the error; the writer does not need them yet
            logger.warning("could not read the deployment history", exc_info=True)

    def _run(self) -> None:
        if self._settle:
            self._settle = False
            self._check_published()
        while True:
            with self._cond:
                while not self._queue and not self._stopping:
                    self._cond.wait()
                if not self._queue:
                    return
                batch = self._take()
            results = self._apply([p.intent for p in batch])
            again = [p for p, r in zip(batch, results, strict=True) if isinstance(r, Retry)]
            answered = [
                (p, r) for p, r in zip(batch, results, strict=True) if not isinstance(r, Retry)
            ]
            # Done before the answers go out: a client that writes again on its answer must not
            # find its own finished write still in flight.
            with self._cond:
                self.batches += 1
                self._queue.extendleft(reversed(again))  # first in the next batch, in order
                for pending, _ in answered:
                    tenant_id = pending.intent.tenant_id
                    self._queued[tenant_id] -= 1
                    if self._queued[tenant_id] <= 0:
                        del self._queued[tenant_id]
                        self.ws.in_flight.discard(tenant_id)
            for pending, result in answered:
                pending.loop.call_soon_threadsafe(_deliver, pending.future, result)

    def _apply(self, intents: list[WriteIntent]) -> list[Answer | BaseException]:
        try:
            recover(self.ws, self.journal)
            return list(run_batch(self.ws, self.journal, intents))
        except Exception as exc:  # a bug or a broken disk: every write of the batch fails
            if not isinstance(exc, OrchestratorError):
                logger.exception("a batch of %d writes failed", len(intents))
            return [exc] * len(intents)


def _deliver(future: asyncio.Future[WriteOutcome], result: Answer | BaseException) -> None:
    if future.done():  # the client went away; the write itself is done all the same
        return
    if isinstance(result, BaseException):
        future.set_exception(result)
    elif isinstance(result, WriteOutcome):
        future.set_result(result)
