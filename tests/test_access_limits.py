"""Rate limits (token buckets per principal and budget) and the safe start-up defaults."""

from __future__ import annotations

import math
import os
import stat
import subprocess
import time
from pathlib import Path

import httpx
import pytest
from access_support import CLI
from api_server import free_port
from conftest import EcpRunner, run_ecp
from test_monitoring_support import live_server, make_workspace

from compiler.access.ratelimit import RateLimiter
from compiler.access.tokens import TokenStore
from compiler.settings import RateBudget, RoleLimits


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def _limiter(clock: Clock) -> RateLimiter:
    limits = RoleLimits(
        reads=RateBudget(per_second=2, burst=4), writes=RateBudget(per_second=0.5, burst=1)
    )
    return RateLimiter({"viewer": limits, "admin": limits}, clock=clock)


def test_a_bucket_allows_its_burst_then_refuses_until_it_refills() -> None:
    clock = Clock()
    limiter = _limiter(clock)
    decisions = [limiter.spend("token:a", "viewer", False) for _ in range(5)]
    assert [d.allowed for d in decisions] == [True, True, True, True, False]
    assert [d.remaining for d in decisions[:4]] == [3, 2, 1, 0]
    refused = decisions[-1]
    assert refused.retry_after_s == 1  # one token at 2/s is 0.5 s away: rounded up
    assert refused.headers()["Retry-After"] == "1"
    assert refused.reset_s == 2  # 4 tokens at 2/s
    clock.now += 0.5
    assert limiter.spend("token:a", "viewer", False).allowed
    assert not limiter.spend("token:a", "viewer", False).allowed


def test_the_raw_ratelimit_headers_are_the_headers_encoded() -> None:
    clock = Clock()
    limiter = _limiter(clock)
    for decision in [limiter.spend("token:a", "viewer", False) for _ in range(5)]:
        expected = [(k.lower().encode(), v.encode()) for k, v in decision.headers().items()]
        assert decision.raw_headers() == expected
    assert (b"retry-after", b"1") in decision.raw_headers()  # the fifth was refused


def test_writes_have_their_own_smaller_budget_and_callers_their_own_buckets() -> None:
    clock = Clock()
    limiter = _limiter(clock)
    assert limiter.spend("token:a", "viewer", True).allowed
    refused = limiter.spend("token:a", "viewer", True)
    assert not refused.allowed and refused.retry_after_s == 2 and refused.budget == "writes"
    assert limiter.spend("token:a", "viewer", False).allowed  # reads untouched
    assert limiter.spend("token:b", "viewer", True).allowed  # another caller untouched


def test_a_server_answers_429_with_retry_after_and_ratelimit_headers(tmp_path: Path) -> None:
    (tmp_path / "ecp.toml").write_text(
        "[access.rate_limits.viewer]\n"
        "reads = {per_second = 0.2, burst = 3}\n"
        "writes = {per_second = 0.2, burst = 1}\n",
        encoding="utf-8",
    )
    settings = make_workspace(tmp_path)
    token, _ = TokenStore(tmp_path / ".ecp" / "tokens.json").create("slow", "viewer")
    headers = {"Authorization": f"Bearer {token}", "X-Demo-Mode": "false"}
    with live_server(settings) as live:
        started = time.monotonic()
        reads = [httpx.get(f"{live.http}/api/v1/tenants/", headers=headers) for _ in range(4)]
        elapsed = time.monotonic() - started
        validate = [
            httpx.post(
                f"{live.http}/api/v1/tenants/validate-manifest",
                json={"manifest_content": "kind: x\n"},
                headers=headers,
            )
            for _ in range(2)
        ]
    assert [r.status_code for r in reads] == [200, 200, 200, 429]
    assert [r.headers["RateLimit-Remaining"] for r in reads] == ["2", "1", "0", "0"]
    assert all(r.headers["RateLimit-Limit"] == "3" for r in reads)
    limited = reads[-1]
    assert limited.json()["error"]["code"] == "RATE_LIMITED"
    # One token at 0.2/s takes 5 s from empty; the bucket refilled a little while the four reads
    # ran (seconds on a loaded machine), so the wait is 5 s less that time, rounded up.
    assert 5 - math.ceil(elapsed) <= int(limited.headers["Retry-After"]) <= 5
    assert int(limited.headers["Retry-After"]) >= 1
    assert [v.status_code for v in validate] == [200, 429]  # its own budget, of 1


def test_auth_none_off_loopback_is_refused_at_start(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ECP_")}
    done = subprocess.run(
        [*CLI, "--root", str(tmp_path), "serve", "--host", "0.0.0.0", "--port", str(free_port())],
        env={**env, "ECP_AUTH": "none"},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 2
    assert 'auth = "none"' in done.stderr and "0.0.0.0" in done.stderr
    assert "Traceback" not in done.stderr


def test_serve_binds_loopback_unless_told_otherwise(ecp: EcpRunner) -> None:
    help_text = " ".join(ecp("serve", "--help").stdout.split())
    assert "[default: 127.0.0.1]" in help_text


def test_bootstrap_makes_one_private_admin_token_and_prints_the_curl_line(
    ecp: EcpRunner, workspace: Path
) -> None:
    first = ecp("token", "bootstrap", "--port", "8123")
    assert first.code == 0, first.stderr
    path = workspace / ".ecp" / "admin-token"
    token = path.read_text(encoding="utf-8").strip()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert token in first.stdout
    assert 'curl -H "Authorization: Bearer $ECP_TOKEN"' in first.stdout
    assert "http://127.0.0.1:8123/api/v1/tenants/" in first.stdout
    record = TokenStore(workspace / ".ecp" / "tokens.json").lookup(token)
    assert record is not None and record.role == "admin"
    again = run_ecp(workspace, "token", "bootstrap")
    assert again.code == 0 and token not in again.stdout + again.stderr
    assert path.read_text(encoding="utf-8").strip() == token


@pytest.mark.parametrize("value", ["maybe", "basic"], ids=["not-a-choice", "unknown-mode"])
def test_a_bad_auth_setting_is_a_usage_error(ecp: EcpRunner, workspace: Path, value: str) -> None:
    (workspace / "ecp.toml").write_text(f'auth = "{value}"\n', encoding="utf-8")
    run = ecp("serve", "--port", "1")
    assert run.code == 2
    assert "auth" in run.stderr and "Traceback" not in run.stderr
