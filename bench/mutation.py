"""Mutation testing of the core packages with mutmut: killed/total per package and the survivors.

Input: package names from PACKAGES (none: all of them). Each maps to the source files mutmut
mutates and to a focused test selection that runs in seconds; the byte comparison of the shipped
output (tests/test_shipped_output.py) is always left out, so a kill means a behaviour test failed.
mutmut reads its settings only from ./pyproject.toml, so each package runs in its own stage,
build/mutation/<package>/: the project's pyproject.toml with that package's [tool.mutmut], and
links to the folders the tests read; mutmut copies them into the stage's mutants/.
Output: per package killed/total and each survivor's diff on stdout, build/mutation/<package>/
survivors.txt, and with --write-report the figures in bench/MUTATION.md. Changes no source file.
Run: .venv/bin/python bench/mutation.py [PKG ...] [--max-children N] [--write-report]
"""

from __future__ import annotations

import argparse
import datetime
import json
import shutil
import subprocess
import sys
import time
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from machine import load_average, machine

ROOT = Path(__file__).resolve().parent.parent
STAGES = ROOT / "build" / "mutation"
REPORT = ROOT / "bench" / "MUTATION.md"
MUTMUT = Path(sys.executable).parent / "mutmut"
TARGET = 0.85  # issue 15: at least 85 % of each core package's mutants killed
# What the stage links to: the code, the tests and what they read (presets, tenants, reference).
LINKED = ("compiler", "tests", "presets", "tenants", "docs", "output", "README.md")
NEVER = "tests/test_shipped_output.py"  # "something changed", not "this is wrong"


@dataclass(frozen=True)
class Package:
    sources: tuple[str, ...]  # files (globs) mutmut mutates
    tests: tuple[str, ...]  # the pytest selection that must kill them


PACKAGES: dict[str, Package] = {
    "validating": Package(
        sources=(
            "compiler/validating/container_rules.py",
            "compiler/validating/object_rules.py",
            "compiler/validating/policy_index.py",
        ),
        tests=("tests/test_validating_rules.py", "tests/test_validating_policy.py"),
    ),
    "publishing": Package(
        sources=("compiler/publishing/plan.py",),
        tests=("tests/test_publish_plan.py",),
    ),
    "service": Package(
        sources=(
            "compiler/service/tenant_writes.py",
            "compiler/service/tenant_preview.py",
        ),
        tests=("tests/test_conditional_writes.py",),
    ),
    # The write path: a batch's journal, spec writes, compile, commit and publish, its roll back
    # and recovery, and the writer thread that batches the requests. Its tests run the compile
    # worker's functions in-process (test_write_batch.InProcessCompiler): a spawned worker per
    # test would cost more than the test, and the kill test's servers are subprocesses.
    "writes": Package(
        sources=(
            "compiler/service/write_batch.py",
            "compiler/service/writer.py",
            "compiler/service/recovery.py",
        ),
        tests=("tests/test_write_batch.py", "tests/test_write_batch_messages.py"),
    ),
    "output": Package(
        sources=("compiler/output/yaml_emit.py",),
        tests=("tests/test_yaml_emit.py",),
    ),
    "sizing": Package(
        sources=("compiler/sizing/*.py",),
        tests=(
            "tests/test_sizing_plan.py",
            "tests/test_sizing_availability.py",
            "tests/test_sizing_alternatives.py",
            "tests/test_sizing_erlang.py",
            "tests/test_sizing_distribution.py",
            "tests/test_sizing_gpu_tts.py",
            "tests/test_sizing_memo.py",
            "tests/test_sizing_deployment_time.py",
        ),
    ),
    # Sizing one module at a time (the whole package is hours on two cores): each against the
    # tests that exercise it; search.py and sizer.py are left to the sizing package's own run.
    "sizing-queueing": Package(
        sources=("compiler/sizing/queueing.py",),
        tests=("tests/test_sizing_queueing.py", "tests/test_sizing_edges.py"),
    ),
    "sizing-distribution": Package(
        sources=("compiler/sizing/distribution.py",),
        tests=("tests/test_sizing_distribution.py",),
    ),
    "sizing-choose": Package(
        sources=("compiler/sizing/choose.py",),
        tests=(
            "tests/test_sizing_choose.py",
            "tests/test_sizing_plan.py",
            "tests/test_sizing_alternatives.py",
        ),
    ),
    "sizing-explain": Package(
        sources=("compiler/sizing/explain.py",),
        tests=(
            "tests/test_sizing_explain.py",
            "tests/test_sizing_alternatives.py",
            "tests/test_sizing_memo.py",
        ),
    ),
    "sizing-redis": Package(
        sources=("compiler/sizing/redis.py",),
        # test_session_store.py: the store's availability in series on the paths, its data pods
        # and sentinels per target; test_session_store_numbers.py: the same figures by hand;
        # test_session_store_plan.py: the store in the envelope, totals, cost and alternative
        tests=(
            "tests/test_tenant_redis.py",
            "tests/test_sizing_memo.py",
            "tests/test_session_store.py",
            "tests/test_session_store_numbers.py",
            "tests/test_session_store_plan.py",
        ),
    ),
}

KILLED = {1, 3}  # pytest failed / errored: the mutant was caught
SURVIVED = 0


@dataclass(frozen=True)
class Outcome:
    package: str
    killed: int
    total: int
    survivors: tuple[str, ...]
    untested: tuple[str, ...]  # no test reached the function (counted as not killed)
    seconds: float
    finished: str
    load: tuple[float, ...]  # load average (1, 5, 15 min) when the run finished

    @property
    def score(self) -> float:
        return self.killed / self.total if self.total else 0.0


def mutmut_config(package: Package, base: dict[str, Any]) -> dict[str, Any]:
    selection = [t for t in package.tests if (ROOT / t).exists()]
    return {
        **base,
        # The whole compiler is copied (mutants/ is first on sys.path, so it must be complete);
        # only the package's files are mutated.
        "source_paths": ["compiler"],
        "only_mutate": list(package.sources),
        "pytest_add_cli_args_test_selection": selection,
        "pytest_add_cli_args": [
            *(args := base.get("pytest_add_cli_args", [])),
            *([] if f"--ignore={NEVER}" in args else [f"--ignore={NEVER}"]),
        ],
    }


def stage(name: str, package: Package) -> Path:
    """A fresh build/mutation/<name>/ whose pyproject.toml carries the package's settings."""
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text("utf-8"))
    tool = pyproject["tool"]
    tool["mutmut"] = mutmut_config(package, tool.get("mutmut", {}))
    where = STAGES / name
    shutil.rmtree(where, ignore_errors=True)
    where.mkdir(parents=True)
    for item in LINKED:
        (where / item).symlink_to(ROOT / item)
    (where / "pyproject.toml").write_text(to_toml(pyproject), encoding="utf-8")
    return where


def to_toml(data: dict[str, Any]) -> str:
    """Just enough TOML for pyproject.toml's shapes (tables, arrays of tables, scalars, lists)."""
    lines: list[str] = []

    def table(prefix: str, mapping: dict[str, Any]) -> None:
        scalars = {k: v for k, v in mapping.items() if not _is_table(v)}
        if prefix:
            lines.append(f"\n[{prefix}]")
        lines.extend(f"{json.dumps(k)} = {_value(v)}" for k, v in scalars.items())
        for key, value in mapping.items():
            name = f"{prefix}.{json.dumps(key)}" if prefix else json.dumps(key)
            if isinstance(value, dict):
                table(name, value)
            elif _is_table(value):
                for item in value:
                    lines.append(f"\n[[{name}]]")
                    lines.extend(f"{json.dumps(k)} = {_value(v)}" for k, v in item.items())

    table("", data)
    return "\n".join(lines) + "\n"


def _is_table(value: Any) -> bool:
    return isinstance(value, dict) or (
        isinstance(value, list) and bool(value) and all(isinstance(v, dict) for v in value)
    )


def _value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return "[" + ", ".join(_value(v) for v in value) + "]"
    return json.dumps(value)


def run(name: str, max_children: int) -> Outcome:
    package = PACKAGES[name]
    where = stage(name, package)
    started = time.monotonic()
    done = subprocess.run(
        [str(MUTMUT), "run", "--max-children", str(max_children)],
        cwd=where,
        capture_output=True,
        text=True,
        check=False,
    )
    (where / "mutmut.log").write_text(done.stdout + done.stderr, encoding="utf-8")
    seconds = time.monotonic() - started
    if done.returncode != 0:
        raise SystemExit(f"mutmut failed for {name} (exit {done.returncode}): {where}/mutmut.log")
    facts = {"seconds": seconds, "finished": _now(), "load_average_1_5_15m": load_average()}
    (where / "run.json").write_text(json.dumps(facts), encoding="utf-8")
    return collect(name, where)


def _now() -> str:
    return datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC")


def collect(name: str, where: Path) -> Outcome:
    """The results mutmut left in the stage: its .meta files, one per mutated source file."""
    facts = json.loads((where / "run.json").read_text("utf-8"))
    codes: dict[str, int | None] = {}
    for meta in sorted((where / "mutants").rglob("*.py.meta")):
        codes.update(json.loads(meta.read_text("utf-8"))["exit_code_by_key"])
    survivors = tuple(k for k, v in sorted(codes.items()) if v == SURVIVED)
    untested = tuple(k for k, v in sorted(codes.items()) if v in (5, 33))
    killed = sum(1 for v in codes.values() if v in KILLED)
    outcome = Outcome(
        name,
        killed,
        len(codes),
        survivors,
        untested,
        float(facts["seconds"]),
        str(facts["finished"]),
        tuple(facts["load_average_1_5_15m"]),
    )
    diffs = [show(where, mutant) for mutant in (*survivors, *untested)]
    (where / "survivors.txt").write_text("\n".join(diffs), encoding="utf-8")
    return outcome


def show(where: Path, mutant: str) -> str:
    done = subprocess.run(
        [str(MUTMUT), "show", mutant], cwd=where, capture_output=True, text=True, check=False
    )
    return done.stdout


KEPT = "## Equivalent and unreachable mutants"  # written by hand; every report keeps it


def _earlier(text: str, ran: set[str]) -> tuple[list[str], dict[str, list[str]], list[str]]:
    """From the report now: the table rows and survivor lists of packages with no stage here
    (run on another machine or branch), and the hand-written section from KEPT on."""
    rows: list[str] = []
    sections: dict[str, list[str]] = {}
    kept: list[str] = []
    current: list[str] | None = None
    for line in text.splitlines():
        if line.startswith(KEPT) or kept:
            kept.append(line)
            continue
        cells = [c.strip() for c in line.split("|")]
        if len(cells) > 2 and cells[1] in PACKAGES and cells[1] not in ran:
            rows.append(line)
        if line.startswith("## ") and line.endswith(": not killed"):
            name = line[3 : -len(": not killed")]
            current = sections.setdefault(name, []) if name not in ran else None
        elif line.startswith("## "):
            current = None
        elif current is not None and line.startswith("- "):
            current.append(line)
    return rows, sections, kept


def report(outcomes: list[Outcome], before: str = "") -> str:
    """bench/MUTATION.md: every package with results in its stage (this run's and earlier),
    the rows of packages run elsewhere as `before` (the report now) has them, and its
    hand-written section of equivalent mutants."""
    rows, sections, kept = _earlier(before, {o.package for o in outcomes})
    lines = [
        "# Mutation testing: the last figures",
        "",
        f"Written by `make mutation` (bench/mutation.py, mutmut) on {_now()}.",
        f"Machine: `{json.dumps(machine())}`",
        "(figures taken under load are indicative: mutmut's timeouts scale with the clean run)",
        "",
        "Each package's mutants are tested against its focused test selection (bench/mutation.py",
        f"PACKAGES), never against {NEVER}: a kill is a behaviour test failing. Target: "
        f"{TARGET:.0%} killed.",
        "",
        "| package | killed | total | score | survived | no test reached | minutes | finished | "
        "load 1/5/15 |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for o in outcomes:
        lines.append(
            f"| {o.package} | {o.killed} | {o.total} | {o.score:.1%} | {len(o.survivors)} | "
            f"{len(o.untested)} | {o.seconds / 60:.1f} | {o.finished} | "
            f"{'/'.join(str(x) for x in o.load)} |"
        )
    lines.extend(rows)
    lines.append("")
    for o in outcomes:
        if o.survivors or o.untested:
            lines.append(f"## {o.package}: not killed")
            lines.append("")
            lines.extend(f"- `{m}`" for m in (*o.survivors, *o.untested))
            lines.append("")
    for name, survivors in sections.items():
        lines.extend([f"## {name}: not killed", "", *survivors, ""])
    lines.extend(kept)
    return "\n".join(lines).rstrip("\n") + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("packages", nargs="*", metavar="PKG", help=", ".join(PACKAGES))
    parser.add_argument("--max-children", type=int, default=1)
    parser.add_argument("--write-report", action="store_true", help=f"write {REPORT.name}")
    parser.add_argument(
        "--collect-only", action="store_true", help="read the last run's results, run nothing"
    )
    args = parser.parse_args()
    names = args.packages or list(PACKAGES)
    unknown = [n for n in names if n not in PACKAGES]
    if unknown:
        parser.error(f"unknown package(s) {', '.join(unknown)}; known: {', '.join(PACKAGES)}")
    print(json.dumps(machine()))
    outcomes = []
    for name in names:
        if args.collect_only:
            if not (STAGES / name / "run.json").exists():
                print(f"{name}: no finished run in {STAGES / name}")
                continue
            outcome = collect(name, STAGES / name)
        else:
            outcome = run(name, args.max_children)
        outcomes.append(outcome)
        print(
            f"{name}: {outcome.killed}/{outcome.total} killed ({outcome.score:.1%}), "
            f"{len(outcome.survivors)} survived, {len(outcome.untested)} reached by no test, "
            f"{outcome.seconds:.0f} s, load {load_average()}"
        )
        for mutant in (*outcome.survivors, *outcome.untested):
            print(f"    {mutant}")
    if args.write_report:
        ran = {o.package for o in outcomes}
        earlier = [
            collect(name, STAGES / name)
            for name in PACKAGES
            if name not in ran and (STAGES / name / "run.json").exists()
        ]
        every = sorted([*outcomes, *earlier], key=lambda o: list(PACKAGES).index(o.package))
        before = REPORT.read_text("utf-8") if REPORT.exists() else ""
        REPORT.write_text(report(every, before), encoding="utf-8")
    if any(o.score < TARGET for o in outcomes):
        sys.exit(1)


if __name__ == "__main__":
    main()
