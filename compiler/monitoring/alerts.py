"""The alert engine: threshold rules with `for`, hysteresis and inhibition, run on each batch.

Input: a tenant's samples (oldest first), its SLA response-time target, whether it runs GPUs and
the rules from presets/alerts.yaml. Output: AlertRecords for each alert that starts firing. The
semantics are Prometheus's for the PrometheusRule we render (compiler.alerting), judged at each
sample instead of each evaluation, so both agree for samples at the evaluation interval:
- a level is pending while its condition holds and fires once it has held for the rule's `for`;
- a firing level holds until the value drops below threshold - clear_margin (hysteresis);
- a metric's warning is inhibited while its critical fires;
- a gap longer than Prometheus's lookback (5 min) means the series went stale: all state resets.
State is per engine instance and changes only through commit(), after the batch and its alerts
are stored, so a failed write never swallows an alert. No I/O here.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from compiler.alerting import AlertRules, ThresholdRule, Thresholds, alert_id_for, metric
from compiler.monitoring.samples import Sample, iso_z
from compiler.monitoring.store import AlertRecord

SEVERITIES = {1: "warning", 2: "critical"}
# Prometheus's default query lookback: an instant query sees no sample older than this.
LOOKBACK_MS = 5 * 60_000


@dataclass(frozen=True)
class LevelState:
    """One rule's state for one tenant after the sample at ts_ms."""

    level: int  # the level firing: 0 none, 1 warning, 2 critical (never both)
    ts_ms: int
    warning_since: int | None = None  # since when the warning condition has held
    critical_since: int | None = None


def next_state(
    state: LevelState | None, ts_ms: int, value: float, t: Thresholds, for_ms: int
) -> LevelState:
    """The state after one sample, as the PrometheusRule's two rules would evaluate it."""
    if state is None or ts_ms - state.ts_ms > LOOKBACK_MS:
        state = LevelState(0, ts_ms)
    critical_on = value > t.critical or (state.level == 2 and value >= t.critical - t.clear_margin)
    critical_since = (state.critical_since or ts_ms) if critical_on else None
    critical = critical_since is not None and ts_ms - critical_since >= for_ms
    warning_on = not critical and (
        value > t.warning or (state.level == 1 and value >= t.warning - t.clear_margin)
    )
    warning_since = (state.warning_since or ts_ms) if warning_on else None
    warning = warning_since is not None and ts_ms - warning_since >= for_ms
    level = 2 if critical else 1 if warning else 0
    return LevelState(level, ts_ms, warning_since, critical_since)


def seeded_state(ts_ms: int, value: float, t: Thresholds, for_ms: int) -> LevelState:
    """After a restart: the last stored value counts as already firing (held for `for`) at the
    level it is above, so a value that was high before the restart does not alert again."""
    level = 2 if value > t.critical else 1 if value > t.warning else 0
    since = ts_ms - for_ms if level else None
    return LevelState(level, ts_ms, since if level == 1 else None, since if level == 2 else None)


@dataclass
class Evaluation:
    """What a batch did: the alerts it raised and the states to commit once they are stored."""

    tenant_id: str
    alerts: list[AlertRecord] = field(default_factory=list)
    states: dict[str, LevelState] = field(default_factory=dict)


def alert_body(record: AlertRecord) -> dict[str, Any]:
    """The reference's alert shape (WebSocket alert stream and GET .../alerts)."""
    return {
        "alert_id": record.alert_id,
        "tenant_id": record.tenant_id,
        "severity": record.severity,
        "type": record.type,
        "message": record.message,
        "metric": record.metric,
        "current_value": record.current_value,
        "threshold": record.threshold,
        "timestamp": iso_z(record.timestamp_ms),
    }


def _record(
    tenant_id: str, rule: ThresholdRule, t: Thresholds, level: int, ts_ms: int, value: float
) -> AlertRecord:
    threshold = t.threshold_of(level)
    severity = SEVERITIES[level]
    return AlertRecord(
        alert_id=alert_id_for(tenant_id, rule.metric, ts_ms, severity),
        tenant_id=tenant_id,
        timestamp_ms=ts_ms,
        severity=severity,
        type=rule.type,
        metric=metric(rule.metric).short,
        message=rule.message_for(threshold, value),
        current_value=value,
        threshold=threshold,
    )


class AlertEngine:
    def __init__(self, rules: AlertRules) -> None:
        self.rules = rules
        self._states: dict[tuple[str, str], LevelState] = {}
        self._known: set[str] = set()

    @property
    def watched_metrics(self) -> tuple[str, ...]:
        return tuple(rule.metric for rule in self.rules.rules)

    def knows(self, tenant_id: str) -> bool:
        return tenant_id in self._known

    def evaluate(
        self,
        tenant_id: str,
        samples: Sequence[Sample],
        sla_response_time_ms: float,
        previous: Mapping[str, tuple[int, float]] | None = None,
        *,
        has_gpu: bool = True,
    ) -> Evaluation:
        """Run the rules over `samples`. `previous` (metric -> (ts, value), the store's latest
        before this batch) seeds a tenant this engine has not seen, e.g. after a restart."""
        result = Evaluation(tenant_id)
        ordered = sorted(samples, key=lambda s: s.ts_ms)
        for rule in self.rules.rules:
            if not rule.applies_to(has_gpu):
                continue
            thresholds = rule.thresholds(sla_response_time_ms)
            state = self._states.get((tenant_id, rule.metric))
            if state is None and previous and rule.metric in previous:
                state = seeded_state(*previous[rule.metric], thresholds, rule.for_ms)
            changed = False
            for sample in ordered:
                value = sample.get(rule.metric)
                # Samples older than the last one judged (a late backfill) do not move the state.
                if value is None or (state is not None and sample.ts_ms <= state.ts_ms):
                    continue
                before = state.level if state else 0
                state = next_state(state, sample.ts_ms, value, thresholds, rule.for_ms)
                changed = True
                if state.level and state.level != before:
                    result.alerts.append(
                        _record(tenant_id, rule, thresholds, state.level, sample.ts_ms, value)
                    )
            if changed and state is not None:
                result.states[rule.metric] = state
        return result

    def commit(self, evaluation: Evaluation) -> None:
        self._known.add(evaluation.tenant_id)
        for name, state in evaluation.states.items():
            self._states[(evaluation.tenant_id, name)] = state

    def level(self, tenant_id: str, metric_name: str) -> int:
        state = self._states.get((tenant_id, metric_name))
        return state.level if state else 0

    def forget(self, tenant_id: str) -> None:
        """A deleted tenant: its alert state goes with it."""
        self._known.discard(tenant_id)
        for key in [k for k in self._states if k[0] == tenant_id]:
            del self._states[key]
