"""The outside programs the suite uses, and the one rule for when one is missing.

Under CI=true a missing tool FAILS the test that needs it: `.ci/run` installs or checks every
tool in TOOLS before the suite starts, so a missing one there is a broken set-up, never a reason
to pass. On a developer's machine the test is skipped, with the install hint as its reason
(`-ra` lists it in the summary). Every skip for a missing tool goes through `missing()`.
"""

from __future__ import annotations

import os
import shutil
from typing import NoReturn

import pytest

# Each tool the suite runs and how a machine gets it; .ci/run's REQUIRED_TOOLS names the same set
# (tests/test_ci_run.py keeps the two lists equal).
TOOLS = {
    "git": "apt-get install -y git",
    "chattr": "apt-get install -y e2fsprogs",
    "kubectl": "kubectl with kustomize (here: the Google Cloud SDK's /usr/bin/kubectl)",
    "node": "apt-get install -y nodejs",
    "npm": "apt-get install -y npm",
    "go": "apt-get install -y golang-go golang-github-gorilla-websocket-dev",
    "gofmt": "apt-get install -y golang-go",
    "chromium": "apt-get install -y chromium fonts-nanum",
    "prometheus": "apt-get install -y prometheus",
    "promtool": "apt-get install -y prometheus",
}


def in_ci() -> bool:
    return os.environ.get("CI") == "true"


def missing(what: str) -> NoReturn:
    """Fail under CI=true, skip elsewhere; `what` says what is missing and how to get it."""
    if in_ci():
        pytest.fail(f"CI=true but {what}", pytrace=False)
    pytest.skip(what)


def require_tool(name: str) -> str:
    """The path of tool `name` (one of TOOLS) on PATH."""
    path = shutil.which(name)
    if path is None:
        missing(f"{name} not found on PATH (install: {TOOLS[name]})")
    return path
