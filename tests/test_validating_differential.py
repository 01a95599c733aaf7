"""Our schema verdict must equal kubernetes-validate's own strict verdict, document by document."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from compiler.validating import ManifestValidator

VERSION = "1.33"
FIXTURE = Path(__file__).parent / "fixtures" / "validating" / "differential_valid.yaml"
BASE: dict[str, dict[str, Any]] = {
    doc["kind"]: doc for doc in yaml.safe_load_all(FIXTURE.read_text(encoding="utf-8"))
}
DELETE = object()
CONTAINER = ("spec", "template", "spec", "containers", 0)

# (id, kind of the base document, path, new value or DELETE)
MUTATIONS: list[tuple[str, str, tuple[str | int, ...], Any]] = [
    ("deployment-unknown-top-level-field", "Deployment", ("extra",), 1),
    ("deployment-unknown-metadata-field", "Deployment", ("metadata", "owner"), "me"),
    ("deployment-unknown-spec-field", "Deployment", ("spec", "replica"), 3),
    ("deployment-unknown-container-field", "Deployment", (*CONTAINER, "cpu"), "1"),
    (
        "deployment-unknown-field-in-probe",
        "Deployment",
        (*CONTAINER, "livenessProbe", "httpGet", "url"),
        "/",
    ),
    ("deployment-unknown-resources-field", "Deployment", (*CONTAINER, "resources", "maximum"), {}),
    ("deployment-replicas-string", "Deployment", ("spec", "replicas"), "3"),
    ("deployment-replicas-fraction", "Deployment", ("spec", "replicas"), 1.5),
    ("deployment-replicas-integral-float", "Deployment", ("spec", "replicas"), 3.0),
    ("deployment-replicas-boolean", "Deployment", ("spec", "replicas"), True),
    ("deployment-replicas-null", "Deployment", ("spec", "replicas"), None),
    (
        "deployment-container-port-string",
        "Deployment",
        (*CONTAINER, "ports", 0, "containerPort"),
        "8080",
    ),
    (
        "deployment-missing-containers",
        "Deployment",
        ("spec", "template", "spec", "containers"),
        DELETE,
    ),
    ("deployment-missing-selector", "Deployment", ("spec", "selector"), DELETE),
    ("deployment-missing-container-name", "Deployment", (*CONTAINER, "name"), DELETE),
    ("deployment-image-integer", "Deployment", (*CONTAINER, "image"), 42),
    ("deployment-bad-pull-policy-enum", "Deployment", (*CONTAINER, "imagePullPolicy"), "Sometimes"),
    (
        "deployment-cpu-request-boolean",
        "Deployment",
        (*CONTAINER, "resources", "requests", "cpu"),
        True,
    ),
    (
        "deployment-cpu-request-number",
        "Deployment",
        (*CONTAINER, "resources", "requests", "cpu"),
        0.5,
    ),
    (
        "deployment-probe-port-boolean",
        "Deployment",
        (*CONTAINER, "livenessProbe", "httpGet", "port"),
        False,
    ),
    ("deployment-env-value-integer", "Deployment", (*CONTAINER, "env", 0, "value"), 7),
    (
        "deployment-containers-not-a-list",
        "Deployment",
        ("spec", "template", "spec", "containers"),
        {"name": "x"},
    ),
    ("deployment-label-value-integer", "Deployment", ("metadata", "labels", "tier"), 1),
    ("deployment-annotation-value-boolean", "Deployment", ("metadata", "annotations", "x"), True),
    ("deployment-name-integer", "Deployment", ("metadata", "name"), 12),
    ("deployment-status-unknown-field", "Deployment", ("status", "health"), "ok"),
    ("deployment-lowercase-kind", "Deployment", ("kind",), "deployment"),
    ("deployment-foreign-group-same-prefix", "Deployment", ("apiVersion",), "apps.example.com/v1"),
    ("service-bad-type-enum", "Service", ("spec", "type"), "Internal"),
    ("service-port-missing-port", "Service", ("spec", "ports", 0, "port"), DELETE),
    ("service-target-port-boolean", "Service", ("spec", "ports", 0, "targetPort"), True),
    ("service-target-port-name", "Service", ("spec", "ports", 0, "targetPort"), "http"),
    ("service-bad-protocol-enum", "Service", ("spec", "ports", 0, "protocol"), "ICMP"),
    ("service-selector-value-integer", "Service", ("spec", "selector", "app"), 5),
    ("configmap-data-integer-value", "ConfigMap", ("data", "RETRIES"), 3),
    ("configmap-data-nested-map", "ConfigMap", ("data", "nested"), {"a": "b"}),
    ("configmap-unknown-top-level-field", "ConfigMap", ("spec",), {}),
    ("namespace-finalizers-integer", "Namespace", ("spec", "finalizers"), [1]),
    ("namespace-unknown-spec-field", "Namespace", ("spec", "quota"), "x"),
    ("resourcequota-hard-boolean", "ResourceQuota", ("spec", "hard", "pods"), True),
    ("resourcequota-bad-scope-enum", "ResourceQuota", ("spec", "scopes"), ["Cheap"]),
    ("limitrange-missing-type", "LimitRange", ("spec", "limits", 0, "type"), DELETE),
    ("limitrange-unknown-field", "LimitRange", ("spec", "limits", 0, "ceiling"), {}),
    (
        "networkpolicy-bad-protocol-enum",
        "NetworkPolicy",
        ("spec", "ingress", 0, "ports", 0, "protocol"),
        "ICMP",
    ),
    (
        "networkpolicy-port-boolean",
        "NetworkPolicy",
        ("spec", "ingress", 0, "ports", 0, "port"),
        False,
    ),
    ("networkpolicy-policy-types-not-a-list", "NetworkPolicy", ("spec", "policyTypes"), "Ingress"),
    ("pdb-min-available-boolean", "PodDisruptionBudget", ("spec", "minAvailable"), True),
    ("pdb-min-available-percent", "PodDisruptionBudget", ("spec", "minAvailable"), "50%"),
    ("pdb-unknown-spec-field", "PodDisruptionBudget", ("spec", "maxAvailable"), 1),
    ("hpa-missing-max-replicas", "HorizontalPodAutoscaler", ("spec", "maxReplicas"), DELETE),
    ("hpa-missing-metric-type", "HorizontalPodAutoscaler", ("spec", "metrics", 0, "type"), DELETE),
    (
        "hpa-target-missing-kind",
        "HorizontalPodAutoscaler",
        ("spec", "scaleTargetRef", "kind"),
        DELETE,
    ),
    (
        "hpa-v1-field-in-v2",
        "HorizontalPodAutoscaler",
        ("spec", "targetCPUUtilizationPercentage"),
        70,
    ),
    (
        "serviceaccount-automount-string",
        "ServiceAccount",
        ("automountServiceAccountToken",),
        "false",
    ),
    (
        "ingress-bad-path-type-enum",
        "Ingress",
        ("spec", "rules", 0, "http", "paths", 0, "pathType"),
        "Glob",
    ),
    (
        "ingress-port-number-string",
        "Ingress",
        ("spec", "rules", 0, "http", "paths", 0, "backend", "service", "port", "number"),
        "80",
    ),
    (
        "ingress-missing-backend",
        "Ingress",
        ("spec", "rules", 0, "http", "paths", 0, "backend"),
        DELETE,
    ),
    ("secret-data-integer-value", "Secret", ("data",), {"token": 12345}),
]


def mutated(kind: str, path: tuple[str | int, ...], value: Any) -> dict[str, Any]:
    doc = copy.deepcopy(BASE[kind])
    target: Any = doc
    for step in path[:-1]:
        if isinstance(target, dict) and step not in target:
            target[step] = {}
        target = target[step]
    if value is DELETE:
        del target[path[-1]]
    else:
        target[path[-1]] = value
    return doc


def reference_verdict(doc: dict[str, Any]) -> str:
    try:
        kubernetes_validate.validate(copy.deepcopy(doc), VERSION, strict=True)
    except kubernetes_validate.ValidationError:
        return "invalid"
    except kubernetes_validate.SchemaNotFoundError:
        return "unknown"
    return "valid"


def our_verdict(validator: ManifestValidator, doc: dict[str, Any]) -> str:
    findings = validator.schema_findings([doc])
    if any(f.rule == "unknown-kind" for f in findings):
        return "unknown"
    return "invalid" if any(f.is_error for f in findings) else "valid"


@pytest.fixture(scope="module")
def validator() -> ManifestValidator:
    return ManifestValidator(VERSION)


def test_the_corpus_has_at_least_forty_broken_cases() -> None:
    assert len(MUTATIONS) >= 40
    assert len({case[0] for case in MUTATIONS}) == len(MUTATIONS)


@pytest.mark.parametrize("kind", sorted(BASE), ids=sorted(BASE))
def test_valid_documents_get_the_same_verdict_as_kubernetes_validate(
    validator: ManifestValidator, kind: str
) -> None:
    doc = BASE[kind]
    assert reference_verdict(doc) == "valid"
    assert our_verdict(validator, doc) == "valid"


@pytest.mark.parametrize(
    ("kind", "path", "value"),
    [case[1:] for case in MUTATIONS],
    ids=[case[0] for case in MUTATIONS],
)
def test_mutated_documents_get_the_same_verdict_as_kubernetes_validate(
    validator: ManifestValidator, kind: str, path: tuple[str | int, ...], value: Any
) -> None:
    doc = mutated(kind, path, value)
    assert our_verdict(validator, doc) == reference_verdict(doc)


@pytest.mark.parametrize(
    ("api_version", "kind"),
    [("apps/v2", "Deployment"), ("v1", "Gadget"), ("example.com/v1", "Widget")],
    ids=["unknown-api-version", "unknown-core-kind", "unknown-group"],
)
def test_kinds_kubernetes_validate_has_no_schema_for_are_unknown_to_us_too(
    validator: ManifestValidator, api_version: str, kind: str
) -> None:
    doc = {"apiVersion": api_version, "kind": kind, "metadata": {"name": "x"}}
    assert reference_verdict(doc) == "unknown"
    assert our_verdict(validator, doc) == "unknown"


_SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-3, 3),
    st.floats(allow_nan=False, allow_infinity=False, width=16),
    st.text("ab1%", max_size=3),
    st.just([]),
    st.just({}),
)


def _paths(node: Any, prefix: tuple[str | int, ...] = ()) -> list[tuple[str | int, ...]]:
    out = [prefix] if prefix else []
    if isinstance(node, dict):
        for key, value in node.items():
            out += _paths(value, (*prefix, key))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            out += _paths(value, (*prefix, index))
    return out


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=st.data())
def test_random_single_value_replacements_get_the_same_verdict_as_kubernetes_validate(
    validator: ManifestValidator, data: st.DataObject
) -> None:
    kind = data.draw(st.sampled_from(sorted(BASE)))
    path = data.draw(st.sampled_from(_paths(BASE[kind])))
    if path in (("apiVersion",), ("kind",)):
        return  # those choose the schema; covered by the named cases above
    doc = mutated(kind, path, data.draw(_SCALARS))
    assert our_verdict(validator, doc) == reference_verdict(doc)
