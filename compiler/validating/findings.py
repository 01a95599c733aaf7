"""Finding: one schema error or policy warning about one document in a stream.

The common currency of the validating stage: schema checks, policy rules and the YAML loader all
return lists of these; the CLI prints them with __str__, the API returns to_dict(). No I/O here.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Literal

Severity = Literal["error", "warning"]

# A key that reads unambiguously after a dot; anything else ("nvidia.com/gpu") is bracket-quoted.
_PLAIN_KEY = re.compile(r"^[A-Za-z_$][A-Za-z0-9_$-]*$")


@dataclass(frozen=True, slots=True)
class Finding:
    severity: Severity
    rule: str
    message: str
    doc_index: int
    kind: str | None
    name: str | None
    path: str
    line: int | None = None  # set by the YAML loader, which reads lines rather than objects

    @property
    def is_error(self) -> bool:
        return self.severity == "error"

    def to_dict(self) -> dict[str, Any]:
        return {
            "severity": self.severity,
            "rule": self.rule,
            "message": self.message,
            "doc_index": self.doc_index,
            "kind": self.kind,
            "name": self.name,
            "path": self.path,
            "line": self.line,
        }

    def __str__(self) -> str:
        if self.rule == "yaml":  # about the text, before there is an object to name
            return self.message
        subject = f"{self.kind or '?'}/{self.name or '?'}"
        where = f"{self.path}: " if self.path else ""
        return f"doc {self.doc_index} {subject}: {where}{self.message}"


def json_path(parts: Iterable[str | int]) -> str:
    """Render a path like spec.template.spec.containers[0].resources.requests["nvidia.com/gpu"]."""
    out: list[str] = []
    for part in parts:
        if isinstance(part, int):
            out.append(f"[{part}]")
        elif _PLAIN_KEY.match(part):
            out.append(f".{part}" if out else part)
        else:
            escaped = part.replace("\\", "\\\\").replace('"', '\\"')
            out.append(f'["{escaped}"]')
    return "".join(out)


def sort_findings(findings: Iterable[Finding]) -> list[Finding]:
    """Stable, deterministic order: by document, errors before warnings, then path and rule."""
    return sorted(
        findings,
        key=lambda f: (f.doc_index, f.severity != "error", f.path, f.rule, f.message),
    )
