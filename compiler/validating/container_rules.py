"""Policy rules that look at one container at a time (kube-linter ids where kube-linter has one).

Each check takes a container (and its pod spec) and yields (relative path, message) for what it
flags; policy.py turns those into warnings with the full JSON path. Messages never quote env
values or other data that may be secret. No I/O here.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from typing import Any

from compiler.validating.policy_index import PolicyContext
from compiler.validating.workloads import PathParts, dig

Hit = tuple[PathParts, str]
_SECRET_NAME = re.compile(r"PASSWORD|PASSWD|SECRET|TOKEN|KEY", re.IGNORECASE)


def unset_cpu_requirements(container: Mapping[str, Any], *_: Any) -> Iterator[Hit]:
    yield from _unset(container, "cpu")


def unset_memory_requirements(container: Mapping[str, Any], *_: Any) -> Iterator[Hit]:
    yield from _unset(container, "memory")


def _unset(container: Mapping[str, Any], resource: str) -> Iterator[Hit]:
    missing = [
        section
        for section in ("requests", "limits")
        if not isinstance(dig(container, "resources", section), Mapping)
        or resource not in container["resources"][section]
    ]
    if missing:
        yield ("resources",), f"container has no {resource} {' or '.join(missing)}"


def latest_tag(container: Mapping[str, Any], *_: Any) -> Iterator[Hit]:
    image = container.get("image")
    if not isinstance(image, str) or "@" in image:
        return  # pinned by digest, or a schema problem
    last = image.rsplit("/", 1)[-1]
    if ":" not in last:
        yield ("image",), f"image {image!r} has no tag (pulls :latest)"
    elif last.rsplit(":", 1)[1] == "latest":
        yield ("image",), f"image {image!r} uses the :latest tag"


def liveness_probe_short(
    container: Mapping[str, Any], _pod: Mapping[str, Any], context: PolicyContext
) -> Iterator[Hit]:
    probe = container.get("livenessProbe")
    if not isinstance(probe, Mapping):
        return
    # Kubernetes defaults: initialDelaySeconds 0, periodSeconds 10.
    delay, period = probe.get("initialDelaySeconds", 0), probe.get("periodSeconds", 10)
    short = []
    if type(delay) is int and delay < context.recommended_liveness_initial_delay:
        short.append(f"initialDelaySeconds {delay} < {context.recommended_liveness_initial_delay}")
    if type(period) is int and period < context.recommended_liveness_period:
        short.append(f"periodSeconds {period} < {context.recommended_liveness_period}")
    if short:
        yield ("livenessProbe",), f"Liveness probe 설정이 권장값보다 짧습니다 ({', '.join(short)})"


def liveness_port(container: Mapping[str, Any], *_: Any) -> Iterator[Hit]:
    yield from _probe_port(container, "livenessProbe")


def readiness_port(container: Mapping[str, Any], *_: Any) -> Iterator[Hit]:
    yield from _probe_port(container, "readinessProbe")


def _probe_port(container: Mapping[str, Any], probe_field: str) -> Iterator[Hit]:
    probe = container.get(probe_field)
    if not isinstance(probe, Mapping):
        return
    ports = container.get("ports")
    if not isinstance(ports, list):
        ports = []
    numbers = {p.get("containerPort") for p in ports if isinstance(p, Mapping)}
    names = {p.get("name") for p in ports if isinstance(p, Mapping)}
    for handler in ("httpGet", "tcpSocket", "grpc"):
        port = dig(probe, handler, "port")
        if port is None:
            continue
        exposed = port in names if isinstance(port, str) else port in numbers
        if not exposed:
            yield (
                (probe_field, handler, "port"),
                f"{probe_field} uses port {port!r}, which the container does not expose",
            )


def run_as_non_root(container: Mapping[str, Any], pod: Mapping[str, Any], *_: Any) -> Iterator[Hit]:
    # The container's securityContext wins over the pod's, field by field.
    for context in (container.get("securityContext"), pod.get("securityContext")):
        if not isinstance(context, Mapping):
            continue
        non_root, user = context.get("runAsNonRoot"), context.get("runAsUser")
        if non_root is False or user == 0:
            break
        if non_root is True or (type(user) is int and user > 0):
            return
    yield (
        ("securityContext",),
        "container may run as root: set runAsNonRoot: true or a runAsUser > 0",
    )


def privilege_escalation_container(container: Mapping[str, Any], *_: Any) -> Iterator[Hit]:
    context = container.get("securityContext")
    if not isinstance(context, Mapping):
        return
    added = dig(context, "capabilities", "add")
    if context.get("allowPrivilegeEscalation") is True:
        yield (
            ("securityContext", "allowPrivilegeEscalation"),
            "container allows privilege escalation",
        )
    elif context.get("privileged") is True:
        yield ("securityContext", "privileged"), "privileged container can escalate privileges"
    elif isinstance(added, list) and "SYS_ADMIN" in added:
        yield (
            ("securityContext", "capabilities", "add"),
            "SYS_ADMIN capability allows privilege escalation",
        )


def env_var_secret(container: Mapping[str, Any], *_: Any) -> Iterator[Hit]:
    env = container.get("env")
    if not isinstance(env, list):
        return
    for index, variable in enumerate(env):
        if not isinstance(variable, Mapping):
            continue
        name, value = variable.get("name"), variable.get("value")
        if isinstance(name, str) and _SECRET_NAME.search(name) and value not in (None, ""):
            yield (
                ("env", index, "value"),
                (
                    f"environment variable {name} looks like a secret but has a literal value; "
                    "use valueFrom.secretKeyRef"
                ),
            )
