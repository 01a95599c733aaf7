"""`ecp validate --format sarif|junit|text`: what CI tools read, from the real CLI."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import jsonschema
from conftest import EcpRunner

# The parts of the SARIF 2.1.0 schema (sarif-schema-2.1.0.json, OASIS) that GitHub code scanning
# requires of an upload: the schema itself is not reachable offline here, so its required
# properties, types and enums for what we emit are restated.
SARIF_REQUIRED: dict[str, Any] = {
    "type": "object",
    "required": ["version", "runs"],
    "properties": {
        "version": {"const": "2.1.0"},
        "runs": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["tool"],
                "properties": {
                    "tool": {
                        "type": "object",
                        "required": ["driver"],
                        "properties": {
                            "driver": {
                                "type": "object",
                                "required": ["name"],
                                "properties": {
                                    "name": {"type": "string"},
                                    "rules": {
                                        "type": "array",
                                        "items": {"type": "object", "required": ["id"]},
                                    },
                                },
                            }
                        },
                    },
                    "results": {"type": "array", "items": {"$ref": "#/$defs/result"}},
                },
            },
        },
    },
    "$defs": {
        "result": {
            "type": "object",
            "required": ["message", "ruleId", "locations"],
            "properties": {
                "level": {"enum": ["none", "note", "warning", "error"]},
                "message": {"type": "object", "required": ["text"]},
                "ruleIndex": {"type": "integer", "minimum": 0},
                "locations": {
                    "type": "array",
                    "minItems": 1,
                    "items": {
                        "type": "object",
                        "required": ["physicalLocation"],
                        "properties": {
                            "physicalLocation": {
                                "type": "object",
                                "required": ["artifactLocation"],
                                "properties": {
                                    "artifactLocation": {
                                        "type": "object",
                                        "required": ["uri"],
                                        "properties": {"uri": {"type": "string", "minLength": 1}},
                                    },
                                    "region": {
                                        "type": "object",
                                        "required": ["startLine"],
                                        "properties": {
                                            "startLine": {"type": "integer", "minimum": 1}
                                        },
                                    },
                                },
                            }
                        },
                    },
                },
            },
        }
    },
}

BAD = """\
apiVersion: v1
kind: Namespace
metadata: {}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: shop}
spec:
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: api}}
    spec:
      containers: [{name: web, image: "web:latest"}]
"""


def _write(tmp_path: Path) -> Path:
    path = tmp_path / "bad.yaml"
    path.write_text(BAD, encoding="utf-8")
    return path


def test_sarif_output_has_the_structure_code_scanning_requires(
    tmp_path: Path, ecp: EcpRunner
) -> None:
    run = ecp("validate", str(_write(tmp_path)), "--format", "sarif")
    assert run.code == 1
    log = json.loads(run.stdout)
    jsonschema.validate(log, SARIF_REQUIRED)
    driver = log["runs"][0]["tool"]["driver"]
    results = log["runs"][0]["results"]
    located = {
        (
            r["ruleId"],
            r["level"],
            r["locations"][0]["physicalLocation"]["region"]["startLine"],
        )
        for r in results
    }
    assert ("apiserver", "error", 3) in located  # metadata.name required, on the metadata line
    assert ("apiserver", "error", 11) in located  # selector vs template labels
    assert ("latest-tag", "warning", 13) in located
    for result in results:  # ruleIndex points at the rule the result names
        assert driver["rules"][result["ruleIndex"]]["id"] == result["ruleId"]


def test_junit_output_counts_a_failing_testcase_per_rejected_document(
    tmp_path: Path, ecp: EcpRunner
) -> None:
    run = ecp("validate", str(_write(tmp_path)), "--format", "junit")
    assert run.code == 1
    suites = ET.fromstring(run.stdout)
    assert (suites.get("tests"), suites.get("failures")) == ("2", "2")
    cases = suites.findall("./testsuite/testcase")
    assert [c.get("name") for c in cases] == ["doc 0 Namespace/?", "doc 1 Deployment/web"]
    deployment = cases[1]
    failure = deployment.find("failure")
    assert failure is not None and failure.text is not None
    assert "`selector` does not match template `labels`" in failure.text
    out = deployment.find("system-out")
    assert out is not None and "latest-tag" not in (failure.text or "")
    assert "image" in (out.text or "")


def test_junit_output_of_a_valid_file_has_no_failures(tmp_path: Path, ecp: EcpRunner) -> None:
    path = tmp_path / "ok.yaml"
    path.write_text("apiVersion: v1\nkind: Namespace\nmetadata: {name: shop}\n", encoding="utf-8")
    run = ecp("validate", str(path), "--format", "junit")
    assert run.code == 0, run.stdout
    suites = ET.fromstring(run.stdout)
    assert (suites.get("tests"), suites.get("failures")) == ("1", "0")


def test_text_output_puts_errors_warnings_and_summary_on_stdout(
    tmp_path: Path, ecp: EcpRunner
) -> None:
    run = ecp("validate", str(_write(tmp_path)))
    assert run.code == 1
    assert run.stderr == ""
    lines = run.stdout.splitlines()
    assert any(": error: " in line for line in lines)
    assert any(": warning: " in line for line in lines)
    assert lines[-1] == "1 file(s), 2 document(s): 2 error(s), 4 warning(s)"
