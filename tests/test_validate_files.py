"""`ecp validate` on many files: shared between processes, the reports come back exactly as one
process gives them (order, findings, lines), a failing worker's files are redone here, and every
finding keeps the line of its field in files the fast YAML path read."""

from __future__ import annotations

import gc
import os
from pathlib import Path
from typing import Any

from conftest import EcpRunner

from compiler.cli.validate_files import check_files, manifest_files
from compiler.validating import ManifestValidator, PolicyContext
from compiler.validating.reporting import json_report, junit_xml, sarif_log, text_lines

APP = """\
# app {i}
apiVersion: v1
kind: ConfigMap
metadata:
  name: app-{i}
  namespace: team
data:
  mode: '0644'
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: app-{i}
  namespace: team
spec:
  replicas: {replicas}
  selector:
    matchLabels: {{app: app-{i}}}
  template:
    metadata:
      labels: {{app: app-{i}}}
    spec:
      containers:
        - name: app
          image: registry.example.com/app:{i}.0
          ports:
            - containerPort: {port}
          resources:
            requests: {{cpu: 100m, memory: 64Mi}}
            limits: {{cpu: 200m, memory: 64Mi}}
"""


def write_apps(folder: Path, count: int) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    for i in range(count):
        port = 80 if i % 7 else 70000  # every 7th app: a port the API server refuses
        text = APP.format(i=i, replicas=1 + i % 3, port=port)
        (folder / f"app-{i:03d}.yaml").write_text(text, encoding="utf-8")
    return manifest_files((folder,))


def rendered(reports: Any) -> tuple[Any, ...]:
    return (text_lines(reports), json_report(reports, "1.33"), junit_xml(reports),
            sarif_log(reports, "x"))  # fmt: skip


def test_two_processes_report_exactly_what_one_reports(tmp_path: Path) -> None:
    files = write_apps(tmp_path / "apps", 40)
    validator, policy = ManifestValidator("1.33"), PolicyContext()
    alone = check_files(files, validator, policy, workers=1)
    shared = check_files(files, validator, policy, workers=2, parallel_from_bytes=0)
    assert rendered(shared) == rendered(alone)
    assert sum(r.errors for r in alone) == 6  # apps 0, 7, ..., 35


class RecordingCollector(ManifestValidator):
    """Notes the cyclic collector's settings while the files are checked."""

    def __init__(self) -> None:
        super().__init__("1.33")
        self.seen: list[tuple[int, int, int]] = []

    def validate(self, *args: Any, **kwargs: Any) -> Any:
        self.seen.append(gc.get_threshold())
        return super().validate(*args, **kwargs)


def test_checking_files_tunes_the_collector_and_restores_it(tmp_path: Path) -> None:
    files = write_apps(tmp_path / "apps", 3)
    before = gc.get_threshold()
    gc.set_threshold(700, 10, 10)
    try:
        validator = RecordingCollector()
        reports = check_files(files, validator, PolicyContext(), workers=1)
        assert [r.file for r in reports] == [str(f) for f in files]
        assert validator.seen == [(20_000, 10, 10)] * len(files)
        assert gc.get_threshold() == (700, 10, 10)
    finally:
        gc.set_threshold(*before)


def test_reports_keep_only_what_the_reports_read(tmp_path: Path) -> None:
    files = write_apps(tmp_path / "apps", 2)
    for report in check_files(files, ManifestValidator("1.33"), PolicyContext(), workers=1):
        assert report.summary is not None
        assert all(set(doc) <= {"kind", "metadata"} for doc in report.documents)


class FailingInChildren(ManifestValidator):
    """Validates in this process, raises in any forked one."""

    def __init__(self) -> None:
        super().__init__("1.33")
        self.parent = os.getpid()

    def validate(self, *args: Any, **kwargs: Any) -> Any:
        if os.getpid() != self.parent:
            raise RuntimeError("worker failure")
        return super().validate(*args, **kwargs)


def test_a_failing_worker_s_files_are_checked_by_the_parent(tmp_path: Path) -> None:
    files = write_apps(tmp_path / "apps", 12)
    alone = check_files(files, ManifestValidator("1.33"), PolicyContext(), workers=1)
    shared = check_files(files, FailingInChildren(), PolicyContext(), workers=2,
                         parallel_from_bytes=0)  # fmt: skip
    assert rendered(shared) == rendered(alone)


def test_findings_name_the_line_of_their_field(tmp_path: Path, ecp: EcpRunner) -> None:
    write_apps(tmp_path / "apps", 1)
    path = tmp_path / "apps" / "app-000.yaml"
    run = ecp("validate", str(path), "--jobs", "2")
    assert run.code == 1
    # containerPort is on line 27 of the file: its document starts on line 10, after a separator
    errors = [line for line in run.stdout.splitlines() if ": error: " in line]
    assert errors and all(line.startswith(f"{path}:27: error: doc 1 Deployment/app-0:")
                          for line in errors), run.stdout  # fmt: skip
