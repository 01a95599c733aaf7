"""The tenant's Redis: rendered beside its services by default (REDIS_URL resolves, resources
counted), or an external one from the spec or the settings."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path
from typing import Any

import pytest

from compiler.errors import OrchestratorError
from compiler.pipeline import Workspace
from compiler.quantity import parse_quantity
from compiler.settings import Settings
from compiler.spec.loader import spec_from_mapping


def _spec(**extra: Any) -> Any:
    body = {
        "tenant_id": "redis-test",
        "name": "redis",
        "service_requirements": {"callbot": 10, "chatbot": 20},
        "sla_target": {"availability": "99.5%", "response_time": "500ms"},
        **extra,
    }
    return spec_from_mapping(body)


def _by_kind(objects: list[dict[str, Any]], kind: str) -> dict[str, dict[str, Any]]:
    return {o["metadata"]["name"]: o for o in objects if o["kind"] == kind}


def _env(objects: list[dict[str, Any]], name: str) -> set[str]:
    return {
        var["value"]
        for obj in _by_kind(objects, "Deployment").values()
        for c in obj["spec"]["template"]["spec"]["containers"]
        for var in c["env"]
        if var["name"] == name
    }


def _requested(objects: list[dict[str, Any]], resource: str) -> Fraction:
    """Requests x replicas over every workload: computed from the manifests alone."""
    total = Fraction(0)
    for obj in objects:
        if obj["kind"] not in ("Deployment", "StatefulSet"):
            continue
        for c in obj["spec"]["template"]["spec"]["containers"]:
            total += parse_quantity(c["resources"]["requests"][resource]) * obj["spec"]["replicas"]
    return total


def test_by_default_the_tenant_gets_its_own_redis_that_redis_url_names(
    bare_workspace: Path,
) -> None:
    # stateless paths below 99.9 %: one data pod (tests/test_session_store.py: the replicated one)
    build = Workspace(Settings.load(bare_workspace)).build(_spec(service_requirements={"stt": 10}))
    assert "redis" in _by_kind(build.objects, "StatefulSet")
    service = _by_kind(build.objects, "Service")["redis-service"]
    assert [(p["name"], p["port"]) for p in service["spec"]["ports"]] == [("redis", 6379)]
    assert "redis-pdb" in _by_kind(build.objects, "PodDisruptionBudget")
    assert _env(build.objects, "REDIS_URL") == {"redis://redis-service:6379"}
    assert [f for f in build.findings if f.rule == "dangling-reference"] == []
    assert [str(f) for f in build.findings if f.is_error] == []


def test_the_redis_resources_are_in_the_totals_the_cost_and_the_quota(
    bare_workspace: Path,
) -> None:
    build = Workspace(Settings.load(bare_workspace)).build(_spec())
    totals = build.index_entry["totals"]
    assert Fraction(totals["cpu_millicores"], 1000) == _requested(build.objects, "cpu")
    assert totals["memory_mib"] * 2**20 == _requested(build.objects, "memory")
    pods = sum(
        o["spec"]["replicas"] for o in build.objects if o["kind"] in ("Deployment", "StatefulSet")
    )
    assert build.index_entry["pods"] == pods
    redis = _by_kind(build.objects, "StatefulSet")["redis"]["spec"]
    claim = redis["volumeClaimTemplates"][0]
    # every data pod gets its own volume (the spec is replicated: tests/test_session_store.py)
    assert redis["replicas"] == 2
    volume_gb = (
        parse_quantity(claim["spec"]["resources"]["requests"]["storage"])
        / 10**9
        * redis["replicas"]
    )
    external = Workspace(Settings.load(bare_workspace)).build(
        _spec(redis_url="redis://r.example:6379")
    )
    assert totals["storage_gb"] == pytest.approx(
        external.index_entry["totals"]["storage_gb"] + float(volume_gb), abs=1e-3
    )
    assert build.index_entry["monthly_cost_usd"] > external.index_entry["monthly_cost_usd"]
    quota = _by_kind(build.objects, "ResourceQuota")["ecp-quota"]["spec"]["hard"]
    assert parse_quantity(quota["requests.cpu"]) >= _requested(build.objects, "cpu")
    assert parse_quantity(quota["requests.memory"]) >= _requested(build.objects, "memory")


def test_only_the_tenants_own_pods_reach_redis(bare_workspace: Path) -> None:
    build = Workspace(Settings.load(bare_workspace)).build(_spec())
    policies = _by_kind(build.objects, "NetworkPolicy")
    clients = policies["redis-clients"]["spec"]
    assert clients["podSelector"]["matchLabels"]["app"] == "redis"
    assert clients["ingress"] == [
        {"from": [{"podSelector": {"matchLabels": {"ecp.ai/tenant": "redis-test"}}}],
         "ports": [{"protocol": "TCP", "port": 6379}]}
    ]  # fmt: skip
    # the namespace-wide policy (which admits the ingress controller's namespace) leaves Redis out
    isolation = policies["ecp-tenant-isolation"]["spec"]["podSelector"]
    assert isolation == {
        "matchExpressions": [
            {"key": "app", "operator": "NotIn", "values": ["redis", "redis-sentinel"]}
        ]
    }
    redis_pod = _by_kind(build.objects, "StatefulSet")["redis"]["spec"]["template"]
    assert redis_pod["metadata"]["labels"]["app"] == "redis"


def test_an_external_redis_from_the_spec_replaces_the_tenants_own(bare_workspace: Path) -> None:
    build = Workspace(Settings.load(bare_workspace)).build(
        _spec(redis_url="rediss://cache.internal.example:6380/2")
    )
    assert _by_kind(build.objects, "StatefulSet") == {}
    assert "redis-service" not in _by_kind(build.objects, "Service")
    assert _env(build.objects, "REDIS_URL") == {"rediss://cache.internal.example:6380/2"}
    assert Fraction(build.index_entry["totals"]["cpu_millicores"], 1000) == _requested(
        build.objects, "cpu"
    )


def test_the_redis_url_setting_serves_every_tenant_unless_its_spec_names_another(
    bare_workspace: Path,
) -> None:
    settings = Settings.load(bare_workspace, redis_url="redis://shared-redis.platform:6379")
    shared = Workspace(settings).build(_spec())
    assert _env(shared.objects, "REDIS_URL") == {"redis://shared-redis.platform:6379"}
    own = Workspace(settings).build(_spec(redis_url="redis://mine.example:6379"))
    assert _env(own.objects, "REDIS_URL") == {"redis://mine.example:6379"}


@pytest.mark.parametrize(
    ("url", "problem"),
    [
        ("redis://user:s3cret@cache:6379", "password"),
        ("http://cache:6379", "not a redis://"),
    ],
    ids=["password-in-url", "wrong-scheme"],
)
def test_a_redis_url_that_would_leak_a_password_or_is_no_redis_url_is_refused(
    url: str, problem: str
) -> None:
    with pytest.raises(OrchestratorError, match=problem):
        _spec(redis_url=url)


def _big_micro_redis(workspace: Path) -> Settings:
    """A Redis preset whose micro size fills most of the micro tier's CPU."""
    presets = workspace / "presets" / "redis.yaml"
    text = presets.read_text(encoding="utf-8")
    line = next(x for x in text.splitlines() if x.strip().startswith("micro:"))
    presets.write_text(text.replace(line, line.replace("cpu_request: 100m", "cpu_request: 3900m")))
    return Settings.load(workspace)


def test_a_recommended_tier_that_cannot_hold_redis_too_moves_one_tier_up(
    bare_workspace: Path,
) -> None:
    small_spec = spec_from_mapping(
        {"tenant_id": "tiny", "name": "tiny", "service_requirements": {"chatbot": 5},
         "sla_target": {"availability": "99.5%", "response_time": "500ms"}}
    )  # fmt: skip
    assert Workspace(Settings.load(bare_workspace)).build(small_spec).plan.tier == "micro"
    build = Workspace(_big_micro_redis(bare_workspace)).build(small_spec)
    assert (build.plan.tier, build.plan.tier_source) == ("small", "recommended")
    assert build.index_entry["preset"] == "small"


def test_an_explicit_preset_that_cannot_hold_redis_too_is_refused(bare_workspace: Path) -> None:
    spec = spec_from_mapping(
        {"tenant_id": "tiny", "name": "tiny", "preset": "micro",
         "service_requirements": {"chatbot": 5},
         "sla_target": {"availability": "99.5%", "response_time": "500ms"}}
    )  # fmt: skip
    with pytest.raises(OrchestratorError, match=r"cannot hold the plan.*Redis"):
        Workspace(_big_micro_redis(bare_workspace)).build(spec)
