"""Benchmark: `ecp validate` on 20,000 foreign documents, end to end, and its parts.

First the real command (a subprocess: start-up, reading 1,800 multi-document files written as
people write them (bench/foreign_manifests.py), YAML, schemas, the API server's rules, policy,
file:line of every finding, the printed report), a warm-up run then --runs timed runs with
--jobs 1 and with every usable core: the median objects/s by the wall clock, the objects per
CPU-second the command used (children's user + sys), and the load average around the runs (the
machine is shared: read the CPU figure when the load is high). Then, in process, on ~20,000 of
our own objects: ManifestValidator.validate (schema only, + API server rules, + policy, cold and
warm) and the YAML loader. Run:
    .venv/bin/python bench/bench_validate.py [--documents N] [--runs N] [--tenants N]
"""

from __future__ import annotations

import argparse
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import yaml
from foreign_manifests import write_tree  # beside this script: python puts bench/ on the path

from compiler.validating import ManifestValidator, load_documents, resource_summary
from compiler.validating.validate import apiserver_findings

SERVICES = ("callbot", "chatbot", "advisor", "stt", "tts")


def tenant_objects(index: int) -> list[dict[str, Any]]:
    tenant = f"tenant-{index:04d}"
    ns = f"ecp-ai-{tenant}"
    meta = {"namespace": ns, "labels": {"ecp.ai/tenant": tenant}}
    sla = {"ecp.ai/sla-availability": "99.9%"}
    objects: list[dict[str, Any]] = [
        {
            "apiVersion": "v1",
            "kind": "Namespace",
            "metadata": {"name": ns, "labels": {"ecp.ai/tenant": tenant}, "annotations": sla},
        },
        {
            "apiVersion": "v1",
            "kind": "ResourceQuota",
            "metadata": {"name": "quota", **meta},
            "spec": {"hard": {"requests.cpu": "24", "requests.memory": "32Gi", "pods": "40"}},
        },
        {
            "apiVersion": "v1",
            "kind": "LimitRange",
            "metadata": {"name": "limits", **meta},
            "spec": {
                "limits": [
                    {
                        "type": "Container",
                        "default": {"cpu": "500m", "memory": "512Mi"},
                        "defaultRequest": {"cpu": "100m", "memory": "128Mi"},
                    }
                ]
            },
        },
        {
            "apiVersion": "networking.k8s.io/v1",
            "kind": "NetworkPolicy",
            "metadata": {"name": "default-deny", **meta},
            "spec": {
                "podSelector": {},
                "policyTypes": ["Ingress"],
                "ingress": [{"from": [{"podSelector": {}}]}],
            },
        },
        {
            "apiVersion": "v1",
            "kind": "ServiceAccount",
            "metadata": {"name": "ecp", **meta},
            "automountServiceAccountToken": False,
        },
        {
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": {"name": "ecp-config", **meta},
            "data": {"TENANT_ID": tenant, "LOG_LEVEL": "info"},
        },
    ]
    count = 3 if index % 4 == 0 else 2
    for service in SERVICES[:count]:
        objects += service_objects(service, tenant, meta, sla)
    return objects


def service_objects(
    service: str, tenant: str, meta: dict[str, Any], sla: dict[str, str]
) -> list[dict[str, Any]]:
    labels = {"app": service, "ecp.ai/service": service, "ecp.ai/tenant": tenant}
    probe = {
        "httpGet": {"path": "/health", "port": 8080},
        "initialDelaySeconds": 30,
        "periodSeconds": 10,
    }
    container = {
        "name": service,
        "image": f"ecp-ai/{service}:1.4.2",
        "ports": [{"containerPort": 8080, "name": "http"}],
        "resources": {
            "requests": {"cpu": "200m", "memory": "512Mi"},
            "limits": {"cpu": "2", "memory": "4Gi"},
        },
        "env": [
            {"name": "TENANT_ID", "value": tenant},
            {"name": "REDIS_URL", "value": "redis://redis:6379"},
        ],
        "livenessProbe": probe,
        "readinessProbe": {"httpGet": {"path": "/ready", "port": "http"}, "periodSeconds": 5},
        "securityContext": {"runAsNonRoot": True, "allowPrivilegeEscalation": False},
    }
    spread = {
        "maxSkew": 1,
        "topologyKey": "kubernetes.io/hostname",
        "whenUnsatisfiable": "ScheduleAnyway",
        "labelSelector": {"matchLabels": {"app": service}},
    }
    return [
        {"apiVersion": "apps/v1", "kind": "Deployment",
         "metadata": {"name": service, **meta, "annotations": sla},
         "spec": {"replicas": 3, "selector": {"matchLabels": {"app": service}},
                  "template": {"metadata": {"labels": labels},
                               "spec": {"serviceAccountName": "ecp", "containers": [container],
                                        "topologySpreadConstraints": [spread]}}}},
        {"apiVersion": "v1", "kind": "Service", "metadata": {"name": f"{service}-service", **meta},
         "spec": {"selector": {"app": service}, "type": "ClusterIP",
                  "ports": [{"port": 80, "targetPort": 8080, "name": "http"}]}},
        {"apiVersion": "policy/v1", "kind": "PodDisruptionBudget",
         "metadata": {"name": service, **meta},
         "spec": {"maxUnavailable": 1, "selector": {"matchLabels": {"app": service}}}},
        {"apiVersion": "autoscaling/v2", "kind": "HorizontalPodAutoscaler",
         "metadata": {"name": service, **meta},
         "spec": {"scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment",
                                     "name": service},
                  "minReplicas": 3, "maxReplicas": 10,
                  "metrics": [{"type": "Resource", "resource": {
                      "name": "cpu", "target": {"type": "Utilization",
                                                "averageUtilization": 70}}}]}},
    ]  # fmt: skip


def timed(label: str, count: int, action: Any) -> Any:
    started = time.perf_counter()
    result = action()
    elapsed = time.perf_counter() - started
    print(f"{label:<44} {elapsed * 1000:8.1f} ms  {count / elapsed:10,.0f} objects/s")
    return result


def cli_runs(documents: int, runs: int) -> None:
    """The real `ecp validate` on a tree of foreign files: median objects/s, wall and CPU."""
    ecp = str(Path(sys.executable).parent / "ecp")
    with tempfile.TemporaryDirectory() as scratch:
        tree = Path(scratch) / "manifests"
        files, total = write_tree(tree, documents)
        size = sum(p.stat().st_size for p in tree.rglob("*.yaml"))
        print(f"foreign tree: {total:,} documents in {files:,} files ({size / 1e6:.1f} MB)")
        command = [ecp, "--root", scratch, "validate", str(tree)]
        warm = subprocess.run(command, capture_output=True, text=True, check=False)
        print(f"  warm-up: {warm.stdout.splitlines()[-1]}")
        usable = len(os.sched_getaffinity(0))
        for jobs in sorted({1, usable}):
            walls, cpus = [], []
            load_before = os.getloadavg()[0]
            for _ in range(runs):
                before = resource.getrusage(resource.RUSAGE_CHILDREN)
                started = time.perf_counter()
                done = subprocess.run([*command, "--jobs", str(jobs)], capture_output=True,
                                      text=True, check=False)  # fmt: skip
                walls.append(time.perf_counter() - started)
                after = resource.getrusage(resource.RUSAGE_CHILDREN)
                cpus.append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
                assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
            wall, cpu = statistics.median(walls), statistics.median(cpus)
            print(
                f"  `ecp validate --jobs {jobs}` end to end: median of {runs}: {wall:.2f} s wall"
                f" = {total / wall:,.0f} objects/s; {cpu:.2f} CPU-s = {total / cpu:,.0f} objects"
                f" per CPU-second (runs: {', '.join(f'{w:.2f}' for w in walls)} s; load average"
                f" {load_before:.1f} before, {os.getloadavg()[0]:.1f} after, {usable} cores)"
            )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--documents", type=int, default=20_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--tenants", type=int, default=1334)
    parser.add_argument("--cli-only", action="store_true", help="skip the in-process figures")
    args = parser.parse_args()
    print(
        f"machine: nproc={os.cpu_count()} usable={len(os.sched_getaffinity(0))} "
        f"python={platform.python_version()} ({platform.machine()}, {sys.platform}); "
        f"load average {os.getloadavg()[0]:.1f}"
    )
    cli_runs(args.documents, args.runs)
    if args.cli_only:
        return
    objects = [obj for i in range(args.tenants) for obj in tenant_objects(i)]
    n = len(objects)
    print(f"in process: {n:,} objects from {args.tenants:,} tenants")

    cold = ManifestValidator("1.33")
    found = timed(
        "cold: schema only (incl. schema compile)",
        n,
        lambda: cold.validate(objects, policy=None, apiserver=False),
    )
    assert found == [], found[:5]
    timed("warm: schema only", n, lambda: cold.validate(objects, policy=None, apiserver=False))
    found = timed("warm: schema + API server rules", n, lambda: cold.validate(objects, policy=None))
    assert found == [], found[:5]
    timed("warm: API server rules alone", n, lambda: apiserver_findings(objects))
    fresh = ManifestValidator("1.33")
    timed("cold: schema + API server + policy (incl. compile)", n, lambda: fresh.validate(objects))
    warnings = timed("warm: schema + API server + policy", n, lambda: fresh.validate(objects))
    print(f"  findings: {len(warnings)} (rules: {sorted({f.rule for f in warnings})})")

    broken = [dict(obj) for obj in objects]
    for obj in broken[::10]:
        obj["unexpected"] = True
    errors = timed(
        "warm: schema only, every 10th object broken",
        n,
        lambda: fresh.validate(broken, policy=None),
    )
    print(f"  errors: {len(errors)}")

    text = yaml.dump_all(objects, Dumper=yaml.CSafeDumper, sort_keys=False)
    docs, _ = timed("load_documents (foreign YAML stream)", n, lambda: load_documents(text, "b"))
    summary = timed("resource_summary", n, lambda: resource_summary(docs))
    print(f"  summary: {summary}")


if __name__ == "__main__":
    main()
