"""The documents of a compiled manifest as the detail and deployment-status answers show them.

Input: the text of output/<id>/manifest.yaml. Output: one ObjectView per document (kind and name;
for a Deployment or StatefulSet also its service, replicas, image and first container's
resources). Only the workloads' documents are parsed whole: the others need their kind and name
alone, read from their `kind:` line and `metadata:` block. No file I/O here.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import yaml

from compiler.validating.documents import MAX_DEPTH
from compiler.validating.fast_documents import fast_documents

_Loader: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_WORKLOADS = ("Deployment", "StatefulSet")
_SEPARATOR = "\n---\n"
# The next line that starts at column 0 (a top-level key): where a `metadata:` block ends. Found
# from a literal newline (fast), never with `^` under MULTILINE (which tries every position).
_TOP_LEVEL = re.compile(r"\n[^ \n]")
_CHILD = re.compile(r"  [^ \n]")  # a key two spaces in
# A name or kind YAML reads as that same string: from a letter (no number, date or .inf), and
# none of YAML 1.1's booleans and nulls.
_PLAIN = re.compile(r"[A-Za-z][A-Za-z0-9._-]*")
_NOT_STRINGS = frozenset({"yes", "no", "true", "false", "on", "off", "null"})


@dataclass(frozen=True)
class ObjectView:
    """One document of a compiled manifest, as the detail and deployment-status answers show it."""

    kind: str
    name: str
    service: str | None = None  # for Deployments/StatefulSets: the ecp.ai/service label
    replicas: int | None = None
    image: str | None = None
    requests: Mapping[str, Any] = field(default_factory=dict)
    limits: Mapping[str, Any] = field(default_factory=dict)


def object_views(manifest_text: str) -> list[ObjectView]:
    """The manifest's documents in order; raises yaml.YAMLError for a document it parses.

    A detail read of a tenant not read since its last write costs this: parsing all of a
    ~40 KB manifest's ~30 documents took ~10 ms of the event loop's CPU, half of it for
    Services, policies and budgets whose kind and name are all the answer needs.
    """
    text = "\n" + manifest_text
    if _emitted(text):
        docs = [_document(chunk) for chunk in text.split(_SEPARATOR) if chunk.strip()]
    else:
        docs = list(yaml.load_all(manifest_text, Loader=_Loader))
    return [_view(doc) for doc in docs if isinstance(doc, dict)]


def _emitted(text: str) -> bool:
    """Whether `text` (a newline put before it) is in the layout the compiler's emitter
    writes: documents split by bare `---` lines, no comment, directive, end marker or tab (a
    `#` anywhere, quoted or not, sends the text to the whole parse)."""
    return (
        "#" not in text
        and "\n%" not in text
        and "\n..." not in text
        and "\t" not in text
        and "\n---" not in text.replace(_SEPARATOR, "\n\n")
    )


def _document(chunk: str) -> Any:
    """The document of `chunk`: whole for a workload (or a layout not understood here), else
    its `kind:` line and `metadata:` block only."""
    chunk = "\n" + chunk.lstrip("\n")
    kind_at = chunk.find("\nkind: ")
    meta_at = chunk.find("\nmetadata:\n")
    if kind_at < 0 or meta_at < 0 or chunk.find("\nkind:", kind_at + 1) >= 0:
        return yaml.load(chunk, Loader=_Loader)  # noqa: S506 - the C *safe* loader
    kind_end = chunk.find("\n", kind_at + 1)
    kind_line = chunk[kind_at + 1 : kind_end if kind_end >= 0 else len(chunk)]
    if kind_line.removeprefix("kind:").strip() in _WORKLOADS:
        return _workload(chunk)
    after = _TOP_LEVEL.search(chunk, meta_at + len("\nmetadata:"))
    block = chunk[meta_at + 1 : after.start() if after else len(chunk)]
    kind, name = _plain(kind_line, "kind: "), _name(block)
    if kind is not None and name is not None:
        return {"kind": kind, "metadata": {"name": name}}
    return yaml.load(f"{kind_line}\n{block}", Loader=_Loader)  # noqa: S506


def _workload(chunk: str) -> Any:
    """A workload's whole document: by yaml-rs where fast_documents vouches that PyYAML reads
    it alike (~5x sooner: PyYAML's constructor is Python even under the C loader), else PyYAML.
    A Redis StatefulSet's shell script or a quoted "yes" sends that one document to PyYAML."""
    placed = fast_documents(chunk, MAX_DEPTH, lambda _: None)
    if placed is not None and len(placed) == 1:
        return placed[0][0]
    return yaml.load(chunk, Loader=_Loader)  # noqa: S506 - the C *safe* loader


def _name(block: str) -> str | None:
    """metadata.name of a `metadata:` block whose keys are indented by two spaces, when it is a
    plain scalar (a Kubernetes name always is); None: let YAML read the block."""
    if not _CHILD.match(block, len("metadata:\n")):
        return None
    at = block.find("\n  name: ")
    if at < 0:
        return None
    end = block.find("\n", at + 1)
    return _plain(block[at + 3 : end if end >= 0 else len(block)], "name: ")


def _plain(line: str, key: str) -> str | None:
    """The value of `key: value` when it is a plain scalar YAML reads as that same string."""
    value = line.removeprefix(key)
    plain = _PLAIN.fullmatch(value) and value.lower() not in _NOT_STRINGS
    return value if line.startswith(key) and plain else None


def _view(doc: dict[Any, Any]) -> ObjectView:
    meta = doc.get("metadata") or {}
    kind, name = str(doc.get("kind", "")), str(meta.get("name", ""))
    if kind not in _WORKLOADS:
        return ObjectView(kind=kind, name=name)
    spec = doc.get("spec") or {}
    containers = ((spec.get("template") or {}).get("spec") or {}).get("containers") or [{}]
    first = containers[0] if isinstance(containers[0], dict) else {}
    resources = first.get("resources") or {}
    labels = meta.get("labels") or {}
    return ObjectView(
        kind=kind,
        name=name,
        service=str(labels.get("ecp.ai/service") or name),
        replicas=int(spec.get("replicas", 1) or 0),
        image=first.get("image"),
        requests=resources.get("requests") or {},
        limits=resources.get("limits") or {},
    )
