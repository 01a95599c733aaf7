"""The validating stage's verb: Kubernetes objects in, findings (schema errors, warnings) out.

ManifestValidator pins a Kubernetes version and keeps its compiled schemas, so one instance should
serve many calls. Every document gets every schema error it has (with document index, kind/name and
JSON path); every document that passes its schema then gets the API server's own create-time
rules (apiserver/), and the policy rules add warnings. Never raises for bad documents; only an
unsupported Kubernetes version (UsageError) or a broken schema file (PresetDataInvalid) raise.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Literal

from compiler.validating.apiserver import field_errors
from compiler.validating.findings import Finding, sort_findings
from compiler.validating.policy import run_policy
from compiler.validating.policy_index import PolicyContext
from compiler.validating.schemas import SchemaValidator
from compiler.validating.workloads import name_of

__all__ = ["DEFAULT_POLICY", "ManifestValidator", "PolicyContext"]

DEFAULT_POLICY = PolicyContext()


class ManifestValidator:
    def __init__(
        self,
        kubernetes_version: str = "1.33",
        extra_schemas_dir: Path | None = None,
        cache_dir: Path | None = None,
    ) -> None:
        self._schemas = SchemaValidator(kubernetes_version, extra_schemas_dir, cache_dir)

    @property
    def schema_version(self) -> str:
        """The bundled schema version in use, e.g. "1.33.0"."""
        return self._schemas.schema_version

    def validate(
        self,
        objects: Sequence[Mapping[str, Any]],
        *,
        unknown_kind: Literal["error", "warning"] = "error",
        policy: PolicyContext | None = DEFAULT_POLICY,
        apiserver: bool = True,
    ) -> list[Finding]:
        """Schema findings, the API server's rules for schema-valid documents (apiserver=False
        skips them) and policy warnings (policy=None skips them), in stream order."""
        findings = self.schema_findings(objects, unknown_kind=unknown_kind)
        if apiserver:
            flagged = {f.doc_index for f in findings if f.is_error}
            findings.extend(apiserver_findings(objects, skip=flagged))
        if policy is not None:
            findings.extend(run_policy(objects, policy))
        return sort_findings(findings)

    def schema_findings(
        self,
        objects: Sequence[Mapping[str, Any]],
        *,
        unknown_kind: Literal["error", "warning"] = "error",
    ) -> list[Finding]:
        """Every schema error of every document; unknown kinds as `unknown_kind` says."""
        findings: list[Finding] = []
        for doc_index, obj in enumerate(objects):
            findings.extend(self._check_one(doc_index, obj, unknown_kind))
        return findings

    def _check_one(
        self, doc_index: int, obj: Any, unknown_kind: Literal["error", "warning"]
    ) -> list[Finding]:
        if not isinstance(obj, Mapping):
            return [_bad_document(doc_index, None, None, f"document is a {type(obj).__name__}, "
                                  "not a Kubernetes object")]  # fmt: skip
        api_version, kind = obj.get("apiVersion"), obj.get("kind")
        shown_kind = kind if isinstance(kind, str) else None
        if (
            not isinstance(api_version, str)
            or not isinstance(kind, str)
            or not api_version
            or not kind
        ):
            missing = [
                key for key, value in (("apiVersion", api_version), ("kind", kind))
                if not isinstance(value, str) or not value
            ]  # fmt: skip
            message = f"document has no {' or '.join(missing)} (a string is required)"
            return [_bad_document(doc_index, shown_kind, name_of(obj), message)]
        errors = self._schemas.errors(obj)
        if errors is None:
            message = (
                f"no schema for kind {kind} in {api_version} "
                f"(Kubernetes {self.schema_version} and the bundled CRD schemas)"
            )
            return [
                Finding(unknown_kind, "unknown-kind", message, doc_index, kind, name_of(obj), "")
            ]
        if not errors:
            return []
        name = name_of(obj)
        return [
            Finding("error", "schema", e.message, doc_index, kind, name, e.path) for e in errors
        ]


def apiserver_findings(
    objects: Sequence[Mapping[str, Any]], skip: set[int] | frozenset[int] = frozenset()
) -> list[Finding]:
    """The API server's create-time errors for every document not in `skip` (those that failed
    their schema: the API server would refuse to decode them before validating)."""
    findings: list[Finding] = []
    for doc_index, obj in enumerate(objects):
        if doc_index in skip or not isinstance(obj, Mapping):
            continue
        try:
            errors = field_errors(obj)
        except (AttributeError, TypeError, ValueError) as exc:  # a shape the schema let through
            message = f"API server rules could not read this object ({type(exc).__name__})"
            findings.append(Finding("warning", "apiserver", message, doc_index,
                                    obj.get("kind"), name_of(obj), ""))  # fmt: skip
            continue
        if errors:
            kind, name = obj.get("kind"), name_of(obj)
            findings.extend(
                Finding("error", "apiserver", e.message, doc_index, kind, name, e.path)
                for e in errors
            )
    return findings


def _bad_document(doc_index: int, kind: str | None, name: str | None, message: str) -> Finding:
    return Finding("error", "schema", message, doc_index, kind, name, "")
