"""/openapi.json from the route table and the pydantic models, and an offline /docs page.

Routes declared as ApiRoute carry their request/response models and query parameters; any other
route (monitoring) is still listed with its methods and docstring. WebSocket routes are not HTTP
operations: they are listed under the top-level `x-websocket` extension. The docs page is one
self-contained HTML file that renders /openapi.json: no CDN, no external script.
"""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel
from pydantic.json_schema import models_json_schema
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import BaseRoute, Route, WebSocketRoute
from starlette.types import ASGIApp, Receive, Scope, Send

from compiler import __version__
from compiler.service.access_middleware import is_protected
from compiler.service.schemas import ErrorBody
from compiler.spec.ids import MAX_TENANT_ID, RESERVED_IDS, TENANT_ID_PATTERN

_REF = "#/components/schemas/{model}"
_ERROR_STATUSES = {
    "400": "Malformed request or missing X-Demo-Mode",
    "401": "No bearer token, or one unknown, expired or revoked (WWW-Authenticate: Bearer)",
    "403": "The token's role or the editor policy does not allow this (details name it)",
    "404": "Not found",
    "405": "Method not allowed on this path (Allow names the ones that are)",
    "408": "The request body did not arrive in time",
    "409": "Conflict",
    "412": "If-Match does not match the current ETag",
    "413": "Body over the size limit",
    "415": "The body is not JSON (Content-Type)",
    "422": "Validation failed (details.errors lists field paths)",
    "429": "Rate limited (Retry-After; RateLimit-* headers on every answer)",
    "500": "Internal or operator-side failure (git, deploy repo); quote request_id",
    "503": "A store or repository is unavailable for now",
}
# Path parameters as the server checks them (compiler/spec/ids.py).
_PATH_SCHEMAS: dict[str, dict[str, Any]] = {
    "tenant_id": {
        "type": "string",
        "pattern": TENANT_ID_PATTERN,
        "minLength": 1,
        "maxLength": MAX_TENANT_ID,
        "not": {"enum": sorted(RESERVED_IDS)},
    },
    "deployment_id": {"type": "string", "pattern": "^dep-[0-9a-f]{4,40}$"},
}


def _path_schema(name: str) -> dict[str, Any]:
    return _PATH_SCHEMAS.get(name, {"type": "string"})


@dataclass(frozen=True)
class QueryParam:
    name: str
    type: str = "string"
    description: str = ""
    default: Any = None
    enum: tuple[str, ...] = ()
    minimum: int | None = None
    maximum: int | None = None
    pattern: str | None = None

    def schema(self) -> dict[str, Any]:
        out: dict[str, Any] = {"type": self.type}
        for key, value in (
            ("default", self.default),
            ("minimum", self.minimum),
            ("maximum", self.maximum),
            ("pattern", self.pattern),
        ):
            if value is not None:
                out[key] = value
        if self.enum:
            out["enum"] = list(self.enum)
        elif self.type == "string":
            out["minLength"] = 1  # an empty value is refused, not read as absent
        return out


@dataclass(frozen=True)
class RouteDoc:
    summary: str
    request: type[BaseModel] | None = None
    response: type[BaseModel] | None = None
    status: int = 200
    query: tuple[QueryParam, ...] = ()
    headers: tuple[str, ...] = ()
    response_media: str = "application/json"
    extra_media: tuple[str, ...] = field(default=())


class ApiRoute(Route):
    """A Starlette Route that also describes itself for /openapi.json."""

    def __init__(
        self,
        path: str,
        endpoint: Callable[..., Any],
        *,
        methods: list[str],
        doc: RouteDoc,
        include_in_schema: bool = True,
    ) -> None:
        super().__init__(path, endpoint, methods=methods, include_in_schema=include_in_schema)
        self.doc = doc
        if inspect.iscoroutinefunction(endpoint):  # (Starlette runs a plain function in a thread)
            self.app = _endpoint_app(endpoint)


def _endpoint_app(endpoint: Callable[[Request], Awaitable[Response]]) -> ASGIApp:
    """Starlette's request_response without its second exception wrapper: an error a handler
    raises reaches the app's ExceptionMiddleware, which maps it with the same handlers (the
    guard's refusals already take that way), at one wrapper less on every request."""

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        response = await endpoint(Request(scope, receive, send))
        await response(scope, receive, send)

    return app


DocTable = Mapping[tuple[str, str], RouteDoc]


def _doc_of(route: Route, method: str, extra: DocTable) -> RouteDoc | None:
    """An ApiRoute's own doc, else the (path, method) entry other modules' routes are given."""
    return route.doc if isinstance(route, ApiRoute) else extra.get((route.path, method))


def _models(docs: Sequence[RouteDoc]) -> list[type[BaseModel]]:
    found: dict[str, type[BaseModel]] = {"ErrorBody": ErrorBody}
    for doc in docs:
        for model in (doc.request, doc.response):
            if model is not None:
                found[model.__name__] = model
    return list(found.values())


def _parameters(route: Route, doc: RouteDoc | None) -> list[dict[str, Any]]:
    params: list[dict[str, Any]] = [
        {
            "name": name,
            "in": "path",
            "required": True,
            "schema": _path_schema(name),
        }
        for name in route.param_convertors
    ]
    if route.path.startswith("/api/"):
        params.append(
            {
                "name": "X-Demo-Mode",
                "in": "header",
                "required": True,
                "schema": {"type": "string", "enum": ["true", "false"]},
            }
        )
        params.append(
            {
                "name": "X-Request-ID",
                "in": "header",
                "description": "Echoed back; anything else than [A-Za-z0-9._:-] (128) is replaced",
                "schema": {"type": "string"},
            }
        )
        params.append(
            {
                "name": "X-Debug",
                "in": "header",
                "schema": {"type": "string", "enum": ["true", "false"]},
            }
        )
    for header in doc.headers if doc else ():
        params.append({"name": header, "in": "header", "schema": {"type": "string"}})
    for q in doc.query if doc else ():
        params.append(
            {"name": q.name, "in": "query", "description": q.description, "schema": q.schema()}
        )
    return params


def _operation(route: Route, method: str, doc: RouteDoc | None) -> dict[str, Any]:
    summary = doc.summary if doc else (inspect.getdoc(route.endpoint) or route.name).split("\n")[0]
    op: dict[str, Any] = {
        "summary": summary,
        "operationId": f"{route.name}_{method.lower()}",
        "parameters": _parameters(route, doc),
    }
    ok: dict[str, Any] = {"description": "OK"}
    if doc and doc.response is not None:
        content = {
            doc.response_media: {"schema": {"$ref": _REF.format(model=doc.response.__name__)}}
        }
        for media in doc.extra_media:
            content[media] = {"schema": {"type": "string"}}
        ok["content"] = content
    elif doc:
        ok["content"] = {
            media: {"schema": {"type": "string" if media != "application/json" else "object"}}
            for media in (doc.response_media, *doc.extra_media)
        }
    op["responses"] = {str(doc.status if doc else 200): ok}
    error_ref = {"application/json": {"schema": {"$ref": _REF.format(model="ErrorBody")}}}
    if route.path.startswith("/api/"):
        op["responses"] |= {
            status: {"description": text, "content": error_ref}
            for status, text in _ERROR_STATUSES.items()
        }
    elif is_protected(route.path):
        op["responses"] |= {
            status: {"description": _ERROR_STATUSES[status], "content": error_ref}
            for status in ("401", "403", "429")
        }
    if not is_protected(route.path):
        op["security"] = []  # open to anyone: liveness, readiness, the docs
    if doc and doc.request is not None:
        op["requestBody"] = {
            "required": True,
            "content": {
                "application/json": {"schema": {"$ref": _REF.format(model=doc.request.__name__)}}
            },
        }
    return op


def build_openapi(routes: Sequence[BaseRoute], extra: DocTable | None = None) -> dict[str, Any]:
    """The document for `routes`; `extra` describes routes other modules mount as plain Routes."""
    paths: dict[str, dict[str, Any]] = {}
    websockets: dict[str, dict[str, Any]] = {}
    docs: list[RouteDoc] = []
    for route in routes:
        if isinstance(route, Route) and route.include_in_schema:
            for method in sorted((route.methods or set()) - {"HEAD"}):
                doc = _doc_of(route, method, extra or {})
                docs.extend([doc] if doc else [])
                paths.setdefault(route.path, {})[method.lower()] = _operation(route, method, doc)
        elif isinstance(route, WebSocketRoute):
            # Not an HTTP operation: listed apart, so HTTP clients and fuzzers leave them be.
            text = (inspect.getdoc(route.endpoint) or route.name).split("\n")[0]
            websockets[route.path] = {
                "summary": text,
                "parameters": [
                    {
                        "name": name,
                        "in": "path",
                        "required": True,
                        "schema": _path_schema(name),
                    }
                    for name in route.param_convertors
                ],
                "messages": "JSON text frames",
            }
    _, schemas = models_json_schema(
        [(model, "validation") for model in _models(docs)], ref_template=_REF
    )
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "ECP-AI Orchestrator API",
            "version": __version__,
            "description": "Implements the ECP-AI Kubernetes Orchestrator API reference v1.51.",
        },
        "paths": dict(sorted(paths.items())),
        "components": {
            "schemas": schemas.get("$defs", {}),
            "securitySchemes": {
                "bearer": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "An API token (ecp token create) or an OIDC JWT",
                }
            },
        },
        "security": [{"bearer": []}],
        "x-websocket": dict(sorted(websockets.items())),
    }


_DOCS_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>ECP-AI Orchestrator API</title>
<style>
body{font:14px/1.45 system-ui,sans-serif;margin:2em auto;max-width:70em;padding:0 1em;color:#222}
h2{border-bottom:1px solid #ccc;padding-bottom:.2em;margin-top:2em}
.op{border:1px solid #ddd;border-radius:4px;margin:.6em 0;padding:.5em .8em}
.m{display:inline-block;min-width:5em;font-weight:bold;text-transform:uppercase}
.get{color:#0a6}.post{color:#06c}.put{color:#b70}.delete{color:#c22}
pre{background:#f6f6f6;padding:.6em;overflow:auto;max-height:30em}
details>summary{cursor:pointer}
</style></head><body>
<h1>ECP-AI Orchestrator API</h1>
<p>Every route and schema from <a href="/openapi.json">/openapi.json</a>. Served offline.</p>
<div id="ops">Loading /openapi.json ...</div><h2>Schemas</h2><div id="schemas"></div>
<script>
function el(tag, cls, text){const e=document.createElement(tag);
  if(cls)e.className=cls;if(text!==undefined)e.textContent=text;return e;}
fetch('/openapi.json').then(r=>r.json()).then(spec=>{
  const ops=document.getElementById('ops');ops.textContent='';
  for(const [path,methods] of Object.entries(spec.paths)){
    for(const [method,op] of Object.entries(methods)){
      const box=el('div','op');box.appendChild(el('span','m '+method,method));
      box.appendChild(el('code','',path));box.appendChild(el('span','',' \u2014 '+op.summary));
      const d=el('details');d.appendChild(el('summary','','parameters and responses'));
      d.appendChild(el('pre','',JSON.stringify(
        {parameters:op.parameters,requestBody:op.requestBody,responses:op.responses},null,2)));
      box.appendChild(d);ops.appendChild(box);}}
  const sc=document.getElementById('schemas');
  for(const [name,schema] of Object.entries(spec.components.schemas)){
    const d=el('details','op');d.appendChild(el('summary','',name));
    d.appendChild(el('pre','',JSON.stringify(schema,null,2)));sc.appendChild(d);}
}).catch(e=>{document.getElementById('ops').textContent='cannot load /openapi.json: '+e;});
</script></body></html>
"""


def openapi_routes(
    get_routes: Callable[[], Sequence[BaseRoute]], extra: DocTable | None = None
) -> list[BaseRoute]:
    """/openapi.json and /docs; the document is built once, on first request."""
    built: list[dict[str, Any]] = []

    async def openapi_json(request: Request) -> Response:
        """The OpenAPI 3.1 document of this API."""
        if not built:
            built.append(build_openapi(get_routes(), extra))
        return JSONResponse(built[0])

    async def docs(request: Request) -> Response:
        """Human-readable API docs, rendered from /openapi.json without any CDN."""
        return HTMLResponse(_DOCS_PAGE)

    return [
        Route("/openapi.json", openapi_json, methods=["GET"]),
        Route("/docs", docs, methods=["GET"]),
    ]
