"""A fast path for foreign YAML streams: the same documents as documents.py, ~6x sooner, or None.

Input: a YAML stream's text. Output: its mapping documents (each with its first line), or None
whenever this path cannot vouch that PyYAML (the authority, documents.py) builds exactly the same
objects; the caller then reads the stream with PyYAML. It never reports findings: every error,
refusal or doubt is PyYAML's to word. No I/O here.

How it vouches: the stream is split at its `---` lines (a document marker ends any node, so the
split is the parser's own) and a document is parsed by yaml-rs (a Rust YAML 1.2 parser) only when
its text holds nothing on which YAML 1.2 and PyYAML's YAML 1.1 can disagree or which the PyYAML
path refuses: tags, anchors and aliases, merge keys, complex and non-string keys, escapes, tabs
and unusual characters, directives, and plain scalars that either version resolves to
anything but a string, except the spellings both read alike (true, false, null, 3, -1, 0.5). The
scan is over raw text, so a match inside a quoted string or a comment only costs speed: that
document is read by `read_alone` (PyYAML), and the whole stream by PyYAML if anything is wrong.
tests/test_validating_fast_documents.py checks that both paths agree on what this one lets through.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Callable
from typing import Any

import yaml_rs

Placed = list[tuple[dict[str, Any], int]]
# Reads one document's text the authoritative way: its (content, 1-based line) pairs, or None when
# that reading has findings (the whole stream is then read that way).
ReadAlone = Callable[[str], Placed | None]

# A plain scalar is bounded by these (or a line's edge), so a token between them holds it whole.
_TOKENS = re.compile(r"""[\s,\[\]{}"']+""")
_SCALAR_BOUNDS = ",[]{}\"'"
_UTF8, _PASS = "utf-8", "surrogatepass"  # text from JSON may hold lone surrogates
_BOUNDS_TO_SPACE = bytes.maketrans(_SCALAR_BOUNDS.encode(), b" " * len(_SCALAR_BOUNDS))
# What str.split (and the regex \s) takes for whitespace besides ASCII's space, \t\n\v\f\r.
_ODD_WHITESPACE = re.compile("[\x1c-\x1f\x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]")
# Characters outside what PyYAML reads as printable, or that YAML 1.1 alone reads as line breaks
# (NEL, LS, PS), or a BOM; in ASCII text, the control characters (tab and CR included).
_UNUSUAL_CHARACTER = re.compile(
    r"[^\n\x20-\x7e\xa0-\u2027\u202a-\ud7ff\ue000-\ufefe\uff00-\ufffd\U00010000-\U0010ffff]"
)
_PRINTABLE_ASCII = bytes(range(0x20, 0x7F)) + b"\n"
# directives, end markers, markers with content on their line
_UNUSUAL_LINE = re.compile(r"\n(?:%|\.\.\.|---(?![ ]*(?:\n|\Z)|[ ]+#))")
# An empty key (`: x`, `- : x`, `{: x}`), None to yaml-rs and an error to PyYAML, is a colon after
# nothing but spaces from one of these, or from the text's start.
_BEFORE_EMPTY_KEY = "\n-?[{,"
_EMPTY_FIRST_KEY = re.compile(r"[ ]*:")
# Only a colon right after a space or one of those can be one; a pattern that opens with a literal
# lets the regex engine leap from colon to colon.
_COLON_AFTER_SPACE_OR_INDICATOR = re.compile(r":(?<=[\n\-?\[{, ]:)")
# Plain scalars that PyYAML (its implicit resolvers, YAML 1.1) or YAML 1.2's core schema read as
# anything but a string, and the ones both read alike.
_NOT_A_STRING = re.compile(
    "|".join(
        (
            r"yes|Yes|YES|no|No|NO|true|True|TRUE|false|False|FALSE|on|On|ON|off|Off|OFF",
            r"[-+]?(?:[0-9][0-9_]*)\.[0-9_]*(?:[eE][-+][0-9]+)?|\.[0-9][0-9_]*(?:[eE][-+][0-9]+)?",
            r"[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+\.[0-9_]*|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN)",
            r"[-+]?0b[0-1_]+|[-+]?0[0-7_]+|[-+]?(?:0|[1-9][0-9_]*)|[-+]?0x[0-9a-fA-F_]+",
            r"[-+]?[1-9][0-9_]*(?::[0-5]?[0-9])+|<<|~|null|Null|NULL|=",
            # YAML 1.2 core, and the radixes, cases and groupings a YAML 1.2 parser may accept
            r"[-+]?0[0-9a-zA-Z_]+|[-+]?\.[0-9a-zA-Z_][0-9a-zA-Z_.+-]*|\+.*",
            r"[-+]?[0-9][0-9_]*|0o[0-7_]+|[-+]?(?:\.[0-9_]+|[0-9][0-9_]*(?:\.[0-9_]*)?)"
            r"(?:[eE][-+]?[0-9]+)?",
        )
    )
)
# What yaml-rs reads as a number once it has dropped every "_" (`_1` is 1 to it), in any case.
_NUMBER_LIKE = re.compile(
    r"[-+]?(?:(?:[0-9]+\.?[0-9]*|\.[0-9]+|\.)(?:e[-+]?[0-9]*)?|0x[0-9a-f]*|0o[0-7]*|0b[01]*|\.?inf(?:inity)?|\.?nan)",
    re.IGNORECASE,
)
# A plain octal integer: 420 to YAML 1.1 (PyYAML), 644 to yaml-rs; the one risky spelling common
# in manifests (file modes), so it is read again rather than sent to PyYAML.
_OCTAL = re.compile(r"0[0-7]+")
_BOUNDARY = frozenset(" \n,[]{}\"'")
_QUOTED = re.compile(r"""(?:^|(?<=[ ]))#.*|"[^"\\\n]*"|'(?:[^'\n]|'')*'""")
_READ_ALIKE = re.compile(r"-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?|true|false|null")
# Block scalars: a `|` or `>` that starts a token must be a header ending its line (YAML 1.2 reads
# `[>, x]` as a string) and have content lines indented past the header's line (an empty block
# scalar is "\n" to yaml-rs, "" to PyYAML); a text with a block scalar must end in a newline
# (which yaml-rs adds).
_BLOCK_INDICATOR = re.compile(r"[|>]")
_BLOCK_HEADER_REST = re.compile(r"[-+0-9]*[ ]*(?:[ ]#[^\n]*)?(?:\n|\Z)")
_INDENT = re.compile(r"(?:[ ]*\n)*([ ]*)(\S)?")
# Flow collections: from a line's first `[` or `{`, one that goes on past the line, or a colon not
# followed by a space (YAML 1.1 and 1.2 split `{a:1}` and `[0::]` differently); one used as a key.
_FLOW_REST_OF_LINE = re.compile(r"[\[{][^\n]*")
_COLON_NOT_SPACE = re.compile(r":(?![ \n]|\Z)")
_FLOW_KEY = re.compile(r"[\]}][ ]*:")  # searched as its two halves: a literal first is sooner
_FLOW_KEY_SQUARE = re.compile(r"\][ ]*:")
_FLOW_KEY_CURLY = re.compile(r"\}[ ]*:")
# A flow collection that opens an entry of a flow mapping (`{{}}`, `{a: 1, [b]: 2}`) is a key to
# both parsers without a colon after it; every other collection key is a `]:`/`}:` on one line
# (_FLOW_KEY) or behind `?` (a risky token). Only where this matches is a document walked.
_FLOW_ENTRY_COLLECTION = re.compile(r"[{,][ ]*[\[{]")
_SEPARATOR = re.compile(r"^---(?:[ ]+#[^\n]*)?[ ]*(?:\n|\Z)", re.MULTILINE)
_CONTENT = re.compile(r"(?:^|\n)[ ]*([^ #\n])")
# Depth bound without a walk: see _nesting_bound.
_DEEP_BLOCK = re.compile(r"\n[ -]{31}")
_MAX_FLOW = 36


def fast_documents(text: str, max_depth: int, read_alone: ReadAlone) -> Placed | None:
    """(content, first line) of every non-empty document, or None: let PyYAML read the stream.

    `max_depth` is the PyYAML path's nesting limit (a deeper document is left to it);
    `read_alone` reads a document whose text this path does not vouch for."""
    risky = _risky_tokens(text)
    unusual = _unusual(text)
    separators = _separators(text)
    starts = [0, *(m.end() for m in separators)]
    flagged = _chunks_holding(text, risky, starts) if risky else {}
    # Each document's text is a piece of the stream's, so the stream's bound holds for each: one
    # scan of the stream usually spares every document its own.
    depth_limit = max_depth if _nesting_bound(text) > max_depth else None
    out: Placed = []
    start, line = 0, 1
    for index, match in enumerate([*separators, None]):
        end = len(text) if match is None else match.start()
        chunk = text[start:end]
        first = _CONTENT.search(chunk)
        if first is not None:  # else blank or comments only: an empty document, skipped
            octals = flagged.get(index, set())
            if (
                (octals and not all(map(_OCTAL.fullmatch, octals)))
                or (unusual and _unusual(chunk))
                or _doubtful_layout(chunk)
                or (octals and not _octals_alone(chunk, octals))
            ):
                placed = read_alone(chunk)
                if placed is None or len(placed) > 1:
                    return None
                out.extend((content, line + at - 1) for content, at in placed)
            else:
                try:
                    content = _parse(chunk, depth_limit)
                except _NotVouched:
                    return None
                if content is not None:
                    if octals:
                        _read_octals_as_yaml_1_1(content, octals)
                    out.append((content, line + chunk.count("\n", 0, first.start(1))))
        if match is not None:
            line += text.count("\n", start, match.end())
            start = match.end()
    return out


def _separators(text: str) -> list[re.Match[str]]:
    """_SEPARATOR.finditer(text), ~10x sooner: the pattern is only tried where a line starts
    with `---` (str.find leaps to those; the regex engine would try every line)."""
    found: list[re.Match[str]] = []
    at = 0 if text.startswith("---") else text.find("\n---") + 1
    if at == 0 and not text.startswith("---"):
        return found
    while True:
        match = _SEPARATOR.match(text, at)
        if match is not None:
            found.append(match)
            at = match.end() - 1  # the newline that ends it (or the text's last character)
        following = text.find("\n---", at)
        if following == -1:
            return found
        at = following + 1


def _octals_alone(chunk: str, octals: set[str]) -> bool:
    """Whether no other token of the document reads as the same number to yaml-rs as one of
    its octal tokens does (`0644` and `644` are both 644 to it): then each such number in what
    yaml-rs built came from an octal token, and can be read again as YAML 1.1 reads it."""
    tokens = _tokens(chunk)
    return not any(str(int(token, 10)).encode() in tokens for token in octals)


def _read_octals_as_yaml_1_1(content: Any, octals: set[str]) -> None:
    """Turn yaml-rs's decimal reading of plain octal tokens (`0644`: 644) into PyYAML's (420)."""
    readings = {int(token, 10): int(token, 8) for token in octals}
    stack = [content]
    while stack:
        node = stack.pop()
        pairs = node.items() if isinstance(node, dict) else enumerate(node)
        for key, value in list(pairs):
            if type(value) is int and value in readings:
                node[key] = readings[value]
            elif isinstance(value, dict | list):
                stack.append(value)


def _chunks_holding(text: str, risky: set[str], starts: list[int]) -> dict[int, set[str]]:
    """The risky tokens of each document (by its start offset) that stand on their own and
    outside the quotes of their line."""
    flagged: dict[int, set[str]] = {}
    for token in risky:
        at = text.find(token)
        while at != -1:
            end = at + len(token)
            if (
                (at == 0 or text[at - 1] in _BOUNDARY)
                and (end == len(text) or text[end] in _BOUNDARY)
                and not _quoted_on_its_line(text, at, end)
            ):
                flagged.setdefault(bisect.bisect_right(starts, at) - 1, set()).add(token)
            at = text.find(token, end)
    return flagged


def _quoted_on_its_line(text: str, at: int, end: int) -> bool:
    """Whether text[at:end] lies inside a quoted scalar of its line, read from the line's start.
    (Were the line inside a multi-line quoted scalar, its quotes would end that scalar early:
    a syntax error to both parsers, so the stream goes to PyYAML anyway.)"""
    line_start = text.rfind("\n", 0, at) + 1
    line_end = text.find("\n", end)
    line = text[line_start : len(text) if line_end == -1 else line_end]
    at, end = at - line_start, end - line_start
    return any(m.start() < at and end < m.end() for m in _QUOTED.finditer(line))


def _risky_tokens(text: str) -> set[str]:
    """Every token of the text that could be (or hold) a plain scalar the two read apart."""
    return {token.decode(_UTF8, _PASS) for token in _VERDICTS.risky_of(_tokens(text))}


def _tokens(text: str) -> set[bytes]:
    """The text's tokens as _TOKENS splits it, UTF-8 encoded: its delimiters made spaces, then
    a split at whitespace (_TOKENS' \\s is str.split's). bytes.split knows only ASCII's six
    whitespace characters and never splits a UTF-8 sequence, so it serves, ~3x sooner, whenever
    the text holds none of str.split's others."""
    odd = _ODD_WHITESPACE.search(text) if not text.isascii() else _odd_ascii_space(text)
    if not odd:
        return set(text.encode(_UTF8, _PASS).translate(_BOUNDS_TO_SPACE).split())
    for delimiter in _SCALAR_BOUNDS:
        text = text.replace(delimiter, " ")
    return {token.encode(_UTF8, _PASS) for token in text.split()}


def _odd_ascii_space(text: str) -> bool:
    return "\x1c" in text or "\x1d" in text or "\x1e" in text or "\x1f" in text


class _Verdicts:
    """_risky's answers, kept (a pure function of the token, and manifests repeat their tokens):
    a stream's known tokens are sorted by two set operations, only new ones by _risky. Either
    set holds only tokens of its verdict, so a concurrent clear never changes an answer."""

    __slots__ = ("limit", "risky", "safe")

    def __init__(self, limit: int = 1 << 16) -> None:
        self.limit = limit  # tokens remembered at most; then memory starts again
        self.risky: set[bytes] = set()
        self.safe: set[bytes] = set()

    def risky_of(self, tokens: set[bytes]) -> set[bytes]:
        found = tokens & self.risky
        new = tokens.difference(self.safe, found)
        if len(self.safe) + len(self.risky) + len(new) > self.limit:
            self.safe, self.risky = set(), set()
        for token in new:
            if _risky(token.decode(_UTF8, _PASS)):
                found.add(token)
                self.risky.add(token)
            else:
                self.safe.add(token)
        return found


_VERDICTS = _Verdicts()


def _risky(token: str) -> bool:
    """Whether a token could be (or hold) a plain scalar the two YAML versions read apart."""
    key = token.endswith(":")
    core = token.removesuffix(":")
    if not core:  # a lone colon: an empty key only where _EMPTY_KEY finds one
        return False
    # complex keys, anchors, aliases, tags, and the characters YAML 1.1 does not let start a
    # plain scalar (`{"a":1}` is one token ":1": as risky as `:x`)
    if core[0] in "&*!?:%@`":
        return True
    if not (_NOT_A_STRING.fullmatch(core) or _NUMBER_LIKE.fullmatch(core.replace("_", ""))):
        return False
    # a non-string key: `1: a` and `"1": b` are one key to PyYAML's duplicate check, two to 1.2
    return key or not _READ_ALIKE.fullmatch(core)


def _unusual(text: str) -> bool:
    """Unusual characters, escapes (YAML 1.1 and 1.2 differ, e.g. "\\/"), merge keys, directives
    and markers other than a bare `---`. (Keys over 1024 characters: both parsers refuse them.)"""
    if text.isascii():
        if text.encode("ascii").translate(None, _PRINTABLE_ASCII):
            return True
    elif _UNUSUAL_CHARACTER.search(text):
        return True
    return bool(
        "\\" in text
        or "<<" in text
        or _UNUSUAL_LINE.search(text)
        or _empty_key(text)
        or _UNUSUAL_LINE.match("\n" + text[: text.find("\n") + 1 or None])
    )


class _NotVouched(Exception):
    """PyYAML must read the whole stream."""


def _doubtful_layout(chunk: str) -> bool:
    """Block scalars and flow collections the two parsers may read apart (see above)."""
    if "|" in chunk or ">" in chunk:
        if not chunk.endswith("\n"):
            return True
        for match in _BLOCK_INDICATOR.finditer(chunk):
            at = match.start()
            if at and chunk[at - 1] not in " \n[]{},":
                continue  # inside a token (`a|b`, `->`): not an indicator
            header = _BLOCK_HEADER_REST.match(chunk, at + 1)
            if header is None:
                return True
            line = chunk[chunk.rfind("\n", 0, at) + 1 : at]
            following = _INDENT.match(chunk, header.end())
            if following is None or following.group(2) is None:
                return True  # nothing follows: empty
            if len(following.group(1)) <= len(line) - len(line.lstrip(" ")):
                return True  # the next line is not content: empty
    if "[" in chunk or "{" in chunk:
        for rest in _flow_rests(chunk):
            if rest.count("[") + rest.count("{") != rest.count("]") + rest.count("}"):
                return True
            if _COLON_NOT_SPACE.search(rest):
                return True
        if ("]" in chunk and _FLOW_KEY_SQUARE.search(chunk)) or (
            "}" in chunk and _FLOW_KEY_CURLY.search(chunk)
        ):
            return True
    return False


def _flow_rests(chunk: str) -> list[str]:
    """What _FLOW_REST_OF_LINE.finditer(chunk) matches, ~7x sooner: str.find leaps to each
    line's first `[` or `{` (a pattern opening with a character class tries every offset)."""
    size = len(chunk)
    square, curly = chunk.find("["), chunk.find("{")
    square, curly = size if square == -1 else square, size if curly == -1 else curly
    rests: list[str] = []
    while (at := min(square, curly)) < size:
        end = chunk.find("\n", at)
        end = size if end == -1 else end
        rests.append(chunk[at:end])
        if square < end:
            square = chunk.find("[", end)
            square = size if square == -1 else square
        if curly < end:
            curly = chunk.find("{", end)
            curly = size if curly == -1 else curly
    return rests


def _empty_key(text: str) -> bool:
    if _EMPTY_FIRST_KEY.match(text):
        return True
    for match in _COLON_AFTER_SPACE_OR_INDICATOR.finditer(text):
        at = match.start() - 1
        while at >= 0 and text[at] == " ":
            at -= 1
        if at < 0 or text[at] in _BEFORE_EMPTY_KEY:
            return True
    return False


def _parse(chunk: str, max_depth: int | None) -> dict[str, Any] | None:
    """The document as yaml-rs reads it, None when empty; _NotVouched on a parse error, a
    document that is not a mapping, or nesting beyond max_depth (None: known to be within it)."""
    try:
        content = yaml_rs.loads(chunk, parse_datetime=False)
    except (ValueError, TypeError, OverflowError, RecursionError) as exc:
        raise _NotVouched from exc  # PyYAML reports it, in its own words and with its line
    if content is None:
        return None
    if not isinstance(content, dict):
        raise _NotVouched
    if max_depth is not None and _nesting_bound(chunk) > max_depth and _depth(content) > max_depth:
        raise _NotVouched
    if "{" in chunk and _FLOW_ENTRY_COLLECTION.search(chunk) and _collection_key(content):
        raise _NotVouched  # PyYAML refuses an unhashable key ("{{}: x}"); yaml-rs freezes it
    return content


def _collection_key(root: Any) -> bool:
    """Whether any mapping in the document has a key that is not a scalar (yaml-rs reads a
    flow collection used as a key as a frozenset or tuple, where PyYAML refuses it)."""
    level = [root]
    while level:
        following: list[Any] = []
        for node in level:
            if isinstance(node, dict):
                if any(isinstance(key, frozenset | tuple) for key in node):
                    return True
                following.extend(v for v in node.values() if isinstance(v, dict | list))
            else:
                following.extend(v for v in node if isinstance(v, dict | list))
        level = following
    return False


def _nesting_bound(chunk: str) -> int:
    """An upper bound of a document's nesting depth from its text alone. A nested block
    collection starts further right than its parent, or at the same column for a sequence under
    a mapping key, so block depth <= 2 x (the rightmost column a collection starts at + 1); that
    column is at most a line's run of leading spaces and "- " (<= 30 unless _DEEP_BLOCK matches).
    A flow collection adds one level per bracket."""
    flow = chunk.count("[") + chunk.count("{")
    if flow > _MAX_FLOW or _DEEP_BLOCK.search(chunk) or _DEEP_BLOCK.match("\n" + chunk[:32]):
        return 1 << 30  # no cheap bound: walk the document
    return 2 * 31 + flow + 1


def _depth(root: Any) -> int:
    """The nesting depth of a parsed document (containers only), level by level."""
    depth, level = 0, [root]
    while level:
        depth += 1
        following: list[Any] = []
        for node in level:
            for child in node.values() if isinstance(node, dict) else node:
                if isinstance(child, dict | list):
                    following.append(child)
        level = following
    return depth
