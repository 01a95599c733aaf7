"""The template context for a tenant's own session store (Redis). One data pod: a StatefulSet with
a volume behind `redis-service`. Replicated (sizing/redis.py): a primary and replicas on distinct
nodes plus a Sentinel StatefulSet (3 pods, quorum 2) behind `redis-sentinel`, which REDIS_URL then
names. PDBs and NetworkPolicies admit only the tenant's own pods. Input: the preset and the
planned SessionStore. Output: plain data. No I/O; nothing from the spec reaches the scripts.
"""

from __future__ import annotations

from typing import Any

from compiler.catalogue import RedisPreset
from compiler.sizing.redis import SessionStore

SERVICE_NAME = "redis-service"  # one data pod: the bots' redis:// address
HEADLESS_NAME = "redis-headless"  # replicated: stable pod names redis-N.redis-headless
SENTINEL_NAME = "redis-sentinel"  # replicated: the clients' address (Sentinel's own protocol)
SENTINEL_HEADLESS = "redis-sentinel-headless"
REDIS_UID = 999  # the official image's redis user

# A data pod starts as a replica of the primary the sentinels name; with no sentinel answering
# (first start), pod 0 is the primary. Pods announce their stable DNS names, not pod IPs.
_DATA_START = """\
self="$(hostname).{headless}"
primary="$(redis-cli -h {sentinel} -p {sentinel_port} --raw sentinel get-master-addr-by-name \
{master} 2>/dev/null | head -n 1)"
[ -n "$primary" ] || primary="redis-0.{headless}"
if [ "$primary" = "$self" ]; then exec redis-server "$@" --replica-announce-ip "$self"; fi
exec redis-server "$@" --replica-announce-ip "$self" --replicaof "$primary" {port}
"""

# Sentinel rewrites its configuration file, so it is written to the pod's emptyDir at start.
_SENTINEL_START = """\
self="$(hostname).{sentinel_headless}"
primary="$(redis-cli -h {sentinel} -p {sentinel_port} --raw sentinel get-master-addr-by-name \
{master} 2>/dev/null | head -n 1)"
[ -n "$primary" ] || primary="redis-0.{headless}"
cat > /data/sentinel.conf <<EOF
port {sentinel_port}
sentinel resolve-hostnames yes
sentinel announce-hostnames yes
sentinel announce-ip $self
sentinel monitor {master} $primary {port} {quorum}
sentinel down-after-milliseconds {master} {down_after}
sentinel failover-timeout {master} {failover_timeout}
sentinel parallel-syncs {master} 1
EOF
exec redis-server /data/sentinel.conf --sentinel
"""


def redis_url(preset: RedisPreset, store: SessionStore) -> str:
    """What the bots' REDIS_URL names: the one pod, or the sentinels and the monitored group
    (the redis+sentinel:// form of Redis-Sentinel-Url / prefect-redis; README, Sizing)."""
    if store.replicated:
        s = preset.sentinel
        return f"redis+sentinel://{SENTINEL_NAME}:{s.port}/{s.master_name}"
    return f"redis://{SERVICE_NAME}:{preset.port}"


def redis_context(
    preset: RedisPreset,
    store: SessionStore,
    common: dict[str, str],
    tenant_id: str,
    pull_policy: str,
    zones: bool = False,
) -> dict[str, Any]:
    selector = {"app": "redis", "ecp.ai/tenant": tenant_id}
    version = preset.image.partition("@")[0].rpartition(":")[2] or "unversioned"
    labels = {
        **common,
        "app": "redis",
        "app.kubernetes.io/name": "redis",
        "app.kubernetes.io/instance": f"{tenant_id}-redis",
        "app.kubernetes.io/component": "session-store",
        "app.kubernetes.io/version": version[:63],
    }
    size = store.size
    context: dict[str, Any] = {
        "labels": labels,
        "selector": selector,
        "pod_labels": {**selector, "app.kubernetes.io/name": "redis"},
        "image": preset.image,
        "pull_policy": pull_policy,
        "port": preset.port,
        "replicas": store.replicas,
        "replicated": store.replicated,
        "service_name": HEADLESS_NAME if store.replicated else SERVICE_NAME,
        # no eviction: session state dropped silently is worse than a refused write
        "args": [
            "--appendonly",
            "yes",
            "--maxmemory",
            size.maxmemory,
            "--maxmemory-policy",
            "noeviction",
            "--port",
            str(preset.port),
        ],
        "resources": {
            "requests": {"cpu": size.cpu_request, "memory": size.memory},
            "limits": {"cpu": size.cpu_limit, "memory": size.memory},
        },
        "storage": size.storage,
        "uid": REDIS_UID,
        # one pod: a PDB that allows its eviction, so node drains proceed (it restarts from its
        # volume); replicated: one data pod at a time, the other keeps (or takes over) the data
        "disruption": {"maxUnavailable": 1, "selector": {"matchLabels": selector}},
        # the tenant's pods only (tenant pods carry ecp.ai/tenant), on the Redis port
        "clients": {"ecp.ai/tenant": tenant_id},
        "placement": _placement(selector, zones) if store.replicated else {},
    }
    if store.replicated:
        context["command"] = ["sh", "-c", _DATA_START.format(**_names(preset)), "redis"]
        context["sentinel"] = _sentinel(preset, store, common, tenant_id, version, zones)
    return context


def _names(preset: RedisPreset) -> dict[str, Any]:
    s = preset.sentinel
    return {
        "headless": HEADLESS_NAME,
        "sentinel": SENTINEL_NAME,
        "sentinel_headless": SENTINEL_HEADLESS,
        "sentinel_port": s.port,
        "master": s.master_name,
        "port": preset.port,
        "quorum": s.quorum,
        "down_after": s.down_after_ms,
        "failover_timeout": s.failover_timeout_ms,
    }


def _placement(selector: dict[str, str], zones: bool) -> dict[str, Any]:
    """Each pod on its own node, REQUIRED (the availability model counts them as independent;
    the Sentinel documentation asks for independent hosts); across zones when named."""
    placement: dict[str, Any] = {
        "affinity": {
            "podAntiAffinity": {
                "requiredDuringSchedulingIgnoredDuringExecution": [
                    {
                        "labelSelector": {"matchLabels": selector},
                        "topologyKey": "kubernetes.io/hostname",
                    }
                ]
            }
        }
    }
    if zones:
        placement["topologySpreadConstraints"] = [
            {
                "maxSkew": 1,
                "topologyKey": "topology.kubernetes.io/zone",
                "whenUnsatisfiable": "DoNotSchedule",
                "labelSelector": {"matchLabels": selector},
            }
        ]
    return placement


def _sentinel(
    preset: RedisPreset,
    store: SessionStore,
    common: dict[str, str],
    tenant_id: str,
    version: str,
    zones: bool,
) -> dict[str, Any]:
    s = preset.sentinel
    selector = {"app": SENTINEL_NAME, "ecp.ai/tenant": tenant_id}
    return {
        "name": SENTINEL_NAME,
        "headless": SENTINEL_HEADLESS,
        "labels": {
            **common,
            "app": SENTINEL_NAME,
            "app.kubernetes.io/name": SENTINEL_NAME,
            "app.kubernetes.io/instance": f"{tenant_id}-redis",
            "app.kubernetes.io/component": "session-store-sentinel",
            "app.kubernetes.io/version": version[:63],
        },
        "selector": selector,
        "pod_labels": {**selector, "app.kubernetes.io/name": SENTINEL_NAME},
        "replicas": store.sentinels,
        "port": s.port,
        "command": ["sh", "-c", _SENTINEL_START.format(**_names(preset))],
        "resources": {
            "requests": {"cpu": s.cpu_request, "memory": s.memory},
            "limits": {"cpu": s.cpu_limit, "memory": s.memory},
        },
        # a failover needs a majority of the sentinels: a drain never takes that away
        "disruption": {"minAvailable": s.quorum, "selector": {"matchLabels": selector}},
        "placement": _placement(selector, zones),
    }
