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

from compiler.errors import Location, PayloadTooLarge, UsageError, ValidationFailed

MiB = 1024 * 1024
DEFAULT_BODY_LIMIT = 1 * MiB
MANIFEST_BODY_LIMIT = 5 * MiB
# Field-error lists are capped: a hostile body must not turn into a megabyte error response.
_MAX_FIELD_ERRORS = 20

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


def parse_json(raw: bytes | str, field: str = "body") -> Any:
    """JSON text from a client: invalid text is 400; duplicate keys (which would silently keep the
    last value) and nesting deep enough to exhaust the parser's recursion are 422."""
    what = "request body" if field == "body" else field
    try:
        return json.loads(raw, object_pairs_hook=_unique_keys)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise UsageError(f"{what} is not valid JSON: {exc}", details={"field": field}) from exc
    except RecursionError as exc:
        raise ValidationFailed(f"{what} is nested too deeply", details={"field": field}) from exc
    except ValidationFailed as exc:
        exc.details.setdefault("field", field)
        raise


async def read_json_object(request: Request, limit: int = DEFAULT_BODY_LIMIT) -> dict[str, Any]:
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
    raw = request.query_params.get(name)
    if raw is None or raw == "":
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
    if raw is None or raw == "":
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
    if raw is None or raw == "":
        return default
    if raw not in choices:
        raise error(
            f"query parameter {name} must be one of {', '.join(choices)} (got {raw[:40]!r})",
            details={"field": f"query.{name}", "allowed": list(choices)},
        )
    return raw
