"""Load tenant specs from YAML text or files into TenantSpec, with file:line:field errors.

Fast path: PyYAML's C parser (duplicate keys refused, anchors/aliases refused, 1 MiB cap). Only
when the model rejects the data do we compose the node tree again to find the offending line.
"""

from __future__ import annotations

import difflib
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError

from compiler.errors import Location, SpecInvalid
from compiler.spec.ids import check_tenant_id
from compiler.spec.models import TenantSpec

MAX_SPEC_BYTES = 1024 * 1024
_Loader: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _SpecLoader(_Loader):  # type: ignore[valid-type,misc]
    """Safe loader refusing duplicate keys (YAML calls them an error; PyYAML keeps the last)."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: dict[Any, int] = {}
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=True)
            if isinstance(key, str | int | float | bool) and key in seen:
                raise yaml.constructor.ConstructorError(
                    None,
                    None,
                    f"duplicate key {key!r} (first on line {seen[key] + 1})",
                    key_node.start_mark,
                )
            if isinstance(key, str | int | float | bool):
                seen[key] = key_node.start_mark.line
        return super().construct_mapping(node, deep=deep)  # type: ignore[no-any-return]


def _refuse_anchors(text: str, source: str) -> None:
    # Specs never need anchors; refusing them rules out alias bombs without expanding anything.
    if "&" not in text and "*" not in text:
        return
    for token in yaml.scan(text, Loader=_Loader):
        if isinstance(token, yaml.AnchorToken | yaml.AliasToken):
            raise SpecInvalid(
                "anchors and aliases are not allowed in tenant specs",
                location=Location(file=source, line=token.start_mark.line + 1),
            )


def _parse_yaml(text: str, source: str) -> Any:
    try:
        _refuse_anchors(text, source)
        return yaml.load(text, Loader=_SpecLoader)  # noqa: S506 - a SafeLoader subclass
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else None
        problem = exc.problem or str(exc)
        raise SpecInvalid(
            f"invalid YAML: {problem}", location=Location(file=source, line=line)
        ) from exc
    except yaml.YAMLError as exc:
        raise SpecInvalid(f"invalid YAML: {exc}", location=Location(file=source)) from exc


def line_of(text: str, loc: tuple[int | str, ...]) -> int | None:
    """1-based line of the node at `loc` (or its nearest existing parent)."""
    try:
        node: Any = yaml.compose(text, Loader=_Loader)
    except yaml.YAMLError:
        return None
    return node_line(node, loc)


def node_line(node: Any, loc: tuple[int | str, ...]) -> int | None:
    """1-based line of the composed YAML node at `loc` below `node` (or its nearest parent)."""
    line = node.start_mark.line + 1 if node is not None else None
    for part in loc:
        if isinstance(node, yaml.MappingNode):
            match = [(k, v) for k, v in node.value if k.value == str(part)]
            if not match:
                return line
            key, node = match[0]
            line = key.start_mark.line + 1
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int):
            if part >= len(node.value):
                return line
            node = node.value[part]
            line = node.start_mark.line + 1
        else:
            return line
    return line


def _field_path(loc: tuple[int | str, ...]) -> str:
    path = ""
    for part in loc:
        path += f"[{part}]" if isinstance(part, int) else (f".{part}" if path else str(part))
    return path


def _message(error: Mapping[str, Any], model: type[BaseModel] | None = None) -> str:
    msg = str(error["msg"])
    if error["type"] == "extra_forbidden":
        return "unknown field" + _suggestion(model, error["loc"])
    if msg.startswith("Value error, "):
        msg = msg[len("Value error, ") :]
    given = error.get("input")
    if error["type"] in (
        "int_type",
        "string_type",
        "literal_error",
        "int_parsing",
    ) and not isinstance(given, dict | list):
        msg = f"{msg} (got {given!r})"
    return msg


def _suggestion(model: type[BaseModel] | None, loc: tuple[Any, ...]) -> str:
    """`; did you mean 'callbot'?` for an unknown key close to a field the model has there."""
    if model is None or not loc or not isinstance(loc[-1], str):
        return ""
    for step in loc[:-1]:
        field = model.model_fields.get(step) if isinstance(step, str) else None
        inner = field.annotation if field is not None else None
        if not (isinstance(inner, type) and issubclass(inner, BaseModel)):
            return ""
        model = inner
    close = difflib.get_close_matches(loc[-1], list(model.model_fields), n=1, cutoff=0.75)
    return f"; did you mean {close[0]!r}?" if close else ""


def spec_errors(
    exc: ValidationError,
    text: str | None,
    source: str,
    model: type[BaseModel] | None = None,
) -> list[dict[str, Any]]:
    """Pydantic errors as {file, line, field, message} records, in document order; with the
    validated `model`, an unknown field names the closest known one."""
    records = []
    for error in exc.errors():
        loc = tuple(p for p in error["loc"] if not isinstance(p, str) or p != "function-after")
        records.append(
            {
                "file": source,
                "line": line_of(text, loc) if text is not None else None,
                "field": _field_path(loc) or "(document)",
                "message": _message(error, model),
            }
        )
    return records


def _invalid(records: list[dict[str, Any]]) -> SpecInvalid:
    first = records[0]
    return SpecInvalid(
        first["message"],
        details={"errors": records},
        location=Location(file=first["file"], line=first["line"], field=first["field"]),
    )


def parse_spec(text: str, source: str, expected_id: str | None = None) -> TenantSpec:
    """Parse one spec's YAML text; `expected_id` is the file name's tenant ID, when from a file."""
    if len(text.encode("utf-8", "surrogatepass")) > MAX_SPEC_BYTES:
        raise SpecInvalid(
            f"spec is larger than {MAX_SPEC_BYTES // 1024} KiB", location=Location(file=source)
        )
    data = _parse_yaml(text, source)
    if not isinstance(data, dict):
        raise SpecInvalid(
            "a tenant spec must be a YAML mapping", location=Location(file=source, line=1)
        )
    try:
        spec = TenantSpec.model_validate(data)
    except ValidationError as exc:
        raise _invalid(spec_errors(exc, text, source, TenantSpec)) from exc
    if expected_id is not None and spec.tenant_id != expected_id:
        raise SpecInvalid(
            f"tenant_id {spec.tenant_id!r} differs from the file name ({expected_id}.yaml)",
            location=Location(file=source, line=line_of(text, ("tenant_id",)), field="tenant_id"),
        )
    return spec


def spec_from_mapping(data: Mapping[str, Any], source: str = "<request>") -> TenantSpec:
    """Validate a spec given as data (an API body); errors carry field paths, no lines."""
    try:
        return TenantSpec.model_validate(dict(data))
    except ValidationError as exc:
        raise _invalid(spec_errors(exc, None, source, TenantSpec)) from exc


def read_spec_text(path: Path) -> str:
    """A spec file's text, refusing huge files before reading them whole."""
    try:
        size = path.stat().st_size
        if size > MAX_SPEC_BYTES:
            raise SpecInvalid(
                f"spec is {size} bytes; at most {MAX_SPEC_BYTES // 1024} KiB",
                location=Location(file=str(path)),
            )
        # newline="" keeps the bytes exact, so the text hashes like the file does
        with path.open(encoding="utf-8", newline="") as handle:
            return handle.read()
    except UnicodeDecodeError as exc:
        raise SpecInvalid("spec is not UTF-8 text", location=Location(file=str(path))) from exc
    except OSError as exc:
        raise SpecInvalid(
            f"cannot read spec: {exc.strerror}", location=Location(file=str(path))
        ) from exc


def load_spec_file(path: Path) -> TenantSpec:
    """Load tenants/<id>.yaml; the file name must be a valid tenant ID equal to tenant_id."""
    check_tenant_id(path.stem, location=Location(file=str(path), field="file name"))
    return parse_spec(read_spec_text(path), str(path), expected_id=path.stem)


def spec_path(tenants_dir: Path, tenant_id: str) -> Path:
    """The spec file of `tenant_id` (checked: it never escapes tenants_dir)."""
    return tenants_dir / f"{check_tenant_id(tenant_id)}.yaml"


def spec_files(tenants_dir: Path) -> list[Path]:
    """Every *.yaml spec in tenants_dir, sorted by name (the JSON Schema file is not one)."""
    try:
        with os.scandir(tenants_dir) as entries:  # d_type: no stat per file
            names = sorted(e.name for e in entries if e.name.endswith(".yaml") and e.is_file())
    except (FileNotFoundError, NotADirectoryError):
        return []
    return [tenants_dir / name for name in names]
