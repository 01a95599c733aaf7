"""The template context for a tenant's own Redis: a one-replica StatefulSet with a volume, the
`redis-service` Service the bots' REDIS_URL names, a PDB and a NetworkPolicy that admits only the
tenant's own pods. Input: the tier's RedisSize and the preset. Output: plain data. No I/O.
"""

from __future__ import annotations

from typing import Any

from compiler.catalogue import RedisPreset, RedisSize

SERVICE_NAME = "redis-service"
REDIS_UID = 999  # the official image's redis user


def redis_url(preset: RedisPreset) -> str:
    return f"redis://{SERVICE_NAME}:{preset.port}"


def redis_context(
    preset: RedisPreset, size: RedisSize, common: dict[str, str], tenant_id: str, pull_policy: str
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
    return {
        "labels": labels,
        "selector": selector,
        "pod_labels": {**selector, "app.kubernetes.io/name": "redis"},
        "image": preset.image,
        "pull_policy": pull_policy,
        "port": preset.port,
        "service_name": SERVICE_NAME,
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
        # one replica: a PDB that allows its eviction, so node drains proceed (it restarts from
        # its volume); minAvailable 1 would block every drain
        "disruption": {"maxUnavailable": 1, "selector": {"matchLabels": selector}},
        # the tenant's pods only (tenant pods carry ecp.ai/tenant), on the Redis port
        "clients": {"ecp.ai/tenant": tenant_id},
    }
