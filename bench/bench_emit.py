"""Emit 14,000 realistic Kubernetes objects (1,000 tenants x 14) and report objects/s.

Compares compiler.output.yaml_emit with PyYAML's libyaml CSafeDumper (sort_keys=False) on the
same objects, checks both outputs load back equal, and prints the machine's core count.
Run: .venv/bin/python bench/bench_emit.py [--tenants N] [--repeat N]
"""

from __future__ import annotations

import argparse
import os
import platform
import time
from collections.abc import Callable
from typing import Any

import yaml

from compiler.output.yaml_emit import dump_documents

SERVICES = ("callbot", "chatbot", "advisor", "stt", "tts", "ta", "qa")


def container(service: str, tenant: str, gpu: bool) -> dict[str, Any]:
    limits: dict[str, Any] = {"cpu": "2000m", "memory": "4Gi"}
    requests: dict[str, Any] = {"cpu": "200m", "memory": "512Mi"}
    if gpu:
        limits["nvidia.com/gpu"] = 1
        requests["nvidia.com/gpu"] = 1
    return {
        "name": service,
        "image": f"registry.example.com/ecp-ai/{service}:1.4.2",
        "imagePullPolicy": "IfNotPresent",
        "args": ["--port=8080", "--log-level=info", f"--tenant={tenant}"],
        "ports": [{"name": "http", "containerPort": 8080, "protocol": "TCP"}],
        "env": [
            {"name": "TENANT_ID", "value": tenant},
            {"name": "SERVICE_TYPE", "value": service},
            {"name": "REDIS_URL", "value": "redis://redis-service:6379"},
            {"name": "WORKERS", "value": "4"},
            {"name": "DEBUG", "value": "false"},
        ],
        "resources": {"requests": requests, "limits": limits},
        "livenessProbe": {
            "httpGet": {"path": "/health", "port": 8080},
            "initialDelaySeconds": 30,
            "periodSeconds": 10,
        },
        "readinessProbe": {
            "httpGet": {"path": "/ready", "port": 8080},
            "initialDelaySeconds": 5,
            "periodSeconds": 5,
        },
        "securityContext": {"runAsNonRoot": True, "allowPrivilegeEscalation": False},
    }


def deployment(service: str, tenant: str, ns: str, replicas: int) -> dict[str, Any]:
    labels = {"app": service, "ecp.ai/service": service, "ecp.ai/tenant": tenant}
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": service, "namespace": ns, "labels": labels},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": {"app": service}},
            "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": "25%"}},
            "template": {
                "metadata": {"labels": labels, "annotations": {"prometheus.io/scrape": "true"}},
                "spec": {
                    "containers": [container(service, tenant, service in ("stt", "tts"))],
                    "nodeSelector": {"kubernetes.io/os": "linux"},
                    "tolerations": [],
                },
            },
        },
    }


def service_object(service: str, ns: str) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": f"{service}-service", "namespace": ns},
        "spec": {
            "selector": {"app": service},
            "ports": [{"port": 80, "targetPort": 8080, "protocol": "TCP"}],
            "type": "ClusterIP",
        },
    }


def tenant_objects(index: int) -> list[dict[str, Any]]:
    tenant = f"tenant-{index:04d}"
    ns = f"ecp-ai-{tenant}"
    labels = {"ecp.ai/tenant": tenant, "ecp.ai/preset": "medium", "ecp.ai/managed-by": "ecp"}
    objects: list[dict[str, Any]] = [
        {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns, "labels": labels}},
        {
            "apiVersion": "v1",
            "kind": "ResourceQuota",
            "metadata": {"name": "quota", "namespace": ns},
            "spec": {"hard": {"requests.cpu": "24", "requests.memory": "32Gi", "pods": "40"}},
        },
        {
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": {"name": "ecp-config", "namespace": ns},
            "data": {
                "app.properties": f"tenant={tenant}\nregion=kr-central\nlocale=ko-KR\n",
                "greeting": "안녕하세요, 무엇을 도와드릴까요?",
                "max_sessions": "100",
            },
        },
    ]
    for service in SERVICES[:4]:
        objects.append(deployment(service, tenant, ns, 2 + index % 3))
        objects.append(service_object(service, ns))
    objects.append(
        {
            "apiVersion": "monitoring.coreos.com/v1",
            "kind": "PrometheusRule",
            "metadata": {"name": "ecp-alerts", "namespace": ns},
            "spec": {
                "groups": [
                    {
                        "name": tenant,
                        "rules": [
                            {
                                "alert": "HighLatency",
                                "expr": "histogram_quantile(0.95,\n  sum(rate("
                                f'http_request_duration_seconds_bucket{{namespace="{ns}"}}[5m]))'
                                " by (le)) > 0.5\n",
                                "for": "5m",
                                "labels": {"severity": "warning"},
                            }
                        ],
                    }
                ]
            },
        }
    )
    while len(objects) < 14:
        objects.append(service_object(f"extra{len(objects)}", ns))
    return objects


def best_seconds(run: Callable[[], str], repeat: int) -> tuple[float, str]:
    best, text = float("inf"), ""
    for _ in range(repeat):
        start = time.perf_counter()
        text = run()
        best = min(best, time.perf_counter() - start)
    return best, text


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--tenants", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    objects = [obj for i in range(args.tenants) for obj in tenant_objects(i)]
    count = len(objects)

    ours, our_text = best_seconds(lambda: dump_documents(objects), args.repeat)
    theirs, their_text = best_seconds(
        lambda: yaml.dump_all(
            objects, Dumper=yaml.CSafeDumper, sort_keys=False, allow_unicode=True, width=10**9
        ),
        args.repeat,
    )
    # Correctness, outside the timings: both streams must read back as the objects.
    assert list(yaml.load_all(our_text, Loader=yaml.CSafeLoader)) == objects
    assert list(yaml.load_all(their_text, Loader=yaml.CSafeLoader)) == objects

    print(f"machine: {platform.machine()} {platform.python_implementation()} "
          f"{platform.python_version()}, nproc={os.cpu_count()}")  # fmt: skip
    print(f"objects: {count} ({args.tenants} tenants), best of {args.repeat}")
    print(f"yaml_emit.dump_documents: {ours:.3f} s  {count / ours:,.0f} objects/s  "
          f"{len(our_text.encode()) / 1e6:.1f} MB")  # fmt: skip
    print(f"PyYAML CSafeDumper:       {theirs:.3f} s  {count / theirs:,.0f} objects/s  "
          f"{len(their_text.encode()) / 1e6:.1f} MB")  # fmt: skip
    print(f"speed-up: {theirs / ours:.1f}x; target >= 40,000 objects/s: "
          f"{'met' if count / ours >= 40_000 else 'NOT met'}")  # fmt: skip


if __name__ == "__main__":
    main()
