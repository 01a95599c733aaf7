"""The README runs top to bottom as written, on a fresh clone, against a real server.

Every shell (console, bash, sh) and Python block of README.md is executed in order in one fresh
clone of this repository (the working tree's tracked files laid over it), with this
environment's .venv: console blocks command by command (`$ ` lines; the shell's variables carry
from block to block), bash and Python blocks whole. The server is the README's own `make run &`;
the test only gives it a free port (PORT, and that port in place of 8001 in the commands) and
waits for it to answer. A command must exit 0, and where the README shows its output, the real
output must open the same way (the same first JSON key, the same first word). A block that is
deliberately not runnable carries `<!-- walkthrough: skip (reason) -->` on the line before it.
"""

from __future__ import annotations

import contextlib
import os
import re
import shlex
import shutil
import signal
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from api_server import free_port
from required_tools import missing

REPO = Path(__file__).resolve().parent.parent
README = REPO / "README.md"
RUNNABLE = {"console", "bash", "sh", "python"}
FENCE = re.compile(r"^```([\w-]*)\s*$")
SKIP = re.compile(r"^<!-- walkthrough: skip \((?P<reason>[^)]+)\) -->$")
README_PORT = "8001"

pytestmark = pytest.mark.slow


@dataclass
class Command:
    text: str
    shown: list[str] = field(default_factory=list)  # the output the README shows under it


@dataclass
class Block:
    line: int
    language: str
    body: str
    skip_reason: str | None = None

    def commands(self) -> list[Command]:
        """A console block's commands: `$ ` lines and their continuations, with the output
        shown under each."""
        commands: list[Command] = []
        lines = self.body.splitlines()
        index = 0
        while index < len(lines):
            line = lines[index]
            index += 1
            if not line.startswith("$ "):
                if commands and line.strip():
                    commands[-1].shown.append(line)
                continue
            text = line[2:]
            while index < len(lines) and _continues(text):
                text += "\n" + lines[index]
                index += 1
            commands.append(Command(text))
        return commands


def _background(text: str) -> bool:
    """Whether a command runs in the background (`make run &  # comment`)."""
    words = shlex.split(text, comments=True)
    return bool(words) and words[-1].endswith("&") and not words[-1].endswith("&&")


def _continues(text: str) -> bool:
    if text.endswith("\\"):
        return True
    try:
        shlex.split(text, comments=True)
    except ValueError:  # an open quote: the command goes on
        return True
    return False


def readme_blocks() -> list[Block]:
    blocks: list[Block] = []
    lines = README.read_text(encoding="utf-8").splitlines()
    index = 0
    while index < len(lines):
        match = FENCE.match(lines[index])
        index += 1
        if match is None:
            continue
        start, body = index, []
        while index < len(lines) and not lines[index].startswith("```"):
            body.append(lines[index])
            index += 1
        index += 1
        if match[1] not in RUNNABLE:
            continue
        before = next((lines[i] for i in range(start - 2, -1, -1) if lines[i].strip()), "")
        marker = SKIP.match(before.strip())
        blocks.append(Block(start, match[1], "\n".join(body) + "\n",
                            marker["reason"] if marker else None))  # fmt: skip
    return blocks


class Walkthrough:
    """One shell session's worth of state in a fresh clone, and the server it started."""

    def __init__(self, root: Path, port: int) -> None:
        self.root, self.port = root, port
        self.state = root.parent / "state.sh"
        self.state.write_text("", encoding="utf-8")
        self.outputs = root.parent / "outputs"
        self.outputs.mkdir()
        self.server_groups: list[int] = []
        self.env = {k: v for k, v in os.environ.items() if not k.startswith(("ECP_", "GIT_"))}
        self.env.update(
            PATH=f"{Path(sys.executable).parent}{os.pathsep}{self.env.get('PATH', '')}",
            PORT=str(port),
            GITHUB_STEP_SUMMARY=str(root.parent / "step-summary.md"),
            PYTHONDONTWRITEBYTECODE="1",
        )

    def ported(self, text: str) -> str:
        return re.sub(rf"\b(localhost|127\.0\.0\.1):{README_PORT}\b", rf"\1:{self.port}", text)

    def run_console(self, block: Block) -> None:
        commands = block.commands()
        assert commands, f"README line {block.line}: a console block with no `$ ` command"
        script = ["set -o pipefail", f'source "{self.state}"']
        for number, command in enumerate(commands):
            out = self.outputs / f"{block.line}-{number}"
            script.append(f"{{ {self.ported(command.text)}\n}} >'{out}.out' 2>'{out}.err'")
            script.append(f"echo $? >'{out}.rc'; [ \"$(cat '{out}.rc')\" = 0 ] || exit 1")
            if _background(command.text):  # the README's server: wait until it answers
                probe = f"curl -s -o /dev/null 127.0.0.1:{self.port}/openapi.json"
                script.append(f"for _ in $(seq 600); do {probe} && break; sleep 0.2; done")
        script.append(f'export -p > "{self.state}"')
        done = self._bash("\n".join(script), server=any(_background(c.text) for c in commands))
        for number, command in enumerate(commands):
            out = self.outputs / f"{block.line}-{number}"
            where = f"README line {block.line}: `{command.text}`"
            rc = out.with_suffix(".rc")
            assert rc.exists(), f"{where} did not run: {done.stdout}{done.stderr}"
            stdout = out.with_suffix(".out").read_text(encoding="utf-8", errors="replace")
            stderr = out.with_suffix(".err").read_text(encoding="utf-8", errors="replace")
            assert rc.read_text().strip() == "0", f"{where} failed:\n{stdout}\n{stderr}"
            if not _background(command.text):
                assert_opens_like(command.shown, stdout, where)

    def run_script(self, block: Block) -> None:
        path = self.outputs / f"{block.line}.{'py' if block.language == 'python' else 'sh'}"
        path.write_text(self.ported(block.body), encoding="utf-8")
        runner = "python" if block.language == "python" else "bash -e -o pipefail"
        done = self._bash(f'set -a; source "{self.state}"; set +a; {runner} "{path}"')
        assert done.returncode == 0, (
            f"README line {block.line} ({block.language}) failed:\n{done.stdout}\n{done.stderr}"
        )

    def _bash(self, script: str, server: bool = False) -> subprocess.CompletedProcess[str]:
        process = subprocess.Popen(
            ["bash", "-c", script], cwd=self.root, env=self.env, text=True,
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True,
        )  # fmt: skip
        if server:
            self.server_groups.append(process.pid)  # its background job stays in its group
        try:
            stdout, stderr = process.communicate(timeout=600 if server else 300)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            raise
        return subprocess.CompletedProcess(process.args, process.returncode, stdout, stderr)

    def stop(self) -> None:
        for group in self.server_groups:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(group, signal.SIGTERM)


def assert_opens_like(shown: list[str], stdout: str, where: str) -> None:
    """A line of the real output opens as the README's shown output does: with the same first
    JSON key, or the same first word (a shown output may be an excerpt)."""
    lines = [line for line in shown if not line.lstrip().startswith("#")]
    if not lines:
        return
    expected = lines[0].strip()
    actual = [line.strip() for line in stdout.splitlines() if line.strip()]
    if expected.startswith("{"):
        key = re.match(r'\{"([^"]+)"', expected)
        keys = [m[1] for m in map(re.compile(r'\{\s*"([^"]+)"').match, actual) if m]
        whole = re.match(r'\{\s*"([^"]+)"', stdout.strip())  # pretty-printed JSON
        keys += [whole[1]] if whole else []
        assert key and key[1] in keys, f"{where}: shows {expected!r}, got {stdout!r}"
        return
    word = expected.split()[0].rstrip(":").lower()
    if "…" in word:
        return
    assert any(line.lower().startswith(word) for line in actual), (
        f"{where}: shows {expected!r}, got {stdout!r}"
    )


def fresh_clone(destination: Path) -> Path:
    """A clone of this repository with the working tree's tracked files laid over it, using
    this environment's .venv (and the dashboard's node_modules when installed)."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
    subprocess.run(["git", "clone", "--quiet", str(REPO), str(destination)], check=True, env=clean)
    tracked = subprocess.run(["git", "ls-files", "-z"], cwd=REPO, capture_output=True,
                             check=True).stdout.decode().split("\0")  # fmt: skip
    for name in filter(None, tracked):
        source = REPO / name
        if source.is_file() and not source.is_symlink():
            (destination / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, destination / name)
    venv = Path(sys.prefix)
    (destination / ".venv").symlink_to(venv, target_is_directory=True)
    stamp = venv / ".installed"
    if not stamp.exists():  # make would reinstall this environment from the clone
        missing(f"{venv} was not made by `make` (no .installed stamp): run `make test`")
    then = stamp.stat().st_mtime - 60  # `make run` must see the environment as installed
    os.utime(destination / "pyproject.toml", (then, then))
    modules = REPO / "dashboard" / "node_modules"
    if modules.is_dir():
        (destination / "dashboard" / "node_modules").symlink_to(modules, target_is_directory=True)
    return destination


@pytest.fixture
def walkthrough(tmp_path: Path) -> Iterator[Walkthrough]:
    walk = Walkthrough(fresh_clone(tmp_path / "workspace"), free_port())
    try:
        yield walk
    finally:
        walk.stop()


def test_the_readme_runs_top_to_bottom_as_written(walkthrough: Walkthrough) -> None:
    blocks = readme_blocks()
    ran = [block for block in blocks if block.skip_reason is None]
    skipped = [block for block in blocks if block.skip_reason is not None]
    assert len(ran) >= 5, "the walkthrough runs the README's commands, not only its skips"
    for block in ran:
        if block.language == "console":
            walkthrough.run_console(block)
        else:
            walkthrough.run_script(block)
    # every skip says why; the count is part of the contract (a new unrunnable block is a choice)
    assert all(block.skip_reason for block in skipped)
    assert len(skipped) == 7, [(b.line, b.skip_reason) for b in skipped]


def test_the_parser_reads_commands_continuations_and_shown_output() -> None:
    block = Block(1, "console", "$ a \\\n  b\nout 1\n$ c '{\"x\":\n  1}'\n$ d &\n")
    commands = block.commands()
    assert [c.text for c in commands] == ["a \\\n  b", "c '{\"x\":\n  1}'", "d &"]
    assert [c.shown for c in commands] == [["out 1"], [], []]
    assert [_background(c.text) for c in commands] == [False, False, True]
    assert _background("make run &   # a comment") and not _background("a && b")
    with pytest.raises(AssertionError):
        assert_opens_like(['{"recommended_preset":"large"}'], '{"error":{}}', "here")
    assert_opens_like(['{"tenant_id":"x", …}'], '{"tenant_id":"y"}', "here")
    assert_opens_like(['etag: "…"'], 'ETag: "abc"', "here")
