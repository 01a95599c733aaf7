"""Policy rules, quantities and the resource summary: each rule fires on its case and only there."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from validating_support import (
    C0,
    DEPLOYMENT,
    HPA,
    NAMESPACE,
    PDB,
    SERVICE,
    VALIDATOR,
    Docs,
    clean,
)

from compiler.errors import ValidationFailed
from compiler.quantity import format_bytes, format_cpu, parse_bytes, parse_cpu
from compiler.settings import ClusterCapacity, Settings
from compiler.validating import ManifestValidator, PolicyContext, resource_summary
from compiler.validating.policy import RULES


@pytest.fixture(scope="module")
def validator() -> ManifestValidator:
    return VALIDATOR


def container(docs: Docs) -> dict[str, Any]:
    result: dict[str, Any] = docs[DEPLOYMENT]["spec"]["template"]["spec"]["containers"][0]
    return result


def warnings(validator: ManifestValidator, docs: Docs, **kwargs: Any) -> list[tuple[str, int, str]]:
    found = validator.validate(docs, **kwargs)
    assert [f for f in found if f.is_error] == []  # every case stays schema-valid
    return [(f.rule, f.doc_index, f.path) for f in found]


def test_the_clean_reference_set_raises_no_warning(validator: ManifestValidator) -> None:
    assert warnings(validator, clean()) == []


def test_every_rule_has_a_unique_kube_linter_style_id() -> None:
    ids = [rule.id for rule in RULES]
    assert len(ids) == len(set(ids)) >= 15
    assert all(rule.id == rule.id.lower() and " " not in rule.id for rule in RULES)


def _set(path: str, value: Any, doc: int = DEPLOYMENT) -> Callable[[Docs], None]:
    def apply(docs: Docs) -> None:
        target: Any = docs[doc]
        steps = path.split(".")
        for step in steps[:-1]:
            target = target[int(step)] if step.isdigit() else target.setdefault(step, {})
        if value is None:
            del target[steps[-1]]
        else:
            target[steps[-1]] = value

    return apply


def _many(*changes: Callable[[Docs], None]) -> Callable[[Docs], None]:
    def apply(docs: Docs) -> None:
        for change in changes:
            change(docs)

    return apply


_TEMPLATE = "spec.template.spec.containers.0"
_ONE_REPLICA = _many(
    _set("spec.replicas", 1),
    _set("spec.minReplicas", 1, doc=HPA),
    _set("spec.minAvailable", None, doc=PDB),  # minAvailable 1 of 1 would block evictions
    _set("spec.maxUnavailable", 1, doc=PDB),
)
CASES: list[tuple[str, Callable[[Docs], None], tuple[str, int, str]]] = [
    (
        "unset-cpu-requirements",
        _set(f"{_TEMPLATE}.resources.limits.cpu", None),
        ("unset-cpu-requirements", 0, f"{C0}.resources"),
    ),
    (
        "unset-memory-requirements",
        _set(f"{_TEMPLATE}.resources.requests.memory", None),
        ("unset-memory-requirements", 0, f"{C0}.resources"),
    ),
    (
        "latest-tag",
        _set(f"{_TEMPLATE}.image", "ecp-ai/callbot:latest"),
        ("latest-tag", 0, f"{C0}.image"),
    ),
    (
        "latest-tag-untagged",
        _set(f"{_TEMPLATE}.image", "registry:5000/ecp-ai/callbot"),
        ("latest-tag", 0, f"{C0}.image"),
    ),
    (
        "liveness-probe-short",
        _set(f"{_TEMPLATE}.livenessProbe.initialDelaySeconds", 5),
        ("liveness-probe-short", 0, f"{C0}.livenessProbe"),
    ),
    (
        "liveness-port",
        _set(f"{_TEMPLATE}.livenessProbe.httpGet.port", 9090),
        ("liveness-port", 0, f"{C0}.livenessProbe.httpGet.port"),
    ),
    (
        "readiness-port",
        _set(f"{_TEMPLATE}.readinessProbe.httpGet.port", "metrics"),
        ("readiness-port", 0, f"{C0}.readinessProbe.httpGet.port"),
    ),
    (
        "run-as-non-root",
        _set("spec.template.spec.securityContext", None),
        ("run-as-non-root", 0, f"{C0}.securityContext"),
    ),
    (
        "run-as-non-root-container-overrides-pod",
        _set(f"{_TEMPLATE}.securityContext", {"runAsUser": 0}),
        ("run-as-non-root", 0, f"{C0}.securityContext"),
    ),
    (
        "privilege-escalation-container",
        _set(f"{_TEMPLATE}.securityContext", {"allowPrivilegeEscalation": True}),
        ("privilege-escalation-container", 0, f"{C0}.securityContext.allowPrivilegeEscalation"),
    ),
    (
        "env-var-secret",
        _set(f"{_TEMPLATE}.env", [{"name": "DB_PASSWORD", "value": "s3cr3t"}]),
        ("env-var-secret", 0, f"{C0}.env[0].value"),
    ),
    ("minimum-replicas-for-sla", _ONE_REPLICA, ("minimum-replicas-for-sla", 0, "spec.replicas")),
    (
        "no-anti-affinity",
        _set("spec.template.spec.topologySpreadConstraints", None),
        ("no-anti-affinity", 0, "spec.template.spec"),
    ),
    (
        "dangling-service",
        _set("spec.selector", {"app": "voicebot"}, doc=SERVICE),
        ("dangling-service", 1, "spec.selector"),
    ),
    (
        "use-namespace-missing",
        _set("metadata.namespace", None, doc=NAMESPACE + 1),
        ("use-namespace", 4, "metadata"),
    ),
    (
        "use-namespace-default",
        _set("metadata.namespace", "default", doc=PDB),
        ("use-namespace", 7, "metadata.namespace"),
    ),
    (
        "pdb-min-available",
        _set("spec.minAvailable", 3, doc=PDB),
        ("pdb-min-available", 7, "spec.minAvailable"),
    ),
    (
        "pdb-min-available-percent",
        _set("spec.minAvailable", "100%", doc=PDB),
        ("pdb-min-available", 7, "spec.minAvailable"),
    ),
    ("gpu-capacity", _set("spec.replicas", 41), ("gpu-capacity", 0, f"{C0}.resources")),
]


@pytest.mark.parametrize(
    ("change", "expected"), [case[1:] for case in CASES], ids=[case[0] for case in CASES]
)
def test_each_rule_fires_on_its_case_and_nothing_else_does(
    validator: ManifestValidator,
    change: Callable[[Docs], None],
    expected: tuple[str, int, str],
) -> None:
    docs = clean()
    change(docs)
    assert warnings(validator, docs) == [expected]


def test_the_reference_warnings_carry_the_reference_wording(validator: ManifestValidator) -> None:
    docs = clean()
    docs[DEPLOYMENT]["spec"]["replicas"] = 45
    container(docs)["livenessProbe"]["periodSeconds"] = 5
    messages = [f.message for f in validator.validate(docs)]
    assert any(m.startswith("GPU 리소스가 클러스터 용량의 80%를 초과합니다") for m in messages)
    assert any(m.startswith("Liveness probe 설정이 권장값보다 짧습니다") for m in messages)


def test_gpu_capacity_follows_the_cluster_size_in_the_context(validator: ManifestValidator) -> None:
    docs = clean()  # 3 replicas x 1 GPU
    assert warnings(validator, docs, policy=PolicyContext(cluster_gpu=3)) == [
        ("gpu-capacity", 0, f"{C0}.resources")
    ]
    assert (
        warnings(validator, docs, policy=PolicyContext(cluster_gpu=3, gpu_warning_ratio=1.0)) == []
    )


def test_the_policy_context_takes_the_gpu_count_from_settings() -> None:
    settings = Settings(cluster=ClusterCapacity(gpu=8))
    assert PolicyContext.from_settings(settings) == PolicyContext(cluster_gpu=8)


def test_the_sla_rule_reads_the_namespace_annotation_and_skips_without_one(
    validator: ManifestValidator,
) -> None:
    docs = clean()
    _ONE_REPLICA(docs)
    del docs[DEPLOYMENT]["metadata"]["annotations"]
    assert warnings(validator, docs) == []
    docs[NAMESPACE]["metadata"]["annotations"] = {"ecp.ai/sla-availability": "99.95%"}
    assert warnings(validator, docs) == [("minimum-replicas-for-sla", 0, "spec.replicas")]
    docs[NAMESPACE]["metadata"]["annotations"] = {"ecp.ai/sla-availability": "99.5%"}
    assert warnings(validator, docs) == []


def test_an_hpa_minimum_of_two_satisfies_the_sla_rule(validator: ManifestValidator) -> None:
    docs = clean()
    _ONE_REPLICA(docs)
    docs[HPA]["spec"]["minReplicas"] = 2
    assert warnings(validator, docs) == []


def test_the_secret_rule_never_repeats_the_secret_value(validator: ManifestValidator) -> None:
    docs = clean()
    container(docs)["env"] = [
        {"name": "API_KEY", "value": "sk-live-0123456789"},
        {"name": "DB_TOKEN", "valueFrom": {"secretKeyRef": {"name": "db", "key": "token"}}},
    ]
    found = [f for f in validator.validate(docs) if f.rule == "env-var-secret"]
    assert len(found) == 1 and "API_KEY" in found[0].message
    assert "sk-live" not in found[0].message and "sk-live" not in str(found[0].to_dict())


def test_policy_none_skips_the_rules(validator: ManifestValidator) -> None:
    docs = clean()
    container(docs)["image"] = "ecp-ai/callbot"
    assert validator.validate(docs, policy=None) == []


def test_a_service_without_namespace_is_flagged_for_it_and_does_not_match_namespaced_pods(
    validator: ManifestValidator,
) -> None:
    docs = clean()
    del docs[SERVICE]["metadata"]["namespace"]
    assert warnings(validator, docs) == [
        ("use-namespace", 1, "metadata"),
        ("dangling-service", 1, "spec.selector"),
        # the namespace's Ingress now names a Service its namespace lacks
        ("dangling-reference", 10, "spec.rules[0].http.paths[0].backend.service.name"),
    ]


def test_rules_tolerate_documents_that_fail_the_schema(validator: ManifestValidator) -> None:
    docs = clean()
    docs[DEPLOYMENT]["spec"]["replicas"] = "many"
    docs[DEPLOYMENT]["spec"]["template"]["spec"]["containers"] = [{"env": "x", "ports": 3}, 7]
    docs[PDB]["spec"]["minAvailable"] = ["x"]
    docs[SERVICE]["spec"]["selector"] = "app=callbot"
    found = validator.validate(docs)
    assert any(f.is_error for f in found)  # reported by the schema, not by a crash


# Quantities.


@pytest.mark.parametrize(
    ("quantity", "millicores"),
    [
        ("200m", 200),
        ("1", 1000),
        (2, 2000),
        (0.5, 500),
        ("1.5", 1500),
        ("1e3", 1_000_000),
        ("100u", 1),
        ("2k", 2_000_000),
        ("0.0001", 1),
    ],
    ids=[
        "milli",
        "cores-string",
        "cores-int",
        "cores-float",
        "fraction",
        "exponent",
        "micro-rounds-up",
        "kilo",
        "rounds-up",
    ],
)
def test_cpu_quantities_parse_to_millicores(quantity: str | int | float, millicores: int) -> None:
    assert parse_cpu(quantity) == millicores


@pytest.mark.parametrize(
    ("quantity", "num_bytes"),
    [
        ("512Mi", 512 * 2**20),
        ("4Gi", 4 * 2**30),
        ("1Ki", 1024),
        ("1k", 1000),
        ("1M", 10**6),
        ("1G", 10**9),
        ("2T", 2 * 10**12),
        ("1Ti", 2**40),
        ("1E", 10**18),
        ("1Ei", 2**60),
        ("1.5Gi", 3 * 2**29),
        ("128974848", 128974848),
        ("129e6", 129_000_000),
        ("123Mi", 123 * 2**20),
    ],
    ids=[
        "Mi",
        "Gi",
        "Ki",
        "k",
        "M",
        "G",
        "T",
        "Ti",
        "E",
        "Ei",
        "fractional-Gi",
        "plain",
        "exponent",
        "odd-Mi",
    ],
)
def test_memory_quantities_parse_to_bytes(quantity: str, num_bytes: int) -> None:
    assert parse_bytes(quantity) == num_bytes


@pytest.mark.parametrize(
    "quantity",
    ["", "abc", "1.2.3", "5 Gi", "1Zi", "Gi", True, "1" * 100],
    ids=["empty", "word", "two-points", "space", "bad-suffix", "no-number", "boolean", "too-long"],
)
def test_malformed_quantities_are_validation_errors(quantity: Any) -> None:
    with pytest.raises(ValidationFailed):
        parse_bytes(quantity)


def test_memory_is_formatted_in_the_largest_exact_binary_unit() -> None:
    assert format_bytes(32 * 2**30) == "32Gi"
    assert format_bytes(1536 * 2**20) == "1536Mi"
    assert format_bytes(1000) == "1000"
    assert format_bytes(0) == "0"
    assert format_cpu(24000) == "24000m"


@given(st.integers(min_value=0, max_value=2**62))
def test_formatting_memory_then_parsing_gives_the_same_bytes(num_bytes: int) -> None:
    assert parse_bytes(format_bytes(num_bytes)) == num_bytes


@given(st.integers(min_value=0, max_value=10**12))
def test_formatting_cpu_then_parsing_gives_the_same_millicores(millicores: int) -> None:
    assert parse_cpu(format_cpu(millicores)) == millicores


# The resource summary.


def test_the_resource_summary_counts_kinds_and_multiplies_requests_by_replicas() -> None:
    summary = resource_summary(clean())
    assert summary == {
        "namespaces": 1,
        "deployments": 1,
        "services": 1,
        "configmaps": 1,
        "secrets": 1,
        "horizontalpodautoscalers": 1,
        "ingresses": 1,
        "limitranges": 1,
        "networkpolicies": 1,
        "poddisruptionbudgets": 1,
        "resourcequotas": 1,
        "serviceaccounts": 1,
        "total_cpu": "600m",
        "total_memory": "1536Mi",
        "total_gpu": 3,
        "estimated_pods": 3,
    }


def test_an_empty_summary_still_has_the_reference_keys() -> None:
    summary = resource_summary([])
    assert summary == {
        "namespaces": 0,
        "deployments": 0,
        "services": 0,
        "configmaps": 0,
        "secrets": 0,
        "total_cpu": "0m",
        "total_memory": "0",
        "total_gpu": 0,
        "estimated_pods": 0,
    }


def test_limits_stand_in_for_missing_requests_and_bad_quantities_count_as_zero() -> None:
    docs = clean()
    resources = container(docs)["resources"]
    del resources["requests"]
    docs.append(copy.deepcopy(docs[DEPLOYMENT]))
    container(docs[-1:] + docs)["resources"] = {"requests": {"cpu": "lots", "memory": "1Gi"}}
    summary = resource_summary(docs)
    assert summary["total_gpu"] == 3
    assert summary["deployments"] == 2 and summary["estimated_pods"] == 6
    assert summary["total_cpu"] == "6000m"  # 3 x "2" from limits; "lots" counts as 0
