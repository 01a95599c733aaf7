"""Benchmark: what access control costs per request, in process (no network, no uvicorn).

Usage: python bench/bench_access.py [--requests 20000]
Times (1) the rate limiter alone, (2) an API token check (lookup + constant-time compare),
(3) the route guard's decision for a label-selector scope, and (4) the whole AccessMiddleware
around a trivial ASGI app minus that app alone: authentication + rate limit + headers.
Targets (issue 9): limiter <= 50 us per request, auth + rate limit <= 0.2 ms p99.
Each figure is p50/p95/p99 over the measured calls after a warm-up of 1,000 (not counted); the
report opens with the machine and its load average.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import shutil
import sys
import tempfile
import time
from collections.abc import Callable, MutableMapping
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from compiler.access.control import AccessControl
from compiler.access.roles import Action, TenantScope
from compiler.service.access_middleware import AccessMiddleware
from compiler.settings import AccessSettings, RateBudget, RoleLimits, Settings

sys.path.insert(0, str(Path(__file__).resolve().parent))
from machine import load_average, machine, pick


def percentiles_us(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)

    def at(q: float) -> float:
        return round(pick(ordered, q) * 1e6, 2)

    return {
        "n": len(ordered),
        "p50_us": at(0.5),
        "p95_us": at(0.95),
        "p99_us": at(0.99),
        "max_us": at(1.0),
    }


WARMUP = 1000


def timed(calls: int, fn: Callable[[], object]) -> list[float]:
    for _ in range(WARMUP):
        fn()
    samples = []
    for _ in range(calls):
        started = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - started)
    return samples


async def _ok(scope: Any, receive: Any, send: Any) -> None:
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": b"{}"})


def middleware_overhead(control: AccessControl, token: str, calls: int) -> list[float]:
    app_state = SimpleNamespace(state=SimpleNamespace(ecp=SimpleNamespace(access=control)))
    wrapped = AccessMiddleware(_ok)
    headers = [(b"authorization", f"Bearer {token}".encode()), (b"x-demo-mode", b"false")]

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b""}

    async def send(message: MutableMapping[str, Any]) -> None:
        return None

    def scope() -> dict[str, Any]:
        return {
            "type": "http",
            "method": "GET",
            "path": "/api/v1/tenants/",
            "headers": headers,
            "query_string": b"",
            "client": ("127.0.0.1", 5000),
            "app": app_state,
            "state": {"request_id": "req-bench", "demo": False},
        }

    async def run() -> list[float]:
        for _ in range(WARMUP):
            await wrapped(scope(), receive, send)
        bare, full = [], []
        for _ in range(calls):
            started = time.perf_counter()
            await _ok(scope(), receive, send)
            bare.append(time.perf_counter() - started)
            started = time.perf_counter()
            await wrapped(scope(), receive, send)
            full.append(time.perf_counter() - started)
        bare.sort()
        floor = bare[len(bare) // 2]  # the trivial app's own median cost
        return [max(0.0, f - floor) for f in full]

    return asyncio.run(run())


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=20000)
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="ecp-bench-access-"))
    try:
        # A budget no benchmark loop reaches: the limiter's cost is measured, not its refusals.
        huge = RoleLimits(
            reads=RateBudget(per_second=1e9, burst=10**9),
            writes=RateBudget(per_second=1e9, burst=10**9),
        )
        access = AccessSettings(rate_limits={"editor": huge, "admin": huge})
        settings = Settings(root=root, access=access)
        control = AccessControl(settings, lambda: "ecp-ai")
        store = control.authenticator.tokens
        for i in range(200):  # a store of realistic size
            store.create(f"other-{i}", "viewer")
        token, _ = store.create("bench", "editor", TenantScope.parse((), ("team=a",)))
        principal = control.authenticator.authenticate(token, False, "127.0.0.1")
        spec = ("etag-1", "tenant_id: t1\nlabels:\n  team: a\n")
        limiter = control.limiter
        calls = args.requests
        report = {
            "machine": machine(),
            "rate_limiter_spend": percentiles_us(
                timed(calls, lambda: limiter.spend("token:bench", "editor", False))
            ),
            "token_check": percentiles_us(
                timed(calls, lambda: control.authenticator.authenticate(token, False, "x"))
            ),
            "guard_selector_scope": percentiles_us(
                timed(
                    calls, lambda: control.authorize(principal, Action.READ, "t1", lambda t: spec)
                )
            ),
            "middleware_auth_and_rate_limit": percentiles_us(
                middleware_overhead(control, token, calls)
            ),
            "targets": {"rate_limiter_us": 50, "auth_and_rate_limit_p99_us": 200},
            "load_average_at_end": load_average(),
        }
        control.audit.close()
    finally:
        shutil.rmtree(root, ignore_errors=True)
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
