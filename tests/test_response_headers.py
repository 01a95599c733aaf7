"""set_headers: what the middlewares add to an answer's headers, exactly as Starlette's
MutableHeaders would (appended when new, replacing in place when already there)."""

from __future__ import annotations

from typing import Any

from starlette.datastructures import MutableHeaders

from compiler.service.middleware import add_raw_headers, set_headers


def _with_mutable_headers(headers: list[tuple[bytes, bytes]], values: dict[str, str]) -> Any:
    message: dict[str, Any] = {"type": "http.response.start", "headers": list(headers)}
    out = MutableHeaders(scope=message)
    for key, value in values.items():
        out[key] = value
    return message["headers"]


def test_new_headers_are_appended_in_order_and_present_ones_replaced_in_place() -> None:
    values = {"RateLimit-Limit": "10", "RateLimit-Remaining": "9", "X-Request-ID": "req-1"}
    for headers in (
        [(b"content-type", b"application/json"), (b"content-length", b"2")],
        [(b"x-request-id", b"old"), (b"content-length", b"2"), (b"x-request-id", b"dup")],
        [],
    ):
        message: dict[str, Any] = {"type": "http.response.start", "headers": list(headers)}
        set_headers(message, values)
        assert message["headers"] == _with_mutable_headers(headers, values)
    message = {"type": "http.response.start", "headers": [(b"content-length", b"2")]}
    set_headers(message, {"X-Request-ID": "req-2"})
    assert message["headers"] == [(b"content-length", b"2"), (b"x-request-id", b"req-2")]


def test_raw_pairs_are_added_as_their_decoded_names_and_values_would_be() -> None:
    pairs = [(b"ratelimit-limit", b"10"), (b"x-request-id", b"req-3")]
    for headers in ([(b"content-length", b"2")], [(b"x-request-id", b"old"), (b"a", b"b")]):
        message: dict[str, Any] = {"type": "http.response.start", "headers": list(headers)}
        add_raw_headers(message, pairs)
        decoded = {k.decode(): v.decode() for k, v in pairs}
        assert message["headers"] == _with_mutable_headers(headers, decoded)
