"""Publishing speed: a cold publish of 1,000 tenants, then one changed tenant into that repo.

Target (issue 3): one changed tenant into a deploy repo holding 1,000 tenants in <= 150 ms.
Synthetic compiled output in the contract's format (tests/test_publish_support.py), a real git
repo in a temp dir. Prints the figures and the machine. Usage: python bench/bench_publish.py [N]
"""

from __future__ import annotations

import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from test_publish_support import many_tenants, workspace, write_output

from compiler.publishing import publish

RUNS = 9
TARGET_MS = 150.0


def main() -> None:
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 1000
    git_version = subprocess.run(["git", "--version"], capture_output=True, text=True).stdout
    print(
        f"machine: {os.cpu_count()} cpu, python {platform.python_version()}, {git_version.strip()}"
    )
    with tempfile.TemporaryDirectory() as tmp:
        settings = workspace(Path(tmp))
        tenants = many_tenants(count)
        revisions = dict.fromkeys(tenants, 0)
        write_output(settings.output_dir, tenants, revisions)
        size = sum(f.stat().st_size for f in settings.output_dir.rglob("*.yaml")) / 2**20
        print(f"output: {count} tenants, {size:.1f} MiB of YAML")

        started = time.perf_counter()
        cold = publish(settings)
        print(f"cold publish of {count} tenants: {time.perf_counter() - started:.2f} s")
        assert len(cold.added) == count

        started = time.perf_counter()
        assert not publish(settings).committed
        print(f"publish with nothing changed: {(time.perf_counter() - started) * 1000:.0f} ms")

        timings = []
        probe = "tenant-0500" if count > 500 else next(iter(tenants))
        for run in range(1, RUNS + 1):
            revisions[probe] = run
            write_output(settings.output_dir, tenants, revisions)  # not timed
            started = time.perf_counter()
            result = publish(settings)
            timings.append((time.perf_counter() - started) * 1000)
            assert result.changed == (probe,), result
        median = statistics.median(timings)
        verdict = "within" if median <= TARGET_MS else "OVER"
        print(
            f"one changed tenant into {count}: median {median:.0f} ms, "
            f"min {min(timings):.0f} ms, max {max(timings):.0f} ms over {RUNS} runs "
            f"({verdict} the {TARGET_MS:.0f} ms target)"
        )


if __name__ == "__main__":
    main()
