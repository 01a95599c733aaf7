"""Benchmark: `ecp calc` of a 10,000-channel request beyond start-up (issue 8 target: <= 50 ms),
and where the time goes.

Usage: python bench/bench_calc_cli.py [--runs 11]
"Start-up" is said two ways, both reported: the bare interpreter (`python -c pass`, the same
interpreter and site-packages) and ecp's own shell (`ecp --version`: the interpreter plus click
and the command group, no command module). `ecp calc -f <10,000 chatbot channels>` and both
baselines run alternately, `--runs` times each; the figures are the medians' differences, wall
and CPU (the children's user + system time: the steadier figure on a shared machine). Project
modules are byte-compiled first, as an installed package is. Then the calc's in-process time:
in one interpreter with every module the command imports already loaded, the median time of the
command's own work (settings, reading and validating the body, loading presets/, sizing,
printing); the rest of "beyond start-up" is imports. Last, one `-X importtime` run: the
top-level imports and their cumulative share.
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
WATCHED: tuple[str, ...] = ("click", "pydantic", "compiler.spec.models", "compiler.catalogue")
WATCHED += ("yaml", "compiler.settings", "numpy", "compiler.sizing")
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


# The command's own work in process: every import the command makes is done first (the command
# module and the lazy imports of its body), then main() is timed `--runs` + 1 times: the first
# (one-time costs such as pydantic's first validation), then the median of the others (each loads
# presets/ afresh, so its sizing memo starts empty as in a new process).
IN_PROCESS = """
import json, sys, time
from compiler.cli import main
import compiler.cli.calc_cmd, compiler.settings
import compiler.spec.loader, pydantic
argv = ['ecp', 'calc', '-f', sys.argv[1]]
walls, cpus = [], []
for _ in range(int(sys.argv[2])):
    sys.argv = argv
    wall, cpu = time.perf_counter(), time.process_time()
    try:
        main()
    except SystemExit:
        pass
    walls.append(time.perf_counter() - wall)
    cpus.append(time.process_time() - cpu)
rest = len(walls) // 2 + 1
print(json.dumps([walls[0], cpus[0], sorted(walls[1:])[rest // 2], sorted(cpus[1:])[rest // 2]]),
      file=sys.stderr)
"""


def in_process(request: str, runs: int, env: dict[str, str]) -> list[float]:
    """[first wall s, first CPU s, median wall s, median CPU s] of the command's own work,
    imports done (IN_PROCESS)."""
    run = subprocess.run(
        [sys.executable, "-c", IN_PROCESS, request, str(runs + 1)],
        check=True,
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=env,
    )
    return [float(x) for x in json.loads(run.stderr.strip().splitlines()[-1])]


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
    version = [ECP, "--version"]
    timed(calc, env)  # warm the page cache
    triples = [(timed(calc, env), timed(bare, env), timed(version, env)) for _ in range(args.runs)]
    calc_wall, calc_cpu = (statistics.median(t[0][i] for t in triples) for i in (0, 1))
    bare_wall, bare_cpu = (statistics.median(t[1][i] for t in triples) for i in (0, 1))
    version_wall, version_cpu = (statistics.median(t[2][i] for t in triples) for i in (0, 1))
    print(
        f"`ecp calc` of 10,000 chatbot channels, median of {args.runs}: "
        f"{calc_wall * 1000:.0f} ms wall / {calc_cpu * 1000:.0f} ms CPU; `python -c pass` "
        f"{bare_wall * 1000:.0f} ms / {bare_cpu * 1000:.0f} ms; `ecp --version` "
        f"{version_wall * 1000:.0f} ms / {version_cpu * 1000:.0f} ms"
    )
    print(
        f"beyond `python -c pass`: {(calc_wall - bare_wall) * 1000:.0f} ms wall, "
        f"{(calc_cpu - bare_cpu) * 1000:.0f} ms CPU; beyond `ecp --version`: "
        f"{(calc_wall - version_wall) * 1000:.0f} ms wall, "
        f"{(calc_cpu - version_cpu) * 1000:.0f} ms CPU"
    )
    first_wall, first_cpu, own_wall, own_cpu = in_process(f.name, args.runs, env)
    print(
        f"the command's own work in process, imports done: first run {first_wall * 1000:.1f} ms "
        f"wall / {first_cpu * 1000:.1f} ms CPU, then median of {args.runs} "
        f"{own_wall * 1000:.1f} ms / {own_cpu * 1000:.1f} ms; the rest of the above is imports"
    )
    script = "import sys; from compiler.cli import main; sys.argv = ['ecp', *sys.argv[1:]]; main()"
    found = import_profile(["-c", script, "calc", "-f", f.name], env)
    print(
        "imports, cumulative ms of one run (each module counted once, inside whichever module "
        "imported it first: numpy inside compiler.sizing, for one): "
        + ", ".join(f"{name} {found[name] / 1000:.0f}" for name in WATCHED if name in found)
    )
    os.unlink(f.name)
    print(f"load average after: {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
