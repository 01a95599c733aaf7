"""The `dangling-reference` policy rule: names one object uses to reach another must resolve to
an object in the same manifest set.

Checked: service URLs in container env values (`redis://redis-service:6379`), Ingress backends
(Service and port), ServiceMonitor selectors (a Service, exposing the scraped port), and
ConfigMaps / Secrets named by envFrom, env valueFrom and volumes. A namespace is only judged when
the set describes it (its Namespace object is in the set, or at least one object of the kind
looked for is), since a single foreign file may rely on objects applied separately. No I/O here.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from compiler.validating.policy_index import PolicyIndex
from compiler.validating.workloads import (
    PathParts,
    containers,
    dig,
    kind_of,
    name_of,
    namespace_of,
    pod_spec,
    selector_matches,
)

SetHit = tuple[int, PathParts, str]
# scheme://[user@]host[:port][/...], host `svc`, `svc.ns`, `svc.ns.svc[.cluster.local]`
_SERVICE_URL = re.compile(
    r"^[a-z][a-z0-9+.-]*://(?:[^/@\s]+@)?(?P<svc>[a-z0-9]([-a-z0-9]*[a-z0-9])?)"
    r"(?:\.(?P<ns>[a-z0-9]([-a-z0-9]*[a-z0-9])?)(?:\.svc(?:\.cluster\.local)?)?)?"
    r"(?::\d+)?(?:[/?#].*)?$"
)
_NOT_SERVICES = frozenset({"localhost"})


@dataclass
class _Namespace:
    described: bool = False  # its Namespace object is in the set
    objects: dict[str, dict[str, Mapping[str, Any]]] = field(default_factory=dict)

    def has_kind(self, kind: str) -> bool:
        return self.described or bool(self.objects.get(kind))

    def get(self, kind: str, name: str) -> Mapping[str, Any] | None:
        return self.objects.get(kind, {}).get(name)


def _index(objects: Sequence[Any]) -> dict[str | None, _Namespace]:
    spaces: dict[str | None, _Namespace] = {}
    for obj in objects:
        if not isinstance(obj, Mapping) or not isinstance(name_of(obj), str):
            continue
        kind, name = kind_of(obj), name_of(obj)
        if kind == "Namespace":
            spaces.setdefault(name, _Namespace()).described = True
        elif kind in ("Service", "ConfigMap", "Secret"):
            space = spaces.setdefault(namespace_of(obj), _Namespace())
            space.objects.setdefault(kind, {})[str(name)] = obj
    return spaces


def dangling_reference(index: PolicyIndex) -> Iterator[SetHit]:
    spaces = _index(index.objects)
    for doc_index, obj in enumerate(index.objects):
        if not isinstance(obj, Mapping):
            continue
        namespace = namespace_of(obj)
        kind = kind_of(obj)
        if pod_spec(obj) is not None:
            for path, message in _workload(obj, namespace, spaces):
                yield doc_index, path, message
        elif kind == "Ingress":
            for path, message in _ingress(obj, spaces.get(namespace)):
                yield doc_index, path, message
        elif kind == "ServiceMonitor":
            for path, message in _service_monitor(obj, spaces.get(namespace)):
                yield doc_index, path, message


def _workload(
    obj: Mapping[str, Any], namespace: str | None, spaces: dict[str | None, _Namespace]
) -> Iterator[tuple[PathParts, str]]:
    found = pod_spec(obj)
    assert found is not None  # the caller checked
    spec_path, spec = found
    own = spaces.get(namespace)
    for container_path, container in containers(obj, include_init=True):
        for i, var in enumerate(container.get("env") or ()):
            if not isinstance(var, Mapping):
                continue
            path = (*container_path, "env", i)
            value = var.get("value")
            if isinstance(value, str):
                yield from _url(value, namespace, spaces, (*path, "value"), var.get("name"))
            for ref_kind, ref in (("ConfigMap", "configMapKeyRef"), ("Secret", "secretKeyRef")):
                name = dig(var, "valueFrom", ref, "name")
                if isinstance(name, str) and not dig(var, "valueFrom", ref, "optional"):
                    yield from _named(own, ref_kind, name, (*path, "valueFrom", ref, "name"))
        for i, source in enumerate(container.get("envFrom") or ()):
            for ref_kind, ref in (("ConfigMap", "configMapRef"), ("Secret", "secretRef")):
                name = dig(source, ref, "name")
                if isinstance(name, str) and not dig(source, ref, "optional"):
                    path = (*container_path, "envFrom", i, ref, "name")
                    yield from _named(own, ref_kind, name, path)
    for i, volume in enumerate(spec.get("volumes") or ()):
        for ref_kind, ref, key in (("ConfigMap", "configMap", "name"),
                                   ("Secret", "secret", "secretName")):  # fmt: skip
            name = dig(volume, ref, key)
            if isinstance(name, str) and not dig(volume, ref, "optional"):
                yield from _named(own, ref_kind, name, (*spec_path, "volumes", i, ref, key))


def _url(
    value: str,
    namespace: str | None,
    spaces: dict[str | None, _Namespace],
    path: PathParts,
    variable: Any,
) -> Iterator[tuple[PathParts, str]]:
    match = _SERVICE_URL.match(value)
    if match is None or match["svc"] in _NOT_SERVICES:
        return
    target_namespace = match["ns"] or namespace
    space = spaces.get(target_namespace)
    if space is None or not space.has_kind("Service"):
        return
    if space.get("Service", match["svc"]) is None:
        where = f" in namespace {target_namespace}" if target_namespace else ""
        yield (
            path,
            (
                f"{variable} names Service {match['svc']!r}{where}, which this manifest set does "
                "not define"
            ),
        )


def _named(
    space: _Namespace | None, kind: str, name: str, path: PathParts
) -> Iterator[tuple[PathParts, str]]:
    if space is not None and space.has_kind(kind) and space.get(kind, name) is None:
        yield path, f"{kind} {name!r} is not defined in this manifest set"


def _service_ports(service: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    ports = dig(service, "spec", "ports")
    return [p for p in ports if isinstance(p, Mapping)] if isinstance(ports, list) else []


def _ingress(obj: Mapping[str, Any], space: _Namespace | None) -> Iterator[tuple[PathParts, str]]:
    if space is None or not space.has_kind("Service"):
        return
    backends: list[tuple[PathParts, Any]] = [(("spec", "defaultBackend"),
                                              dig(obj, "spec", "defaultBackend"))]  # fmt: skip
    for r, rule in enumerate(dig(obj, "spec", "rules") or ()):
        for p, entry in enumerate(dig(rule, "http", "paths") or ()):
            backends.append((("spec", "rules", r, "http", "paths", p, "backend"),
                             dig(entry, "backend")))  # fmt: skip
    for path, backend in backends:
        name = dig(backend, "service", "name")
        if not isinstance(name, str):
            continue
        service = space.get("Service", name)
        if service is None:
            yield (
                (*path, "service", "name"),
                f"Service {name!r} is not defined in this manifest set",
            )
            continue
        number, port_name = (
            dig(backend, "service", "port", "number"),
            dig(backend, "service", "port", "name"),
        )
        ports = _service_ports(service)
        if number is not None and not any(p.get("port") == number for p in ports):
            yield (*path, "service", "port", "number"), f"Service {name!r} has no port {number}"
        if port_name is not None and not any(p.get("name") == port_name for p in ports):
            yield (
                (*path, "service", "port", "name"),
                (f"Service {name!r} has no port named {port_name!r}"),
            )


def _service_monitor(
    obj: Mapping[str, Any], space: _Namespace | None
) -> Iterator[tuple[PathParts, str]]:
    if dig(obj, "spec", "namespaceSelector") or space is None or not space.has_kind("Service"):
        return  # other namespaces: not judged here
    selector = dig(obj, "spec", "selector")
    selected = [
        (name, svc)
        for name, svc in sorted(space.objects.get("Service", {}).items())
        if selector_matches(selector, dig(svc, "metadata", "labels") or {})
    ]
    if not selected:
        yield ("spec", "selector"), "selector matches no Service in this manifest set"
        return
    for e, endpoint in enumerate(dig(obj, "spec", "endpoints") or ()):
        port = dig(endpoint, "port")
        if not isinstance(port, str):
            continue
        lacking = [n for n, svc in selected if not any(p.get("name") == port
                                                        for p in _service_ports(svc))]  # fmt: skip
        if lacking:
            yield (
                ("spec", "endpoints", e, "port"),
                (
                    f"selects Service(s) {', '.join(lacking)} that expose no port named {port!r}: "
                    "narrow the selector to the Services it scrapes"
                ),
            )
