"""The validating stage's verb: Kubernetes objects in, findings (schema errors, warnings) out.

ManifestValidator pins a Kubernetes version and keeps its compiled schemas, so one instance should
serve many calls. Every document gets every schema error it has (with document index, kind/name and
JSON path), then the policy rules add warnings. Never raises for bad documents; only an unsupported
Kubernetes version (UsageError) or a broken schema file (PresetDataInvalid) raise.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Literal

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
    ) -> list[Finding]:
        """Schema findings plus policy warnings (policy=None skips the rules), in stream order."""
        findings = self.schema_findings(objects, unknown_kind=unknown_kind)
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
        name = name_of(obj)
        return [
            Finding("error", "schema", e.message, doc_index, kind, name, e.path) for e in errors
        ]


def _bad_document(doc_index: int, kind: str | None, name: str | None, message: str) -> Finding:
    return Finding("error", "schema", message, doc_index, kind, name, "")
