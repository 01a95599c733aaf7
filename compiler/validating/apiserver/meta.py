"""ObjectMeta, labels, annotations and label selectors, as apimachinery's api/validation and
apis/meta/v1/validation check them on create.

metadata.namespace is not required: kubectl fills it from the request. A namespace on a
cluster-scoped kind is cleared by the API server, so it is not reported either. Pure, no I/O.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from compiler.validating.apiserver import names
from compiler.validating.apiserver.fielderrors import (
    FieldError,
    child,
    forbidden,
    invalid,
    required,
    too_long,
)

TOTAL_ANNOTATION_SIZE = 256 * 1024  # apimachinery TotalAnnotationSizeLimitB
_SELECTOR_OPERATORS = frozenset({"In", "NotIn", "Exists", "DoesNotExist"})


def object_meta(
    meta: Mapping[str, Any], name_check: names.NameCheck, namespaced: bool, path: str = "metadata"
) -> Iterator[FieldError]:
    generate_name = meta.get("generateName") or ""
    name = meta.get("name") or ""
    if generate_name:
        for msg in name_check(generate_name, True):
            yield invalid(child(path, "generateName"), generate_name, msg)
    if not name and not generate_name:
        yield required(child(path, "name"), "name or generateName is required")
    elif name:
        for msg in name_check(name, False):
            yield invalid(child(path, "name"), name, msg)
    namespace = meta.get("namespace")
    if namespaced and namespace:
        for msg in names.dns1123_label(namespace):
            yield invalid(child(path, "namespace"), namespace, msg)
    yield from label_map(meta.get("labels"), child(path, "labels"))
    yield from annotation_map(meta.get("annotations"), child(path, "annotations"))
    for finalizer in meta.get("finalizers") or ():
        for msg in names.qualified_name(finalizer):
            yield invalid(child(path, "finalizers"), finalizer, msg)
    generation = meta.get("generation")
    if isinstance(generation, int) and generation < 0:
        yield invalid(child(path, "generation"), generation, "must be greater than or equal to 0")


def label_map(values: Mapping[str, Any] | None, path: str) -> Iterator[FieldError]:
    if not values:
        return
    for label_key, value in values.items():
        if names.valid_label(label_key, value):
            continue
        for msg in names.qualified_name(label_key):
            yield invalid(path, label_key, msg)
        if isinstance(value, str):
            for msg in names.label_value(value):
                yield invalid(path, value, msg)


def annotation_map(values: Mapping[str, Any] | None, path: str) -> Iterator[FieldError]:
    if not values:
        return
    size = 0
    for annotation_key, value in values.items():
        # QualifiedName, except that case does not matter (objectmeta.go lowercases first)
        for msg in names.qualified_name(annotation_key.lower()):
            yield invalid(path, annotation_key, msg)
        size += len(annotation_key.encode()) + len(str(value).encode())
    if size > TOTAL_ANNOTATION_SIZE:
        yield too_long(path, TOTAL_ANNOTATION_SIZE)


def label_selector(selector: Mapping[str, Any] | None, path: str) -> Iterator[FieldError]:
    if not selector:
        return
    yield from label_map(selector.get("matchLabels"), child(path, "matchLabels"))
    for index, expression in enumerate(selector.get("matchExpressions") or ()):
        expr_path = f"{child(path, 'matchExpressions')}[{index}]"
        operator, values = expression.get("operator"), expression.get("values") or []
        if operator in ("In", "NotIn"):
            if not values:
                yield required(
                    child(expr_path, "values"),
                    "must be specified when `operator` is 'In' or 'NotIn'",
                )
        elif operator in ("Exists", "DoesNotExist"):
            if values:
                yield forbidden(
                    child(expr_path, "values"),
                    "may not be specified when `operator` is 'Exists' or 'DoesNotExist'",
                )
        else:
            yield invalid(child(expr_path, "operator"), operator, "not a valid selector operator")
        for msg in names.qualified_name(expression.get("key") or ""):
            yield invalid(child(expr_path, "key"), expression.get("key") or "", msg)


def selector_matches(selector: Mapping[str, Any], pod_labels: Mapping[str, Any]) -> bool:
    """labels.Selector.Matches for a metav1.LabelSelector already known to be well formed."""
    match_labels = selector.get("matchLabels") or {}
    if any(pod_labels.get(k) != v for k, v in match_labels.items()):
        return False
    for expression in selector.get("matchExpressions") or ():
        k, op, values = expression.get("key"), expression.get("operator"), expression.get("values")
        present = k in pod_labels
        if op == "In" and not (present and pod_labels[k] in (values or ())):
            return False
        if op == "NotIn" and present and pod_labels[k] in (values or ()):
            return False
        if op == "Exists" and not present:
            return False
        if op == "DoesNotExist" and present:
            return False
    return True


def selector_is_well_formed(selector: Mapping[str, Any] | None) -> bool:
    """Whether LabelSelectorAsSelector would convert it (operators known, values as required)."""
    if selector is None:
        return True
    for expression in selector.get("matchExpressions") or ():
        operator, values = expression.get("operator"), expression.get("values") or []
        if operator not in _SELECTOR_OPERATORS:
            return False
        if (operator in ("In", "NotIn")) != bool(values):
            return False
    return True
