"""Request input: bodies read under a size limit while they stream, JSON, query parameters.

Input: a Starlette request. Output: plain data or a validated pydantic model. Every problem is an
OrchestratorError (413 over the limit, 400 for malformed JSON, 422 with field paths for schema
violations), so the one error mapper renders it. No domain logic.
"""

from __future__ import annotations

import json
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError
from starlette.requests import Request

from compiler.errors import (
    Location,
    PayloadTooLarge,
    UnsupportedMediaType,
    UsageError,
    ValidationFailed,
)
from compiler.service.schemas import TenantUpdate

MiB = 1024 * 1024
DEFAULT_BODY_LIMIT = 1 * MiB
MANIFEST_BODY_LIMIT = 5 * MiB
# Field-error lists are capped: a hostile body must not turn into a megabyte error response.
_MAX_FIELD_ERRORS = 20
_MAX_INT_DIGITS = 18
_JSON_TYPES = ("application/json",)

Model = TypeVar("Model", bound=BaseModel)


def _too_large(limit: int) -> PayloadTooLarge:
    return PayloadTooLarge(
        f"request body is larger than {limit // MiB} MiB", details={"limit_bytes": limit}
    )


async def read_body(request: Request, limit: int = DEFAULT_BODY_LIMIT) -> bytes:
    """The body, refused as soon as Content-Length or the bytes received pass `limit`."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise _too_large(limit)
    chunks: list[bytes] = []
    received = 0
    async for chunk in request.stream():
        received += len(chunk)
        if received > limit:
            raise _too_large(limit)
        chunks.append(chunk)
    return b"".join(chunks)


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    data: dict[str, Any] = {}
    for key, value in pairs:
        if key in data:
            raise ValidationFailed(f"duplicate key {key!r} in a JSON object", details={"key": key})
        data[key] = value
    return data


class _HugeInt(str):
    """An integer literal longer than any field takes, kept as text until its field is known."""


def _bounded_int(text: str) -> int | _HugeInt:
    # Python refuses to convert more than 4,300 digits (a ValueError, so a 500); no field of ours
    # takes more than 18 digits.
    return _HugeInt(text) if len(text.lstrip("-")) > _MAX_INT_DIGITS else int(text)


def _first_bad(data: Any, path: str) -> tuple[str, str] | None:
    """(field, problem) of the first integer too long or string that is not Unicode text (a lone
    surrogate such as "\ud800" cannot be encoded, so it would fail wherever it is written)."""
    stack: list[tuple[Any, str]] = [(data, path)]
    while stack:
        value, where = stack.pop()
        if isinstance(value, _HugeInt):
            return where, f"integer with {len(value.lstrip('-'))} digits is too large"
        if isinstance(value, str):
            if not _encodable(value):
                return where, "string holds a lone surrogate (not Unicode text)"
        elif isinstance(value, dict):
            for key, item in value.items():
                child = f"{where}.{key}" if where else str(key)
                if not _encodable(key):
                    return where or "body", "object key holds a lone surrogate"
                stack.append((item, child))
        elif isinstance(value, list):
            stack.extend(
                (item, f"{where}.{i}" if where else str(i)) for i, item in enumerate(value)
            )
    return None


def _encodable(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def parse_json(raw: bytes | str, field: str = "body") -> Any:
    """JSON text from a client: invalid text is 400; duplicate keys (which would silently keep the
    last value), nesting deep enough to exhaust the parser's recursion, integers of more digits
    than any field takes and lone surrogates are 422 naming the field (NaN and Infinity are left
    to the models, which refuse them field by field)."""
    what = "request body" if field == "body" else field
    try:
        data = json.loads(raw, object_pairs_hook=_unique_keys, parse_int=_bounded_int)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise UsageError(f"{what} is not valid JSON: {exc}", details={"field": field}) from exc
    except RecursionError as exc:
        raise ValidationFailed(f"{what} is nested too deeply", details={"field": field}) from exc
    except ValidationFailed as exc:
        exc.details.setdefault("field", field)
        raise
    bad = _first_bad(data, "" if field == "body" else field)
    if bad is not None:
        where, problem = bad
        raise ValidationFailed(
            f"{where or what}: {problem}",
            details={"field": where or field},
            location=Location(field=where or field),
        )
    return data


def check_json_content_type(request: Request) -> None:
    """415 for a body declared as anything but JSON (application/json or a +json type); a body
    without a Content-Type is read as JSON."""
    declared = request.headers.get("content-type")
    if declared is None:
        return
    media = declared.split(";", 1)[0].strip().lower()
    if media in _JSON_TYPES or (media.startswith("application/") and media.endswith("+json")):
        return
    raise UnsupportedMediaType(
        f"the body must be JSON (Content-Type: application/json), not {declared[:60]!r}",
        details={"header": "Content-Type", "allowed": list(_JSON_TYPES)},
    )


async def read_json_object(request: Request, limit: int = DEFAULT_BODY_LIMIT) -> dict[str, Any]:
    check_json_content_type(request)
    raw = await read_body(request, limit)
    if not raw.strip():
        raise UsageError("a JSON object body is required", details={"field": "body"})
    data = parse_json(raw)
    if not isinstance(data, dict):
        raise ValidationFailed("request body must be a JSON object", details={"field": "body"})
    return data


def field_errors(exc: ValidationError, prefix: str = "") -> list[dict[str, str]]:
    """pydantic errors as [{field: 'a.b.0', message, type}], at most _MAX_FIELD_ERRORS."""
    out = []
    for err in exc.errors(include_url=False)[:_MAX_FIELD_ERRORS]:
        path = ".".join(str(part) for part in err["loc"])
        field = f"{prefix}.{path}" if prefix and path else (path or prefix or "body")
        out.append({"field": field, "message": err["msg"], "type": err["type"]})
    return out


def validation_failed(exc: ValidationError, prefix: str = "") -> ValidationFailed:
    errors = field_errors(exc, prefix)
    first = errors[0] if errors else {"field": "body", "message": "invalid"}
    return ValidationFailed(
        f"{first['field']}: {first['message']}",
        details={"errors": errors, "error_count": exc.error_count()},
        location=Location(field=first["field"]),
    )


def validate_model(model: type[Model], data: Any, prefix: str = "") -> Model:
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise validation_failed(exc, prefix) from exc


def query_int(request: Request, name: str, default: int, minimum: int, maximum: int) -> int:
    """An absent parameter is `default`; an empty one (`?limit=`) is as wrong as `?limit=x`."""
    raw = request.query_params.get(name)
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        value = minimum - 1
    if not minimum <= value <= maximum:
        raise ValidationFailed(
            f"query parameter {name} must be an integer from {minimum} to {maximum} "
            f"(got {raw[:40]!r})",
            details={"field": f"query.{name}", "minimum": minimum, "maximum": maximum},
        )
    return value


def query_bool(request: Request, name: str, default: bool) -> bool:
    raw = request.query_params.get(name)
    if raw is None:
        return default
    value = {"true": True, "1": True, "yes": True, "false": False, "0": False, "no": False}.get(
        raw.strip().lower()
    )
    if value is None:
        raise ValidationFailed(
            f"query parameter {name} must be true or false (got {raw[:40]!r})",
            details={"field": f"query.{name}"},
        )
    return value


def query_choice(
    request: Request,
    name: str,
    choices: tuple[str, ...],
    default: str | None = None,
    *,
    error: type[ValidationFailed] = ValidationFailed,
) -> str | None:
    raw = request.query_params.get(name)
    if raw is None:
        return default
    if raw not in choices:
        raise error(
            f"query parameter {name} must be one of {', '.join(choices)} (got {raw[:40]!r})",
            details={"field": f"query.{name}", "allowed": list(choices)},
        )
    return raw


async def read_update_patch(request: Request, tenant_id: str) -> dict[str, Any]:
    """A PUT-shaped body (an update or its preview) as the patch it makes: validated as a
    TenantUpdate, refused when it renames the tenant, unset fields left out."""
    update = validate_model(TenantUpdate, await read_json_object(request))
    if update.tenant_id is not None and update.tenant_id != tenant_id:
        raise ValidationFailed(
            f"tenant_id {update.tenant_id!r} differs from the path's {tenant_id!r}; "
            "a tenant cannot be renamed",
            details={"field": "tenant_id"},
        )
    return update.model_dump(exclude_unset=True, exclude={"tenant_id"})
