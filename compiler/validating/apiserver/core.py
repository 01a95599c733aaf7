"""Core kinds besides pods, as pkg/apis/core/validation checks them: Service, ConfigMap, Secret,
ResourceQuota, LimitRange, PersistentVolumeClaim (Namespace and ServiceAccount need only their
metadata). Defaults the API server applies first (Service type ClusterIP, protocol TCP,
targetPort = port) count as set. Pure, no I/O.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Iterator, Mapping
from typing import Any

from compiler.validating.apiserver import meta, names, pods, quantities
from compiler.validating.apiserver.fielderrors import (
    FieldError,
    child,
    duplicate,
    forbidden,
    invalid,
    key,
    not_supported,
    required,
    too_long,
)

MAX_SECRET_SIZE = 1024 * 1024  # core.MaxSecretSize, also the ConfigMap limit
_SERVICE_TYPES = ("ClusterIP", "ExternalName", "LoadBalancer", "NodePort")
_PROTOCOLS = ("SCTP", "TCP", "UDP")
_ACCESS_MODES = ("ReadOnlyMany", "ReadWriteMany", "ReadWriteOnce", "ReadWriteOncePod")
_VOLUME_MODES = ("Block", "Filesystem")
_QUOTA_NAMES = frozenset({
    "pods", "services", "replicationcontrollers", "resourcequotas", "secrets", "configmaps",
    "persistentvolumeclaims", "services.nodeports", "services.loadbalancers", "cpu", "memory",
    "ephemeral-storage", "requests.cpu", "requests.memory", "requests.storage",
    "requests.ephemeral-storage", "limits.cpu", "limits.memory", "limits.ephemeral-storage",
})  # fmt: skip
_SECRET_REQUIRED_KEYS = {
    "kubernetes.io/tls": ("tls.crt", "tls.key"),
    "kubernetes.io/dockerconfigjson": (".dockerconfigjson",),
    "kubernetes.io/dockercfg": (".dockercfg",),
    "kubernetes.io/ssh-auth": ("ssh-privatekey",),
}


def service(obj: Mapping[str, Any]) -> Iterator[FieldError]:
    spec = obj.get("spec") or {}
    kind = spec.get("type") or "ClusterIP"
    cluster_ip = spec.get("clusterIP") or ""
    ports = spec.get("ports") or []
    if not ports and cluster_ip != "None" and kind != "ExternalName":
        yield required("spec.ports")
    if kind in ("LoadBalancer", "NodePort") and cluster_ip == "None":
        yield invalid("spec.clusterIP", cluster_ip,
                      f"may not be set to 'None' for {kind} services")  # fmt: skip
    if kind == "ExternalName":
        if cluster_ip:
            yield forbidden("spec.clusterIP", "must be empty for ExternalName services")
        external = spec.get("externalName") or ""
        if not external:
            yield required("spec.externalName")
        else:
            for msg in names.dns1123_subdomain(external.removesuffix(".")):
                yield invalid("spec.externalName", external, msg)
    seen_names: set[str] = set()
    for index, port in enumerate(ports):
        yield from _service_port(port, f"spec.ports[{index}]", len(ports) > 1, seen_names)
        if kind == "ClusterIP" and port.get("nodePort"):
            yield forbidden(
                f"spec.ports[{index}].nodePort", "may not be used when `type` is 'ClusterIP'"
            )
    yield from meta.label_map(spec.get("selector"), "spec.selector")
    if kind not in _SERVICE_TYPES:
        yield not_supported("spec.type", kind, _SERVICE_TYPES)
    affinity = spec.get("sessionAffinity") or "None"
    if affinity not in ("ClientIP", "None"):
        yield not_supported("spec.sessionAffinity", affinity, ("ClientIP", "None"))


def _service_port(
    port: Mapping[str, Any], path: str, require_name: bool, seen: set[str]
) -> Iterator[FieldError]:
    name = port.get("name") or ""
    if require_name and not name:
        yield required(child(path, "name"))
    elif name:
        for msg in names.dns1123_label(name):
            yield invalid(child(path, "name"), name, msg)
        if name in seen:
            yield duplicate(child(path, "name"), name)
        seen.add(name)
    number = port.get("port") or 0
    for msg in names.port_number(number):
        yield invalid(child(path, "port"), number, msg)
    protocol = port.get("protocol") or "TCP"
    if protocol not in _PROTOCOLS:
        yield not_supported(child(path, "protocol"), protocol, _PROTOCOLS)
    target = port.get("targetPort")
    if target not in (None, 0, ""):
        yield from pods.port_num_or_name(target, child(path, "targetPort"))


def config_map(obj: Mapping[str, Any]) -> Iterator[FieldError]:
    data, binary = obj.get("data") or {}, obj.get("binaryData") or {}
    size = 0
    for data_key, value in data.items():
        for msg in names.config_map_key(data_key):
            yield invalid(key("data", data_key), data_key, msg)
        if data_key in binary:
            yield invalid(key("data", data_key), data_key, "duplicate of key present in binaryData")
        size += len(str(value).encode())
    for data_key, value in binary.items():
        for msg in names.config_map_key(data_key):
            yield invalid(key("binaryData", data_key), data_key, msg)
        size += len(_decoded(value))
    if size > MAX_SECRET_SIZE:
        yield too_long("", MAX_SECRET_SIZE)


def secret(obj: Mapping[str, Any]) -> Iterator[FieldError]:
    data = obj.get("data") or {}
    string_data = obj.get("stringData") or {}
    size = 0
    # stringData is merged into data (during conversion) before validation
    for data_key in {**data, **string_data}:
        for msg in names.config_map_key(data_key):
            yield invalid(key("data", data_key), data_key, msg)
    merged = {k: _decoded(v) for k, v in data.items()}
    merged.update({k: str(v).encode() for k, v in string_data.items()})
    size = sum(len(v) for v in merged.values())
    if size > MAX_SECRET_SIZE:
        yield too_long("data", MAX_SECRET_SIZE)
    kind = obj.get("type") or "Opaque"
    for needed in _SECRET_REQUIRED_KEYS.get(kind, ()):
        if needed not in merged:
            yield required(key("data", needed))
    if kind == "kubernetes.io/basic-auth" and not (
        merged.get("username") or merged.get("password")
    ):
        yield required(key("data", "username"))
        yield required(key("data", "password"))
    if kind == "kubernetes.io/service-account-token":
        annotations = (obj.get("metadata") or {}).get("annotations") or {}
        if not annotations.get("kubernetes.io/service-account.name"):
            yield required(key("metadata.annotations", "kubernetes.io/service-account.name"))


def _decoded(value: Any) -> bytes:
    try:
        return base64.b64decode(str(value), validate=False)
    except (binascii.Error, ValueError):
        return str(value).encode()


def resource_quota(obj: Mapping[str, Any]) -> Iterator[FieldError]:
    for section in ("hard",):
        for name, amount in ((obj.get("spec") or {}).get(section) or {}).items():
            path = key(f"spec.{section}", name)
            if "/" in name:
                for msg in names.qualified_name(name):
                    yield invalid(path, name, msg)
            elif name not in _QUOTA_NAMES and not name.startswith(
                ("hugepages-", "requests.hugepages-")
            ):
                yield invalid(path, name, "must be a standard resource for quota")
            parsed = quantities.value(amount)
            if parsed is not None and parsed < 0:
                yield invalid(path, quantities.canonical(amount), pods.NONNEGATIVE)


_LIMIT_ORDER = (
    # (lower field, higher field, message): LimitRange pairs that must be ordered
    ("min", "max", "min value {lo} is greater than max value {hi}"),
    ("defaultRequest", "default",
     "default request value {lo} is greater than default limit value {hi}"),
    ("default", "max", "default value {lo} is greater than max value {hi}"),
    ("min", "default", "min value {lo} is greater than default value {hi}"),
    ("defaultRequest", "max", "default request value {lo} is greater than max value {hi}"),
    ("min", "defaultRequest", "min value {lo} is greater than default request value {hi}"),
)  # fmt: skip


def limit_range(obj: Mapping[str, Any]) -> Iterator[FieldError]:
    for index, limit in enumerate((obj.get("spec") or {}).get("limits") or ()):
        item = f"spec.limits[{index}]"
        kind = limit.get("type") or ""
        if kind not in ("Container", "Pod", "PersistentVolumeClaim"):
            yield not_supported(child(item, "type"), kind,
                                ("Container", "PersistentVolumeClaim", "Pod"))  # fmt: skip
            continue
        for lower, higher, message in _LIMIT_ORDER:
            lows, highs = limit.get(lower) or {}, limit.get(higher) or {}
            for name, low in lows.items():
                lo, hi = quantities.value(low), quantities.value(highs.get(name))
                if lo is not None and hi is not None and lo > hi:
                    yield invalid(key(child(item, lower), name), quantities.canonical(low),
                                  message.format(lo=quantities.canonical(low),
                                                 hi=quantities.canonical(highs[name])))  # fmt: skip


def persistent_volume_claim(obj: Mapping[str, Any]) -> Iterator[FieldError]:
    spec = obj.get("spec") or {}
    modes = spec.get("accessModes") or []
    if not modes:
        yield required("spec.accessModes", "at least 1 access mode is required")
    for mode in modes:
        if mode not in _ACCESS_MODES:
            yield not_supported("spec.accessModes", mode, _ACCESS_MODES)
    if "ReadWriteOncePod" in modes and len(modes) > 1:
        yield forbidden("spec.accessModes", "may not use ReadWriteOncePod with other access modes")
    storage = ((spec.get("resources") or {}).get("requests") or {}).get("storage")
    if storage is None:
        yield required(key("spec.resources", "storage"))
    else:
        amount = quantities.value(storage)
        if amount is not None and amount <= 0:
            yield invalid(key("spec.resources.requests", "storage"), quantities.canonical(storage),
                          "must be greater than zero")  # fmt: skip
    storage_class = spec.get("storageClassName")
    if storage_class:
        for msg in names.dns1123_subdomain(storage_class):
            yield invalid("spec.storageClassName", storage_class, msg)
    mode = spec.get("volumeMode")
    if mode is not None and mode not in _VOLUME_MODES:
        yield not_supported("spec.volumeMode", mode, _VOLUME_MODES)
    yield from meta.label_selector(spec.get("selector"), "spec.selector")
