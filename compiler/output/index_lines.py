"""output/index.json edited line by line: a write of k tenants reads and rewrites k entries.

Input: the text of an index written by `index_text` (one line per tenant, sorted) and the entries
a compile changed or removed. Output: the head values, the entries asked for (parsed one line at
a time) and the new text, byte-identical to `index_text` of the updated index. Text in any other
layout (hand-formatted) gives None, and the caller parses it whole. No file I/O here.
"""

from __future__ import annotations

import bisect
import json
from collections.abc import Mapping
from typing import Any

_OPEN = '  "tenants": {'
_EMPTY = '  "tenants": {}'
_PAD = '    "'
_DUMP = json.JSONEncoder(sort_keys=True, ensure_ascii=False, separators=(", ", ": ")).encode


def _line(tenant_id: str, entry: Mapping[str, Any]) -> str:
    return f"    {_DUMP(tenant_id)}: {_DUMP(entry)}"


class IndexLines:
    """An index as its head lines and its sorted tenant lines (each without the comma)."""

    def __init__(self, head: list[str], ids: list[str], lines: list[str]) -> None:
        self.head = head
        self.ids = ids
        self.lines = lines

    @classmethod
    def parse(cls, text: str) -> IndexLines | None:
        """The index's lines, or None when `text` is not in `index_text`'s layout."""
        rows = text.split("\n")
        if len(rows) < 3 or rows[0] != "{" or rows[-1] != "" or rows[-2] != "}":
            return None
        body = rows[1:-2]
        if _EMPTY in body:
            at = body.index(_EMPTY)
            if at != len(body) - 1:
                return None
            return cls._checked(body[:at], [])
        if _OPEN not in body or body[-1] != "  }":
            return None
        at = body.index(_OPEN)
        tenant_rows = body[at + 1 : -1]
        lines = [row[:-1] if row.endswith(",") else row for row in tenant_rows]
        if any(row.endswith(",") for row in tenant_rows[-1:]) or not all(
            row.endswith(",") for row in tenant_rows[:-1]
        ):
            return None
        return cls._checked(body[:at], lines)

    @classmethod
    def _checked(cls, head: list[str], lines: list[str]) -> IndexLines | None:
        if not all(row.startswith('  "') and row.endswith(",") for row in head):
            return None
        ids: list[str] = []
        for line in lines:
            end = line.find('": ', len(_PAD))
            if not line.startswith(_PAD) or end < 0 or "\\" in line[len(_PAD) : end]:
                return None  # an escaped key: leave it to the whole-file parser
            ids.append(line[len(_PAD) : end])
        if ids != sorted(ids) or len(set(ids)) != len(ids):
            return None
        return cls(head, ids, lines)

    def head_values(self) -> dict[str, Any]:
        """The values before "tenants" (compiler and Kubernetes version)."""
        parsed = json.loads("{" + ",".join(row[:-1] for row in self.head) + "}")
        return parsed if isinstance(parsed, dict) else {}

    def entry(self, tenant_id: str) -> dict[str, Any] | None:
        at = bisect.bisect_left(self.ids, tenant_id)
        if at == len(self.ids) or self.ids[at] != tenant_id:
            return None
        line = self.lines[at]
        value = json.loads(line[len(_PAD) + len(tenant_id) + 3 :])
        return value if isinstance(value, dict) else None

    def text(
        self,
        head: Mapping[str, Any],
        changed: Mapping[str, Mapping[str, Any]],
        removed: set[str],
    ) -> str:
        """The index with `changed` entries put in, `removed` ones taken out and `head` as its
        head values: the bytes `index_text` writes for the same index."""
        ids, lines = list(self.ids), list(self.lines)
        for tenant_id in sorted(removed):
            at = bisect.bisect_left(ids, tenant_id)
            if at < len(ids) and ids[at] == tenant_id:
                del ids[at], lines[at]
        for tenant_id, entry in sorted(changed.items()):
            at = bisect.bisect_left(ids, tenant_id)
            if at < len(ids) and ids[at] == tenant_id:
                lines[at] = _line(tenant_id, entry)
            else:
                ids.insert(at, tenant_id)
                lines.insert(at, _line(tenant_id, entry))
        out = [f"  {_DUMP(k)}: {_DUMP(v)}," for k, v in sorted(head.items()) if k != "tenants"]
        out.append(_OPEN + (("\n" + ",\n".join(lines) + "\n  }") if lines else "}"))
        return "{\n" + "\n".join(out) + "\n}\n"
