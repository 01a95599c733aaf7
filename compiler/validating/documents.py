"""Foreign manifests: a multi-document YAML stream to plain dicts, safely, with line numbers.

Used by `ecp validate PATH...` and the validate-manifest API on text nobody vetted. libyaml's event
parser (no recursion, no construction) checks each document first: aliases are refused (no alias
bombs) and nesting deeper than MAX_DEPTH stops the stream (no RecursionError, no stack blow-up).
Only then is the document constructed. Problems become error Findings, never exceptions. No I/O.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

import yaml

from compiler.validating.findings import Finding
from compiler.validating.summary import resource_summary

__all__ = ["MAX_DEPTH", "LoadedDocument", "load_documents", "resource_summary"]

MAX_DEPTH = 100

_BaseLoader: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _ManifestLoader(_BaseLoader):  # type: ignore[misc,valid-type]
    """Safe loading as kubectl reads manifests: timestamps stay strings, a bare "=" is a string."""

    yaml_constructors: ClassVar[dict[str | None, Any]] = {
        **_BaseLoader.yaml_constructors,
        "tag:yaml.org,2002:timestamp": _BaseLoader.construct_yaml_str,
        "tag:yaml.org,2002:value": _BaseLoader.construct_yaml_str,
    }


class LoadedDocument(dict[str, Any]):
    """A manifest document as a plain dict that also remembers where it came from."""

    __slots__ = ("line", "source")

    def __init__(self, content: dict[str, Any], source: str, line: int) -> None:
        super().__init__(content)
        self.source = source
        self.line = line  # 1-based line of the document's first node


@dataclass(slots=True)
class _Span:
    start: int  # character offsets into the stream
    end: int
    line: int
    problem: str | None = None


def load_documents(text: str, source: str) -> tuple[list[dict[str, Any]], list[Finding]]:
    """Parse a YAML stream: mapping documents in order (empty ones skipped) and error findings."""
    spans, stream_problem = _scan(text)
    documents: list[dict[str, Any]] = []
    findings: list[Finding] = []
    for span in spans:
        if span.problem is not None:
            findings.append(_error(len(documents), f"{source}:{span.line}: {span.problem}"))
            continue
        try:
            content = yaml.load(text[span.start : span.end], Loader=_ManifestLoader)  # noqa: S506
        except yaml.YAMLError as e:
            problem = getattr(e, "problem", None) or type(e).__name__
            message = f"{source}:{span.line}: cannot read YAML document: {problem}"
            findings.append(_error(len(documents), message))
            continue
        if content is None:
            continue
        if not isinstance(content, dict):
            shown = "a list" if isinstance(content, list) else f"a {type(content).__name__}"
            message = f"{source}:{span.line}: document is {shown}, not a Kubernetes object"
            findings.append(_error(len(documents), message))
            continue
        documents.append(LoadedDocument(content, source, span.line))
    if stream_problem is not None:
        findings.append(_error(len(documents), f"{source}:{stream_problem}"))
    return documents, findings


def _scan(text: str) -> tuple[list[_Span], str | None]:
    """Walk parser events once: document spans, refused documents, and a stream-level problem."""
    spans: list[_Span] = []
    current: _Span | None = None
    depth = 0
    first_node = False
    try:
        for event in yaml.parse(text, Loader=_ManifestLoader):
            if isinstance(event, yaml.DocumentStartEvent):
                current = _Span(_index(event.start_mark), len(text), _line(event.start_mark))
                depth = 0
                first_node = True
                continue
            if current is None:
                continue
            if isinstance(event, yaml.DocumentEndEvent):
                current.end = _index(event.end_mark)
                spans.append(current)
                current = None
                continue
            if isinstance(event, yaml.NodeEvent) and first_node:
                current.line = _line(event.start_mark)
                first_node = False
            if current.problem is not None:
                continue  # skip the rest of a refused document cheaply
            if isinstance(event, yaml.AliasEvent):
                current.problem = (
                    f"YAML alias *{event.anchor} at line {_line(event.start_mark)} refused: "
                    "aliases are not accepted in manifests"
                )
            elif isinstance(event, yaml.CollectionStartEvent):
                depth += 1
                if depth > MAX_DEPTH:
                    current.problem = (
                        f"document nested deeper than {MAX_DEPTH} levels "
                        f"(line {_line(event.start_mark)}); the rest of the stream was not read"
                    )
                    spans.append(current)
                    return spans, None
            elif isinstance(event, yaml.CollectionEndEvent):
                depth -= 1
    except yaml.MarkedYAMLError as e:
        mark = e.problem_mark or e.context_mark
        line = mark.line + 1 if mark is not None else 0
        problem = e.problem or e.context or "invalid YAML"
        return spans, f"{line}: YAML syntax error: {problem}"
    except yaml.YAMLError as e:
        return spans, f"0: YAML error: {type(e).__name__}"
    return spans, None


def _line(mark: Any) -> int:
    """1-based line of a parser mark (libyaml always sets marks on events)."""
    return int(mark.line) + 1 if mark is not None else 0


def _index(mark: Any) -> int:
    return int(mark.index) if mark is not None else 0


def _error(doc_index: int, message: str) -> Finding:
    return Finding("error", "yaml", message, doc_index, None, None, "")
