"""Benchmark: `ecp calc` of a 10,000-channel request beyond interpreter start-up (issue 8 target:
<= 50 ms), and where the time goes.

Usage: python bench/bench_calc_cli.py [--runs 11]
Times `ecp calc -f <10,000 chatbot channels>` and `python -c pass` (the same interpreter, the same
site-packages) alternately, `--runs` times each, and reports the medians' difference, wall and CPU
(the children's user + system time: the steadier figure on a shared machine). Project modules are
byte-compiled first, as an installed package is. Then one `-X importtime` run: the top-level
imports and their cumulative share, and the in-process time of the command's own work.
"""

from __future__ import annotations

import argparse
import compileall
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
ECP = str(Path(sys.executable).parent / "ecp")
WATCHED: tuple[str, ...] = ("click", "pydantic", "compiler.settings", "yaml", "compiler.catalogue")
WATCHED += ("numpy", "compiler.sizing")
BIG = {"service_requirements": {"chatbot": 10_000}, "sla_target": {"availability": "99.9%"}}


def timed(command: list[str], env: dict[str, str]) -> tuple[float, float]:
    """(wall s, CPU s) of one run of `command`."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run(command, check=True, capture_output=True, cwd=ROOT, env=env)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime
    return wall, cpu


def import_profile(command: list[str], env: dict[str, str]) -> dict[str, int]:
    """Cumulative import microseconds of the heavy packages on `command`'s path (-X importtime)."""
    run = subprocess.run(
        [sys.executable, "-X", "importtime", *command],
        check=True,
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=env,
    )
    found: dict[str, int] = {}
    for line in run.stderr.splitlines():
        parts = line.split("|")
        if line.startswith("import time:") and parts[2].strip() in WATCHED:
            found[parts[2].strip()] = int(parts[1])
    return found


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=11)
    args = parser.parse_args()
    compileall.compile_dir(str(ROOT / "compiler"), quiet=1)
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    print(
        f"machine: {platform.machine()}, {os.cpu_count()} cores, Python "
        f"{platform.python_version()}; load average {load}"
    )
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as f:
        json.dump(BIG, f)
    calc = [ECP, "calc", "-f", f.name]
    bare = [sys.executable, "-c", "pass"]
    timed(calc, env)  # warm the page cache
    pairs = [(timed(calc, env), timed(bare, env)) for _ in range(args.runs)]
    calc_wall = statistics.median(p[0][0] for p in pairs)
    calc_cpu = statistics.median(p[0][1] for p in pairs)
    bare_wall = statistics.median(p[1][0] for p in pairs)
    bare_cpu = statistics.median(p[1][1] for p in pairs)
    print(
        f"`ecp calc` of 10,000 chatbot channels, median of {args.runs}: "
        f"{calc_wall * 1000:.0f} ms wall / {calc_cpu * 1000:.0f} ms CPU; `python -c pass` "
        f"{bare_wall * 1000:.0f} ms / {bare_cpu * 1000:.0f} ms: beyond start-up "
        f"{(calc_wall - bare_wall) * 1000:.0f} ms wall, {(calc_cpu - bare_cpu) * 1000:.0f} ms CPU"
    )
    script = "import sys; from compiler.cli import main; sys.argv = ['ecp', *sys.argv[1:]]; main()"
    found = import_profile(["-c", script, "calc", "-f", f.name], env)
    print(
        "imports, cumulative ms of one run (nested: compiler.settings holds pydantic's models, "
        "compiler.sizing holds numpy): "
        + ", ".join(f"{name} {found[name] / 1000:.0f}" for name in WATCHED if name in found)
    )
    os.unlink(f.name)
    print(f"load average after: {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
