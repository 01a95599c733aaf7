"""A compiled, published workspace of N synthetic tenants for the write benches, built once.

Input: N (the tenant count). Output: a fresh copy of a git workspace (specs and output/ committed,
as this repository commits its own), a deploy repo published from it (argocd/ and flux/ included)
with a bare repository as its remote, and an admin API token. Building 10,000 tenants takes
minutes, so the built workspace is cached under the temp dir, keyed by N (a compiler change does
not rebuild it: a write recompiles its own tenant, whatever the others' input hashes say); each
run works on a copy (`cp -a`, seconds). Remove the cache folder to build afresh.
"""

from __future__ import annotations

import random
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

from bench_api import LOAD_BUDGET, ROOT, TOKEN, ecp_command, git, synthetic_spec

from compiler.access.tokens import TokenStore

FORMAT = "v1"  # bump when _build changes
CACHE = Path(tempfile.gettempdir()) / "ecp-bench-writes-cache"
# Consumer files (argocd/, flux/) are written only for a URL a cluster could clone; the bench
# never contacts it (the deploy repo's remote for pushes is the bare repo beside it).
CONSUMER_URL = "https://git.example.invalid/deploy.git"


def _build(target: Path, n: int) -> None:
    shutil.copytree(ROOT / "presets", target / "presets")
    (target / "tenants").mkdir()
    rng = random.Random(4)
    for i in range(n):
        # 500 ms: every path of the catalogue can meet it (300 ms is below ta -> qa's floor).
        spec = synthetic_spec(i, rng).replace("response_time: 300ms", "response_time: 500ms")
        (target / "tenants" / f"bench-{i:05d}.yaml").write_text(spec, "utf-8")
    (target / ".gitignore").write_text(".ecp/\necp.toml\n", "utf-8")
    remote = target / ".ecp" / "deploy-remote.git"
    remote.parent.mkdir(parents=True)
    git(remote.parent, "init", "-q", "--bare", "--initial-branch=main", remote.name)
    config = (
        f'deploy_remote = "{remote}"\nrepo_url_for_consumers = "{CONSUMER_URL}"\n' + LOAD_BUDGET
    )
    (target / "ecp.toml").write_text(config, "utf-8")
    TokenStore(target / ".ecp" / "tokens.json").create("bench", "admin", secret=TOKEN)
    git(target, "init", "-q", "--initial-branch=main")
    started = time.perf_counter()
    subprocess.run(ecp_command(target, "compile", "--all"), check=True, capture_output=True)
    print(f"compiled {n} tenants in {time.perf_counter() - started:.1f} s", flush=True)
    git(target, "add", "--all")
    git(
        target, "-c", "user.name=bench", "-c", "user.email=bench@localhost", "commit", "-qm", "seed"
    )
    started = time.perf_counter()
    subprocess.run(ecp_command(target, "publish", "--push"), check=True, capture_output=True)
    print(f"published {n} tenants in {time.perf_counter() - started:.1f} s", flush=True)


def workspace(n: int) -> Path:
    """A fresh copy of the cached N-tenant workspace (built first when missing or stale).
    The copy's absolute paths (the deploy remote) are rewritten to the copy's own."""
    key = f"{n}-{FORMAT}"
    cached = CACHE / key
    if not (cached / ".built").is_file():
        shutil.rmtree(cached, ignore_errors=True)
        cached.mkdir(parents=True)
        _build(cached, n)
        (cached / ".built").write_text("", "utf-8")
    copy = Path(tempfile.mkdtemp(prefix=f"ecp-bench-writes-{n}-"))
    subprocess.run(["cp", "-a", f"{cached}/.", str(copy)], check=True)
    config = copy / "ecp.toml"
    config.write_text(config.read_text("utf-8").replace(str(cached), str(copy)), "utf-8")
    tokens = copy / ".ecp" / "tokens.json"  # this run's token (bench_api makes one per run)
    tokens.unlink()
    TokenStore(tokens).create("bench", "admin", secret=TOKEN)
    deploy = copy / ".ecp" / "deploy-repo"
    git(deploy, "remote", "set-url", "origin", str(copy / ".ecp" / "deploy-remote.git"))
    return copy
