"""Ingress and NetworkPolicy specs, as pkg/apis/networking/validation checks them: a default
backend or rules, hosts as DNS names, paths with a pathType, one backend kind with a service name
and port, NetworkPolicy ports, peers and policy types. Pure, no I/O.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterator, Mapping
from typing import Any

from compiler.validating.apiserver import meta, names, pods
from compiler.validating.apiserver.fielderrors import (
    FieldError,
    child,
    forbidden,
    invalid,
    not_supported,
    required,
)

_PATH_TYPES = ("Exact", "ImplementationSpecific", "Prefix")
_POLICY_TYPES = ("Egress", "Ingress")
_PROTOCOLS = ("SCTP", "TCP", "UDP")


def ingress(obj: Mapping[str, Any]) -> Iterator[FieldError]:
    spec = obj.get("spec") or {}
    rules = spec.get("rules") or []
    if spec.get("defaultBackend") is None and not rules:
        yield invalid(
            "spec", spec.get("rules"), "either `defaultBackend` or `rules` must be specified"
        )
    if spec.get("defaultBackend") is not None:
        yield from _backend(spec["defaultBackend"], "spec.defaultBackend")
    for index, rule in enumerate(rules):
        item = f"spec.rules[{index}]"
        host = rule.get("host") or ""
        if host:
            yield from _host(host, child(item, "host"))
        http = rule.get("http")
        if http is None:
            continue
        paths = http.get("paths") or []
        if not paths:
            yield required(child(item, "http.paths"))
        for path_index, entry in enumerate(paths):
            yield from _http_path(entry, f"{item}.http.paths[{path_index}]")
    class_name = spec.get("ingressClassName")
    if class_name:
        for msg in names.dns1123_subdomain(class_name):
            yield invalid("spec.ingressClassName", class_name, msg)
    for index, tls in enumerate(spec.get("tls") or ()):
        for host_index, host in enumerate(tls.get("hosts") or ()):
            if "*" in host:
                for msg in names.wildcard_dns1123_subdomain(host):
                    yield invalid(f"spec.tls[{index}].hosts[{host_index}]", host, msg)


def _host(host: str, path: str) -> Iterator[FieldError]:
    if _is_ip(host):
        yield invalid(path, host, "must be a DNS name, not an IP address")
    if host.startswith("*"):
        problems = names.wildcard_dns1123_subdomain(host)
    else:
        problems = names.dns1123_subdomain(host)
    for msg in problems:
        yield invalid(path, host, msg)


def _is_ip(value: str) -> bool:
    try:
        ipaddress.ip_address(value)
    except ValueError:
        return False
    return True


def _http_path(entry: Mapping[str, Any], path: str) -> Iterator[FieldError]:
    path_type = entry.get("pathType")
    value = entry.get("path") or ""
    if path_type is None:
        yield required(child(path, "pathType"), "pathType must be specified")
    elif path_type not in _PATH_TYPES:
        yield not_supported(child(path, "pathType"), path_type, _PATH_TYPES)
    elif path_type in ("Exact", "Prefix") and not value.startswith("/"):
        yield invalid(child(path, "path"), value, "must be an absolute path")
    backend = entry.get("backend")
    if backend is None:
        yield required(child(path, "backend"))
    else:
        yield from _backend(backend, child(path, "backend"))


def _backend(backend: Mapping[str, Any], path: str) -> Iterator[FieldError]:
    service, resource = backend.get("service"), backend.get("resource")
    if service is not None and resource is not None:
        yield invalid(path, "", "cannot set both resource and service backends")
        return
    if service is None and resource is None:
        yield invalid(path, "", "resource or service backend is required")
        return
    if service is None:
        return
    name = service.get("name") or ""
    if not name:
        yield required(child(path, "service.name"))
    else:
        for msg in names.dns1035_label(name):
            yield invalid(child(path, "service.name"), name, msg)
    port = service.get("port") or {}
    port_name, number = port.get("name") or "", port.get("number")
    if port_name and number:
        yield invalid(child(path, "service.port"), "", "cannot set both port name & port number")
    elif port_name:
        for msg in names.port_name(port_name):
            yield invalid(child(path, "service.port.name"), port_name, msg)
    elif number:
        for msg in names.port_number(number):
            yield invalid(child(path, "service.port.number"), number, msg)
    else:
        yield required(child(path, "service.port"), "port name or number is required")


def network_policy(obj: Mapping[str, Any]) -> Iterator[FieldError]:
    spec = obj.get("spec") or {}
    yield from meta.label_selector(spec.get("podSelector"), "spec.podSelector")
    for direction, peers_field in (("ingress", "from"), ("egress", "to")):
        for index, rule in enumerate(spec.get(direction) or ()):
            item = f"spec.{direction}[{index}]"
            for port_index, port in enumerate(rule.get("ports") or ()):
                yield from _policy_port(port, f"{item}.ports[{port_index}]")
            for peer_index, peer in enumerate(rule.get(peers_field) or ()):
                yield from _peer(peer, f"{item}.{peers_field}[{peer_index}]")
    types = spec.get("policyTypes") or []
    for index, policy_type in enumerate(types):
        if policy_type not in _POLICY_TYPES:
            yield not_supported(f"spec.policyTypes[{index}]", policy_type, _POLICY_TYPES)
    if len(types) > 2:
        yield invalid("spec.policyTypes", types, "may not specify more than two policyTypes")


def _policy_port(port: Mapping[str, Any], path: str) -> Iterator[FieldError]:
    protocol = port.get("protocol") or "TCP"
    if protocol not in _PROTOCOLS:
        yield not_supported(child(path, "protocol"), protocol, _PROTOCOLS)
    value = port.get("port")
    yield from pods.port_num_or_name(value, child(path, "port"))
    end = port.get("endPort")
    if end is not None:
        if not isinstance(value, int):
            yield required(child(path, "port"), "must be specified when endPort is specified")
        elif end < value:
            yield invalid(child(path, "endPort"), end, "must be greater than or equal to `port`")


def _peer(peer: Mapping[str, Any], path: str) -> Iterator[FieldError]:
    present = [
        k for k in ("podSelector", "namespaceSelector", "ipBlock") if peer.get(k) is not None
    ]
    if not present:
        yield required(path, "must specify a peer")
    elif "ipBlock" in present and len(present) > 1:
        yield forbidden(path, "may not specify both ipBlock and another peer")
    yield from meta.label_selector(peer.get("podSelector"), child(path, "podSelector"))
    yield from meta.label_selector(peer.get("namespaceSelector"), child(path, "namespaceSelector"))
    block = peer.get("ipBlock")
    if block is not None:
        cidr = block.get("cidr") or ""
        if not cidr:
            yield required(child(path, "ipBlock.cidr"))
        else:
            try:
                ipaddress.ip_network(cidr, strict=False)
            except ValueError:
                detail = "must be a valid CIDR value, (e.g. 10.9.8.0/24 or 2001:db8::/64)"
                yield invalid(child(path, "ipBlock.cidr"), cidr, detail)
