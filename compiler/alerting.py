"""Alert rules as data: the metric catalogue, threshold rules with hysteresis, and their PromQL.

Input: presets/alerts.yaml (load_alert_rules, the only I/O here). Output: frozen rule models that
the monitoring store evaluates on ingest, and PrometheusRule groups (prometheus_rule_groups) the
renderer embeds, so in-cluster alerting and ours use the same thresholds. Pure otherwise; must not
import the store, the service or rendering.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from compiler.errors import Location, PresetDataInvalid, ValidationFailed

ALERTS_FILE = "alerts.yaml"
_LABEL = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?")
_DURATION = re.compile(r"[1-9][0-9]*[smh]")
_UNIT_MS = {"s": 1000, "m": 60_000, "h": 3_600_000}
# Metrics whose rules only make sense for a tenant that runs GPU workloads.
GPU_METRICS = frozenset({"gpu_usage"})

# libyaml's safe loader when built with it: several times faster than the pure-Python one.
_FAST_LOADER: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


@dataclass(frozen=True)
class MetricDef:
    """One metric of the reference's monitoring body and how it is exposed to Prometheus."""

    name: str  # the reference's field in POST .../monitoring ("cpu_usage")
    short: str  # the series / stream name ("cpu"), as the reference's GET and WebSocket use
    minimum: float
    maximum: float | None
    gauge: str  # Prometheus gauge name, in base units as Prometheus conventions ask
    gauge_scale: float  # stored value x scale = gauge value
    help: str


METRICS: tuple[MetricDef, ...] = (
    MetricDef("cpu_usage", "cpu", 0, 100, "ecp_tenant_cpu_usage_percent", 1, "CPU use, % of quota"),
    MetricDef(
        "memory_usage",
        "memory",
        0,
        100,
        "ecp_tenant_memory_usage_percent",
        1,
        "Memory use, % of quota",
    ),
    MetricDef("gpu_usage", "gpu", 0, 100, "ecp_tenant_gpu_usage_percent", 1, "GPU use, %"),
    MetricDef(
        "network_in",
        "network_in",
        0,
        None,
        "ecp_tenant_network_in_bytes_per_second",
        1,
        "Network received, bytes/s",
    ),
    MetricDef(
        "network_out",
        "network_out",
        0,
        None,
        "ecp_tenant_network_out_bytes_per_second",
        1,
        "Network sent, bytes/s",
    ),
    MetricDef(
        "storage_used",
        "storage",
        0,
        None,
        "ecp_tenant_storage_used_bytes",
        1,
        "Storage used, bytes",
    ),
    MetricDef(
        "request_count",
        "request_count",
        0,
        None,
        # Not *_count: Prometheus reserves that suffix for summaries and histograms.
        "ecp_tenant_reported_requests",
        1,
        "Requests the tenant reported for its last reporting interval",
    ),
    MetricDef(
        "response_time",
        "response_time",
        0,
        None,
        "ecp_tenant_response_time_seconds",
        0.001,
        "Response time (sent in ms, exposed in seconds)",
    ),
    MetricDef(
        "error_rate",
        "error_rate",
        0,
        1,
        "ecp_tenant_error_ratio",
        1,
        "Failed requests, fraction 0-1",
    ),
)
METRIC_NAMES: tuple[str, ...] = tuple(m.name for m in METRICS)
MetricName = Literal[
    "cpu_usage",
    "memory_usage",
    "gpu_usage",
    "network_in",
    "network_out",
    "storage_used",
    "request_count",
    "response_time",
    "error_rate",
]


def alert_id_for(tenant_id: str, metric_name: str, ts_ms: int, severity: str) -> str:
    """Deterministic: the same sample re-sent after a failed response maps to the same alert,
    and Prometheus's alert for the same firing gets the same ID as ours."""
    key = f"{tenant_id}|{metric_name}|{ts_ms}|{severity}".encode()
    return "alert-" + hashlib.blake2b(key, digest_size=6).hexdigest()


def metric(name: str) -> MetricDef:
    for definition in METRICS:
        if definition.name == name:
            return definition
    raise KeyError(name)


@dataclass(frozen=True)
class Thresholds:
    """A rule's numbers for one tenant, in the metric's unit. Level 0 ok, 1 warning, 2 critical.

    A level turns on above its threshold and, once firing, only turns off below
    threshold - clear_margin (compiler.monitoring.alerts applies this with `for`)."""

    warning: float
    critical: float
    clear_margin: float

    def threshold_of(self, level: int) -> float:
        return self.critical if level >= 2 else self.warning


class ThresholdRule(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    metric: MetricName
    type: str = Field(min_length=1, max_length=40)
    warning: float = Field(gt=0)
    critical: float = Field(gt=0)
    clear_margin: float = Field(gt=0)
    relative_to_sla: bool = False
    for_: str = Field(default="2m", alias="for", pattern=_DURATION.pattern)
    message: str = Field(min_length=1, max_length=300)

    @model_validator(mode="after")
    def _levels_are_ordered(self) -> ThresholdRule:
        if not self.warning < self.critical:
            raise ValueError("warning must be below critical")
        if not self.clear_margin < self.warning:
            raise ValueError("clear_margin must be below the warning threshold")
        try:
            self.message.format(threshold=1.0, threshold_percent=1.0, value=1.0)
        except (KeyError, IndexError, ValueError) as exc:
            raise ValueError(
                f"message may use only {{threshold}}, {{threshold_percent}}, {{value}}: {exc}"
            ) from exc
        return self

    @property
    def for_ms(self) -> int:
        """`for` in milliseconds: how long the condition must hold before the alert fires."""
        return int(self.for_[:-1]) * _UNIT_MS[self.for_[-1]]

    def applies_to(self, has_gpu: bool) -> bool:
        return has_gpu or self.metric not in GPU_METRICS

    def thresholds(self, sla_response_time_ms: float) -> Thresholds:
        scale = sla_response_time_ms if self.relative_to_sla else 1.0
        return Thresholds(self.warning * scale, self.critical * scale, self.clear_margin * scale)

    def message_for(self, threshold: float, value: float) -> str:
        return self.message.format(
            threshold=threshold, threshold_percent=threshold * 100, value=value
        )

    @property
    def alert_stem(self) -> str:
        """'cpu_usage' -> 'EcpCpuUsage' (PrometheusRule alert names are CamelCase)."""
        return "Ecp" + "".join(part.capitalize() for part in self.metric.split("_"))


class AlertRules(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    rules: tuple[ThresholdRule, ...]

    @model_validator(mode="after")
    def _one_rule_per_metric(self) -> AlertRules:
        names = [rule.metric for rule in self.rules]
        if len(names) != len(set(names)):
            raise ValueError("each metric may have one rule")
        return self

    def for_metric(self, name: str) -> ThresholdRule | None:
        return next((rule for rule in self.rules if rule.metric == name), None)


def load_alert_rules(presets_dir: Path) -> AlertRules:
    """presets/alerts.yaml as AlertRules; a broken file is a PresetDataInvalid naming the field."""
    path = presets_dir / ALERTS_FILE
    try:
        data = yaml.load(path.read_text(encoding="utf-8"), Loader=_FAST_LOADER)  # noqa: S506
    except OSError as exc:
        raise PresetDataInvalid(
            f"cannot read alert rules: {exc.strerror}", location=Location(file=str(path))
        ) from exc
    except yaml.YAMLError as exc:
        raise PresetDataInvalid(
            f"alert rules are not valid YAML: {exc}", location=Location(file=str(path))
        ) from exc
    try:
        return AlertRules.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        field = ".".join(str(p) for p in first["loc"]) or "rules"
        raise PresetDataInvalid(
            f"invalid alert rule: {first['msg']}", location=Location(file=str(path), field=field)
        ) from exc


def _number(value: float) -> str:
    return format(value, ".10g")


def _firing(alertname: str, tenant: str) -> str:
    return f'ALERTS{{alertname="{alertname}", alertstate="firing", tenant="{tenant}"}}'


def _rule_expr(
    series: str, threshold: float, hold: float, alertname: str, tenant: str, inhibitor: str | None
) -> str:
    # Hysteresis in PromQL: above the threshold, or still above threshold - margin while this
    # very alert is firing (its ALERTS series). A warning is inhibited while the same metric's
    # critical fires: the critical rule comes first in the group, so its ALERTS sample of this
    # very evaluation is already written when the warning is evaluated.
    expr = (
        f"({series} > {_number(threshold)}) or ({series} >= {_number(hold)} and on(tenant) "
        f"{_firing(alertname, tenant)})"
    )
    if inhibitor is None:
        return expr
    return f"({expr}) unless on(tenant) {_firing(inhibitor, tenant)}"


def prometheus_rule_groups(
    tenant_id: str,
    namespace: str,
    sla_response_time_ms: float,
    rules: AlertRules,
    *,
    has_gpu: bool = True,
) -> list[dict[str, Any]]:
    """The spec.groups of a tenant's PrometheusRule: deterministic, thresholds from `rules`,
    evaluated over the gauges GET /metrics exposes (labelled tenant="<tenant_id>"). GPU rules
    only for a tenant with GPU workloads. Same semantics as compiler.monitoring.alerts: `for`
    before firing, hysteresis while firing, a metric's warning inhibited by its critical."""
    if not _LABEL.fullmatch(tenant_id) or not _LABEL.fullmatch(namespace):
        raise ValidationFailed(
            "tenant_id and namespace must be DNS-1123 labels",
            details={"field": "tenant_id", "value": tenant_id[:100]},
        )
    if not sla_response_time_ms > 0:
        raise ValidationFailed(
            "the SLA response time must be above 0 ms",
            details={"field": "sla_target.response_time"},
        )
    out: list[dict[str, Any]] = []
    for rule in rules.rules:
        if not rule.applies_to(has_gpu):
            continue
        definition = metric(rule.metric)
        thresholds = rule.thresholds(sla_response_time_ms)
        series = f'{definition.gauge}{{tenant="{tenant_id}"}}'
        critical_name = f"{rule.alert_stem}Critical"
        for severity, threshold, inhibitor in (
            ("critical", thresholds.critical, None),
            ("warning", thresholds.warning, critical_name),
        ):
            alertname = f"{rule.alert_stem}{severity.capitalize()}"
            gauge_threshold = threshold * definition.gauge_scale
            gauge_hold = (threshold - thresholds.clear_margin) * definition.gauge_scale
            expr = _rule_expr(series, gauge_threshold, gauge_hold, alertname, tenant_id, inhibitor)
            out.append(
                {
                    "alert": alertname,
                    "expr": expr,
                    "for": rule.for_,
                    "labels": {
                        "severity": severity,
                        "tenant": tenant_id,
                        "namespace": namespace,
                        "metric": definition.short,
                        "type": rule.type,
                    },
                    "annotations": {
                        "summary": rule.message_for(threshold, threshold),
                        "threshold": _number(threshold),
                    },
                }
            )
    return [{"name": f"{namespace}.ecp-alerts", "rules": out}]
