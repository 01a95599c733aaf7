"""Run every benchmark in bench/ one after another (they each print their machine and figures).

Usage: python bench/run_all.py [NAME ...]   e.g. `python bench/run_all.py compile api`
Benchmarks are scripts, not timed tests: run them on a quiet machine and read the figures.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
ORDER = (
    "compile",
    "validate",
    "emit",
    "publish",
    "api",
    "read_path",
    "access",
    "monitoring",
    "simulation",
    "sizing",
    "calc_cli",
    "dashboard",
    "prometheus",
)


def main() -> int:
    wanted = sys.argv[1:] or list(ORDER)
    unknown = [name for name in wanted if name not in ORDER]
    if unknown:
        print(f"unknown benchmark(s): {', '.join(unknown)}; choose from {', '.join(ORDER)}")
        return 2
    failed = []
    for name in wanted:
        print(f"\n=== bench_{name} ===", flush=True)
        done = subprocess.run([sys.executable, str(HERE / f"bench_{name}.py")], check=False)
        if done.returncode != 0:
            failed.append(name)
    if failed:
        print(f"\nfailed: {', '.join(failed)}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
