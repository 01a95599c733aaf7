"""The policy rules at their edges: each boundary a reviewer could move by one is pinned here.

Starts from the clean reference set (tests/fixtures/validating/differential_valid.yaml: a
3-replica callbot Deployment with topology spread, a PDB of minAvailable 1, an HPA of minimum 3)
and changes one thing. The expectations are worked out by hand from the rule's definition in
docs/reference (kube-linter's ids), not from the rule's own code.
"""

from __future__ import annotations

import copy
from typing import Any

import pytest
from validating_support import C0, DEPLOYMENT, HPA, NAMESPACE, PDB, VALIDATOR, Docs, clean

from compiler.validating import ManifestValidator, PolicyContext


@pytest.fixture(scope="module")
def validator() -> ManifestValidator:
    return VALIDATOR


def pod(docs: Docs) -> dict[str, Any]:
    spec: dict[str, Any] = docs[DEPLOYMENT]["spec"]["template"]["spec"]
    return spec


def container(docs: Docs) -> dict[str, Any]:
    first: dict[str, Any] = pod(docs)["containers"][0]
    return first


def replicas(docs: Docs, count: int) -> None:
    """The Deployment and its HPA at `count`; the PDB lets one pod go (maxUnavailable 1)."""
    docs[DEPLOYMENT]["spec"]["replicas"] = count
    docs[HPA]["spec"]["minReplicas"] = count
    docs[HPA]["spec"]["maxReplicas"] = max(count, 2)
    docs[PDB]["spec"].pop("minAvailable", None)
    docs[PDB]["spec"]["maxUnavailable"] = 1


def hits(validator: ManifestValidator, docs: Docs, **kwargs: Any) -> list[tuple[str, int, str]]:
    found = validator.validate(docs, **kwargs)
    assert [f for f in found if f.is_error] == []  # every case stays schema-valid
    return [(f.rule, f.doc_index, f.path) for f in found]


def messages(validator: ManifestValidator, docs: Docs, rule: str) -> list[str]:
    return [f.message for f in validator.validate(docs) if f.rule == rule]


# --- privilege escalation: allowPrivilegeEscalation, privileged, SYS_ADMIN -----------------------

ESCALATION = "privilege-escalation-container"


@pytest.mark.parametrize(
    ("context", "path", "message"),
    [
        (
            {"allowPrivilegeEscalation": True},
            "securityContext.allowPrivilegeEscalation",
            "container allows privilege escalation",
        ),
        (
            {"privileged": True},
            "securityContext.privileged",
            "privileged container can escalate privileges",
        ),
        (
            {"capabilities": {"add": ["NET_BIND_SERVICE", "SYS_ADMIN"]}},
            "securityContext.capabilities.add",
            "SYS_ADMIN capability allows privilege escalation",
        ),
    ],
    ids=["allow-privilege-escalation", "privileged", "sys-admin"],
)
def test_each_way_to_escalate_privileges_is_flagged_at_its_field(
    validator: ManifestValidator, context: dict[str, Any], path: str, message: str
) -> None:
    docs = clean()
    container(docs)["securityContext"] = context
    assert hits(validator, docs) == [(ESCALATION, 0, f"{C0}.{path}")]
    assert messages(validator, docs, ESCALATION) == [message]


@pytest.mark.parametrize(
    "context",
    [
        {"allowPrivilegeEscalation": False},
        {"privileged": False},
        {"capabilities": {"add": ["NET_BIND_SERVICE"]}},
        {"capabilities": {"drop": ["SYS_ADMIN"]}},
        {"runAsNonRoot": True},
    ],
    ids=["escalation-false", "privileged-false", "other-capability", "sys-admin-dropped", "none"],
)
def test_a_container_that_cannot_escalate_is_not_flagged(
    validator: ManifestValidator, context: dict[str, Any]
) -> None:
    docs = clean()
    container(docs)["securityContext"] = context
    assert hits(validator, docs) == []


def test_privileged_is_flagged_even_with_a_harmless_capability_list(
    validator: ManifestValidator,
) -> None:
    docs = clean()
    container(docs)["securityContext"] = {
        "privileged": True,
        "capabilities": {"add": ["NET_BIND_SERVICE"]},
    }
    assert hits(validator, docs) == [(ESCALATION, 0, f"{C0}.securityContext.privileged")]


# --- anti-affinity: from 2 replicas, podAntiAffinity or a topology spread ---------------------

ANTI = "no-anti-affinity"


def test_two_replicas_without_anti_affinity_are_flagged_and_one_is_not(
    validator: ManifestValidator,
) -> None:
    docs = clean()
    replicas(docs, 2)
    del pod(docs)["topologySpreadConstraints"]
    assert hits(validator, docs) == [(ANTI, 0, "spec.template.spec")]
    assert messages(validator, docs, ANTI) == [
        "2 replicas without podAntiAffinity or topologySpreadConstraints may all land on one node"
    ]
    replicas(docs, 1)
    assert ANTI not in [rule for rule, _, _ in hits(validator, docs)]


def test_an_hpa_minimum_of_two_makes_a_one_replica_deployment_need_anti_affinity(
    validator: ManifestValidator,
) -> None:
    docs = clean()
    replicas(docs, 2)
    docs[DEPLOYMENT]["spec"]["replicas"] = 1
    del pod(docs)["topologySpreadConstraints"]
    assert hits(validator, docs) == [(ANTI, 0, "spec.template.spec")]
    assert messages(validator, docs, ANTI)[0].startswith("2 replicas ")


def test_pod_anti_affinity_satisfies_the_rule_without_a_topology_spread(
    validator: ManifestValidator,
) -> None:
    docs = clean()
    del pod(docs)["topologySpreadConstraints"]
    pod(docs)["affinity"] = {
        "podAntiAffinity": {
            "preferredDuringSchedulingIgnoredDuringExecution": [
                {
                    "weight": 100,
                    "podAffinityTerm": {
                        "topologyKey": "kubernetes.io/hostname",
                        "labelSelector": {"matchLabels": {"app": "callbot"}},
                    },
                }
            ]
        }
    }
    assert hits(validator, docs) == []
    pod(docs)["affinity"] = {"podAffinity": pod(docs)["affinity"]["podAntiAffinity"]}
    assert hits(validator, docs) == [(ANTI, 0, "spec.template.spec")]


def test_a_statefulset_is_replicated_too_and_a_configmap_never_is(
    validator: ManifestValidator,
) -> None:
    docs = clean()
    sts = copy.deepcopy(docs[DEPLOYMENT])
    sts["kind"] = "StatefulSet"
    sts["metadata"]["name"] = "callbot-state"
    sts["spec"]["serviceName"] = "callbot-service"
    del sts["spec"]["template"]["spec"]["topologySpreadConstraints"]
    docs.append(sts)
    assert (ANTI, len(docs) - 1, "spec.template.spec") in hits(validator, docs)


# --- minimum replicas for the SLA: from 99.9 %, at least 2 ------------------------------------

SLA = "minimum-replicas-for-sla"


def one_replica_at(docs: Docs, sla: str) -> None:
    """One replica; the SLA on the Namespace only (the Deployment's own annotation removed)."""
    replicas(docs, 1)
    docs[DEPLOYMENT]["metadata"].pop("annotations", None)
    docs[NAMESPACE]["metadata"]["annotations"] = {"ecp.ai/sla-availability": sla}


@pytest.mark.parametrize(
    ("sla", "flagged"),
    [("99.9%", True), ("99.95%", True), (" 99.9 ", True), ("99.89%", False), ("high", False)],
    ids=["at-the-threshold", "above", "no-percent-sign", "just-below", "unreadable"],
)
def test_one_replica_is_flagged_from_the_sla_threshold_on(
    validator: ManifestValidator, sla: str, flagged: bool
) -> None:
    docs = clean()
    one_replica_at(docs, sla)
    found = [h for h in hits(validator, docs) if h[0] == SLA]
    assert found == ([(SLA, 0, "spec.replicas")] if flagged else [])


def test_two_replicas_meet_the_sla_and_the_message_names_it(validator: ManifestValidator) -> None:
    docs = clean()
    one_replica_at(docs, "99.9%")
    assert messages(validator, docs, SLA) == [
        "a single replica cannot meet the 99.9% availability SLA; run at least 2"
    ]
    docs[DEPLOYMENT]["spec"]["replicas"] = 2
    assert messages(validator, docs, SLA) == []


def test_the_object_s_own_sla_annotation_wins_over_its_namespace(
    validator: ManifestValidator,
) -> None:
    docs = clean()
    one_replica_at(docs, "99.99%")
    docs[DEPLOYMENT]["metadata"]["annotations"] = {"ecp.ai/sla-availability": "99.0%"}
    assert messages(validator, docs, SLA) == []
    docs[NAMESPACE]["metadata"]["annotations"] = {}
    docs[DEPLOYMENT]["metadata"]["annotations"] = {"ecp.ai/sla-availability": "99.9%"}
    assert len(messages(validator, docs, SLA)) == 1


def test_the_sla_threshold_comes_from_the_policy_context() -> None:
    docs = clean()
    one_replica_at(docs, "99.5%")
    strict = PolicyContext(sla_needing_replicas=99.5)
    validator = ManifestValidator("1.33")
    assert [f.rule for f in validator.validate(docs, policy=strict) if f.rule == SLA] == [SLA]
    assert [f.rule for f in validator.validate(docs) if f.rule == SLA] == []


# --- PDB minAvailable: a percentage rounds up, as the disruption controller does --------------

PDB_RULE = "pdb-min-available"


@pytest.mark.parametrize(
    ("minimum", "flagged"),
    [
        ("67%", True),  # ceil(0.67 x 3) = ceil(2.01) = 3 of 3: nothing can be evicted
        ("66%", False),  # ceil(1.98) = 2 of 3
        ("100%", True),
        ("34%", False),  # ceil(1.02) = 2
        (3, True),
        (2, False),
        (4, True),
        ("abc%", False),
        ("3", False),  # neither an int nor a percentage: the schema's business
    ],
    ids=["67pct", "66pct", "100pct", "34pct", "three", "two", "four", "garbled-pct", "string"],
)
def test_a_pdb_that_keeps_every_replica_up_is_flagged(
    validator: ManifestValidator, minimum: int | str, flagged: bool
) -> None:
    docs = clean()
    docs[PDB]["spec"]["minAvailable"] = minimum
    found = [(rule, i, path) for rule, i, path in hits_lenient(validator, docs) if rule == PDB_RULE]
    assert found == ([(PDB_RULE, PDB, "spec.minAvailable")] if flagged else [])


def hits_lenient(validator: ManifestValidator, docs: Docs) -> list[tuple[str, int, str]]:
    """The warnings, whatever the schema says (a garbled minAvailable is a schema error)."""
    return [(f.rule, f.doc_index, f.path) for f in validator.validate(docs) if not f.is_error]


def test_the_pdb_message_names_the_workload_and_its_replicas(validator: ManifestValidator) -> None:
    docs = clean()
    docs[PDB]["spec"]["minAvailable"] = "67%"
    assert messages(validator, docs, PDB_RULE) == [
        "minAvailable 67% keeps all 3 replica(s) of Deployment/callbot up, so no pod can ever be "
        "evicted (drains block)"
    ]


def test_a_pdb_counts_the_hpa_minimum_and_ignores_workloads_it_does_not_select(
    validator: ManifestValidator,
) -> None:
    docs = clean()
    docs[PDB]["spec"]["minAvailable"] = 3
    docs[DEPLOYMENT]["spec"]["replicas"] = 1
    docs[HPA]["spec"]["minReplicas"] = 4  # the HPA keeps 4 up: one of them may go
    assert [h for h in hits(validator, docs) if h[0] == PDB_RULE] == []
    docs[HPA]["spec"]["minReplicas"] = 3  # 3 of 3 must stay: every drain blocks
    assert [h[0] for h in hits(validator, docs)].count(PDB_RULE) == 1
    docs[PDB]["spec"]["selector"] = {"matchLabels": {"app": "elsewhere"}}
    assert PDB_RULE not in [h[0] for h in hits(validator, docs)]


# --- GPU capacity: more than 80 % of the cluster's GPUs -----------------------------------------

GPU = "gpu-capacity"


@pytest.mark.parametrize(
    ("count", "flagged"),
    [(40, False), (41, True)],  # 1 GPU each; 80 % of 50 is 40: 40 is allowed, 41 is over
    ids=["at-80pct", "over-80pct"],
)
def test_gpu_capacity_warns_only_past_eighty_percent(
    validator: ManifestValidator, count: int, flagged: bool
) -> None:
    docs = clean()
    docs[DEPLOYMENT]["spec"]["replicas"] = count
    docs[HPA]["spec"]["maxReplicas"] = max(count, 10)
    assert [h[0] for h in hits(validator, docs)].count(GPU) == (1 if flagged else 0)


def test_the_gpu_warning_counts_requests_times_replicas_across_workloads(
    validator: ManifestValidator,
) -> None:
    docs = clean()
    docs[DEPLOYMENT]["spec"]["replicas"] = 20
    container(docs)["resources"]["requests"]["nvidia.com/gpu"] = 2
    container(docs)["resources"]["limits"]["nvidia.com/gpu"] = 2
    second = copy.deepcopy(docs[DEPLOYMENT])
    second["metadata"]["name"] = "callbot-b"
    second["spec"]["replicas"] = 1
    docs.append(second)
    assert messages(validator, docs, GPU) == [
        "GPU 리소스가 클러스터 용량의 80%를 초과합니다 (요청 42 / 용량 50 GPU)"
    ]
    assert (GPU, 0, f"{C0}.resources") in hits(validator, docs)
    bigger = PolicyContext(cluster_gpu=100)
    assert [f for f in validator.validate(docs, policy=bigger) if f.rule == GPU] == []


# --- probes, images, root ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("delay", "period", "short"),
    [(30, 10, []), (29, 10, ["initialDelaySeconds 29 < 30"]), (30, 9, ["periodSeconds 9 < 10"])],
    ids=["recommended", "delay-one-short", "period-one-short"],
)
def test_the_liveness_probe_is_short_one_second_below_the_recommendation(
    validator: ManifestValidator, delay: int, period: int, short: list[str]
) -> None:
    docs = clean()
    container(docs)["livenessProbe"].update(initialDelaySeconds=delay, periodSeconds=period)
    found = messages(validator, docs, "liveness-probe-short")
    assert found == ([f"Liveness probe 설정이 권장값보다 짧습니다 ({short[0]})"] if short else [])


def test_a_probe_on_a_named_or_numbered_exposed_port_passes(validator: ManifestValidator) -> None:
    docs = clean()
    container(docs)["livenessProbe"]["httpGet"]["port"] = "http"
    container(docs)["readinessProbe"]["httpGet"]["port"] = 8080
    assert hits(validator, docs) == []
    container(docs)["readinessProbe"] = {"tcpSocket": {"port": 8081}}
    assert messages(validator, docs, "readiness-port") == [
        "readinessProbe uses port 8081, which the container does not expose"
    ]


@pytest.mark.parametrize(
    ("image", "flagged"),
    [
        ("ecp-ai/callbot:1.4.2", False),
        ("registry:5000/ecp-ai/callbot:1.4.2", False),
        ("ecp-ai/callbot@sha256:" + "a" * 64, False),
        ("ecp-ai/callbot:latest", True),
        ("registry:5000/callbot", True),
        ("callbot", True),
    ],
    ids=["tagged", "port-and-tag", "digest", "latest", "registry-port-untagged", "bare"],
)
def test_latest_tag_reads_the_tag_after_the_last_slash(
    validator: ManifestValidator, image: str, flagged: bool
) -> None:
    docs = clean()
    container(docs)["image"] = image
    assert [h[0] for h in hits(validator, docs)].count("latest-tag") == (1 if flagged else 0)


@pytest.mark.parametrize(
    ("pod_context", "container_context", "flagged"),
    [
        ({"runAsNonRoot": True}, None, False),
        ({"runAsUser": 1000}, None, False),
        ({"runAsUser": 0}, None, True),
        ({"runAsNonRoot": True}, {"runAsUser": 0}, True),
        ({"runAsNonRoot": False}, {"runAsNonRoot": True}, False),
        ({}, None, True),
        ({"runAsUser": "1000"}, None, True),
    ],
    ids=[
        "pod-non-root",
        "pod-uid",
        "pod-uid-0",
        "container-root",
        "container-wins",
        "unset",
        "str",
    ],
)
def test_run_as_non_root_takes_the_container_s_setting_first(
    validator: ManifestValidator,
    pod_context: dict[str, Any],
    container_context: dict[str, Any] | None,
    flagged: bool,
) -> None:
    docs = clean()
    pod(docs)["securityContext"] = pod_context
    if container_context is not None:
        container(docs)["securityContext"] = container_context
    found = hits_lenient(validator, docs)
    assert [h[0] for h in found].count("run-as-non-root") == (1 if flagged else 0)


@pytest.mark.parametrize(
    ("name", "value", "flagged"),
    [
        ("API_TOKEN", "x", True),
        ("db_password", "x", True),
        ("SIGNING_KEY", "x", True),
        ("API_TOKEN", "", False),
        ("LOG_LEVEL", "debug", False),
    ],
    ids=["token", "lowercase-password", "key", "empty-value", "not-a-secret"],
)
def test_env_var_secret_flags_literal_values_of_secret_looking_names(
    validator: ManifestValidator, name: str, value: str, flagged: bool
) -> None:
    docs = clean()
    container(docs)["env"] = [
        {"name": "TENANT_ID", "value": "demo"},
        {"name": name, "value": value},
    ]
    found = [h for h in hits(validator, docs) if h[0] == "env-var-secret"]
    assert found == ([("env-var-secret", 0, f"{C0}.env[1].value")] if flagged else [])
