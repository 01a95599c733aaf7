"""CI workflows and pre-commit hooks are code: they parse, and each `ecp` call they make exists."""

from __future__ import annotations

import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import click
import pytest
import yaml

from compiler.cli import cli

ROOT = Path(__file__).resolve().parent.parent
WORKFLOWS = sorted((ROOT / ".github" / "workflows").glob("*.yml"))
HOOKS = ROOT / ".pre-commit-hooks.yaml"


def load(path: Path) -> Any:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def triggers(workflow: dict[Any, Any]) -> dict[str, Any]:
    # YAML 1.1 loaders read the bare key `on` as the boolean True.
    value = workflow.get("on", workflow.get(True))
    assert isinstance(value, dict)
    return value


def run_lines(workflow: dict[str, Any]) -> list[str]:
    lines = []
    for job in workflow["jobs"].values():
        for step in job["steps"]:
            lines += [line.strip() for line in str(step.get("run", "")).splitlines()]
    return [line for line in lines if line]


def assert_ecp_call_exists(command_line: str) -> None:
    """`ecp <command> [--options]`: the command and each long option are in the real CLI."""
    words = shlex.split(command_line.split(">>")[0].split(">")[0])
    assert words[0] == "ecp"
    # Commands load lazily (LAZY_COMMANDS), so ask the group the way click itself does.
    with click.Context(cli) as ctx:
        command = cli.get_command(ctx, words[1])
    assert isinstance(command, click.Command), f"unknown command in {command_line!r}"
    known = {opt for p in command.params for opt in getattr(p, "opts", [])}
    for word in words[2:]:
        if word.startswith("--"):
            assert word.split("=")[0] in known, f"{word} is not an option of ecp {words[1]}"


ECP_WORKFLOWS = [p for p in WORKFLOWS if p.name != "mutation.yml"]  # mutation runs `make` only


def test_there_is_a_pull_request_a_publish_and_a_mutation_workflow() -> None:
    assert [p.name for p in WORKFLOWS] == ["mutation.yml", "publish.yml", "pull-request.yml"]


@pytest.mark.parametrize("path", WORKFLOWS, ids=[p.name for p in WORKFLOWS])
def test_each_workflow_parses_with_jobs_that_have_a_runner_and_steps(path: Path) -> None:
    workflow = load(path)
    assert isinstance(workflow["name"], str)
    assert triggers(workflow)
    for job in workflow["jobs"].values():
        assert job["runs-on"]
        for step in job["steps"]:
            assert ("uses" in step) != ("run" in step), step
    text = path.read_text(encoding="utf-8")
    assert text.count("${{") == text.count("}}")


@pytest.mark.parametrize("path", ECP_WORKFLOWS, ids=[p.name for p in ECP_WORKFLOWS])
def test_every_ecp_call_in_a_workflow_names_a_real_command_and_options(path: Path) -> None:
    calls = [line for line in run_lines(load(path)) if line.startswith("ecp ")]
    assert calls
    for call in calls:
        assert_ecp_call_exists(call)


def test_the_pull_request_job_runs_on_spec_preset_and_compiler_changes() -> None:
    workflow = load(ROOT / ".github" / "workflows" / "pull-request.yml")
    paths = triggers(workflow)["pull_request"]["paths"]
    assert {"tenants/**", "presets/**", "compiler/**"} <= set(paths)
    lines = run_lines(workflow)
    assert "ecp compile --check" in lines
    assert "ecp validate output/" in lines
    diff = next(line for line in lines if line.startswith("ecp diff"))
    assert "--format markdown" in diff
    assert diff.endswith('>> "$GITHUB_STEP_SUMMARY"')


def test_the_mutation_job_runs_weekly_and_on_demand_through_make() -> None:
    workflow = load(ROOT / ".github" / "workflows" / "mutation.yml")
    on = triggers(workflow)
    assert [entry["cron"] for entry in on["schedule"]] == ["17 3 * * 1"]
    assert "workflow_dispatch" in on
    lines = run_lines(workflow)
    assert any(re.match(r"make mutation\b", line) for line in lines)
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    assert re.search(r"^mutation:", makefile, re.MULTILINE)
    assert "bench/mutation.py" in makefile


def test_the_publish_job_runs_on_main_and_pushes() -> None:
    workflow = load(ROOT / ".github" / "workflows" / "publish.yml")
    assert triggers(workflow)["push"]["branches"] == ["main"]
    assert any(re.match(r"ecp publish --push\b", line) for line in run_lines(workflow))
    assert workflow["concurrency"]["cancel-in-progress"] is False


def test_the_pre_commit_hooks_parse_and_call_real_commands() -> None:
    hooks = load(HOOKS)
    assert {hook["id"] for hook in hooks} == {"ecp-compile-check", "ecp-validate-output"}
    for hook in hooks:
        assert {"id", "name", "entry", "language"} <= hook.keys()
        re.compile(hook["files"])
        assert_ecp_call_exists(hook["entry"])
    check = next(h for h in hooks if h["id"] == "ecp-compile-check")
    assert check["entry"] == "ecp compile --check"
    assert check["pass_filenames"] is False


def run_job_steps(
    workflow: dict[str, Any],
    job: str,
    cwd: Path,
    env: dict[str, str],
    expressions: dict[str, str] | None = None,
) -> list[Any]:
    """Run a job's `run:` steps (all but Install) in bash as Actions does: -e, pipefail.

    `expressions` give the values of the `${{ ... }}` in step envs (the base ref, secrets); a
    step using an expression without a value fails the test.
    """
    values = {"github.base_ref": "main", **(expressions or {})}
    results = []
    for step in workflow["jobs"][job]["steps"]:
        if "run" not in step or step.get("name") == "Install":
            continue
        step_env = {}
        for key, raw in step.get("env", {}).items():
            value = str(raw)
            for name, given in values.items():
                value = value.replace("${{ " + name + " }}", given)
            assert "${{" not in value, f"no value for {raw!r} in step {step['name']!r}"
            step_env[key] = value
        results.append(
            subprocess.run(
                ["bash", "--noprofile", "--norc", "-e", "-o", "pipefail", "-c", step["run"]],
                cwd=cwd,
                env={**env, **step_env},
                capture_output=True,
                text=True,
                timeout=300,
                check=False,
            )
        )
    return results


@pytest.fixture
def pull_request(tmp_path: Path) -> tuple[Path, dict[str, str]]:
    """A config repo on a bare origin, and a clone with a pull request that edits one spec."""
    env = {
        "PATH": f"{Path(sys.executable).parent}:/usr/bin:/bin",
        "HOME": str(tmp_path),
        "GITHUB_STEP_SUMMARY": str(tmp_path / "summary.md"),
        "GIT_AUTHOR_NAME": "dev", "GIT_AUTHOR_EMAIL": "dev@example.com",
        "GIT_COMMITTER_NAME": "dev", "GIT_COMMITTER_EMAIL": "dev@example.com",
    }  # fmt: skip
    seed = tmp_path / "seed"
    seed.mkdir()
    shutil.copytree(ROOT / "presets", seed / "presets")
    (seed / "tenants").mkdir()
    for name in ("shop-chat-lite.yaml", "insight-analytics.yaml"):
        shutil.copy(ROOT / "tenants" / name, seed / "tenants" / name)

    def sh(cwd: Path, *args: str) -> None:
        subprocess.run(args, cwd=cwd, env=env, check=True, capture_output=True, timeout=300)

    sh(seed, "ecp", "compile")
    sh(seed, "git", "init", "--quiet", "--initial-branch=main")
    sh(seed, "git", "add", ".")
    sh(seed, "git", "commit", "--quiet", "-m", "specs and compiled output")
    sh(tmp_path, "git", "clone", "--quiet", "--bare", str(seed), "origin.git")
    work = tmp_path / "work"
    sh(tmp_path, "git", "clone", "--quiet", "origin.git", str(work))
    sh(work, "git", "checkout", "--quiet", "-b", "more-chat")
    spec = work / "tenants" / "shop-chat-lite.yaml"
    spec.write_text(spec.read_text(encoding="utf-8").replace("chatbot: 40", "chatbot: 400"))
    return work, env


def test_the_pull_request_job_checks_validates_and_writes_the_diff_to_the_summary(
    pull_request: tuple[Path, dict[str, str]],
) -> None:
    work, env = pull_request
    subprocess.run(["ecp", "compile"], cwd=work, env=env, check=True, capture_output=True)
    workflow = load(ROOT / ".github" / "workflows" / "pull-request.yml")
    results = run_job_steps(workflow, "check", work, env)
    assert len(results) == 3
    for done in results:
        assert done.returncode == 0, done.stderr
    summary = Path(env["GITHUB_STEP_SUMMARY"]).read_text(encoding="utf-8")
    assert summary.startswith("## ECP compiled output diff")
    assert "| `shop-chat-lite` | changed |" in summary
    assert '+    ecp.ai/channels: "400"' in summary
    assert "insight-analytics" not in summary


def test_the_pull_request_job_fails_naming_the_tenant_when_output_was_not_recompiled(
    pull_request: tuple[Path, dict[str, str]],
) -> None:
    work, env = pull_request
    workflow = load(ROOT / ".github" / "workflows" / "pull-request.yml")
    check = run_job_steps(workflow, "check", work, env)[0]
    assert check.returncode == 1
    assert "shop-chat-lite" in check.stdout + check.stderr


def test_the_publish_job_pushes_to_the_deploy_remote_and_records_the_deployment(
    pull_request: tuple[Path, dict[str, str]], tmp_path: Path
) -> None:
    work, env = pull_request
    subprocess.run(["ecp", "compile"], cwd=work, env=env, check=True, capture_output=True)
    deploy = tmp_path / "deploy.git"
    init = ["git", "init", "--quiet", "--bare", "--initial-branch=main", str(deploy)]
    subprocess.run(init, check=True)
    workflow = load(ROOT / ".github" / "workflows" / "publish.yml")
    results = run_job_steps(
        workflow, "publish", work, env, {"secrets.ECP_DEPLOY_REMOTE": str(deploy)}
    )
    assert len(results) == 3
    for done in results:
        assert done.returncode == 0, done.stderr
    pushed = subprocess.run(
        ["git", "log", "-1", "--format=%H%n%an%n%B", "main"],
        cwd=deploy, capture_output=True, text=True, check=True,
    ).stdout.splitlines()  # fmt: skip
    assert pushed[1] == "ecp-orchestrator[ci]"
    assert "Ecp-Tenant: shop-chat-lite added" in "\n".join(pushed)
    summary = Path(env["GITHUB_STEP_SUMMARY"]).read_text(encoding="utf-8")
    assert summary.split() == [f"dep-{pushed[0][:12]}", pushed[0]]
