"""The line of a field in a block-style YAML document, read from its lines without parsing.

Input: a document's lines and a path (keys and indexes). Output: the 1-based line PyYAML's
composed node gives for it (spec.loader.node_line: the key's line, an item's first line, else
the nearest parent's), or None when the path runs through anything but plain block mappings and
sequences (flow collections, odd keys, lines it cannot place): the caller then composes the
document with PyYAML. Composing costs ~1 ms per Deployment; this costs microseconds. No I/O here.
tests/test_validating_field_lines.py checks both agree on every field of real documents.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

# `key:` at the start of a line's content: plain (not starting with an indicator) or quoted.
_KEY = re.compile(
    r"""(?:(?P<plain>[^\s'"#\[\]{},&*!|>%@`?:-][^\n]*?|-[^\s][^\n]*?)"""
    r"""|"(?P<double>[^"\\\n]*)"|'(?P<single>(?:[^'\n]|'')*)')[ ]*:(?:[ ]+|$)"""
)
_ITEM = re.compile(r"-(?:[ ]+|$)")


@dataclass(frozen=True, slots=True)
class _Node:
    kind: str  # "map", "seq" or "scalar"
    column: int  # where its content starts on its first line, and its indentation after
    first: int  # index of its first line
    end: int  # index after the document's last line
    parent: int  # the indentation of the collection holding it: a line at or left of it ends it


class _Unsure(Exception):
    """A layout this reader does not handle: compose the document instead."""


def block_line(lines: Sequence[str], path: Sequence[int | str]) -> int | None:
    """1-based line (in `lines`) of the node at `path`, as node_line gives it; None if unsure."""
    try:
        node = _root(lines)
        if node is None:
            return None
        line = node.first + 1
        for part in path:
            if node.kind == "map":
                keyed = _key(lines, node, str(part))
                if keyed is None:
                    return line
                line, node = keyed[0] + 1, keyed[1]
            elif node.kind == "seq" and isinstance(part, int):
                item = _item(lines, node, part)
                if item is None:
                    return line
                node = item
                line = node.first + 1
            elif node.kind == "flow":
                raise _Unsure  # PyYAML would descend into the flow collection
            else:
                return line
        return line
    except _Unsure:
        return None


def _content(lines: Sequence[str], start: int, end: int) -> int | None:
    """Index of the first line in [start, end) that holds more than blanks and a comment."""
    for index in range(start, end):
        stripped = lines[index].lstrip(" ")
        if stripped and not stripped.startswith("#"):
            return index
    return None


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip(" "))


def _root(lines: Sequence[str]) -> _Node | None:
    first = _content(lines, 0, len(lines))
    if first is None:
        return None
    end = next(
        (i for i in range(first, len(lines)) if lines[i].startswith(("---", "..."))), len(lines)
    )
    return _node_at(lines, first, _indent(lines[first]), end, -1)


def _node_at(lines: Sequence[str], index: int, column: int, end: int, parent: int) -> _Node:
    """The block node whose content starts at lines[index][column:]; its lines run while they
    are indented past `parent` (the indentation of the collection holding it)."""
    text = lines[index][column:]
    if text.startswith(("[", "{", "&", "*", "!", "?")):
        return _Node("flow", column, index, index + 1, parent)  # PyYAML descends, we do not
    if _ITEM.match(text):
        return _Node("seq", column, index, end, parent)
    if _KEY.match(text):
        return _Node("map", column, index, end, parent)
    return _Node("scalar", column, index, index + 1, parent)


def _key(lines: Sequence[str], node: _Node, wanted: str) -> tuple[int, _Node] | None:
    """(line index of the key, its value's node) in a block mapping, or None if absent."""
    index = node.first
    while index < node.end:
        line = lines[index]
        column = node.column if index == node.first else _indent(line)
        stripped = line[column:]
        if index != node.first and (not stripped or stripped.startswith("#")):
            index += 1
            continue
        if column != node.column:
            if column <= node.parent:
                return None  # the mapping ended
            if column < node.column:
                raise _Unsure  # a line this mapping cannot own
            index += 1  # the inside of a value
            continue
        match = _KEY.match(stripped)
        if match is None:
            raise _Unsure
        plain, double, single = match.group("plain", "double", "single")
        key = plain.rstrip(" ") if plain is not None else double
        if key is None:
            key = single.replace("''", "'")
        if plain is not None and (" #" in plain or plain.endswith(" ")):
            raise _Unsure
        if key == wanted:
            return index, _value(lines, node, index, column + match.end())
        index += 1
    return None


def _value(lines: Sequence[str], node: _Node, index: int, at: int) -> _Node:
    rest = lines[index][at:]
    if rest and not rest.startswith("#"):  # an inline value: a scalar or a flow collection
        flow = rest.startswith(("[", "{", "&", "*", "!", "?"))
        return _Node("flow" if flow else "scalar", at, index, index + 1, node.column)
    following = _content(lines, index + 1, node.end)
    if following is None:
        return _Node("scalar", at, index, index + 1, node.column)  # an empty value
    column = _indent(lines[following])
    if column > node.column or (column == node.column and _ITEM.match(lines[following][column:])):
        parent = node.column - 1 if column == node.column else node.column
        return _node_at(lines, following, column, node.end, parent)
    return _Node("scalar", at, index, index + 1, node.column)  # an empty value


def _item(lines: Sequence[str], node: _Node, wanted: int) -> _Node | None:
    """The node of item `wanted` of a block sequence, or None if it has fewer items."""
    count = -1
    index = node.first
    while index < node.end:
        line = lines[index]
        column = node.column if index == node.first else _indent(line)
        stripped = line[column:]
        if index != node.first and (not stripped or stripped.startswith("#")):
            index += 1
            continue
        if column != node.column or not _ITEM.match(stripped):
            if column <= node.column:
                break  # the sequence ended (a compact one: its mapping's next key)
            index += 1  # the inside of an item
            continue
        count += 1
        if count == wanted:
            item = _ITEM.match(stripped)
            assert item is not None
            at = column + item.end()
            rest = line[at:]
            if rest and not rest.startswith("#"):
                value = _node_at(lines, index, at, node.end, node.column)
            else:
                following = _content(lines, index + 1, node.end)
                if following is None or _indent(lines[following]) <= node.column:
                    return _Node("scalar", at, index, index + 1, node.column)  # an empty item
                value = _node_at(lines, following, _indent(lines[following]), node.end,
                                 node.column)  # fmt: skip
            return value
        index += 1
    return None
