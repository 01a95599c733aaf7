"""Update-time validation: fields the API server refuses to change on an existing object, so
that a change which compiles cleanly is flagged before `kubectl apply` (or a GitOps sync) fails.

Input: the old and the new version of the same object (same group, kind, namespace, name).
Output: FieldErrors worded as the API server words them (ValidateImmutableField's "field is
immutable", the StatefulSet and PVC spec rules). Pure, no I/O.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from compiler.validating.apiserver.fielderrors import FieldError, forbidden, invalid

IMMUTABLE = "field is immutable"  # apimachinery FieldImmutableErrorMsg
_STATEFULSET_MUTABLE = ("replicas", "ordinals", "template", "updateStrategy",
                        "persistentVolumeClaimRetentionPolicy", "minReadySeconds")  # fmt: skip
_STATEFULSET_FORBIDDEN = (
    "updates to statefulset spec for fields other than 'replicas', 'ordinals', 'template', "
    "'updateStrategy', 'persistentVolumeClaimRetentionPolicy' and 'minReadySeconds' are forbidden"
)
_PVC_FORBIDDEN = (
    "spec is immutable after creation except resources.requests and volumeAttributesClassName "
    "for bound claims"
)
Key = tuple[str, str, str | None, str]


def _spec(obj: Mapping[str, Any]) -> Mapping[str, Any]:
    spec = obj.get("spec")
    return spec if isinstance(spec, Mapping) else {}


def update_errors(old: Mapping[str, Any], new: Mapping[str, Any]) -> list[FieldError]:
    kind = new.get("kind")
    old_spec, new_spec = _spec(old), _spec(new)
    errors: list[FieldError] = []
    selector_fixed = kind in ("Deployment", "ReplicaSet", "DaemonSet") or (
        kind == "Job" and old_spec.get("manualSelector")
    )
    if selector_fixed and old_spec.get("selector") != new_spec.get("selector"):
        errors.append(invalid("spec.selector", new_spec.get("selector"), IMMUTABLE))
    if kind == "Job" and old_spec.get("template") != new_spec.get("template"):
        errors.append(invalid("spec.template", new_spec.get("template"), IMMUTABLE))
    if kind == "StatefulSet":
        rest_old = {k: v for k, v in old_spec.items() if k not in _STATEFULSET_MUTABLE}
        rest_new = {k: v for k, v in new_spec.items() if k not in _STATEFULSET_MUTABLE}
        if rest_old != rest_new:
            errors.append(forbidden("spec", _STATEFULSET_FORBIDDEN))
    if kind == "Service":
        before, after = old_spec.get("clusterIP"), new_spec.get("clusterIP")
        if before and new_spec.get("type") != "ExternalName" and after != before:
            errors.append(invalid("spec.clusterIP", after, IMMUTABLE))
    if kind == "PersistentVolumeClaim":
        strip = ("resources", "volumeAttributesClassName")
        if {k: v for k, v in old_spec.items() if k not in strip} != {
            k: v for k, v in new_spec.items() if k not in strip
        }:
            errors.append(forbidden("spec", _PVC_FORBIDDEN))
    return errors


def _key(obj: Mapping[str, Any]) -> Key | None:
    meta = obj.get("metadata")
    if not isinstance(meta, Mapping) or not isinstance(meta.get("name"), str):
        return None
    group = str(obj.get("apiVersion", "")).rpartition("/")[0]
    return (group, str(obj.get("kind")), meta.get("namespace"), meta["name"])


def immutable_changes(
    old_objects: Iterable[Any], new_objects: Iterable[Any]
) -> Iterator[tuple[str, FieldError]]:
    """(Kind/name, error) for every object present on both sides whose change the API server
    refuses; an object that is deleted and recreated instead is not judged."""
    old_by_key = {k: o for o in old_objects if isinstance(o, Mapping) and (k := _key(o))}
    for obj in new_objects:
        if not isinstance(obj, Mapping):
            continue
        key = _key(obj)
        previous = old_by_key.get(key) if key else None
        if previous is not None and key is not None:
            for error in update_errors(previous, obj):
                yield f"{key[1]}/{key[3]}", error
