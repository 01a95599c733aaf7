"""Successful responses: a response model to JSON, with X-Debug timings and explanations.

Input: the request (for its debug flag and timings) and a response model. Output: a Response.
Timings are recorded by handlers with `timed(request, "phase")`; nothing here computes results.
"""

from __future__ import annotations

import time
from typing import Any

from pydantic import BaseModel
from starlette.requests import Request
from starlette.responses import Response

from compiler.service.answer_cache import CachedAnswer

JSON = "application/json"


def debug_enabled(request: Request) -> bool:
    return bool(request.scope.get("state", {}).get("debug", False))


class timed:  # used as `with timed(request, "phase"):`, like a function
    """Record how long `phase` took, in ms, for the X-Debug answer (a class, not a generator
    context manager: it runs around every read)."""

    __slots__ = ("phase", "started", "timings")

    def __init__(self, request: Request, phase: str) -> None:
        self.timings = request.scope.get("state", {}).get("timings")
        self.phase = phase
        self.started = 0.0

    def __enter__(self) -> None:
        self.started = time.perf_counter()

    def __exit__(self, *exc: object) -> None:
        if isinstance(self.timings, dict):
            self.timings[self.phase] = round((time.perf_counter() - self.started) * 1000, 3)


def debug_info(request: Request, **extra: Any) -> dict[str, Any] | None:
    """The `debug` member of an answer when X-Debug: true, else None (and left out)."""
    if not debug_enabled(request):
        return None
    started = getattr(request.state, "started", None)
    total = round((time.perf_counter() - started) * 1000, 3) if started else None
    return {
        "request_id": getattr(request.state, "request_id", None),
        "timings_ms": {**getattr(request.state, "timings", {}), "total": total},
        **extra,
    }


def json_bytes(model: BaseModel) -> bytes:
    """The model as JSON; None members named `debug` are left out, everything else kept."""
    exclude = {"debug"} if getattr(model, "debug", None) is None else None
    return model.model_dump_json(exclude=exclude).encode("utf-8")


def json_reply(
    model: BaseModel, status: int = 200, headers: dict[str, str] | None = None
) -> Response:
    return Response(json_bytes(model), status_code=status, headers=headers, media_type=JSON)


class CachedResponse(Response):
    """A 200 answer built earlier (answer_cache), byte for byte: its raw headers were encoded
    once, when it was built (Response's own init would encode them again per request)."""

    media_type = JSON

    def __init__(self, answer: CachedAnswer) -> None:
        self.status_code = 200
        self.background = None
        self.body = answer.body
        self.raw_headers = list(answer.raw_headers)  # the middlewares add to this list


def cached_reply(answer: CachedAnswer) -> Response:
    """A 200 answer built earlier (answer_cache), byte for byte, headers included."""
    return CachedResponse(answer)
