"""The dangling-reference policy rule on small manifest sets built in each test."""

from __future__ import annotations

from typing import Any

import pytest

from compiler.validating import ManifestValidator

NS = "shop"
VALIDATOR = ManifestValidator("1.33")


def namespace() -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": NS}}


def service(
    name: str, port_name: str = "http", labels: dict[str, str] | None = None
) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": name, "namespace": NS, "labels": labels or {"app": name}},
        "spec": {"selector": {"app": name}, "ports": [{"name": port_name, "port": 80}]},
    }


def deployment(
    env: list[dict[str, Any]], env_from: list[dict[str, Any]] | None = None
) -> dict[str, Any]:
    container: dict[str, Any] = {"name": "app", "image": "app:1.0", "env": env}
    if env_from:
        container["envFrom"] = env_from
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "app", "namespace": NS},
        "spec": {
            "selector": {"matchLabels": {"app": "app"}},
            "template": {
                "metadata": {"labels": {"app": "app"}},
                "spec": {"containers": [container]},
            },
        },
    }


def dangling(objects: list[dict[str, Any]]) -> list[str]:
    found = VALIDATOR.validate(objects)
    assert [str(f) for f in found if f.is_error] == []
    return [f"{f.path}: {f.message}" for f in found if f.rule == "dangling-reference"]


REDIS = [{"name": "REDIS_URL", "value": "redis://redis-service:6379/0"}]


def test_an_env_url_naming_a_service_the_set_lacks_is_flagged() -> None:
    found = dangling([namespace(), deployment(REDIS)])
    assert found == [
        "spec.template.spec.containers[0].env[0].value: REDIS_URL names Service "
        "'redis-service' in namespace shop, which this manifest set does not define"
    ]


def test_an_env_url_naming_a_service_in_the_set_resolves() -> None:
    assert dangling([namespace(), deployment(REDIS), service("redis-service")]) == []


@pytest.mark.parametrize(
    "value",
    [
        pytest.param("https://api.example.com/v1", id="external-host"),
        pytest.param("http://localhost:8080", id="localhost"),
        pytest.param("plain text", id="not-a-url"),
    ],
)
def test_values_that_name_no_in_cluster_service_are_not_judged(value: str) -> None:
    assert dangling([namespace(), deployment([{"name": "X", "value": value}])]) == []


def test_a_namespace_the_set_does_not_describe_is_not_judged() -> None:
    # a lone foreign Deployment may rely on a Service applied from another file
    assert dangling([deployment(REDIS)]) == []


def test_a_service_url_into_another_described_namespace_is_checked_there() -> None:
    other = {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "cache"}}
    env = [{"name": "REDIS_URL", "value": "redis://redis.cache.svc.cluster.local:6379"}]
    assert len(dangling([namespace(), other, deployment(env)])) == 1
    cache_service = {**service("redis"), "metadata": {"name": "redis", "namespace": "cache"}}
    assert dangling([namespace(), other, deployment(env), cache_service]) == []


def test_a_missing_config_map_or_secret_reference_is_flagged_unless_optional() -> None:
    env_from: list[dict[str, Any]] = [
        {"configMapRef": {"name": "settings"}},
        {"secretRef": {"name": "creds", "optional": True}},
    ]
    found = dangling([namespace(), deployment([], env_from)])
    assert found == [
        "spec.template.spec.containers[0].envFrom[0].configMapRef.name: "
        "ConfigMap 'settings' is not defined in this manifest set"
    ]


def ingress(service_name: str, port: dict[str, Any]) -> dict[str, Any]:
    backend = {"service": {"name": service_name, "port": port}}
    return {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "Ingress",
        "metadata": {"name": "web", "namespace": NS},
        "spec": {
            "rules": [
                {"http": {"paths": [{"path": "/", "pathType": "Prefix", "backend": backend}]}}
            ]
        },
    }


@pytest.mark.parametrize(
    ("backend", "port", "expected"),
    [
        ("missing", {"number": 80}, "Service 'missing' is not defined in this manifest set"),
        ("web", {"number": 8080}, "Service 'web' has no port 8080"),
        ("web", {"name": "grpc"}, "Service 'web' has no port named 'grpc'"),
        ("web", {"number": 80}, None),
    ],
    ids=["no-such-service", "no-such-port-number", "no-such-port-name", "resolves"],
)
def test_ingress_backends_must_name_a_service_and_port_of_the_set(
    backend: str, port: dict[str, Any], expected: str | None
) -> None:
    found = dangling([namespace(), service("web"), ingress(backend, port)])
    assert [f.split(": ", 1)[1] for f in found] == ([expected] if expected else [])


def monitor(selector: dict[str, str]) -> dict[str, Any]:
    return {
        "apiVersion": "monitoring.coreos.com/v1",
        "kind": "ServiceMonitor",
        "metadata": {"name": "scrape", "namespace": NS},
        "spec": {"selector": {"matchLabels": selector}, "endpoints": [{"port": "http"}]},
    }


def test_a_service_monitor_must_select_only_services_exposing_its_port() -> None:
    web = service("web", labels={"team": "ai", "app": "web"})
    redis = service("redis", port_name="redis", labels={"team": "ai"})
    found = dangling([namespace(), web, redis, monitor({"team": "ai"})])
    assert found == [
        "spec.endpoints[0].port: selects Service(s) redis that expose no port named 'http': "
        "narrow the selector to the Services it scrapes"
    ]
    assert dangling([namespace(), web, redis, monitor({"app": "web"})]) == []


def test_a_service_monitor_selecting_nothing_is_flagged() -> None:
    found = dangling([namespace(), service("web"), monitor({"app": "nothing"})])
    assert found == ["spec.selector: selector matches no Service in this manifest set"]
