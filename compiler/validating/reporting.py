"""Validation reports in the forms CI tools read: text lines, JSON, SARIF 2.1.0 (GitHub code
scanning) and JUnit XML. Input: one FileReport per checked file (its documents, findings and the
line of each finding). Output: strings and plain data; writing them is the caller's job. No I/O.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET  # builds XML only, never parses input
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import PurePath
from typing import Any

from compiler.validating.findings import Finding
from compiler.validating.policy import RULES
from compiler.validating.summary import resource_summary

SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
# Findings that are not policy rules, with what they mean.
BUILTIN_RULES = {
    "yaml": ("error", "the file is not a readable YAML stream of Kubernetes objects"),
    "read": ("error", "the file cannot be read"),
    "schema": ("error", "the object does not match the Kubernetes schema of its kind (strict)"),
    "unknown-kind": ("warning", "no schema is known for the object's kind"),
    "apiserver": ("error", "the Kubernetes API server's create-time validation rejects the object"),
}


@dataclass
class FileReport:
    file: str
    documents: list[dict[str, Any]] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    lines: list[int | None] = field(default_factory=list)
    # the documents' resource_summary, when `documents` holds only their kinds and names
    summary: dict[str, Any] | None = None

    @property
    def errors(self) -> int:
        return sum(1 for f in self.findings if f.is_error)


def text_lines(reports: Sequence[FileReport]) -> list[str]:
    """file:line: severity: finding, then the summary: one stream, so `> report.txt` keeps all."""
    out = []
    for report in reports:
        for finding, line in zip(report.findings, report.lines, strict=True):
            where = f"{report.file}:{line}" if line else report.file
            out.append(f"{where}: {finding.severity}: {finding}")
    errors = sum(r.errors for r in reports)
    warnings = sum(len(r.findings) for r in reports) - errors
    documents = sum(len(r.documents) for r in reports)
    out.append(
        f"{len(reports)} file(s), {documents} document(s): {errors} error(s), {warnings} warning(s)"
    )
    return out


def json_report(reports: Sequence[FileReport], kubernetes_version: str) -> dict[str, Any]:
    return {
        "valid": all(r.errors == 0 for r in reports),
        "kubernetes_version": kubernetes_version,
        "files": [
            {
                "file": r.file,
                "documents": len(r.documents),
                "findings": [
                    {**f.to_dict(), "line": line}
                    for f, line in zip(r.findings, r.lines, strict=True)
                ],
                "resource_summary": (
                    r.summary if r.summary is not None else resource_summary(r.documents)
                ),
            }
            for r in reports
        ],
    }


def _rule_table() -> list[tuple[str, str, str]]:
    rows = [(rule_id, level, text) for rule_id, (level, text) in BUILTIN_RULES.items()]
    rows += [(rule.id, "warning", rule.description) for rule in RULES]
    return rows


def _uri(file: str) -> str:
    path = PurePath(file)
    return path.as_uri() if path.is_absolute() else path.as_posix()


def sarif_log(reports: Sequence[FileReport], tool_version: str) -> dict[str, Any]:
    """A SARIF 2.1.0 log with one run: every rule described once, every finding a result."""
    table = _rule_table()
    index = {rule_id: i for i, (rule_id, _, _) in enumerate(table)}
    rules = [
        {
            "id": rule_id,
            "shortDescription": {"text": text},
            "defaultConfiguration": {"level": level},
        }
        for rule_id, level, text in table
    ]
    results = []
    for report in reports:
        for finding, line in zip(report.findings, report.lines, strict=True):
            location: dict[str, Any] = {"artifactLocation": {"uri": _uri(report.file)}}
            if line:
                location["region"] = {"startLine": line}
            subject = f"{finding.kind or '?'}/{finding.name or '?'}"
            result: dict[str, Any] = {
                "ruleId": finding.rule,
                "level": finding.severity,
                "message": {"text": str(finding)},
                "locations": [
                    {
                        "physicalLocation": location,
                        "logicalLocations": [
                            {"fullyQualifiedName": f"{subject}/{finding.path}".rstrip("/")}
                        ],
                    }
                ],
            }
            if finding.rule in index:
                result["ruleIndex"] = index[finding.rule]
            results.append(result)
    return {
        "$schema": SARIF_SCHEMA,
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "ecp validate",
                        "version": tool_version,
                        "rules": rules,
                    }
                },
                "results": results,
            }
        ],
    }


def junit_xml(reports: Sequence[FileReport]) -> str:
    """One testsuite per file, one testcase per document (a file that did not load: one testcase
    for the file); a document's errors are one <failure>, its warnings its <system-out>."""
    suites = ET.Element("testsuites", name="ecp validate")
    total_tests = total_failures = 0
    for report in reports:
        cases: dict[int | None, list[tuple[Finding, int | None]]] = {}
        for finding, line in zip(report.findings, report.lines, strict=True):
            key = finding.doc_index if report.documents and finding.rule != "yaml" else None
            cases.setdefault(key, []).append((finding, line))
        names: list[tuple[int | None, str]] = [
            (i, f"doc {i} {doc.get('kind', '?')}/{(doc.get('metadata') or {}).get('name', '?')}")
            for i, doc in enumerate(report.documents)
        ]
        if None in cases or not names:
            names.append((None, report.file))
        suite = ET.SubElement(suites, "testsuite", name=report.file)
        failures = 0
        for key, name in names:
            case = ET.SubElement(suite, "testcase", classname=report.file, name=name)
            found = cases.get(key, [])
            errors = [(f, line) for f, line in found if f.is_error]
            if errors:
                failures += 1
                failure = ET.SubElement(
                    case, "failure", message=str(errors[0][0]), type=errors[0][0].rule
                )
                failure.text = "\n".join(_located(report.file, f, line) for f, line in errors)
            warnings = [(f, line) for f, line in found if not f.is_error]
            if warnings:
                ET.SubElement(case, "system-out").text = "\n".join(
                    _located(report.file, f, line) for f, line in warnings
                )
        suite.set("tests", str(len(names)))
        suite.set("failures", str(failures))
        suite.set("errors", "0")
        total_tests += len(names)
        total_failures += failures
    suites.set("tests", str(total_tests))
    suites.set("failures", str(total_failures))
    ET.indent(suites)
    return ET.tostring(suites, encoding="unicode", xml_declaration=True) + "\n"


def _located(file: str, finding: Finding, line: int | None) -> str:
    where = f"{file}:{line}" if line else file
    return f"{where}: {finding.severity}: {finding}"
