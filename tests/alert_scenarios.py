"""Sample sequences with the alerts they must fire, shared by the engine's tests and by
`promtool test rules` over the rendered PrometheusRule, so both are held to one expectation.

Values are one sample per minute (the evaluation interval the rules are tested at). `firing` is
the alert firing after each minute's sample: None, "warning" or "critical" (never both: the
critical inhibits the warning). Thresholds are presets/alerts.yaml's: cpu/gpu warning 80,
critical 95, clear margin 5, for 2m; response time 1x / 2x the SLA, margin 0.1x, for 5m.
"""

from __future__ import annotations

from dataclasses import dataclass

W, C = "warning", "critical"


@dataclass(frozen=True)
class Scenario:
    id: str
    metric: str  # the reference's metric name
    values: tuple[float, ...]
    firing: tuple[str | None, ...]
    sla_ms: float = 200.0

    def __post_init__(self) -> None:
        assert len(self.values) == len(self.firing), self.id


SCENARIOS = (
    # The case: one cpu 99 sample must not fire (for: 2m), and nothing holds it after.
    Scenario("one-spike-never-fires", "cpu_usage", (99, 10, 10, 10), (None,) * 4),
    # gpu 97 held: one critical after 2 minutes; the warning never fires beside it.
    Scenario("held-critical-inhibits-warning", "gpu_usage", (97,) * 5, (None, None, C, C, C)),
    Scenario("warning-after-for", "cpu_usage", (85, 85, 85, 85), (None, None, W, W)),
    # Hysteresis: once firing, 75-80 holds; below 75 resolves.
    Scenario(
        "hovering-holds-then-clears",
        "memory_usage",
        (85, 85, 85, 79, 78, 81, 76, 74, 74),
        (None, None, W, W, W, W, W, None, None),
    ),
    # Pending is not firing: the band does not hold a pending alert, and a dip restarts `for`.
    Scenario(
        "dip-restarts-pending",
        "cpu_usage",
        (85, 85, 78, 85, 85, 85),
        (None, None, None, None, None, W),
    ),
    # Critical resolves below 90, then the warning must wait its own `for` from there.
    Scenario(
        "critical-steps-down-to-warning",
        "cpu_usage",
        (97, 97, 97, 92, 89, 85, 85, 85),
        (None, None, C, C, None, None, W, W),
    ),
    # Warning first, then critical takes over and the warning stops firing.
    Scenario(
        "warning-escalates-to-critical",
        "cpu_usage",
        (85, 85, 85, 97, 97, 97, 97),
        (None, None, W, W, W, C, C),
    ),
    # Response time is relative to the tenant's SLA (200 ms here) and waits 5 minutes.
    Scenario(
        "slow-responses-wait-five-minutes",
        "response_time",
        (250,) * 7,
        (None, None, None, None, None, W, W),
    ),
    Scenario(
        "faster-sla-fires-critical",
        "response_time",
        (250,) * 7,
        (None, None, None, None, None, C, C),
        sla_ms=120.0,
    ),
    Scenario(
        "error-rate-as-a-fraction",
        "error_rate",
        (0.02, 0.02, 0.02, 0.003, 0.003),
        (None, None, W, None, None),
    ),
)
