"""The JavaScript and Go SDKs' own suites, run by `make test`: each starts its own `ecp serve`.

sdk/js: the hand-written types checked by `tsc --noEmit`, then `node --test`. sdk/go: `gofmt -l`
and `go vet` clean, then `go test ./...`. Without node/npm/go these skip locally and fail under
CI=true (sdk_tools).
"""

from __future__ import annotations

import json
import re
import subprocess
import tomllib
from pathlib import Path

from sdk_tools import GO_SDK, JS_SDK, REPO, require_js_dependencies, require_tool, tool_env

SUITE_TIMEOUT_S = 600


def _run(args: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        args,
        cwd=cwd,
        env=tool_env(),
        capture_output=True,
        text=True,
        timeout=SUITE_TIMEOUT_S,
        check=False,
    )


def test_the_js_sdk_types_check_with_tsc() -> None:
    node = require_tool("node")
    require_js_dependencies()
    done = _run([node, "node_modules/typescript/bin/tsc", "-p", "tsconfig.json"], JS_SDK)
    assert done.returncode == 0, done.stdout + done.stderr


def test_the_js_sdk_suite_passes_against_a_real_server() -> None:
    node = require_tool("node")
    require_js_dependencies()
    files = sorted(str(p.relative_to(JS_SDK)) for p in (JS_SDK / "test").glob("*.test.js"))
    assert files, "no JS test files"
    done = _run([node, "--test", "--test-concurrency=1", *files], JS_SDK)
    assert done.returncode == 0, done.stdout[-8000:] + done.stderr[-4000:]
    assert "# fail 0" in done.stdout and "# pass 0" not in done.stdout, done.stdout[-2000:]


def test_the_go_sdk_is_gofmt_and_vet_clean() -> None:
    go = require_tool("go")
    unformatted = _run([require_tool("gofmt"), "-l", "."], GO_SDK)
    assert unformatted.returncode == 0 and unformatted.stdout == "", unformatted.stdout
    vet = _run([go, "vet", "./..."], GO_SDK)
    assert vet.returncode == 0, vet.stderr


def test_the_go_sdk_suite_passes_against_a_real_server() -> None:
    go = require_tool("go")
    done = _run([go, "test", "-count=1", "./..."], GO_SDK)
    assert done.returncode == 0, done.stdout[-8000:] + done.stderr[-4000:]
    assert "ok  \tgithub.com/ecp-ai/orchestrator-client-go" in done.stdout, done.stdout


def test_the_sdk_manifests_carry_the_projects_version() -> None:
    project = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))
    version = project["project"]["version"]
    package = json.loads((JS_SDK / "package.json").read_text(encoding="utf-8"))
    assert package["version"] == version
    lock = json.loads((JS_SDK / "package-lock.json").read_text(encoding="utf-8"))
    assert lock["version"] == version and lock["packages"][""]["version"] == version
    go_source = (GO_SDK / "client.go").read_text(encoding="utf-8")
    assert re.search(r'^const Version = "(.+)"$', go_source, re.M)[1] == version  # type: ignore[index]
