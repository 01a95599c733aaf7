"""The event loop: Poisson paths through per-pod FIFO queues, one heap, one seeded RNG.

Input: a validated SimPlan and the run's size. Output: a SimulationResult. A small heapq loop
rather than SimPy: each stage visit is two heap events here (arrival, slot release) where SimPy
needs a process, a resource request and a timeout, and the whole model fits in this file.
Deterministic: every draw comes from one random.Random(seed), ties break by insertion order.
"""

from __future__ import annotations

import heapq
import math
import random
from collections import deque
from collections.abc import Callable
from typing import Any

from compiler.errors import Location, ValidationFailed
from compiler.sizing.simulation.plan_input import SimPlan
from compiler.sizing.simulation.results import PathResult, ServiceResult, SimulationResult

# Requests generated in one run, all streams together: bounds time (~1-3 s per million on one
# core) and memory. Plans whose path rates differ so much that the slowest path cannot reach
# requests_per_path within it run for a shorter time: the slower paths get fewer (see .count).
MAX_GENERATED = 4_000_000
MIN_REQUESTS = 10

EXTERNAL, STAGE, RELEASE = 0, 1, 2


def _draw(rng: random.Random, mean: float, cv: float) -> Callable[[], float]:
    """D(mean, cv): the constant mean if cv == 0, else Gamma(k = 1/cv^2, scale = mean cv^2)."""
    if cv == 0 or mean == 0:
        return lambda: mean
    if cv == 1:
        rate = 1.0 / mean
        return lambda: rng.expovariate(rate)
    shape, scale = 1.0 / (cv * cv), mean * cv * cv
    return lambda: rng.gammavariate(shape, scale)


def _targets(plan: SimPlan, requests: int) -> list[int]:
    """Requests each path generates: requests_per_path, scaled down to fit MAX_GENERATED."""
    total_rate = sum(p.rate_per_ms for p in plan.paths)
    total_rate += sum(s.background_rate_per_ms for s in plan.services)
    horizon = max(requests / p.rate_per_ms for p in plan.paths)
    horizon = min(horizon, MAX_GENERATED / total_rate)
    targets = [min(requests, math.floor(p.rate_per_ms * horizon)) for p in plan.paths]
    for path, target in zip(plan.paths, targets, strict=True):
        if target < MIN_REQUESTS:
            raise ValidationFailed(
                f"path {path.name} is too slow beside the plan's other traffic to simulate: "
                f"{target} requests within the budget of {MAX_GENERATED:,}",
                location=Location(field="paths"),
            )
    return targets


class _Simulation:
    """One run's state: per-pod slots and FIFO queues, the heap, the window's statistics."""

    def __init__(self, plan: SimPlan, requests: int, seed: int, warmup_fraction: float) -> None:
        self.seed = seed
        self.rng = rng = random.Random(seed)  # noqa: S311 -- a reproducible run, not a secret
        self.plan = plan
        self.targets = _targets(plan, requests)
        self.warm = [math.floor(warmup_fraction * n) for n in self.targets]
        self.samples = [[0.0] * (n - w) for n, w in zip(self.targets, self.warm, strict=True)]
        # Streams: the paths, then one single-stage stream per service with background load.
        self.streams = [(p.rate_per_ms, p.stages) for p in plan.paths]
        self.streams += [(s.background_rate_per_ms, (i,)) for i, s in enumerate(plan.services)
                         if s.background_rate_per_ms > 0]  # fmt: skip
        services = plan.services
        self.holds = [_draw(rng, s.hold_ms, s.hold_cv) for s in services]
        self.responses = [None if s.response_is_hold else _draw(rng, s.response_ms, s.response_cv)
                          for s in services]  # fmt: skip
        self.routing = [s.routing for s in services]
        # A shared queue is one pod holding every slot: one FIFO in front of pods x slots.
        self.pods = [1 if s.routing == "shared" else s.pods for s in services]
        slots = [s.pods * s.slots_per_pod if s.routing == "shared" else s.slots_per_pod
                 for s in services]  # fmt: skip
        self.free = [[slots[i]] * n for i, n in enumerate(self.pods)]
        self.in_system = [[0] * n for n in self.pods]  # in service + waiting, per pod
        self.waiting: list[list[deque[tuple[Any, ...]]]] = [
            [deque() for _ in range(n)] for n in self.pods
        ]
        n = len(services)
        self.busy, self.last, self.area = [0] * n, [0.0] * n, [0.0] * n
        self.arrivals, self.waits, self.wait_sum = [0] * n, [0] * n, [0.0] * n
        self.pod_arrivals = [[0] * k for k in self.pods]
        self.heap: list[tuple[Any, ...]] = []
        self.seq = 0
        self.outstanding = 0  # measured requests generated and not finished
        self.window_open = False

    def _start(self, t: float, s: int, k: int, i: int, j: int, t0: float, idx: int) -> None:
        """Stage j of request idx (stream i) takes a slot of pod k of service s at t."""
        self.area[s] += self.busy[s] * (t - self.last[s])
        self.last[s] = t
        self.busy[s] += 1
        hold = self.holds[s]()
        draw = self.responses[s]
        response = hold if draw is None else draw()
        seq = self.seq
        heapq.heappush(self.heap, (t + hold, seq, RELEASE, s, k))
        stages = self.streams[i][1]
        if j + 1 < len(stages):
            heapq.heappush(self.heap, (t + response, seq + 1, STAGE, i, j + 1, t0, idx))
        elif idx >= 0:
            self.samples[i][idx] = t + response - t0
            self.outstanding -= 1
        self.seq = seq + 2

    def _arrive(self, t: float, i: int, j: int, t0: float, idx: int) -> None:
        s = self.streams[i][1][j]
        routing = self.routing[s]
        if routing == "random":
            k = int(self.rng.random() * self.pods[s])
        elif routing == "least-request":
            load = self.in_system[s]
            k = load.index(min(load))  # fewest in service + waiting; ties: lowest index
        else:
            k = 0
        self.in_system[s][k] += 1
        if self.window_open:
            self.arrivals[s] += 1
            self.pod_arrivals[s][k] += 1
        if self.free[s][k] > 0:
            self.free[s][k] -= 1
            self._start(t, s, k, i, j, t0, idx)
            return
        if self.window_open:
            self.waits[s] += 1
        self.waiting[s][k].append((t, i, j, t0, idx, self.window_open))

    def _release(self, t: float, s: int, k: int) -> None:
        self.area[s] += self.busy[s] * (t - self.last[s])
        self.last[s] = t
        self.busy[s] -= 1
        self.in_system[s][k] -= 1
        waiting = self.waiting[s][k]
        if not waiting:
            self.free[s][k] += 1
            return
        arrived, i, j, t0, idx, counted = waiting.popleft()  # FIFO
        if counted:  # arrived in the window: its wait counts even if it ends after it
            self.wait_sum[s] += t - arrived
        self._start(t, s, k, i, j, t0, idx)

    def _open_window(self, t: float) -> None:
        """Everything before t is warm-up: restart the service statistics."""
        self.window_open = True
        for s in range(len(self.busy)):
            self.last[s] = t
            self.area[s] = self.wait_sum[s] = 0.0
            self.arrivals[s] = self.waits[s] = 0
            self.pod_arrivals[s] = [0] * len(self.pod_arrivals[s])

    def _close_window(self, t: float) -> list[float]:
        """The busy slot-time of each service up to t (arrivals stop counting too)."""
        self.window_open = False
        return [a + b * (t - last) for a, b, last in zip(self.area, self.busy, self.last,
                                                           strict=True)]  # fmt: skip

    def run(self) -> SimulationResult:
        """Process events until every measured request has finished its last stage."""
        rng, heap, streams = self.rng, self.heap, self.streams
        for i, (rate, _) in enumerate(streams):
            heap.append((rng.expovariate(rate), i, EXTERNAL, i))
        self.seq = len(streams)
        heapq.heapify(heap)
        n_paths = len(self.plan.paths)
        generated = [0] * n_paths
        unwarmed = unfinished = n_paths
        window_start = window = 0.0
        busy_area: list[float] = []
        events = 0
        t = 0.0
        while unfinished or self.outstanding:
            event = heapq.heappop(heap)
            events += 1
            t, kind = event[0], event[2]
            if kind == RELEASE:
                self._release(t, event[3], event[4])
                continue
            if kind == STAGE:
                self._arrive(t, event[3], event[4], event[5], event[6])
                continue
            i = event[3]
            heapq.heappush(heap, (t + rng.expovariate(streams[i][0]), self.seq, EXTERNAL, i))
            self.seq += 1
            idx = -1
            if i < n_paths:  # a path's request (not background): count it, maybe measure it
                n = generated[i]
                generated[i] = n + 1
                if n == self.warm[i]:
                    unwarmed -= 1
                    if not unwarmed:
                        self._open_window(t)
                        window_start = t
                if self.warm[i] <= n < self.targets[i]:
                    idx = n - self.warm[i]
                    self.outstanding += 1
                if n == self.targets[i] - 1:
                    unfinished -= 1
                    if not unfinished:
                        busy_area, window = self._close_window(t), t - window_start
            self._arrive(t, i, 0, t, idx)
        paths = self.plan.paths
        return SimulationResult(
            paths={p.name: PathResult(p.name, tuple(self.samples[i])) for i, p in enumerate(paths)},
            services=self._service_results(busy_area, window),
            seed=self.seed,
            events=events,
            simulated_ms=t,
        )

    def _service_results(self, busy_area: list[float], window: float) -> dict[str, ServiceResult]:
        results = {}
        for s, spec in enumerate(self.plan.services):
            arrivals = self.arrivals[s]
            capacity = spec.pods * spec.slots_per_pod * window
            shares = tuple(n / arrivals if arrivals else 0.0 for n in self.pod_arrivals[s])
            results[spec.name] = ServiceResult(
                name=spec.name,
                utilisation=busy_area[s] / capacity if capacity > 0 else 0.0,
                mean_wait_ms=self.wait_sum[s] / arrivals if arrivals else 0.0,
                p_wait=self.waits[s] / arrivals if arrivals else 0.0,
                arrivals=arrivals,
                arrival_rate_per_s=arrivals / window * 1000.0 if window > 0 else 0.0,
                pod_shares=() if spec.routing == "shared" else shares,
            )
        return results


def run(plan: SimPlan, requests: int, seed: int, warmup_fraction: float) -> SimulationResult:
    """Simulate `plan`; see the package charter for what is measured."""
    return _Simulation(plan, requests, seed, warmup_fraction).run()
