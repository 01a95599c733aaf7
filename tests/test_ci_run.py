"""What .ci/run refuses before doing any work, and what it requires of the machine.

The refusal is tested by running the script itself: it must stop at once (no apt-get, no lint,
no suite) with a message, so a subprocess with a short timeout is a cheap and faithful check.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest
from required_tools import TOOLS

REPO = Path(__file__).resolve().parent.parent
CI_RUN = REPO / ".ci" / "run"


@pytest.mark.parametrize("value", ["1", "0", ""], ids=["one", "zero", "set-but-empty"])
def test_ci_run_refuses_to_start_with_the_golden_update_flag_set(value: str) -> None:
    env = {**os.environ, "ECP_UPDATE_GOLDEN": value}
    started = time.monotonic()
    done = subprocess.run(
        ["bash", str(CI_RUN)], env=env, capture_output=True, text=True, timeout=20, check=False
    )
    assert done.returncode != 0
    assert "ECP_UPDATE_GOLDEN is set" in done.stderr
    assert done.stdout == ""  # nothing ran: no make, no installs
    assert time.monotonic() - started < 10


def test_ci_run_checks_every_tool_the_suite_requires() -> None:
    script = CI_RUN.read_text(encoding="utf-8")
    listed = re.search(r"^REQUIRED_TOOLS=\(([^)]*)\)$", script, re.M)
    assert listed is not None, ".ci/run has no REQUIRED_TOOLS=(...) line"
    assert sorted(listed.group(1).split()) == sorted(TOOLS)
    # The refusal comes first: before `cd`, installs, lint or the suite.
    refusal = script.index("ECP_UPDATE_GOLDEN")
    assert refusal < script.index("apt-get") and refusal < script.index("\nmake ")


def test_a_golden_update_run_fails_even_when_nothing_changed() -> None:
    env = {**os.environ, "ECP_UPDATE_GOLDEN": "1"}
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            "-p",
            "no:randomly",
            str(REPO / "tests" / "test_golden.py"),
            "-k",
            "there_are_golden_cases",
        ],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 1, done.stdout + done.stderr
    assert "1 passed" in done.stdout
    assert "ECP_UPDATE_GOLDEN=1: no expected file changed" in done.stdout
