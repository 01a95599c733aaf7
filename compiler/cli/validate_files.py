"""`ecp validate`'s file work: find the manifest files, check each, and share a large input
between the machine's cores (forked workers, each a contiguous run of files, so the reports come
back in the order the files were found and the output is the same as one process gives).

Input: paths; output: one FileReport per file. Reads files; writes nothing.
"""

from __future__ import annotations

import contextlib
import gc
import multiprocessing
import os
from collections.abc import Iterator, Sequence
from multiprocessing.connection import Connection
from pathlib import Path

import click

from compiler.validating import ManifestValidator, PolicyContext, load_documents, resource_summary
from compiler.validating.documents import finding_lines
from compiler.validating.findings import Finding
from compiler.validating.reporting import FileReport

# Below this much YAML one process is quicker than forking (a fork and the pickled reports cost
# ~20-50 ms; the bench's 20,000 documents are 15 MB).
PARALLEL_FROM_BYTES = 1 << 20


def manifest_files(paths: tuple[Path, ...]) -> list[Path]:
    files: list[Path] = []
    for path in paths:
        if path.is_dir():
            files.extend(
                sorted(
                    p
                    for p in path.rglob("*")
                    if p.suffix in (".yaml", ".yml")
                    and p.is_file()
                    and p.name != "kustomization.yaml"
                    # hidden folders: VCS data and our own interrupted staging output
                    and not any(part.startswith(".") for part in p.relative_to(path).parts)
                )
            )
        elif path.is_file():
            files.append(path)
        else:
            raise click.BadParameter(f"{path}: no such file or directory", param_hint="PATH")
    return files


def check_file(file: Path, validator: ManifestValidator, policy: PolicyContext) -> FileReport:
    try:
        text = file.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        finding = Finding("error", "read", f"cannot read: {exc}", 0, None, None, "")
        return FileReport(str(file), [], [finding], [None])
    objects, findings = load_documents(text, str(file))
    findings = findings + validator.validate(objects, unknown_kind="warning", policy=policy)
    return FileReport(str(file), objects, findings, finding_lines(text, objects, findings))


def check_files(
    files: Sequence[Path],
    validator: ManifestValidator,
    policy: PolicyContext,
    *,
    workers: int | None = None,
    parallel_from_bytes: int = PARALLEL_FROM_BYTES,
) -> list[FileReport]:
    """A report per file, in order; large inputs are shared between `workers` processes (the
    usable cores by default), this one included."""
    count = workers if workers is not None else len(os.sched_getaffinity(0))
    sizes = [_size(file) for file in files]
    with _collector_for_parsing():
        if (
            count < 2
            or len(files) < 2
            or sum(sizes) < parallel_from_bytes
            or "fork" not in multiprocessing.get_all_start_methods()
        ):
            return [_slim(check_file(file, validator, policy)) for file in files]
        return _shared(files, sizes, count, validator, policy)


@contextlib.contextmanager
def _collector_for_parsing() -> Iterator[None]:
    """The cyclic collector's youngest generation collected every 20,000 allocations rather
    than 700 while files are checked, then as it was: a Deployment alone is ~300 containers and
    parsed documents hold no cycles (each file's are freed by reference counting), so the
    default spends ~3 % of the work on the bench tree walking them, as much as no collector."""
    thresholds = gc.get_threshold()
    gc.set_threshold(20_000, *thresholds[1:])
    try:
        yield
    finally:
        gc.set_threshold(*thresholds)


def _shared(
    files: Sequence[Path],
    sizes: Sequence[int],
    count: int,
    validator: ManifestValidator,
    policy: PolicyContext,
) -> list[FileReport]:
    """The files shared between `count` processes, this one included: contiguous batches."""
    batches = _contiguous_batches(files, sizes, count)
    context = multiprocessing.get_context("fork")  # the children inherit the compiled schemas
    started = []
    for batch in batches[1:]:
        receiver, sender = context.Pipe(duplex=False)
        process = context.Process(target=_work, args=(batch, validator, policy, sender))
        process.start()
        sender.close()
        started.append((batch, receiver, process))
    reports = [_slim(check_file(file, validator, policy)) for file in batches[0]]
    for batch, receiver, process in started:
        try:
            found: list[FileReport] | None = receiver.recv()
        except (EOFError, OSError):
            found = None  # the worker died: do its files here
        process.join()
        receiver.close()
        reports.extend(found if found is not None else [_slim(check_file(f, validator, policy))
                                                        for f in batch])  # fmt: skip
    return reports


def _work(
    files: list[Path], validator: ManifestValidator, policy: PolicyContext, sender: Connection
) -> None:
    """A forked worker: its files' reports, slimmed for the pipe, or None on any failure (the
    parent then checks those files itself and reports what goes wrong as one process would)."""
    try:
        reports = [_slim(check_file(file, validator, policy)) for file in files]
    except Exception:  # noqa: BLE001 - the parent redoes this batch and surfaces the error
        reports = None
    sender.send(reports)
    sender.close()


def _slim(report: FileReport) -> FileReport:
    """What the reports read of the documents (kind, metadata.name, the resource summary)."""
    return FileReport(
        report.file,
        [_stub(doc) for doc in report.documents],
        report.findings,
        report.lines,
        resource_summary(report.documents),
    )


def _stub(doc: dict[str, object]) -> dict[str, object]:
    stub = {key: doc[key] for key in ("kind",) if key in doc}
    metadata = doc.get("metadata")
    if isinstance(metadata, dict):
        stub["metadata"] = {key: metadata[key] for key in ("name",) if key in metadata}
    elif "metadata" in doc:
        stub["metadata"] = metadata
    return stub


def _size(file: Path) -> int:
    try:
        return file.stat().st_size
    except OSError:
        return 0


def _contiguous_batches(
    files: Sequence[Path], sizes: Sequence[int], count: int
) -> list[list[Path]]:
    """`count` runs of consecutive files of about equal size (the order is the output's)."""
    total = sum(sizes) or 1
    batches: list[list[Path]] = [[] for _ in range(count)]
    done = 0
    for file, size in zip(files, sizes, strict=True):
        batches[min(count - 1, done * count // total)].append(file)
        done += size
    return [batch for batch in batches if batch]
