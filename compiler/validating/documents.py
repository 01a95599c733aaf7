"""Foreign manifests: a multi-document YAML stream to plain dicts, safely, with line numbers.

Used by `ecp validate PATH...` and the validate-manifest API on text nobody vetted. libyaml composes
each document (it caps nesting itself, and an alias is one shared node, so nothing expands); the
constructed document is then walked once, without recursion: a container reached twice (an alias,
the stuff of alias bombs) or nesting deeper than MAX_DEPTH refuses the document before anyone else
walks it. Problems become error Findings with file:line, never exceptions. No I/O here.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

import yaml

from compiler.validating.fast_documents import fast_documents
from compiler.validating.field_lines import block_line
from compiler.validating.findings import Finding
from compiler.validating.summary import resource_summary

__all__ = [
    "MAX_DEPTH",
    "LoadedDocument",
    "finding_lines",
    "load_documents",
    "pyyaml_documents",
    "resource_summary",
]

MAX_DEPTH = 100

_BaseLoader: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _ManifestLoader(_BaseLoader):  # type: ignore[misc,valid-type]
    """Safe loading as kubectl reads manifests: timestamps stay strings, a bare "=" is a string."""

    yaml_constructors: ClassVar[dict[str | None, Any]] = {
        **_BaseLoader.yaml_constructors,
        "tag:yaml.org,2002:timestamp": _BaseLoader.construct_yaml_str,
        "tag:yaml.org,2002:value": _BaseLoader.construct_yaml_str,
    }

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        # kubectl refuses a key given twice ("mapping key already defined"); PyYAML would keep
        # the last value silently, so a typo'd duplicate would validate.
        seen: dict[Any, int] = {}
        for key_node, _ in node.value:
            if isinstance(key_node, yaml.ScalarNode):
                if key_node.value in seen:
                    raise yaml.constructor.ConstructorError(
                        None,
                        None,
                        f"duplicate key {key_node.value!r} (first on line {seen[key_node.value]})",
                        key_node.start_mark,
                    )
                seen[key_node.value] = key_node.start_mark.line + 1
        return super().construct_mapping(node, deep=deep)  # type: ignore[no-any-return]


class LoadedDocument(dict[str, Any]):
    """A manifest document as a plain dict that also remembers where it came from."""

    __slots__ = ("line", "source")

    def __init__(self, content: dict[str, Any], source: str, line: int) -> None:
        super().__init__(content)
        self.source = source
        self.line = line  # 1-based line of the document's first node


def load_documents(text: str, source: str) -> tuple[list[dict[str, Any]], list[Finding]]:
    """Parse a YAML stream: mapping documents in order (empty ones skipped) and error findings.

    The fast path (fast_documents.py) reads what it can vouch for; PyYAML reads the rest, and
    the whole stream whenever anything in it is wrong, so every finding is PyYAML's."""
    placed = fast_documents(text, MAX_DEPTH, _read_alone)
    if placed is not None:
        return [LoadedDocument(content, source, line) for content, line in placed], []
    return pyyaml_documents(text, source)


def _read_alone(text: str) -> list[tuple[dict[str, Any], int]] | None:
    documents, findings = pyyaml_documents(text, "")
    if findings:
        return None
    return [(dict(doc), doc.line) for doc in documents if isinstance(doc, LoadedDocument)]


def pyyaml_documents(text: str, source: str) -> tuple[list[dict[str, Any]], list[Finding]]:
    """load_documents by PyYAML alone: the authority on what a stream holds and what is wrong."""
    documents: list[dict[str, Any]] = []
    findings: list[Finding] = []
    loader = _ManifestLoader(text)
    try:
        while True:
            try:
                if not loader.check_node():
                    break
                node = loader.get_node()
                line = _line(node.start_mark)
                content = loader.construct_document(node)
            except yaml.constructor.ConstructorError as e:
                # The document parsed; only building it failed: report it, read on.
                mark = e.problem_mark or e.context_mark
                message = e.problem or "invalid YAML document"
                findings.append(_error(len(documents), message, _line(mark)))
                continue
            except yaml.MarkedYAMLError as e:
                mark = e.problem_mark or e.context_mark
                reason = e.problem or e.context or "invalid YAML"
                message = f"YAML syntax error: {reason}"
                findings.append(_error(len(documents), message, _line(mark)))
                break  # the parser cannot resynchronise after a syntax error
            except (yaml.YAMLError, RecursionError) as e:
                message = f"cannot read YAML: {type(e).__name__}"
                findings.append(_error(len(documents), message, None))
                break
            problem = _refusal(content)
            if problem is None and content is not None and not isinstance(content, dict):
                shown = "a list" if isinstance(content, list) else f"a {type(content).__name__}"
                problem = f"document is {shown}, not a Kubernetes object"
            if problem is not None:
                findings.append(_error(len(documents), problem, line))
            elif content is not None:
                documents.append(LoadedDocument(content, source, line))
    finally:
        loader.dispose()
    return documents, findings


def _refusal(content: Any) -> str | None:
    """Why a constructed document must not be used: an alias, or nesting beyond MAX_DEPTH."""
    seen: set[int] = set()
    if not isinstance(content, dict | list):
        return None
    stack: list[tuple[Any, int]] = [(content, 1)]
    while stack:
        node, depth = stack.pop()
        if depth > MAX_DEPTH:
            return f"document nested deeper than {MAX_DEPTH} levels"
        if id(node) in seen:
            return "YAML aliases are not accepted in manifests (a shared node was found)"
        seen.add(id(node))
        children = node.values() if isinstance(node, dict) else node
        stack.extend((child, depth + 1) for child in children if isinstance(child, dict | list))
    return None


def _line(mark: Any) -> int:
    """1-based line of a parser mark (libyaml always sets marks on events)."""
    return int(mark.line) + 1 if mark is not None else 0


def _error(doc_index: int, message: str, line: int | None) -> Finding:
    return Finding("error", "yaml", message, doc_index, None, None, "", line or None)


# Path steps in both spellings we produce: json_path's `.key`, `[0]`, `["nvidia.com/gpu"]`, and
# the API server's `[nvidia.com/gpu]` (field.Path keys are unquoted).
_PATH_PART = re.compile(r'\["((?:[^"\\]|\\.)*)"\]|\[(\d+)\]|\[([^\]]*)\]|([^.\[\]]+)')


def finding_lines(
    text: str, documents: Sequence[Mapping[str, Any]], findings: Sequence[Finding]
) -> list[int | None]:
    """The 1-based line of each finding's field (else its document's first line), so a CLI can
    print file:line for the field itself. A field is looked up in its document's lines
    (field_lines.py); only a document that lookup is unsure of is composed again, from its own
    lines; never text the loader refused (aliases, deep nesting)."""
    if not findings:
        return []
    starts = [getattr(doc, "line", None) for doc in documents]
    scan = not any(f.rule in ("yaml", "document") for f in findings)
    text_lines = text.splitlines() if scan else []
    following = _next_starts(starts, len(text_lines))
    lines: list[int | None] = []
    unsure: dict[int, tuple[int, tuple[int | str, ...]]] = {}
    for finding in findings:
        if finding.line is not None:  # the loader knows where it stopped reading
            lines.append(finding.line)
            continue
        start = starts[finding.doc_index] if 0 <= finding.doc_index < len(starts) else None
        lines.append(start)
        if not scan or start is None or not finding.path:
            continue
        loc = tuple(
            int(index) if index else quoted.replace('\\"', '"') or bare or plain
            for quoted, index, bare, plain in _PATH_PART.findall(finding.path)
        )
        line = block_line(text_lines[start - 1 : following[finding.doc_index] - 1], loc)
        if line is None:
            unsure[len(lines) - 1] = (finding.doc_index, loc)
        else:
            lines[-1] = line + start - 1
    if unsure:
        # Here only: spec.loader builds the tenant spec's pydantic models on import (~0.2 s of
        # every `ecp validate` start-up), and most reports need no document composed.
        from compiler.spec.loader import node_line

        nodes = _compose_documents(text, starts, {doc for doc, _ in unsure.values()})
        for position, (doc_index, loc) in unsure.items():
            found = nodes.get(doc_index)
            if found is not None:
                line = node_line(found[0], loc)
                lines[position] = None if line is None else line + found[1]
    return lines


def _next_starts(starts: Sequence[int | None], total_lines: int) -> list[int]:
    """For each document, the first line of the next document with a known start (else one
    past the text's last line)."""
    following = total_lines + 1
    next_start = [following] * len(starts)
    for index in range(len(starts) - 1, -1, -1):
        next_start[index] = following
        start = starts[index]
        if isinstance(start, int):
            following = start
    return next_start


def _compose_documents(
    text: str, starts: Sequence[int | None], wanted: set[int]
) -> dict[int, tuple[Any, int]]:
    """(composed root, line offset) of each wanted document: each is composed from its first
    line to the next document's, so the cost follows the findings, not the size of the stream;
    the offset turns the chunk's line numbers into the whole text's."""
    text_lines = text.splitlines(keepends=True)
    nodes: dict[int, tuple[Any, int]] = {}
    next_start = _next_starts(starts, len(text_lines))
    for doc_index in sorted(wanted):
        start = starts[doc_index] if 0 <= doc_index < len(starts) else None
        if not isinstance(start, int):
            continue
        chunk = "".join(text_lines[start - 1 : next_start[doc_index] - 1])
        try:
            root = next((r for r in yaml.compose_all(chunk, Loader=_BaseLoader) if r), None)
        except yaml.YAMLError:
            continue
        if root is not None:
            nodes[doc_index] = (root, start - 1)
    return nodes
