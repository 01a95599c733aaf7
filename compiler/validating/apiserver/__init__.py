"""The API server's own create-time validation, offline: objects that passed the schema check to
error Findings worded as a real API server words them (`metadata.name: Required value: name or
generateName is required`), for the kinds in kinds.KINDS.

Rules are read from Kubernetes' validation code (pkg/apis/*/validation, apimachinery's
util/validation) and kept as small per-kind modules; names.py holds the syntax checks. Only create
is modelled (no admission, no cluster state). Pure: no I/O, never raises on an object it checks.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from compiler.validating.apiserver.fielderrors import FieldError
from compiler.validating.apiserver.kinds import KINDS, field_errors, rules_for

__all__ = ["KINDS", "FieldError", "field_errors", "rules_for", "supported"]


def supported(obj: Mapping[str, Any]) -> bool:
    return rules_for(obj.get("apiVersion") or "", obj.get("kind") or "") is not None
