"""A batch of tenant writes against a real workspace repo and a real deploy repo, in-process.

What each write answers (its outcome, the error it fails with alone, or "again next batch"), what
the batch leaves behind (specs, output/, one workspace commit, one publish, an empty journal) and
how a failure of the batch, of one tenant's compile or of the publish is undone or carried. The
compile worker's own functions run in this process (no spawned interpreter), so a mutant of the
write path is caught here, in seconds, and not only by the kill test's subprocess servers.
"""

from __future__ import annotations

import asyncio
import atexit
import json
import logging
import os
import shutil
import subprocess
import tempfile
from collections.abc import Collection, Iterator, Mapping, Sequence
from pathlib import Path

import pytest
import yaml

from compiler.errors import (
    Conflict,
    OrchestratorError,
    PreconditionFailed,
    SlaUnachievable,
    TenantNotFound,
)
from compiler.journal import JournalChange, JournalEntry
from compiler.journal.wal import Phase
from compiler.pipeline import CompileReport, compile_workspace
from compiler.publishing import CommitAuthor, PublishResult, publish
from compiler.service import compile_worker
from compiler.service.read_model import etag_of
from compiler.service.recovery import _clear_leftovers as clear_leftovers
from compiler.service.recovery import recover
from compiler.service.state import Workspace
from compiler.service.tenant_writes import Prepared, PreparedChange, WriteIntent
from compiler.service.write_batch import (
    RETRY,
    Answer,
    WriteOutcome,
    apply_changes,
    run_batch,
    written_paths,
)
from compiler.settings import Settings
from compiler.spec.edit import apply_update

REPO = Path(__file__).resolve().parent.parent
TENANTS = ("shop-chat-lite", "my-ai-service")
LITE, OTHER = TENANTS
ANA = CommitAuthor(name="Ana", email="ana@example.com", principal="ana")


class InProcessCompiler:
    """The compile worker's functions, called here instead of in a spawned process. `poison`
    names tenants whose compile fails as a dead worker's does (the batch as a whole fails);
    `refuse_publish` makes the publish fail as a deploy repo that cannot be written does."""

    def __init__(self) -> None:
        self.poison: set[str] = set()
        self.refuse_publish: OrchestratorError | Exception | None = None
        self.published_only: list[Collection[str] | None] = []
        self.compiled: list[list[str]] = []

    def start(self, warm: Settings | None = None) -> None:
        """Nothing to spawn."""

    def close(self) -> None:
        """Nothing to end."""

    def prepare(
        self,
        settings: Settings,
        intents: Sequence[WriteIntent],
        current: Mapping[str, bytes | None],
    ) -> list[Prepared]:
        return compile_worker._prepare(settings, intents, current)

    def compile(self, settings: Settings, tenant_ids: list[str]) -> CompileReport:
        self.compiled.append(list(tenant_ids))
        if self.poison & set(tenant_ids):
            raise OrchestratorError("the compile failed in its worker process (BrokenProcessPool)")
        return compile_worker._compile(settings, tenant_ids)

    def publish(
        self,
        settings: Settings,
        *,
        trailers: Sequence[tuple[str, str]],
        author: CommitAuthor | None,
        only: Collection[str] | None,
    ) -> PublishResult:
        self.published_only.append(None if only is None else sorted(only))
        if self.refuse_publish is not None:
            raise self.refuse_publish
        return compile_worker._publish(settings, trailers, author, only)

    def unpublished(self, settings: Settings) -> bool:
        return compile_worker._unpublished(settings)


def git(cwd: Path, *args: str) -> str:
    done = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, check=True)
    return done.stdout


_TEMPLATE: list[Path] = []


def _template() -> Path:
    """One compiled, committed and published workspace per process, copied for each test (the
    forks of a mutation run inherit it instead of compiling it again)."""
    if not _TEMPLATE:
        root = Path(tempfile.mkdtemp(prefix="ecp-write-batch-")) / "ws"
        atexit.register(shutil.rmtree, root.parent, ignore_errors=True)
        shutil.copytree(REPO / "presets", root / "presets")
        (root / "tenants").mkdir()
        for tenant_id in TENANTS:
            shutil.copy(REPO / "tenants" / f"{tenant_id}.yaml", root / "tenants")
        (root / ".gitignore").write_text(".ecp/journal/\n.ecp/cache/\n", encoding="utf-8")
        settings = Settings(root=root, repo_url_for_consumers="https://git.test/deploy.git")
        compile_workspace(settings)
        git(root, "init", "-q", "--initial-branch=main")
        git(root, "add", "--all", "--", "tenants", "output", "presets", ".gitignore")
        git(root, "-c", "user.name=t", "-c", "user.email=t@localhost", "commit", "-qm", "seed")
        publish(settings)
        _TEMPLATE.append(root)
    return _TEMPLATE[0]


@pytest.fixture
def ws(tmp_path: Path) -> Iterator[Workspace]:
    root = tmp_path / "ws"
    shutil.copytree(_template(), root, symlinks=True)
    settings = Settings(root=root, repo_url_for_consumers="https://git.test/deploy.git")
    workspace = Workspace.of(settings)
    workspace.writer.compiler = InProcessCompiler()  # type: ignore[assignment]
    yield workspace
    workspace.writer.stop(timeout=WAIT_S)


# A wait for the writer thread is bounded by the clock: a broken writer (a mutant of it) must
# fail the test, not hang it (a blocked thread uses no CPU, so a CPU-time limit never ends it).
WAIT_S = 30.0


def submit(ws: Workspace, intent: WriteIntent, *, refuse_if_busy: bool = False) -> WriteOutcome:
    return asyncio.run(
        asyncio.wait_for(ws.writer.submit(intent, refuse_if_busy=refuse_if_busy), WAIT_S)
    )


def compiler_of(ws: Workspace) -> InProcessCompiler:
    found = ws.writer.compiler
    assert isinstance(found, InProcessCompiler)
    return found


def more(chatbots: int) -> dict[str, object]:
    return {"service_requirements": {"chatbot": chatbots}}


def update(tenant_id: str, chatbots: int, **extra: object) -> WriteIntent:
    return WriteIntent("update", tenant_id, more(chatbots), request_id=f"req-{chatbots}", **extra)  # type: ignore[arg-type]


def spec(ws: Workspace, tenant_id: str) -> bytes:
    return (ws.settings.tenants_dir / f"{tenant_id}.yaml").read_bytes()


def chatbots(ws: Workspace, tenant_id: str) -> int:
    loaded = yaml.safe_load(spec(ws, tenant_id))
    return int(loaded["service_requirements"]["chatbot"])


def batch(ws: Workspace, *intents: WriteIntent) -> list[Answer]:
    return run_batch(ws, ws.writer.journal, list(intents))


def head_message(root: Path) -> str:
    return git(root, "log", "-1", "--format=%B")


def count_commits(root: Path) -> int:
    return int(git(root, "rev-list", "--count", "HEAD"))


def deploy_repo(ws: Workspace) -> Path:
    path = ws.settings.deploy_repo_path
    assert path is not None
    return path


def index(ws: Workspace) -> dict[str, object]:
    tenants = json.loads((ws.settings.output_dir / "index.json").read_text("utf-8"))["tenants"]
    assert isinstance(tenants, dict)
    return tenants


def test_a_batch_of_two_tenants_is_one_commit_and_one_publish_and_each_write_answers(
    ws: Workspace,
) -> None:
    root = ws.settings.root
    before = count_commits(root)
    deploy_before = count_commits(deploy_repo(ws))
    first, second = batch(ws, update(LITE, 41, author=ANA), update(OTHER, 43, author=ANA))
    assert isinstance(first, WriteOutcome) and isinstance(second, WriteOutcome)
    assert (first.tenant_id, second.tenant_id) == (LITE, OTHER)
    assert chatbots(ws, LITE) == 41 and chatbots(ws, OTHER) == 43
    assert first.etag == etag_of(spec(ws, LITE)) and second.etag == etag_of(spec(ws, OTHER))
    assert first.changed and second.changed
    assert count_commits(root) == before + 1
    assert count_commits(deploy_repo(ws)) == deploy_before + 1
    message = head_message(root)
    assert message.splitlines()[0] == "ecp: 2 tenant writes"
    assert f"update tenant {LITE}" in message and f"update tenant {OTHER}" in message
    assert "Ecp-Request-Id: req-41" in message and "Ecp-Batch-Id: batch-" in message
    assert git(root, "log", "-1", "--format=%an <%ae>") == "Ana <ana@example.com>\n"
    # The answer's time is the commit's date, and its entry the committed index's.
    assert git(root, "log", "-1", "--format=%cI").strip().startswith(first.at[:19])
    assert first.entry == index(ws)[LITE] and second.entry == index(ws)[OTHER]
    deployment = first.deployment_id
    assert deployment is not None and deployment == second.deployment_id
    assert ws.read.index()[LITE] == first.entry  # readers see the new state at once
    assert git(root, "status", "--porcelain") == ""  # the workspace is clean at HEAD
    assert ws.writer.journal.pending() is None
    assert not list(ws.settings.journal_dir.glob("*.json"))
    assert ws.deleting == set() and ws.failed == {}


def test_a_write_that_changes_nothing_answers_unchanged_without_a_commit(ws: Workspace) -> None:
    root = ws.settings.root
    now = yaml.safe_load(spec(ws, LITE))["service_requirements"]["chatbot"]
    before = count_commits(root)
    (answer,) = batch(ws, update(LITE, now))
    assert isinstance(answer, WriteOutcome)
    assert answer.changed is False and answer.deployment_id is None
    assert answer.etag == etag_of(spec(ws, LITE))
    assert answer.entry == index(ws)[LITE]
    assert count_commits(root) == before
    assert compiler_of(ws).compiled == []  # nothing compiled, nothing published
    assert compiler_of(ws).published_only == []


def test_a_second_write_of_a_tenant_goes_again_next_batch_and_a_stale_one_is_refused_now(
    ws: Workspace,
) -> None:
    original = etag_of(spec(ws, LITE))
    first, again, stale = batch(
        ws,
        update(LITE, 41),
        update(LITE, 42),
        update(LITE, 44, if_match=original),
    )
    assert isinstance(first, WriteOutcome)
    assert again is RETRY  # it would apply on top of the first: the next batch does it
    assert isinstance(stale, PreconditionFailed)  # it lost the race to the first
    assert chatbots(ws, LITE) == 41


def test_a_stale_write_behind_a_failing_one_goes_again_instead_of_being_refused(
    ws: Workspace,
) -> None:
    compiler_of(ws).poison.add(LITE)
    original = etag_of(spec(ws, LITE))
    first, behind, other = batch(
        ws, update(LITE, 41), update(LITE, 44, if_match=original), update(OTHER, 43)
    )
    assert isinstance(first, OrchestratorError) and isinstance(other, WriteOutcome)
    assert behind is RETRY  # its precondition held against a write that never happened
    assert etag_of(spec(ws, LITE)) == original


def test_a_write_that_fails_alone_leaves_the_other_writes_of_its_batch(ws: Workspace) -> None:
    missing, applied = batch(ws, update("nobody", 41), update(OTHER, 43))
    assert isinstance(missing, TenantNotFound)
    assert isinstance(applied, WriteOutcome) and chatbots(ws, OTHER) == 43
    assert head_message(ws.settings.root).splitlines()[0] == f"update tenant {OTHER}"


def test_a_poisonous_write_fails_alone_when_the_batch_is_retried_one_by_one(
    ws: Workspace,
) -> None:
    compiler_of(ws).poison.add(LITE)
    lite_before = spec(ws, LITE)
    index_before = index(ws)[LITE]
    poisoned, applied = batch(ws, update(LITE, 41), update(OTHER, 43))
    assert isinstance(poisoned, OrchestratorError)
    assert "worker process" in poisoned.message
    assert isinstance(applied, WriteOutcome) and chatbots(ws, OTHER) == 43
    assert compiler_of(ws).compiled[0] == [LITE, OTHER]  # the batch first, then one by one
    assert [LITE] in compiler_of(ws).compiled[1:] and [OTHER] in compiler_of(ws).compiled[1:]
    # The poisoned write was rolled back: its spec and output as before, nothing staged.
    assert spec(ws, LITE) == lite_before and index(ws)[LITE] == index_before
    assert git(ws.settings.root, "status", "--porcelain") == ""
    assert ws.writer.journal.pending() is None


def test_a_write_whose_compile_fails_fails_alone_with_the_compile_error_as_its_class(
    ws: Workspace,
) -> None:
    """A spec the compile refuses (here 99.999 % on a chat path: the tenant's Redis gives at
    most 99.9965 % with 4 data pods, tests/test_session_store_numbers.py) reaches apply_changes
    behind a change that compiles. The refused write answers SlaUnachievable (the report's code
    SLA_UNACHIEVABLE) with the compile's message, its field, and its errors naming the spec file
    alone (line 8: the availability line of tenants/shop-chat-lite.yaml); its spec is put back,
    and the other write is committed alone."""
    lite_before, other_before = spec(ws, LITE), spec(ws, OTHER)
    weak = lite_before.decode("utf-8").replace('availability: "99.5%"', 'availability: "99.999%"')
    renamed = other_before.decode("utf-8").replace("name: 내 AI 서비스", "name: 새 이름", 1)
    changes = [
        PreparedChange(
            WriteIntent("update", OTHER, {}, request_id="r-other"), other_before, renamed
        ),
        PreparedChange(WriteIntent("update", LITE, {}, request_id="r-lite"), lite_before, weak),
    ]
    applied, refused = apply_changes(ws, ws.writer.journal, changes)
    message = (
        "path chat-message keeps its session state in the tenant's Redis, whose availability "
        "99.9965% (4 data pods, failovers counted; presets/redis.yaml) cannot carry the "
        "99.999% availability target: lower sla_target.availability, or set redis_url to an "
        "external Redis that can"
    )
    assert type(refused) is SlaUnachievable
    assert refused.message == message
    assert refused.details == {
        "errors": [
            {
                "file": "shop-chat-lite.yaml",
                "line": 8,
                "field": "sla_target.availability",
                "message": message,
                "code": "SLA_UNACHIEVABLE",
            }
        ],
        "field": "sla_target.availability",
    }
    assert isinstance(applied, WriteOutcome) and applied.tenant_id == OTHER
    assert spec(ws, LITE) == lite_before and spec(ws, OTHER) == renamed.encode("utf-8")
    assert head_message(ws.settings.root).splitlines()[0] == f"update tenant {OTHER}"


def test_a_lone_write_whose_batch_fails_raises_after_rolling_everything_back(
    ws: Workspace,
) -> None:
    compiler_of(ws).poison.add(LITE)
    before = spec(ws, LITE)
    head = git(ws.settings.root, "rev-parse", "HEAD")
    with pytest.raises(OrchestratorError, match="worker process"):
        batch(ws, update(LITE, 41))
    assert spec(ws, LITE) == before
    assert git(ws.settings.root, "rev-parse", "HEAD") == head
    assert git(ws.settings.root, "status", "--porcelain") == ""
    assert ws.writer.journal.pending() is None and ws.deleting == set()
    assert LITE in ws.read.index()  # the readers were released


def test_a_failed_publish_answers_every_write_of_the_batch_and_the_next_plans_all(
    ws: Workspace,
) -> None:
    compiler = compiler_of(ws)
    ws.writer.publish_all = False
    compiler.refuse_publish = OrchestratorError("the deploy repo refused the push")
    first, second = batch(ws, update(LITE, 41), update(OTHER, 43))
    for answer in (first, second):
        assert isinstance(answer, OrchestratorError)
        assert answer.message == "the deploy repo refused the push"
        assert answer.details["spec_accepted"] is True
    assert ws.failed == dict.fromkeys((LITE, OTHER), "the deploy repo refused the push")
    assert chatbots(ws, LITE) == 41  # committed in the workspace: the next publish carries it
    assert ws.writer.publish_all is True
    compiler.refuse_publish = None
    (later,) = batch(ws, update(LITE, 45))
    assert isinstance(later, WriteOutcome) and later.deployment_id is not None
    assert compiler.published_only == [sorted([LITE, OTHER]), None]  # the one after a failure: all
    assert ws.writer.publish_all is False
    assert ws.failed == {OTHER: "the deploy repo refused the push"}  # LITE's write went out
    (last,) = batch(ws, update(OTHER, 47))
    assert isinstance(last, WriteOutcome)
    assert compiler.published_only[-1] == [OTHER]
    assert ws.failed == {}


def test_a_publish_that_breaks_unexpectedly_is_a_generic_error_the_spec_accepted(
    ws: Workspace,
) -> None:
    compiler_of(ws).refuse_publish = RuntimeError("a bug")
    (answer,) = batch(ws, update(LITE, 41))
    assert isinstance(answer, OrchestratorError)
    assert answer.message == "publishing to the deploy repo failed"
    assert answer.details == {"spec_accepted": True}
    assert ws.failed == {LITE: "publishing to the deploy repo failed"}


def test_a_delete_removes_the_spec_the_output_and_the_index_entry(ws: Workspace) -> None:
    deploy = deploy_repo(ws)
    (answer,) = batch(ws, WriteIntent("delete", OTHER, request_id="req-del"))
    assert isinstance(answer, WriteOutcome)
    assert answer.etag is None and answer.entry == {}
    assert answer.deployment_id is not None
    assert not (ws.settings.tenants_dir / f"{OTHER}.yaml").exists()
    assert not (ws.settings.output_dir / OTHER).exists()
    assert OTHER not in index(ws) and OTHER not in ws.read.index()
    assert head_message(ws.settings.root).splitlines()[0] == f"delete tenant {OTHER}"
    assert not (deploy / "tenants" / OTHER).exists()
    assert ws.deleting == set()


def test_a_create_writes_a_new_spec_compiled_committed_and_published(ws: Workspace) -> None:
    body = yaml.safe_load(spec(ws, LITE))
    body["tenant_id"] = "fresh-one"
    (answer,) = batch(ws, WriteIntent("create", "fresh-one", body, request_id="req-new"))
    assert isinstance(answer, WriteOutcome)
    assert answer.etag == etag_of(spec(ws, "fresh-one"))
    assert answer.entry == index(ws)["fresh-one"]
    assert head_message(ws.settings.root).splitlines()[0] == "create tenant fresh-one"
    assert (deploy_repo(ws) / "tenants" / "fresh-one" / "manifest.yaml").is_file()


def test_what_a_write_changes_is_its_spec_its_output_folder_and_the_index(
    ws: Workspace,
) -> None:
    settings = ws.settings
    assert written_paths(settings, LITE) == [
        settings.tenants_dir / f"{LITE}.yaml",
        settings.output_dir / LITE,
        settings.output_dir / "index.json",
    ]


def test_the_writer_answers_each_submit_and_forgets_the_tenant_once_answered(
    ws: Workspace,
) -> None:
    async def two_writes() -> list[WriteOutcome]:
        both = asyncio.gather(
            ws.writer.submit(update(LITE, 41)), ws.writer.submit(update(LITE, 42))
        )
        return list(await asyncio.wait_for(both, WAIT_S))

    first, second = asyncio.run(two_writes())
    assert chatbots(ws, LITE) == 42  # in arrival order, the second on top of the first
    assert first.etag != second.etag and second.etag == etag_of(spec(ws, LITE))
    assert ws.in_flight == set()
    assert ws.writer.batches >= 2  # one write of a tenant per batch


def test_the_writer_refuses_a_write_when_one_of_the_same_tenant_is_queued(
    ws: Workspace,
) -> None:
    async def race() -> tuple[WriteOutcome, BaseException | WriteOutcome]:
        pending = asyncio.ensure_future(ws.writer.submit(update(LITE, 41)))
        await asyncio.sleep(0)  # queued now
        refused = ws.writer.submit(update(LITE, 42), refuse_if_busy=True)
        second: BaseException | WriteOutcome
        try:
            second = await asyncio.wait_for(refused, WAIT_S)
        except Conflict as exc:
            second = exc
        return await asyncio.wait_for(pending, WAIT_S), second

    first, second = asyncio.run(race())
    assert isinstance(first, WriteOutcome)
    assert isinstance(second, Conflict)
    assert second.details == {"tenant_id": LITE, "existing_status": "pending"}
    assert second.message == (
        f"tenant {LITE} has a publish in progress; retry, or delete with force=true"
    )
    assert chatbots(ws, LITE) == 41
    other = submit(ws, update(LITE, 43), refuse_if_busy=True)
    assert isinstance(other, WriteOutcome)  # nothing queued any more: it applies


def test_a_write_error_reaches_the_submitter_as_the_exception(ws: Workspace) -> None:
    with pytest.raises(TenantNotFound):
        submit(ws, update("nobody", 41))
    assert ws.in_flight == set()


def test_a_batch_that_breaks_fails_each_of_its_writes_with_the_error(ws: Workspace) -> None:
    compiler_of(ws).refuse_publish = None
    compiler_of(ws).poison.add(LITE)
    with pytest.raises(OrchestratorError, match="worker process"):
        submit(ws, update(LITE, 41))
    assert ws.in_flight == set()
    compiler_of(ws).poison.clear()
    assert isinstance(submit(ws, update(LITE, 42)), WriteOutcome)


def interrupted(
    ws: Workspace, phase: Phase, count: int, author: CommitAuthor | None = None
) -> JournalEntry:
    """A batch a crash stopped at `phase`: LITE's spec edited to `count` chatbots and
    compiled (asked for by `author`), the journal's entry for it written as the killed process
    left it."""
    settings = ws.settings
    path = settings.tenants_dir / f"{LITE}.yaml"
    old = path.read_text("utf-8")
    new = apply_update(old, more(count), path.name)
    path.write_text(new, encoding="utf-8")
    compile_workspace(settings, [LITE])
    change = JournalChange(
        tenant_id=LITE,
        action="update",
        old=old,
        new=new,
        request_id="req-crash",
        author_name=None if author is None else author.name,
        author_email=None if author is None else author.email,
        author_principal=None if author is None else author.principal,
    )
    entry = JournalEntry(
        batch_id="batch-00000000000000aa",
        phase=phase,
        workspace_head=git(settings.root, "rev-parse", "HEAD").strip(),
        changes=(change,),
    )
    return ws.writer.journal.write(entry)


def test_nothing_to_recover_is_none(ws: Workspace) -> None:
    assert recover(ws, ws.writer.journal) is None


def test_a_batch_interrupted_before_its_commit_is_rolled_back_with_its_leftovers(
    ws: Workspace,
) -> None:
    settings = ws.settings
    before, entry_before = spec(ws, LITE), index(ws)[LITE]
    interrupted(ws, "compiled", 41)
    assert index(ws)[LITE] != entry_before
    stray = settings.tenants_dir / f".{LITE}.yaml.x1.tmp"
    stray.write_text("half", encoding="utf-8")
    theirs = settings.output_dir / ".staging-1"
    theirs.mkdir()
    their_index = settings.output_dir / ".index.json.x.1.tmp"
    my_index = settings.output_dir / f".index.json.x.{os.getpid()}.tmp"
    their_index.write_text("{", encoding="utf-8")
    my_index.write_text("{", encoding="utf-8")
    assert recover(ws, ws.writer.journal) == "rolled back"
    assert spec(ws, LITE) == before and index(ws)[LITE] == entry_before
    assert not stray.exists() and not theirs.exists() and not their_index.exists()
    assert my_index.is_file()  # this process's own temp index is not a leftover
    assert ws.writer.journal.pending() is None
    my_index.unlink()
    assert git(settings.root, "status", "--porcelain") == ""


def test_a_commit_the_journal_did_not_record_is_undone_with_its_batch(ws: Workspace) -> None:
    root = ws.settings.root
    head = git(root, "rev-parse", "HEAD").strip()
    before = spec(ws, LITE)
    entry = interrupted(ws, "staged", 41)
    git(root, "add", "--all", "--", "tenants", "output")
    message = f"update tenant {LITE}\n\nEcp-Batch-Id: {entry.batch_id}\n"
    git(root, "-c", "user.name=t", "-c", "user.email=t@localhost", "commit", "-qm", message)
    ws.writer.recover()
    assert git(root, "rev-parse", "HEAD").strip() == head
    assert spec(ws, LITE) == before
    assert git(root, "status", "--porcelain") == ""


def test_someone_elses_commit_is_not_undone_by_a_roll_back(ws: Workspace) -> None:
    root = ws.settings.root
    interrupted(ws, "spec-written", 41)
    (root / "NOTES.md").write_text("a person's commit\n", encoding="utf-8")
    git(root, "add", "NOTES.md")
    git(root, "-c", "user.name=t", "-c", "user.email=t@localhost", "commit", "-qm", "notes")
    theirs = git(root, "rev-parse", "HEAD").strip()
    assert recover(ws, ws.writer.journal) == "rolled back"
    assert git(root, "rev-parse", "HEAD").strip() == theirs
    assert chatbots(ws, LITE) != 41


def test_a_batch_interrupted_after_its_commit_is_published_by_recovery(ws: Workspace) -> None:
    root, deploy = ws.settings.root, deploy_repo(ws)
    entry = interrupted(ws, "intent", 41)
    git(root, "add", "--all", "--", "tenants", "output")
    git(root, "-c", "user.name=t", "-c", "user.email=t@localhost", "commit", "-qm", "the batch")
    head = git(root, "rev-parse", "HEAD").strip()
    ws.writer.journal.advance(entry, "committed", commit=head)
    assert recover(ws, ws.writer.journal) == "completed"
    assert git(root, "rev-parse", "HEAD").strip() == head  # kept: past the point of no return
    assert chatbots(ws, LITE) == 41
    assert f"Ecp-Batch-Id: {entry.batch_id}" in head_message(deploy)
    assert "Ecp-Request-Id: req-crash" in head_message(deploy)
    published = (deploy / "tenants" / LITE / "manifest.yaml").read_bytes()
    assert published == (ws.settings.output_dir / LITE / "manifest.yaml").read_bytes()
    assert ws.writer.journal.pending() is None


def committed(ws: Workspace, count: int, author: CommitAuthor | None = None) -> JournalEntry:
    """A batch a crash stopped after its workspace commit was recorded, before its publish."""
    root = ws.settings.root
    entry = interrupted(ws, "intent", count, author)
    git(root, "add", "--all", "--", "tenants", "output")
    git(root, "-c", "user.name=t", "-c", "user.email=t@localhost", "commit", "-qm", "the batch")
    head = git(root, "rev-parse", "HEAD").strip()
    return ws.writer.journal.advance(entry, "committed", commit=head)


def test_a_recovered_publish_is_authored_by_the_principal_who_asked_for_the_write(
    ws: Workspace,
) -> None:
    deploy = deploy_repo(ws)
    committed(ws, 41, ANA)
    assert recover(ws, ws.writer.journal) == "completed"
    assert git(deploy, "log", "-1", "--format=%an <%ae>") == "Ana <ana@example.com>\n"
    assert "Ecp-Principal: ana" in head_message(deploy)


def test_a_recovered_publish_of_the_orchestrator_s_own_write_is_not_authored_by_a_person(
    ws: Workspace,
) -> None:
    deploy = deploy_repo(ws)
    committed(ws, 41)
    assert recover(ws, ws.writer.journal) == "completed"
    assert git(deploy, "log", "-1", "--format=%an <%ae>") != "Ana <ana@example.com>\n"
    assert "Ecp-Principal:" not in head_message(deploy)


def test_a_recovery_that_cannot_publish_warns_why_and_still_finishes_the_batch(
    ws: Workspace, caplog: pytest.LogCaptureFixture
) -> None:
    root, deploy = ws.settings.root, deploy_repo(ws)
    entry = committed(ws, 41)
    head, deploy_head = git(root, "rev-parse", "HEAD"), git(deploy, "rev-parse", "HEAD")
    (deploy / "by-hand.txt").write_text("an edit nobody committed\n", encoding="utf-8")
    with pytest.raises(OrchestratorError) as refused:  # what the deploy repo answers a publish
        publish(ws.settings)
    with caplog.at_level(logging.WARNING, logger="compiler.service.recovery"):
        assert recover(ws, ws.writer.journal) == "completed"
    (record,) = caplog.records
    assert record.levelno == logging.WARNING
    assert record.getMessage() == (
        f"recovery could not publish batch {entry.batch_id}: {refused.value}"
    )
    assert git(root, "rev-parse", "HEAD") == head  # committed: the next publish carries it
    assert git(deploy, "rev-parse", "HEAD") == deploy_head
    assert ws.writer.journal.pending() is None


@pytest.mark.parametrize(
    ("phase", "outcome"),
    [("spec-written", "rolled back"), ("published", "completed")],
    ids=["rolled-back", "completed"],
)
def test_a_recovery_logs_which_batch_it_recovered_and_how(
    ws: Workspace, caplog: pytest.LogCaptureFixture, phase: Phase, outcome: str
) -> None:
    entry = interrupted(ws, phase, 41)
    with caplog.at_level(logging.INFO, logger="compiler.service.recovery"):
        assert recover(ws, ws.writer.journal) == outcome
    (record,) = caplog.records
    assert record.levelno == logging.INFO
    assert record.getMessage() == f"recovered interrupted batch {entry.batch_id}: {outcome}"


def test_readers_see_the_publish_recovery_made_even_when_the_ledger_was_held(
    ws: Workspace,
) -> None:
    deploy = deploy_repo(ws)
    before = ws.ledger.latest(LITE)
    assert before is not None
    committed(ws, 41)
    ws.ledger.hold()  # as the killed batch left it: answering from the state before it
    assert recover(ws, ws.writer.journal) == "completed"
    after = ws.ledger.latest(LITE)
    assert after is not None and after.commit != before.commit
    assert after.commit == git(deploy, "rev-parse", "HEAD").strip()


def test_readers_see_the_publish_recovery_made_after_the_ledger_was_read(
    ws: Workspace,
) -> None:
    deploy = deploy_repo(ws)
    committed(ws, 41)
    ws.ledger.refresh()  # read before recovery: fresh, then the recovered publish moves it
    assert recover(ws, ws.writer.journal) == "completed"
    after = ws.ledger.latest(LITE)
    assert after is not None
    assert after.commit == git(deploy, "rev-parse", "HEAD").strip()


def test_a_batch_interrupted_after_its_publish_is_only_finished(ws: Workspace) -> None:
    deploy = deploy_repo(ws)
    deploy_head = git(deploy, "rev-parse", "HEAD")
    interrupted(ws, "published", 41)
    assert recover(ws, ws.writer.journal) == "completed"
    assert git(deploy, "rev-parse", "HEAD") == deploy_head  # not published twice
    assert chatbots(ws, LITE) == 41
    assert ws.writer.journal.pending() is None


def test_the_writer_recovers_before_its_next_batch(ws: Workspace) -> None:
    before = spec(ws, LITE)
    interrupted(ws, "spec-written", 41)
    answer = submit(ws, update(OTHER, 43))
    assert isinstance(answer, WriteOutcome)
    assert spec(ws, LITE) == before  # rolled back first
    assert f"{LITE}.yaml" not in git(ws.settings.root, "show", "--name-only", "HEAD")


def test_a_start_with_nothing_unpublished_lets_the_first_batch_publish_its_own_tenants(
    ws: Workspace,
) -> None:
    ws.writer.warm()
    assert isinstance(submit(ws, update(LITE, 41)), WriteOutcome)
    assert compiler_of(ws).published_only == [[LITE]]
    assert ws.ledger.is_fresh()  # the writer read the deployment history before the batch


def test_a_start_that_finds_output_unpublished_plans_every_tenant_first(ws: Workspace) -> None:
    root = ws.settings.root
    path = ws.settings.tenants_dir / f"{OTHER}.yaml"
    path.write_text(apply_update(path.read_text("utf-8"), more(57), path.name), "utf-8")
    compile_workspace(ws.settings, [OTHER])
    git(root, "add", "--all", "--", "tenants", "output")
    git(root, "-c", "user.name=t", "-c", "user.email=t@localhost", "commit", "-qm", "by hand")
    ws.writer.warm()
    submit(ws, update(LITE, 41))
    submit(ws, update(LITE, 42))
    assert compiler_of(ws).published_only == [None, [LITE]]


def test_a_start_that_cannot_tell_plans_every_tenant_first(
    ws: Workspace, caplog: pytest.LogCaptureFixture
) -> None:
    compiler = compiler_of(ws)

    def broken(settings: Settings) -> bool:
        raise OrchestratorError("the deploy repo cannot be read")

    compiler.unpublished = broken  # type: ignore[method-assign]
    with caplog.at_level(logging.WARNING, logger="compiler.service.writer"):
        ws.writer.warm()
        submit(ws, update(LITE, 41))
    assert compiler.published_only == [None]
    (record,) = caplog.records  # the operator is told why the first publish plans everything
    assert record.getMessage() == "could not compare output/ with the deploy repo"
    assert record.exc_info is not None and "cannot be read" in str(record.exc_info[1])


def test_a_start_that_cannot_read_the_deployment_history_says_so_and_still_writes(
    ws: Workspace, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    refresh = ws.ledger.refresh
    calls: list[None] = []

    def unreadable_once() -> None:  # at the start only; the batch's own read then works
        if not calls:
            calls.append(None)
            raise OrchestratorError("git log failed")
        refresh()

    monkeypatch.setattr(ws.ledger, "refresh", unreadable_once)
    with caplog.at_level(logging.WARNING, logger="compiler.service.writer"):
        ws.writer.warm()
        assert isinstance(submit(ws, update(LITE, 41)), WriteOutcome)
    (record,) = caplog.records
    assert record.getMessage() == "could not read the deployment history"
    assert record.exc_info is not None and "git log failed" in str(record.exc_info[1])


def test_a_start_that_reads_everything_logs_no_warning(
    ws: Workspace, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="compiler.service.writer"):
        ws.writer.warm()
        submit(ws, update(LITE, 41))
    assert caplog.records == []


def test_recovery_clears_a_dead_process_s_staging_but_never_this_process_s_own(
    ws: Workspace,
) -> None:
    output = ws.settings.output_dir
    theirs, mine = output / ".staging-1", output / f".staging-{os.getpid()}"
    theirs.mkdir()
    mine.mkdir()  # a compile of this process may be writing it right now
    clear_leftovers(ws.settings, [LITE])
    assert not theirs.exists() and mine.is_dir()
