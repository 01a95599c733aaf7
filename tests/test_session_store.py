"""The tenant's session store (Redis) as a stage in series: its availability, recomputed here from
presets/redis.yaml by a direct sum over the failure states, multiplies into every path that keeps
session state in it (presets/paths.yaml); its pods are counted, placed and protected like the
services'; and our own validator finds nothing to warn about in what we render."""

from __future__ import annotations

import copy
import itertools
import math
import subprocess
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
import yaml

from compiler.catalogue import load_catalogue
from compiler.errors import SlaUnachievable
from compiler.pipeline import Workspace
from compiler.settings import Settings
from compiler.sizing import calculate
from compiler.spec.loader import load_spec_file, spec_from_mapping
from compiler.spec.models import CalculateRequest

ROOT = Path(__file__).resolve().parents[1]
PRESETS = ROOT / "presets"
SHIPPED = sorted(p.stem for p in (ROOT / "tenants").glob("*.yaml"))


def _shipped(tenant: str) -> Any:
    return Workspace(Settings.load(ROOT)).build(load_spec_file(ROOT / "tenants" / f"{tenant}.yaml"))


def _raw(name: str) -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load((PRESETS / name).read_text(encoding="utf-8"))
    return loaded


def _p_all_down(n: int, a: float) -> float:
    """P(every one of n pods down), by enumerating the 2^n up/down states."""
    return sum(
        math.prod((a if up else 1 - a) for up in state)
        for state in itertools.product((True, False), repeat=n)
        if not any(state)
    )


def _p_fewer_up(k: int, n: int, a: float) -> float:
    return sum(
        math.prod((a if up else 1 - a) for up in state)
        for state in itertools.product((True, False), repeat=n)
        if sum(state) < k
    )


def expected_store(replicas: int) -> float:
    """The store's availability from the preset's raw numbers (presets/redis.yaml comments)."""
    redis = _raw("redis.yaml")["redis"]
    hours = _raw("prices.yaml")["prices"]["hours_per_month"]
    a = redis["availability"]
    if replicas == 1:
        return float(a)
    sentinels = redis["sentinel"]["replicas"]
    failover = redis["failovers_per_month"] * redis["failover_seconds"] / (hours * 3600)
    return float(
        1
        - _p_all_down(replicas, a)
        - failover
        - (1 - a) * _p_fewer_up(sentinels // 2 + 1, sentinels, a)
    )


def _session_paths() -> set[str]:
    return {n for n, p in _raw("paths.yaml")["paths"].items() if p.get("session_state")}


def _spec(requirements: dict[str, int], availability: str, **extra: Any) -> Any:
    return spec_from_mapping(
        {
            "tenant_id": "store-test",
            "name": "store",
            "service_requirements": requirements,
            "sla_target": {"availability": availability, "response_time": "500ms"},
            **extra,
        }
    )


def _kind(objects: list[dict[str, Any]], kind: str) -> dict[str, dict[str, Any]]:
    return {o["metadata"]["name"]: o for o in objects if o["kind"] == kind}


def test_the_preset_marks_the_bots_paths_as_keeping_session_state() -> None:
    assert _session_paths() == {"callbot-turn", "chat-message", "advisor-suggestion"}


@pytest.mark.parametrize("tenant", SHIPPED)
def test_every_shipped_path_multiplies_the_stores_availability_and_meets_the_target(
    tenant: str,
) -> None:
    build = _shipped(tenant)
    plan = build.plan
    redis = _kind(build.objects, "StatefulSet")["redis"]
    store = expected_store(redis["spec"]["replicas"])
    session = _session_paths()
    for path in plan.paths:
        services = math.prod(plan.service(s).achieved_availability for s in path.stages)
        expected = services * (store if path.name in session else 1.0)
        assert path.availability == pytest.approx(expected, rel=0, abs=1e-12), path.name
        assert path.availability + 1e-12 >= plan.availability_target, path.name


def test_a_session_path_that_the_store_would_pull_below_target_gets_a_spare_replica(
    bare_workspace: Path,
) -> None:
    """One chatbot pod alone gives exactly 99.5 %: with the store in series it falls short, so
    the planner adds a chatbot replica (and the store is replicated)."""
    build = Workspace(Settings.load(bare_workspace)).build(_spec({"chatbot": 5}, "99.5%"))
    chatbot = build.plan.service("chatbot")
    assert (chatbot.replicas_for_capacity, chatbot.replicas) == (1, 2)
    assert build.plan.path("chat-message").availability >= 0.995
    external = Workspace(Settings.load(bare_workspace)).build(
        _spec({"chatbot": 5}, "99.5%", redis_url="redis://cache.example:6379")
    )
    assert external.plan.service("chatbot").replicas == 1


@pytest.mark.parametrize(
    ("requirements", "availability", "data_pods"),
    [
        ({"stt": 10}, "99.89%", 1),  # no session path, below the HA threshold: one pod
        ({"stt": 10}, "99.9%", 2),  # the HA threshold, as for services (and the validator)
        ({"ta": 10}, "99.5%", 1),
        ({"chatbot": 5}, "99%", 1),  # one pod (99.5 %) meets the share sqrt(0.99) = 99.499 %
        ({"chatbot": 5}, "99.5%", 2),  # the share sqrt(0.995) = 99.75 % needs replication
    ],
    ids=["stateless-below-ha", "stateless-at-ha", "ta-99.5", "chat-99", "chat-99.5"],
)
def test_the_data_pods_follow_the_sla_and_the_session_paths(
    bare_workspace: Path, requirements: dict[str, int], availability: str, data_pods: int
) -> None:
    build = Workspace(Settings.load(bare_workspace)).build(_spec(requirements, availability))
    sets = _kind(build.objects, "StatefulSet")
    assert sets["redis"]["spec"]["replicas"] == data_pods
    assert ("redis-sentinel" in sets) == (data_pods > 1)
    if data_pods > 1:
        assert sets["redis-sentinel"]["spec"]["replicas"] == 3
    pods = sum(
        o["spec"]["replicas"] for o in build.objects if o["kind"] in ("Deployment", "StatefulSet")
    )
    assert build.index_entry["pods"] == pods


def test_a_target_the_store_cannot_carry_is_refused_on_the_availability_field(
    bare_workspace: Path,
) -> None:
    assert expected_store(5) < 0.99999
    with pytest.raises(SlaUnachievable) as caught:
        Workspace(Settings.load(bare_workspace)).build(_spec({"chatbot": 5}, "99.999%"))
    assert caught.value.details["field"] == "sla_target.availability"
    # the same target without a session path is the services' business alone
    Workspace(Settings.load(bare_workspace)).build(_spec({"stt": 10}, "99.999%"))


def _replicated(bare_workspace: Path) -> list[dict[str, Any]]:
    objects: list[dict[str, Any]] = (
        Workspace(Settings.load(bare_workspace))
        .build(_spec({"callbot": 10, "chatbot": 20}, "99.9%"))
        .objects
    )
    return objects


def test_every_store_pod_gets_its_own_node_and_drains_keep_a_sentinel_majority(
    bare_workspace: Path,
) -> None:
    objects = _replicated(bare_workspace)
    sets = _kind(objects, "StatefulSet")
    for name in ("redis", "redis-sentinel"):
        pod = sets[name]["spec"]["template"]
        (term,) = pod["spec"]["affinity"]["podAntiAffinity"][
            "requiredDuringSchedulingIgnoredDuringExecution"
        ]
        assert term["topologyKey"] == "kubernetes.io/hostname"
        labels = pod["metadata"]["labels"]
        assert term["labelSelector"]["matchLabels"].items() <= labels.items(), name
        assert sets[name]["spec"]["selector"]["matchLabels"].items() <= labels.items()
    pdbs = _kind(objects, "PodDisruptionBudget")
    assert pdbs["redis-sentinel-pdb"]["spec"]["minAvailable"] == 2
    assert pdbs["redis-pdb"]["spec"]["maxUnavailable"] == 1
    services = _kind(objects, "Service")
    for name in ("redis", "redis-sentinel"):  # pod DNS names need a headless governing Service
        governing = services[sets[name]["spec"]["serviceName"]]
        assert governing["spec"]["clusterIP"] == "None"
    assert "redis-service" not in services  # no address that would send writes to a replica


def test_the_sentinels_monitor_the_primary_with_a_majority_quorum(bare_workspace: Path) -> None:
    sentinel = _kind(_replicated(bare_workspace), "StatefulSet")["redis-sentinel"]
    (container,) = sentinel["spec"]["template"]["spec"]["containers"]
    script = container["command"][2]
    assert "sentinel monitor mymaster $primary 6379 2\n" in script
    assert "sentinel down-after-milliseconds mymaster 5000\n" in script
    assert "sentinel resolve-hostnames yes\n" in script
    assert container["volumeMounts"] == [{"name": "config", "mountPath": "/data"}]


def test_only_the_tenants_pods_reach_the_sentinels_and_redis_url_names_them(
    bare_workspace: Path,
) -> None:
    build = Workspace(Settings.load(bare_workspace)).build(
        _spec({"callbot": 10, "chatbot": 20}, "99.9%")
    )
    policies = _kind(build.objects, "NetworkPolicy")
    sentinel = policies["redis-sentinel-clients"]["spec"]
    assert sentinel["podSelector"]["matchLabels"]["app"] == "redis-sentinel"
    assert sentinel["ingress"] == [
        {"from": [{"podSelector": {"matchLabels": {"ecp.ai/tenant": "store-test"}}}],
         "ports": [{"protocol": "TCP", "port": 26379}]}
    ]  # fmt: skip
    isolation = policies["ecp-tenant-isolation"]["spec"]["podSelector"]["matchExpressions"]
    assert isolation == [{"key": "app", "operator": "NotIn", "values": ["redis", "redis-sentinel"]}]
    urls = {
        v["value"]
        for d in _kind(build.objects, "Deployment").values()
        for c in d["spec"]["template"]["spec"]["containers"]
        for v in c["env"]
        if v["name"] == "REDIS_URL"
    }
    assert urls == {"redis+sentinel://redis-sentinel:26379/mymaster"}
    assert [str(f) for f in build.findings] == []  # dangling-reference resolves it; no warning


def test_the_replicated_store_is_valid_for_kubernetes(bare_workspace: Path) -> None:
    for obj in _replicated(bare_workspace):
        if obj["metadata"]["name"].startswith("redis"):
            kubernetes_validate.validate(copy.deepcopy(obj), "1.33", strict=True)


@pytest.mark.parametrize("tenant", SHIPPED)
def test_compiling_a_shipped_tenant_warns_about_nothing(tenant: str) -> None:
    """`ecp compile --all` prints these findings: before, doc StatefulSet/redis warned that one
    replica cannot meet a 99.9 % SLA."""
    assert [str(f) for f in _shipped(tenant).findings] == []


@pytest.mark.parametrize(
    ("requirements", "availability"),
    [({"callbot": 10, "chatbot": 20}, "99.9%"), ({"chatbot": 5}, "99%"), ({"tts": 10}, "99%")],
    ids=["replicated", "one-pod-session", "stateless"],
)
def test_the_calculation_answer_counts_the_store_in_its_paths(
    requirements: dict[str, int], availability: str
) -> None:
    request = CalculateRequest.model_validate(
        {"service_requirements": requirements, "sla_target": {"availability": availability}}
    )
    answer = calculate(request, load_catalogue(PRESETS)).to_response()
    store = answer["session_store"]
    assert store["availability"] == pytest.approx(expected_store(store["data_pods"]), abs=1e-6)
    assert store["sentinels"] == (3 if store["data_pods"] > 1 else 0)
    by_name = {s["service_name"]: s["availability"] for s in answer["services"]}
    for path in answer["paths"]:
        expected = math.prod(by_name[s] for s in path["stages"])
        if path["name"] in _session_paths():
            expected *= expected_store(store["data_pods"])
        assert path["availability"] == pytest.approx(expected, abs=2e-6), path["name"]


def _run_start_script(
    command: list[str], tmp_path: Path, hostname: str, sentinel_answer: str
) -> list[str]:
    """Run a rendered start script with stand-ins for hostname, redis-cli and redis-server on
    PATH (a real sh, the script exactly as rendered): the redis-server argv it ends in."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir(exist_ok=True)
    stand_ins = {
        "hostname": f"echo {hostname}",
        "redis-cli": f"printf '{sentinel_answer}'",
        "redis-server": 'for a in "$@"; do echo "$a"; done',
    }
    for name, body in stand_ins.items():
        path = bin_dir / name
        path.write_text(f"#!/bin/sh\n{body}\n", encoding="utf-8")
        path.chmod(0o755)
    data = tmp_path / "data"
    data.mkdir(exist_ok=True)
    script = command[2].replace("/data/", f"{data}/")
    ran = subprocess.run(
        ["/bin/sh", "-c", script, *command[3:]],
        capture_output=True,
        text=True,
        check=True,
        timeout=10,
        env={"PATH": f"{bin_dir}:/usr/bin:/bin"},
    )
    return ran.stdout.splitlines()


@pytest.mark.parametrize(
    ("hostname", "answer", "replicaof"),
    [
        ("redis-0", "", None),  # first start, no sentinel answers: pod 0 is the primary
        ("redis-1", "", "redis-0.redis-headless"),
        ("redis-0", "redis-1.redis-headless\\n6379\\n", "redis-1.redis-headless"),  # after failover
        ("redis-1", "redis-1.redis-headless\\n6379\\n", None),
    ],
    ids=["pod0-first", "pod1-first", "pod0-after-failover", "pod1-is-primary"],
)
def test_a_data_pod_starts_as_a_replica_of_the_primary_the_sentinels_name(
    bare_workspace: Path, tmp_path: Path, hostname: str, answer: str, replicaof: str | None
) -> None:
    redis = _kind(_replicated(bare_workspace), "StatefulSet")["redis"]
    (container,) = redis["spec"]["template"]["spec"]["containers"]
    argv = _run_start_script(container["command"] + container["args"], tmp_path, hostname, answer)
    assert argv[: len(container["args"])] == container["args"]
    rest = argv[len(container["args"]) :]
    expected = ["--replica-announce-ip", f"{hostname}.redis-headless"]
    if replicaof:
        expected += ["--replicaof", replicaof, "6379"]
    assert rest == expected


def test_a_sentinel_writes_its_config_for_the_named_primary_and_runs_in_sentinel_mode(
    bare_workspace: Path, tmp_path: Path
) -> None:
    sentinel = _kind(_replicated(bare_workspace), "StatefulSet")["redis-sentinel"]
    (container,) = sentinel["spec"]["template"]["spec"]["containers"]
    argv = _run_start_script(container["command"], tmp_path, "redis-sentinel-2", "")
    assert argv == [f"{tmp_path}/data/sentinel.conf", "--sentinel"]
    conf = (tmp_path / "data" / "sentinel.conf").read_text(encoding="utf-8").splitlines()
    assert "sentinel monitor mymaster redis-0.redis-headless 6379 2" in conf
    assert "sentinel announce-ip redis-sentinel-2.redis-sentinel-headless" in conf
    assert conf.index("sentinel resolve-hostnames yes") < conf.index(
        "sentinel monitor mymaster redis-0.redis-headless 6379 2"
    )
