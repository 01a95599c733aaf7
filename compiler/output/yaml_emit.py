"""Fast deterministic block YAML for JSON-like Kubernetes objects (dict/list/str/number/bool/None).

kubectl/Helm layout: 2-space indent, keys in insertion order, sequences not indented under keys.
Every scalar reads back as the same value under YAML 1.1 (PyYAML, Go yaml.v2) and YAML 1.2 loaders.
Pure string building, no I/O; a non-JSON value raises ManifestInvalid with the path to it.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from compiler.errors import ManifestInvalid

__all__ = ["dump_document", "dump_documents"]

# Anything outside YAML's printable set, plus the characters YAML 1.1 reads as line breaks (NEL,
# LS, PS) and the BOM, which some readers drop: such text can only be written double-quoted.
_UNSAFE_INLINE = re.compile(
    "[^\x20-\x7e\xa0-\u2027\u202a-\ud7ff\ue000-\ufefe\uff00-\ufffd\U00010000-\U0010ffff]"
)
# The same for literal block scalars, which may also hold tabs and line feeds.
_UNSAFE_BLOCK = re.compile(
    "[^\t\n\x20-\x7e\xa0-\u2027\u202a-\ud7ff\ue000-\ufefe\uff00-\ufffd\U00010000-\U0010ffff]"
)
# A superset of what YAML 1.1 and 1.2 resolve to int, float or timestamp: decimal, octal, hex and
# binary ints, '_' separators, sexagesimal 1:20, exponents with no dot, .inf/.nan, dates.
_LOOKS_TYPED = re.compile(
    r"[-+]?(?:[0-9.][0-9_.:]*(?:[eE][-+]?[0-9_]*)?|0[xXoObB][0-9a-fA-F_]*|\.(?i:inf|nan))\Z"
    r"|[0-9]{4}-[0-9]{1,2}-[0-9]{1,2}"
)
# Plain words some YAML 1.1 or 1.2 loader reads as bool or null ('y'/'n' are 1.1 bools in Go and
# the spec even though PyYAML ignores them), plus PyYAML's merge '<<' and value '=' tags.
_RESERVED_WORDS = frozenset(
    {"y", "n", "yes", "no", "true", "false", "on", "off", "null", "~", "<<", "="}
)
# Characters that start a YAML token when first in a plain scalar ('-' is handled separately so
# command-line flags such as --port=8080 stay readable).
_LEADING_INDICATORS = frozenset("?:,[]{}#&*!|>'\"%@` \t")
_ESCAPABLE = re.compile('[\\\\"\x00-\x1f\x7f-\x9f\u2028\u2029\ufeff\ud800-\udfff\ufffe\uffff]')
_NAMED_ESCAPES = {
    "\\": "\\\\",
    '"': '\\"',
    "\x00": "\\0",
    "\x07": "\\a",
    "\x08": "\\b",
    "\t": "\\t",
    "\n": "\\n",
    "\x0b": "\\v",
    "\x0c": "\\f",
    "\r": "\\r",
    "\x1b": "\\e",
    "\x85": "\\N",
    "\u2028": "\\L",
    "\u2029": "\\P",
}
# PyYAML forgets a possible implicit key after 1024 characters; longer keys use the '? ' form.
_MAX_IMPLICIT_KEY = 1000
# dump_documents' scalar texts, by string (see there); bounded so a long-lived server's stays small.
_MEMO: dict[str, str] = {}
_MEMO_LIMIT = 20_000


class _BadValue(Exception):
    """Internal: carries the path outwards so the public error can say where the value sits."""

    def __init__(self, reason: str, value: object) -> None:
        super().__init__(reason)  # pragma: no mutate - equivalent: only .reason is ever read
        self.reason = reason
        self.value = value
        self.path: list[str | int] = []


def dump_document(obj: Mapping[str, Any]) -> str:
    """One YAML document in block style, ending with a newline."""
    return dump_documents((obj,))


def dump_documents(objs: Iterable[Mapping[str, Any]]) -> str:
    """A '---'-separated stream of documents (no leading '---'); equal inputs give equal bytes."""
    parts: list[str] = []
    out = parts.append
    # Scalar text per distinct string: manifests repeat the same keys and label values thousands
    # of times, within one tenant's stream and across the tenants of a run, so the memo outlives
    # the call. A string's text depends on that string alone, so sharing cannot change bytes
    # (threads at worst compute one twice); it is emptied once it holds _MEMO_LIMIT strings.
    memo = _MEMO
    if len(memo) > _MEMO_LIMIT:
        memo.clear()
    for index, obj in enumerate(objs):
        if index:
            out("---\n")
        if not isinstance(obj, Mapping):
            raise _invalid(_BadValue("a document must be a mapping", obj), index)
        try:
            if obj:
                _emit_mapping(obj, "", "", out, memo)
            else:
                out("{}\n")
        except _BadValue as bad:
            raise _invalid(bad, index) from None
    return "".join(parts)


def _invalid(bad: _BadValue, index: int) -> ManifestInvalid:
    path = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in bad.path).lstrip(".")
    return ManifestInvalid(
        f"cannot write YAML for document {index} at {path or '<root>'}: {bad.reason}",
        details={"document": index, "path": path, "value_type": type(bad.value).__name__},
    )


def _emit_mapping(
    m: Mapping[Any, Any], pad: str, lead: str, out: Callable[[str], object], memo: dict[str, str]
) -> None:
    """Write a non-empty mapping whose keys sit at column len(pad); the first line starts `lead`.

    The common values (str, int, dict, list) are written here rather than through _emit_value:
    one call less per value, which is most of the emitter's time at 30,000 objects a run.
    """
    start = lead or pad
    for key, value in m.items():
        try:
            text = memo.get(key) if type(key) is str else None
            if text is None or text[0] == "|":
                text = _key_text(key)
                if "\n" not in key:  # then its key text is also its value text
                    memo[key] = text
            kind = type(value)
            if len(text) > _MAX_IMPLICIT_KEY:
                out(f"{start}? {text}\n")
                _emit_value(value, f"{pad}:", pad, out, memo)
            elif kind is str:
                scalar = memo.get(value) or _remember(value, memo)
                tail = _literal_body(value, pad + "  ") if scalar[0] == "|" else ""
                out(f"{start}{text}: {scalar}\n{tail}")
            elif kind is int:
                out(f"{start}{text}: {int.__repr__(value)}\n")
            elif kind is dict and value:
                out(f"{start}{text}:\n")
                _emit_mapping(value, pad + "  ", "", out, memo)
            elif kind is list and value:
                # kubectl style: a sequence under a key sits at the key's own column.
                out(f"{start}{text}:\n")
                _emit_sequence(value, pad, "", out, memo)
            else:
                _emit_value(value, f"{start}{text}:", pad, out, memo)
        except _BadValue as bad:
            bad.path.insert(0, key if type(key) is str else repr(key))
            raise
        start = pad


def _emit_sequence(
    s: list[Any] | tuple[Any, ...],
    pad: str,
    lead: str,
    out: Callable[[str], object],
    memo: dict[str, str],
) -> None:
    """Write a non-empty sequence whose dashes sit at column len(pad); the first starts `lead`.
    Common items are written here, as in _emit_mapping."""
    start = lead or pad
    for index, item in enumerate(s):
        try:
            kind = type(item)
            if kind is str:
                scalar = memo.get(item) or _remember(item, memo)
                tail = _literal_body(item, pad + "  ") if scalar[0] == "|" else ""
                out(f"{start}- {scalar}\n{tail}")
            elif kind is dict and item:
                # A mapping item starts on its dash line: '- name: x', the other keys under 'name'.
                _emit_mapping(item, pad + "  ", f"{start}- ", out, memo)
            else:
                _emit_value(item, f"{start}-", pad, out, memo)
        except _BadValue as bad:
            bad.path.insert(0, index)
            raise
        start = pad


def _emit_value(
    value: Any, head: str, pad: str, out: Callable[[str], object], memo: dict[str, str]
) -> None:
    """Write `head` (a 'key:' or '-' at column len(pad)) followed by the value it introduces."""
    kind = type(value)
    if kind is str:
        text = memo.get(value) or _remember(value, memo)
        if text[0] == "|":
            out(f"{head} {text}\n{_literal_body(value, pad + '  ')}")
        else:
            out(f"{head} {text}\n")
    elif kind is dict:
        _emit_nested_mapping(value, head, pad, out, memo)
    elif kind is list:
        _emit_nested_sequence(value, head, pad, out, memo)
    elif kind is int or kind is bool or kind is float or value is None:
        out(f"{head} {_non_str_scalar_text(value)}\n")
    elif isinstance(value, Mapping):
        _emit_nested_mapping(value, head, pad, out, memo)
    elif isinstance(value, list | tuple):
        _emit_nested_sequence(value, head, pad, out, memo)
    else:
        out(f"{head} {_non_str_scalar_text(value)}\n")


def _remember(value: str, memo: dict[str, str]) -> str:
    """The scalar text of `value`, kept in the memo (a miss: each string's first time)."""
    text = memo[value] = _str_text(value)
    return text


def _emit_nested_mapping(
    value: Mapping[Any, Any],
    head: str,
    pad: str,
    out: Callable[[str], object],
    memo: dict[str, str],
) -> None:
    if not value:
        out(f"{head} {{}}\n")
    elif head[-1] == "-":
        # A mapping item starts on its dash line: '- name: x', the other keys under 'name'.
        _emit_mapping(value, pad + "  ", f"{head} ", out, memo)
    else:
        out(f"{head}\n")
        _emit_mapping(value, pad + "  ", "", out, memo)


def _emit_nested_sequence(
    value: list[Any] | tuple[Any, ...],
    head: str,
    pad: str,
    out: Callable[[str], object],
    memo: dict[str, str],
) -> None:
    if not value:
        out(f"{head} []\n")
    elif head[-1] == "-":
        _emit_sequence(value, pad + "  ", f"{head} ", out, memo)
    else:
        # kubectl style: a sequence under a key sits at the key's own column.
        out(f"{head}\n")
        _emit_sequence(value, pad, "", out, memo)


def _non_str_scalar_text(value: Any) -> str:
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, int):
        return int.__repr__(value)
    if isinstance(value, float):
        return _float_text(value)
    if isinstance(value, str):
        return _str_text(str.__str__(value))
    raise _BadValue(f"{type(value).__name__} is not a JSON value", value)


def _float_text(value: float) -> str:
    if not math.isfinite(value):
        # JSON, and so the Kubernetes API, has no infinities or NaN: a renderer bug to report.
        raise _BadValue(f"float {value!r} has no JSON form", value)
    text = float.__repr__(value)
    if "." not in text:
        # YAML 1.1 floats need a dot: '1e+16' would read back as a string.
        text = text.replace("e", ".0e")
    return text


def _key_text(key: Any) -> str:
    if isinstance(key, str):
        key = str.__str__(key)
        return key if _is_plain_safe(key) else _double_quoted(key)
    raise _BadValue(f"mapping key of type {type(key).__name__} is not a string", key)


def _str_text(value: str) -> str:
    """Plain text, a double-quoted string, or '|'/'|-' when a literal block should follow."""
    if _is_plain_safe(value):
        return value
    if "\n" in value and _is_literal_safe(value):
        return "|" if value[-1] == "\n" else "|-"
    return _double_quoted(value)


def _is_plain_safe(text: str) -> bool:
    """True when `text` written bare reads back as this same string in YAML 1.1 and 1.2."""
    if not text or text[0] in _LEADING_INDICATORS or text[-1] in " :":
        return False
    if text[0] == "-" and (len(text) == 1 or text[1] == " " or text.startswith("---")):
        return False
    if text.startswith("...") or ": " in text or " #" in text:
        return False
    if _UNSAFE_INLINE.search(text) or _LOOKS_TYPED.match(text):
        return False
    return len(text) > 5 or text.lower() not in _RESERVED_WORDS


def _is_literal_safe(text: str) -> bool:
    """True when a '|' block holds `text` exactly and reads cleanly: printable, no trailing blanks,
    no leading blank (it would set the block's indentation), at most one final line feed."""
    return not (
        text[0] in " \t\n"
        or text.endswith(("\n\n", " ", "\t"))
        or " \n" in text
        or "\t\n" in text
        or _UNSAFE_BLOCK.search(text)
    )


def _literal_body(text: str, pad: str) -> str:
    lines = text.split("\n")
    if lines[-1] == "":
        lines.pop()
    return "".join(f"{pad}{line}\n" if line else "\n" for line in lines)


def _double_quoted(text: str) -> str:
    return f'"{_ESCAPABLE.sub(_escape, text)}"'


def _escape(match: re.Match[str]) -> str:
    char = match.group()
    named = _NAMED_ESCAPES.get(char)
    if named is not None:
        return named
    code = ord(char)
    return f"\\x{code:02X}" if code < 0x100 else f"\\u{code:04X}"
