"""Write and edit spec files as people do: new files in a fixed key order, edits that keep the
comments and key order a person wrote (ruamel.yaml round-trip).

Input: spec text and a patch (the API's partial update). Output: new text, validated as a spec
before it is returned, so no invalid spec is ever written. No file I/O here.
"""

from __future__ import annotations

import io
from collections.abc import Mapping
from typing import Any

import yaml as pyyaml
from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import YAMLError
from ruamel.yaml.scalarstring import DoubleQuotedScalarString

from compiler.errors import Location, SpecInvalid
from compiler.spec.loader import parse_spec
from compiler.spec.models import TenantSpec

# Editors with the YAML language server validate the file against tenants/tenant.schema.json.
SCHEMA_COMMENT = "# yaml-language-server: $schema=tenant.schema.json\n"
_KEY_ORDER = (
    "tenant_id",
    "name",
    "preset",
    "service_requirements",
    "sla_target",
    "description",
    "gpu_type",
    "images",
    "ingress_host",
    "labels",
)
# Fields a partial update may not change: the ID is the file's name and the tenant's identity.
_IMMUTABLE = ("tenant_id",)


def _yaml() -> YAML:
    yaml = YAML(typ="rt")
    yaml.indent(mapping=2, sequence=2, offset=0)
    yaml.width = 4096
    yaml.preserve_quotes = True
    yaml.allow_duplicate_keys = False
    return yaml


def _reads_back_as_text(value: str) -> bool:
    """True when a YAML 1.1 loader (ours) reads `value`, written plain, as the same string."""
    try:
        return bool(pyyaml.safe_load(value) == value)
    except pyyaml.YAMLError:
        return False


def _quote_ambiguous(node: Any) -> Any:
    """Quote strings like 'on', 'no' or '1:20' that YAML 1.1 would read as bools or numbers;
    ruamel writes YAML 1.2, where they are plain text, but specs are read as YAML 1.1."""
    if isinstance(node, str) and not isinstance(node, DoubleQuotedScalarString):
        return node if _reads_back_as_text(node) else DoubleQuotedScalarString(node)
    if isinstance(node, CommentedMap | dict):
        for key in list(node):
            node[key] = _quote_ambiguous(node[key])
    elif isinstance(node, CommentedSeq | list):
        for i, item in enumerate(node):
            node[i] = _quote_ambiguous(item)
    return node


def _dump(data: Any) -> str:
    buffer = io.StringIO()
    _yaml().dump(data, buffer)
    return buffer.getvalue()


def new_spec_text(spec: TenantSpec) -> str:
    """A new spec file: only the fields that were set or differ from defaults, in a fixed order."""
    data = spec.model_dump(mode="json", exclude_defaults=True)
    data["tenant_id"] = spec.tenant_id
    data["service_requirements"] = spec.service_requirements.given() or (
        spec.service_requirements.enabled()
    )
    if "sla_target" in spec.model_fields_set:
        data["sla_target"] = spec.sla_target.model_dump(mode="json", exclude_none=True)
    ordered = CommentedMap((key, data[key]) for key in _KEY_ORDER if key in data)
    return SCHEMA_COMMENT + _dump(_quote_ambiguous(ordered))


def _merge(target: CommentedMap, patch: Mapping[str, Any]) -> None:
    for key, value in patch.items():
        current = target.get(key)
        if isinstance(value, Mapping) and isinstance(current, CommentedMap):
            _merge(current, value)
        elif value is None:
            target.pop(key, None)
        else:
            target[key] = _quote_ambiguous(value)


def apply_update(text: str, patch: Mapping[str, Any], source: str) -> str:
    """Merge `patch` into the spec text (nested mappings merge; None removes a key)."""
    for key in _IMMUTABLE:
        if key in patch:
            raise SpecInvalid(
                f"{key} cannot be changed by an update",
                details={"field": key},
                location=Location(file=source, field=key),
            )
    try:
        data = _yaml().load(text)
    except YAMLError as exc:
        raise SpecInvalid(f"invalid YAML: {exc}", location=Location(file=source)) from exc
    if not isinstance(data, CommentedMap):
        raise SpecInvalid("a tenant spec must be a YAML mapping", location=Location(file=source))
    _merge(data, patch)
    updated = _dump(data)
    parse_spec(updated, source)  # validate before anyone writes it
    return updated
