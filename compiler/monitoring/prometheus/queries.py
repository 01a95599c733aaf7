"""PromQL for each reference metric of one tenant: the cluster's own series first, ours second.

Input: the tenant, its namespace and its compiled quota (cpu cores, memory bytes). Output: PromQL
strings only. cpu/memory are cAdvisor usage against the tenant's quota, gpu is DCGM's utilisation,
storage is kubelet volume stats, network is cAdvisor's byte counters; where the cluster has no
such series (or for request/latency/error metrics) the tenant's own pushed gauges answer,
`<gauge>{tenant="<id>"}`, scaled back from base units to the reference's units. Pure.

Buckets are `avg_over_time` over [B, B + interval), evaluated 1 ms before the bucket ends, so they
hold the same samples as the SQLite store's `ts / interval` buckets.
"""

from __future__ import annotations

from dataclasses import dataclass

from compiler.alerting import METRICS

# Counters become per-second rates with irate (the last two scrapes in this window, cAdvisor is
# scraped every 15-30 s), then averaged over the bucket: rate() would divide a young series'
# few seconds of increase by the whole window and report a fraction of the true use.
RATE_WINDOW = "2m"
# Cluster series are sampled at this resolution inside a bucket (a subquery step): the usual
# cAdvisor scrape interval.
CLUSTER_STEP_MS = 15_000
_SCALE = {m.name: m.gauge_scale for m in METRICS}
_GAUGE = {m.name: m.gauge for m in METRICS}


# The cluster series each metric reads; a tenant's namespace without them gets our own gauges.
CLUSTER_SERIES = {
    "cpu_usage": "container_cpu_usage_seconds_total",
    "memory_usage": "container_memory_working_set_bytes",
    "gpu_usage": "DCGM_FI_DEV_GPU_UTIL",
    "storage_used": "kubelet_volume_stats_used_bytes",
    "network_in": "container_network_receive_bytes_total",
    "network_out": "container_network_transmit_bytes_total",
}


@dataclass(frozen=True)
class TenantScope:
    tenant_id: str  # a checked DNS-1123 label: safe inside a PromQL string
    namespace: str
    cpu_cores: float | None = None  # the quota; None: not compiled, no cluster cpu percentage
    memory_bytes: float | None = None
    # Cluster series names present for the namespace (None: not looked up, assume all).
    present: frozenset[str] | None = None

    def series_selector(self) -> str:
        """match[] for /api/v1/series: which cluster series the namespace has."""
        names = "|".join(sorted(CLUSTER_SERIES.values()))
        return f'{{__name__=~"{names}", namespace="{self.namespace}"}}'


def _number(value: float) -> str:
    return format(value, ".17g")  # exact: 34359738368 bytes must not become 3.43597e+10


def cluster_expr(metric: str, scope: TenantScope) -> str | None:
    """An instant expression over the cluster's series, in the reference's unit, or None."""
    if metric not in CLUSTER_SERIES or (
        scope.present is not None and CLUSTER_SERIES[metric] not in scope.present
    ):
        return None
    ns = f'namespace="{scope.namespace}"'
    containers = f'{ns}, container!="", container!="POD"'
    if metric == "cpu_usage" and scope.cpu_cores:
        usage = f"sum(irate(container_cpu_usage_seconds_total{{{containers}}}[{RATE_WINDOW}]))"
        return f"100 * {usage} / {_number(scope.cpu_cores)}"
    if metric == "memory_usage" and scope.memory_bytes:
        working_set = f"sum(container_memory_working_set_bytes{{{containers}}})"
        return f"100 * {working_set} / {_number(scope.memory_bytes)}"
    if metric == "gpu_usage":
        return f"avg(DCGM_FI_DEV_GPU_UTIL{{{ns}}})"
    if metric == "storage_used":
        return f"sum(kubelet_volume_stats_used_bytes{{{ns}}})"
    if metric in ("network_in", "network_out"):
        name = "receive" if metric == "network_in" else "transmit"
        return f"sum(irate(container_network_{name}_bytes_total{{{ns}}}[{RATE_WINDOW}]))"
    return None


def own_series(metric: str, scope: TenantScope) -> str:
    return f'{_GAUGE[metric]}{{tenant="{scope.tenant_id}"}}'


def own_series_name(metric: str) -> str:
    """The name of the tenant's own gauge for a reference metric (in base units)."""
    return _GAUGE[metric]


def gauge_scale(metric: str) -> float:
    """What the own gauge's value is divided by to give the reference's unit."""
    return _SCALE[metric]


def _unscaled(expr: str, metric: str) -> str:
    scale = _SCALE[metric]
    return expr if scale == 1 else f"({expr}) / {_number(scale)}"


def subquery_step_ms(window_ms: int) -> int:
    """15 s inside a bucket; coarser for long windows (a 24 h summary samples each minute)."""
    return max(CLUSTER_STEP_MS, window_ms // 1440 // 1000 * 1000)


def over_time(function: str, metric: str, scope: TenantScope, window_ms: int) -> str:
    """`function` (avg/max) of the metric over the window ending at the evaluation time, as one
    label-less series: the cluster's when it has the series, else the tenant's own."""
    window = f"{window_ms}ms"
    step = f"{subquery_step_ms(window_ms)}ms"
    own = _unscaled(
        f"{function}({function}_over_time({own_series(metric, scope)}[{window}]))", metric
    )
    cluster = cluster_expr(metric, scope)
    if cluster is None:
        return own
    return f"({function}_over_time(({cluster})[{window}:{step}])) or ({own})"


def latest(metric: str, scope: TenantScope) -> str:
    """The newest value (the WebSocket stream): the cluster's now, else our last sample."""
    own = _unscaled(f"max(last_over_time({own_series(metric, scope)}[5m]))", metric)
    cluster = cluster_expr(metric, scope)
    return own if cluster is None else f"({cluster}) or ({own})"


def labelled(expr: str, metric: str) -> str:
    """The expression with a `metric` label naming the reference metric, so many metrics come
    back from one query."""
    return f'label_replace({expr}, "metric", "{metric}", "", "")'


def combined(exprs: dict[str, str]) -> str:
    return " or ".join(labelled(expr, metric) for metric, expr in exprs.items())
