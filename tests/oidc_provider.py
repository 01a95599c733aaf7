"""A tiny but real OpenID Connect provider for the dashboard's SSO tests: discovery, authorize,
token and JWKS endpoints over HTTP on a loopback port, RS256 keys generated per run.

It does what a provider with a signed-in user does: /authorize checks the public client, its
redirect URI and the PKCE challenge (S256 only), then redirects back with a one-time code;
/token redeems the code only with the verifier whose SHA-256 is that challenge, and answers an
ID token (iss, aud = client ID, sub, nonce, groups) signed with its key. Every refusal is counted,
so a test can tell a flow that worked from one that was let through.
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import jwt
from cryptography.hazmat.primitives.asymmetric import rsa


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


@dataclass
class User:
    sub: str
    username: str
    groups: tuple[str, ...]


@dataclass
class Provider:
    client_id: str
    redirect_prefix: str  # redirect URIs must start with this (the dashboard's origin + path)
    url: str = ""
    user: User = field(default_factory=lambda: User("user-1", "alice", ("platform-admins",)))
    key: rsa.RSAPrivateKey = field(
        default_factory=lambda: rsa.generate_private_key(public_exponent=65537, key_size=2048)
    )
    codes: dict[str, dict[str, Any]] = field(default_factory=dict)
    authorized: list[dict[str, str]] = field(default_factory=list)
    exchanged: list[dict[str, str]] = field(default_factory=list)
    refusals: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def discovery(self) -> dict[str, Any]:
        return {
            "issuer": self.url,
            "authorization_endpoint": f"{self.url}/authorize",
            "token_endpoint": f"{self.url}/token",
            "jwks_uri": f"{self.url}/keys",
            "response_types_supported": ["code"],
            "code_challenge_methods_supported": ["S256"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "subject_types_supported": ["public"],
        }

    def jwks(self) -> dict[str, Any]:
        public = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(self.key.public_key()))
        return {"keys": [{**public, "kid": "test-key", "use": "sig", "alg": "RS256"}]}

    def authorize(self, query: dict[str, str]) -> tuple[int, str]:
        """(status, redirect location or error text)."""
        with self.lock:
            self.authorized.append(query)
            problem = self._authorize_problem(query)
            if problem:
                self.refusals.append(problem)
                return 400, problem
            code = secrets.token_urlsafe(24)
            self.codes[code] = {**query, "user": self.user, "issued": time.time()}
        back = {"code": code, "state": query.get("state", "")}
        return 302, f"{query['redirect_uri']}?{urlencode(back)}"

    def _authorize_problem(self, query: dict[str, str]) -> str | None:
        if query.get("response_type") != "code":
            return "unsupported_response_type"
        if query.get("client_id") != self.client_id:
            return "unauthorized_client"
        if not query.get("redirect_uri", "").startswith(self.redirect_prefix):
            return "invalid redirect_uri"
        challenge = query.get("code_challenge", "")
        if query.get("code_challenge_method") != "S256" or len(challenge) < 43:
            return "PKCE with S256 is required"
        if "openid" not in query.get("scope", "").split():
            return "invalid_scope"
        return None

    def token(self, form: dict[str, str]) -> tuple[int, dict[str, Any]]:
        with self.lock:
            self.exchanged.append(form)
            grant = self.codes.pop(form.get("code", ""), None)  # one-time
            problem = self._token_problem(form, grant)
            if problem or grant is None:
                self.refusals.append(problem or "invalid_grant")
                return 400, {"error": "invalid_grant", "error_description": problem}
        user: User = grant["user"]
        now = int(time.time())
        claims = {
            "iss": self.url,
            "aud": self.client_id,
            "sub": user.sub,
            "preferred_username": user.username,
            "email": f"{user.username}@example.com",
            "groups": list(user.groups),
            "nonce": grant.get("nonce"),
            "iat": now,
            "exp": now + 600,
        }
        id_token = jwt.encode(claims, self.key, algorithm="RS256", headers={"kid": "test-key"})
        return 200, {
            "access_token": secrets.token_urlsafe(24),
            "id_token": id_token,
            "token_type": "Bearer",
            "expires_in": 600,
        }

    def _token_problem(self, form: dict[str, str], grant: dict[str, Any] | None) -> str | None:
        if form.get("grant_type") != "authorization_code":
            return "unsupported_grant_type"
        if grant is None:
            return "unknown or used code"
        if form.get("client_id") != grant["client_id"]:
            return "client_id differs from the authorization request"
        if form.get("redirect_uri") != grant["redirect_uri"]:
            return "redirect_uri differs from the authorization request"
        verifier = form.get("code_verifier", "")
        if b64url(hashlib.sha256(verifier.encode()).digest()) != grant["code_challenge"]:
            return "code_verifier does not match the code_challenge"
        return None


def _handler(provider: Provider) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def _answer(self, status: int, body: Any, headers: dict[str, str] | None = None) -> None:
            data = json.dumps(body).encode() if body is not None else b""
            self.send_response(status)
            # A browser app on another origin reads discovery and redeems the code (CORS).
            self.send_header("Access-Control-Allow-Origin", "*")
            self.send_header("Cache-Control", "no-store")
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            if body is not None:
                self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self) -> None:
            parts = urlsplit(self.path)
            query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
            if parts.path == "/.well-known/openid-configuration":
                self._answer(200, provider.discovery())
            elif parts.path == "/keys":
                self._answer(200, provider.jwks())
            elif parts.path == "/authorize":
                status, where = provider.authorize(query)
                if status == 302:
                    self._answer(302, None, {"Location": where})
                else:
                    self._answer(status, {"error": where})
            else:
                self._answer(404, {"error": "not found"})

        def do_POST(self) -> None:
            if urlsplit(self.path).path != "/token":
                self._answer(404, {"error": "not found"})
                return
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length).decode()
            form = {k: v[-1] for k, v in parse_qs(raw).items()}
            status, body = provider.token(form)
            self._answer(status, body)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    return Handler


@contextmanager
def running_provider(
    client_id: str, redirect_prefix: str = "http://127.0.0.1:"
) -> Iterator[Provider]:
    provider = Provider(client_id=client_id, redirect_prefix=redirect_prefix)
    http = ThreadingHTTPServer(("127.0.0.1", 0), _handler(provider))
    provider.url = f"http://127.0.0.1:{http.server_address[1]}"
    thread = threading.Thread(target=http.serve_forever, daemon=True)
    thread.start()
    try:
        yield provider
    finally:
        http.shutdown()
        http.server_close()
