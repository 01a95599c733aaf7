"""`ecp publish` and `ecp deployments` through the real CLI entry point."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from test_publish_support import write_output

ENV_CLEAN = {"PATH": "/usr/bin:/bin", "HOME": "/tmp"}


def ecp(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    code = "from compiler.cli import main; main()"
    return subprocess.run(
        [sys.executable, "-c", code, "--root", str(root), *args],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env=ENV_CLEAN,
    )


def test_publish_then_deployments_round_trip_through_the_cli(tmp_path: Path) -> None:
    write_output(tmp_path / "output", {"acme": {"callbot": 2}})
    first = ecp(tmp_path, "publish", "--format", "json")
    assert first.returncode == 0, first.stderr
    published = json.loads(first.stdout)
    assert published["added"] == ["acme"]
    again = ecp(tmp_path, "publish")
    assert again.returncode == 0
    assert again.stdout.startswith("nothing to publish")
    listed = ecp(tmp_path, "deployments", "acme", "--format", "json")
    assert [r["deployment_id"] for r in json.loads(listed.stdout)] == [published["deployment_id"]]
    table = ecp(tmp_path, "deployments")
    assert published["deployment_id"] in table.stdout


def test_a_bad_tenant_id_is_a_clear_error_without_a_traceback(tmp_path: Path) -> None:
    done = ecp(tmp_path, "deployments", "../etc")
    assert done.returncode == 1
    assert "DNS-1123" in done.stderr
    assert "Traceback" not in done.stderr


def test_a_dirty_deploy_repo_exits_non_zero_naming_the_file(tmp_path: Path) -> None:
    write_output(tmp_path / "output", {"acme": {"callbot": 2}})
    assert ecp(tmp_path, "publish").returncode == 0
    (tmp_path / ".ecp" / "deploy-repo" / "stray.txt").write_text("x\n")
    done = ecp(tmp_path, "publish")
    assert done.returncode == 1
    assert "stray.txt" in done.stderr
    assert "[DEPLOYMENT_FAILED]" in done.stderr
