"""Pod specs and pod templates, as pkg/apis/core/validation (ValidatePodTemplateSpec,
ValidatePodSpec, validateContainers, ValidateResourceRequirements, validateProbe) checks them.

Defaults the API server applies before validating (restartPolicy Always, port protocol TCP, probe
periods) count as set. Shared by the workload kinds (apps, batch) and Pod. Pure, no I/O.
"""

from __future__ import annotations

from collections.abc import Generator, Iterator, Mapping
from typing import Any

from compiler.validating.apiserver import meta, names, quantities
from compiler.validating.apiserver.fielderrors import (
    FieldError,
    child,
    duplicate,
    forbidden,
    invalid,
    key,
    not_found,
    not_supported,
    required,
)

NONNEGATIVE = "must be greater than or equal to 0"
_PROTOCOLS = ("SCTP", "TCP", "UDP")
_RESTART_POLICIES = ("Always", "Never", "OnFailure")
_STANDARD_CONTAINER_RESOURCES = frozenset({"cpu", "memory", "ephemeral-storage"})
# Resources the scheduler may overcommit; every other (extended) resource needs request = limit.
_OVERCOMMIT_PREFIXES = ("hugepages-",)
_PROBES = ("livenessProbe", "readinessProbe", "startupProbe")
_HANDLERS = ("exec", "httpGet", "tcpSocket", "grpc")
_TOLERATION_OPERATORS = ("Equal", "Exists")
_TAINT_EFFECTS = ("NoExecute", "NoSchedule", "PreferNoSchedule")
_WHEN_UNSATISFIABLE = ("DoNotSchedule", "ScheduleAnyway")


def template(tmpl: Mapping[str, Any] | None, path: str) -> Iterator[FieldError]:
    """ValidatePodTemplateSpec: labels and annotations under <path>.labels, then the pod spec."""
    if tmpl is None:
        yield required(path)
        return
    metadata = tmpl.get("metadata") or {}
    yield from meta.label_map(metadata.get("labels"), child(path, "labels"))
    yield from meta.annotation_map(metadata.get("annotations"), child(path, "annotations"))
    yield from pod_spec(tmpl.get("spec") or {}, child(path, "spec"))


def restart_policy(spec: Mapping[str, Any]) -> str:
    return spec.get("restartPolicy") or "Always"  # SetDefaults_PodSpec


def pod_spec(spec: Mapping[str, Any], path: str) -> Iterator[FieldError]:
    volumes = yield from _volumes(spec.get("volumes") or (), child(path, "volumes"))
    seen_names: set[str] = set()
    containers = spec.get("containers") or []
    if not containers:
        yield required(child(path, "containers"))
    # regular containers first: an init container reusing their name is the duplicate
    for field in ("containers", "initContainers"):
        for index, container in enumerate(spec.get(field) or ()):
            yield from _container(
                container, f"{child(path, field)}[{index}]", volumes, seen_names,
                init=field == "initContainers")  # fmt: skip
    policy = restart_policy(spec)
    if policy not in _RESTART_POLICIES:
        yield not_supported(child(path, "restartPolicy"), policy, _RESTART_POLICIES)
    yield from meta.label_map(spec.get("nodeSelector"), child(path, "nodeSelector"))
    account = spec.get("serviceAccountName")
    if account:
        for msg in names.dns1123_subdomain(account):
            yield invalid(child(path, "serviceAccountName"), account, msg)
    for field in ("terminationGracePeriodSeconds", "activeDeadlineSeconds"):
        seconds = spec.get(field)
        if isinstance(seconds, int) and seconds < 0 and field == "terminationGracePeriodSeconds":
            yield invalid(child(path, field), seconds, NONNEGATIVE)
        elif isinstance(seconds, int) and seconds <= 0 and field == "activeDeadlineSeconds":
            yield invalid(child(path, field), seconds, "must be greater than 0")
    yield from _tolerations(spec.get("tolerations") or (), child(path, "tolerations"))
    yield from _spread(
        spec.get("topologySpreadConstraints") or (), child(path, "topologySpreadConstraints")
    )


def _volumes(volumes: Any, path: str) -> Generator[FieldError, None, set[str]]:
    found: set[str] = set()
    for index, volume in enumerate(volumes):
        name_path = f"{path}[{index}].name"
        name = volume.get("name") or ""
        if not name:
            yield required(name_path)
            continue
        for msg in names.dns1123_label(name):
            yield invalid(name_path, name, msg)
        if name in found:
            yield duplicate(name_path, name)
        found.add(name)
    return found


def _container(
    container: Mapping[str, Any], path: str, volumes: set[str], seen: set[str], *, init: bool
) -> Iterator[FieldError]:
    name = container.get("name") or ""
    if not name:
        yield required(child(path, "name"))
    else:
        for msg in names.dns1123_label(name):
            yield invalid(child(path, "name"), name, msg)
        if name in seen:
            yield duplicate(child(path, "name"), name)
        seen.add(name)
    image = container.get("image") or ""
    if not image:
        yield required(child(path, "image"))
    elif image != image.strip():
        yield invalid(child(path, "image"), image, "must not have leading or trailing whitespace")
    yield from _ports(container.get("ports") or (), child(path, "ports"))
    yield from _env(container.get("env") or (), child(path, "env"))
    yield from _mounts(container.get("volumeMounts") or (), child(path, "volumeMounts"), volumes)
    for probe_field in _PROBES:
        probe = container.get(probe_field)
        if probe is None:
            continue
        probe_path = child(path, probe_field)
        if init and container.get("restartPolicy") != "Always":
            yield forbidden(probe_path, "may not be set for init containers")
            continue
        yield from _probe(probe, probe_path, one_success=probe_field != "readinessProbe")
    yield from _resources(container.get("resources") or {}, child(path, "resources"))


def _ports(ports: Any, path: str) -> Iterator[FieldError]:
    port_names: set[str] = set()
    for index, port in enumerate(ports):
        item = f"{path}[{index}]"
        name = port.get("name") or ""
        if name:
            problems = names.port_name(name)
            for msg in problems:
                yield invalid(child(item, "name"), name, msg)
            if not problems and name in port_names:
                yield duplicate(child(item, "name"), name)
            port_names.add(name)
        number = port.get("containerPort") or 0
        if number == 0:
            yield required(child(item, "containerPort"))
        else:
            for msg in names.port_number(number):
                yield invalid(child(item, "containerPort"), number, msg)
        host = port.get("hostPort") or 0
        if host:
            for msg in names.port_number(host):
                yield invalid(child(item, "hostPort"), host, msg)
        protocol = port.get("protocol") or "TCP"
        if protocol not in _PROTOCOLS:
            yield not_supported(child(item, "protocol"), protocol, _PROTOCOLS)


def _env(env: Any, path: str) -> Iterator[FieldError]:
    for index, var in enumerate(env):
        item = f"{path}[{index}]"
        name = var.get("name") or ""
        if not name:
            yield required(child(item, "name"))
        else:
            for msg in names.relaxed_env_var_name(name):
                yield invalid(child(item, "name"), name, msg)
        source = var.get("valueFrom")
        if source is not None:
            if var.get("value"):
                yield invalid(
                    child(item, "valueFrom"), "", "may not be specified when `value` is not empty"
                )
            sources = ("fieldRef", "resourceFieldRef", "configMapKeyRef", "secretKeyRef")
            kinds = [k for k in sources if source.get(k) is not None]
            if len(kinds) > 1:
                yield invalid(child(item, "valueFrom"), "",
                              "may not have more than one field specified at a time")  # fmt: skip


def _mounts(mounts: Any, path: str, volumes: set[str]) -> Iterator[FieldError]:
    mount_paths: set[str] = set()
    for index, mount in enumerate(mounts):
        item = f"{path}[{index}]"
        name = mount.get("name") or ""
        if not name:
            yield required(child(item, "name"))
        elif name not in volumes:
            yield not_found(child(item, "name"), name)
        mount_path = mount.get("mountPath") or ""
        if not mount_path:
            yield required(child(item, "mountPath"))
        elif mount_path in mount_paths:
            yield invalid(child(item, "mountPath"), mount_path, "must be unique")
        mount_paths.add(mount_path)


def _probe(probe: Mapping[str, Any], path: str, *, one_success: bool) -> Iterator[FieldError]:
    handlers = [h for h in _HANDLERS if probe.get(h) is not None]
    if not handlers:
        yield required(path, "must specify a handler type")
    elif len(handlers) > 1:
        yield forbidden(child(path, handlers[1]), "may not specify more than 1 handler type")
    for field in ("initialDelaySeconds", "timeoutSeconds", "periodSeconds", "successThreshold",
                  "failureThreshold", "terminationGracePeriodSeconds"):  # fmt: skip
        number = probe.get(field)
        if isinstance(number, int) and number < 0:
            yield invalid(child(path, field), number, NONNEGATIVE)
    success = probe.get("successThreshold")
    if one_success and isinstance(success, int) and success > 1:
        yield invalid(child(path, "successThreshold"), success, "must be 1")
    for handler in ("httpGet", "tcpSocket"):
        action = probe.get(handler)
        if isinstance(action, Mapping):
            yield from port_num_or_name(action.get("port"), child(child(path, handler), "port"))
    grpc = probe.get("grpc")
    if isinstance(grpc, Mapping) and isinstance(grpc.get("port"), int):
        for msg in names.port_number(grpc["port"]):
            yield invalid(child(child(path, "grpc"), "port"), grpc["port"], msg)


def port_num_or_name(port: Any, path: str) -> Iterator[FieldError]:
    """ValidatePortNumOrName: an int in 1..65535 or an IANA_SVC_NAME."""
    if isinstance(port, bool) or port is None:
        return
    if isinstance(port, int):
        for msg in names.port_number(port):
            yield invalid(path, port, msg)
    elif isinstance(port, str):
        for msg in names.port_name(port):
            yield invalid(path, port, msg)


def _resources(resources: Mapping[str, Any], path: str) -> Iterator[FieldError]:
    limits = resources.get("limits") or {}
    requests = resources.get("requests") or {}
    limits_path, requests_path = child(path, "limits"), child(path, "requests")
    for name, amount in limits.items():
        yield from _resource_value(name, amount, key(limits_path, name))
    for name, amount in requests.items():
        yield from _resource_value(name, amount, key(requests_path, name))
        request = quantities.value(amount)
        overcommit = _overcommit_allowed(name)
        if name in limits:
            limit = quantities.value(limits[name])
            if request is None or limit is None:
                continue
            if request != limit and not overcommit:
                detail = f"must be equal to {name} limit of {quantities.canonical(limits[name])}"
                yield invalid(requests_path, quantities.canonical(amount), detail)
            elif request > limit:
                shown = quantities.canonical(limits[name])
                detail = f"must be less than or equal to {name} limit of {shown}"
                yield invalid(requests_path, quantities.canonical(amount), detail)
        elif not overcommit:
            yield required(limits_path, "Limit must be set for non overcommitable resources")


def _overcommit_allowed(name: str) -> bool:
    """helper.IsOvercommitAllowed: native resources (no domain, or kubernetes.io) but hugepages."""
    native = "/" not in name or name.split("/", 1)[0].endswith("kubernetes.io")
    return native and not name.startswith(_OVERCOMMIT_PREFIXES)


def _resource_value(name: str, amount: Any, path: str) -> Iterator[FieldError]:
    if "/" not in name:
        if name not in _STANDARD_CONTAINER_RESOURCES and not name.startswith("hugepages-"):
            yield invalid(path, name, "must be a standard resource for containers")
            return
    else:
        for msg in names.qualified_name(name):
            yield invalid(path, name, msg)
    parsed = quantities.value(amount)
    if parsed is None:
        return
    if parsed < 0:
        yield invalid(path, quantities.canonical(amount), NONNEGATIVE)
    elif not _overcommit_allowed(name) and parsed.denominator != 1:
        yield invalid(path, quantities.canonical(amount), "must be an integer")


def _tolerations(tolerations: Any, path: str) -> Iterator[FieldError]:
    for index, toleration in enumerate(tolerations):
        item = f"{path}[{index}]"
        toleration_key = toleration.get("key") or ""
        if toleration_key:
            for msg in names.qualified_name(toleration_key):
                yield invalid(child(item, "key"), toleration_key, msg)
        operator = toleration.get("operator") or "Equal"
        if operator == "Exists" and toleration.get("value"):
            yield invalid(child(item, "operator"), toleration["value"],
                          "value must be empty when `operator` is 'Exists'")  # fmt: skip
        elif operator not in _TOLERATION_OPERATORS:
            yield not_supported(child(item, "operator"), operator, _TOLERATION_OPERATORS)
        elif operator == "Equal" and not toleration_key:
            yield invalid(child(item, "operator"), operator,
                          "operator must be Exists when `key` is empty, which means \"match all "
                          "values and all keys\"")  # fmt: skip
        effect = toleration.get("effect") or ""
        if effect and effect not in _TAINT_EFFECTS:
            yield not_supported(child(item, "effect"), effect, _TAINT_EFFECTS)
        if toleration.get("tolerationSeconds") is not None and effect != "NoExecute":
            yield invalid(child(item, "effect"), effect,
                          "effect must be 'NoExecute' when `tolerationSeconds` is set")  # fmt: skip


def _spread(constraints: Any, path: str) -> Iterator[FieldError]:
    seen: set[tuple[str, str]] = set()
    for index, constraint in enumerate(constraints):
        item = f"{path}[{index}]"
        skew = constraint.get("maxSkew")
        if isinstance(skew, int) and skew <= 0:
            yield invalid(child(item, "maxSkew"), skew, "must be greater than zero")
        topology_key = constraint.get("topologyKey") or ""
        if not topology_key:
            yield required(child(item, "topologyKey"), "can not be empty")
        when = constraint.get("whenUnsatisfiable") or ""
        if when not in _WHEN_UNSATISFIABLE:
            yield not_supported(child(item, "whenUnsatisfiable"), when, _WHEN_UNSATISFIABLE)
        pair = (topology_key, when)
        if topology_key and pair in seen:
            yield duplicate(child(item, "{topologyKey, whenUnsatisfiable}"),
                            f"{{{topology_key}, {when}}}")  # fmt: skip
        seen.add(pair)
        yield from meta.label_selector(
            constraint.get("labelSelector"), child(item, "labelSelector")
        )
