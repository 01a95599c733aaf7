"""The alert engine: threshold rules with hysteresis, evaluated on each ingested batch.

Input: a tenant's samples (oldest first), its SLA response-time target and the rules from
presets/alerts.yaml. Output: AlertRecords for every upward level change (ok -> warning, warning ->
critical, ok -> critical). State is per engine instance and changes only through commit(), after
the batch and its alerts are stored, so a failed write never swallows an alert. No I/O here.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from compiler.alerting import AlertRules, metric
from compiler.monitoring.samples import Sample, iso_z
from compiler.monitoring.store import AlertRecord

SEVERITIES = {1: "warning", 2: "critical"}


@dataclass(frozen=True)
class LevelState:
    level: int
    ts_ms: int


@dataclass
class Evaluation:
    """What a batch did: the alerts it raised and the states to commit once they are stored."""

    tenant_id: str
    alerts: list[AlertRecord] = field(default_factory=list)
    states: dict[str, LevelState] = field(default_factory=dict)


def alert_id_for(tenant_id: str, metric_name: str, ts_ms: int, severity: str) -> str:
    # Deterministic: the same sample re-sent after a failed response maps to the same alert.
    key = f"{tenant_id}|{metric_name}|{ts_ms}|{severity}".encode()
    return "alert-" + hashlib.blake2b(key, digest_size=6).hexdigest()


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
    ) -> Evaluation:
        """Run the rules over `samples`. `previous` (metric -> (ts, value), the store's latest
        before this batch) seeds a tenant this engine has not seen, e.g. after a restart, so a
        value that was already high does not alert again."""
        result = Evaluation(tenant_id)
        ordered = sorted(samples, key=lambda s: s.ts_ms)
        for rule in self.rules.rules:
            thresholds = rule.thresholds(sla_response_time_ms)
            state = self._states.get((tenant_id, rule.metric))
            if state is None and previous and rule.metric in previous:
                seed_ts, seed_value = previous[rule.metric]
                state = LevelState(thresholds.level_after(0, seed_value), seed_ts)
            level = state.level if state else 0
            last_ts = state.ts_ms if state else -1
            for sample in ordered:
                value = sample.get(rule.metric)
                # Samples older than the last one judged (a late backfill) do not move the state.
                if value is None or sample.ts_ms <= last_ts:
                    continue
                new_level = thresholds.level_after(level, value)
                if new_level > level:
                    threshold = thresholds.threshold_of(new_level)
                    severity = SEVERITIES[new_level]
                    result.alerts.append(
                        AlertRecord(
                            alert_id=alert_id_for(tenant_id, rule.metric, sample.ts_ms, severity),
                            tenant_id=tenant_id,
                            timestamp_ms=sample.ts_ms,
                            severity=severity,
                            type=rule.type,
                            metric=metric(rule.metric).short,
                            message=rule.message_for(threshold, value),
                            current_value=value,
                            threshold=threshold,
                        )
                    )
                level, last_ts = new_level, sample.ts_ms
            if last_ts >= 0:
                result.states[rule.metric] = LevelState(level, last_ts)
        return result

    def commit(self, evaluation: Evaluation) -> None:
        self._known.add(evaluation.tenant_id)
        for name, state in evaluation.states.items():
            self._states[(evaluation.tenant_id, name)] = state

    def level(self, tenant_id: str, metric_name: str) -> int:
        state = self._states.get((tenant_id, metric_name))
        return state.level if state else 0
