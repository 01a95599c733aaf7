"""OIDC bearer tokens: verify a JWT from the organisation's identity provider (Dex, Keycloak, Okta,
GitHub Actions) against its JWKS, then map its groups to grants.

Input: the JWT, the issuer / audience / JWKS settings. Output: a Principal, or Unauthorized. Uses
PyJWT (with `cryptography`): signature, `exp`/`nbf`/`iat` with a small leeway, `iss`, `aud`.
Only asymmetric algorithms are accepted, so `alg: none` and HS256 signed with the public key are
refused before any key is looked at. The JWKS (a file, a URL, or the issuer's discovery document)
is cached; an unknown `kid` refetches it (at most every REFETCH_S), which is how rotation is seen.
"""

from __future__ import annotations

import json
import re
import threading
import time
import urllib.request
from pathlib import Path
from typing import Any

import jwt

from compiler.access.group_policy import GroupPolicy
from compiler.access.roles import Principal
from compiler.errors import Unauthorized

ALGORITHMS = ("RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "EdDSA")
TTL_S = 300.0
REFETCH_S = 2.0  # an unknown kid refetches the JWKS at most this often
FETCH_TIMEOUT_S = 5.0
_SAFE = re.compile(r"[^A-Za-z0-9@._+ -]")


def looks_like_jwt(token: str) -> bool:
    return token.count(".") == 2 and token.startswith("eyJ")


class JwksCache:
    """Signing keys by kid, from a file (re-read when it changes) or a URL (re-fetched after
    TTL_S, or sooner when a token names a kid we do not know)."""

    def __init__(self, source: str, issuer: str | None) -> None:
        self.source = source
        self.issuer = issuer
        self._keys: dict[str, jwt.PyJWK] = {}
        self._loaded = 0.0
        self._file_key: tuple[int, int] | None = None
        self._lock = threading.Lock()

    def key(self, kid: str | None, alg: str) -> jwt.PyJWK:
        with self._lock:
            now = time.monotonic()
            if self._stale(now):
                self._reload(now)
            found = self._pick(kid, alg)
            if found is None and now - self._loaded >= REFETCH_S:
                self._reload(now)  # a rotated key the cache has not seen yet
                found = self._pick(kid, alg)
        if found is None:
            raise Unauthorized("the token's signing key is not in the issuer's JWKS")
        return found

    def _pick(self, kid: str | None, alg: str) -> jwt.PyJWK | None:
        if kid is not None:
            return self._keys.get(kid)
        candidates = [k for k in self._keys.values() if k.algorithm_name == alg]
        return candidates[0] if len(candidates) == 1 else None

    def _stale(self, now: float) -> bool:
        if not self._keys:
            return True
        if self._is_url():
            return now - self._loaded > TTL_S
        stat = Path(self.source).stat()
        return (stat.st_mtime_ns, stat.st_size) != self._file_key

    def _is_url(self) -> bool:
        return self.source.startswith(("http://", "https://"))

    def _reload(self, now: float) -> None:
        self._loaded = now
        try:
            if self._is_url():
                data = _fetch_json(self.source)
            else:
                path = Path(self.source)
                stat = path.stat()
                data = json.loads(path.read_text(encoding="utf-8"))
                self._file_key = (stat.st_mtime_ns, stat.st_size)
            keys = jwt.PyJWKSet.from_dict(data).keys
        except (OSError, ValueError, jwt.PyJWTError) as exc:
            if self._keys:
                return  # keep the last good keys through an identity provider's hiccup
            raise Unauthorized(f"cannot read the identity provider's JWKS: {exc}") from exc
        self._keys = {str(k.key_id): k for k in keys if k.key_id}
        for k in keys:
            if not k.key_id:
                self._keys.setdefault(f"#{len(self._keys)}", k)


def _fetch_json(url: str) -> Any:
    request = urllib.request.Request(url, headers={"Accept": "application/json"})  # noqa: S310
    with urllib.request.urlopen(request, timeout=FETCH_TIMEOUT_S) as answer:  # noqa: S310
        return json.loads(answer.read(1_000_000))


def discovered_jwks_uri(issuer: str) -> str:
    document = _fetch_json(issuer.rstrip("/") + "/.well-known/openid-configuration")
    uri = document.get("jwks_uri") if isinstance(document, dict) else None
    if not isinstance(uri, str):
        raise Unauthorized("the issuer's discovery document names no jwks_uri")
    return uri


class OidcVerifier:
    def __init__(
        self,
        issuer: str,
        audience: str,
        jwks: str | None,
        policy: GroupPolicy,
        groups_claim: str = "groups",
        leeway_s: int = 30,
    ) -> None:
        self.issuer = issuer
        self.audience = audience
        self.policy = policy
        self.groups_claim = groups_claim
        self.leeway_s = leeway_s
        self._jwks_source = jwks
        self._cache: JwksCache | None = None

    def _keys(self) -> JwksCache:
        if self._cache is None:
            source = self._jwks_source
            if source is None:
                try:
                    source = discovered_jwks_uri(self.issuer)
                except (OSError, ValueError) as exc:
                    raise Unauthorized(f"cannot reach the identity provider: {exc}") from exc
            self._cache = JwksCache(source, self.issuer)
        return self._cache

    def verify(self, token: str) -> Principal:
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError as exc:
            raise Unauthorized("the bearer token is not a valid JWT") from exc
        alg = str(header.get("alg", ""))
        if alg not in ALGORITHMS:
            raise Unauthorized(f"JWT algorithm {alg[:20]!r} is not accepted")
        key = self._keys().key(header.get("kid"), alg)
        if key.algorithm_name != alg:
            raise Unauthorized("the JWT's algorithm does not match its signing key")
        try:
            claims = jwt.decode(
                token,
                key=key.key,
                algorithms=[alg],
                audience=self.audience,
                issuer=self.issuer,
                leeway=self.leeway_s,
                options={"require": ["exp", "iss", "aud", "sub"]},
            )
        except jwt.ExpiredSignatureError as exc:
            raise Unauthorized("the token has expired") from exc
        except jwt.PyJWTError as exc:
            raise Unauthorized(f"the token was refused: {exc}") from exc
        return self._principal(claims)

    def _principal(self, claims: dict[str, Any]) -> Principal:
        groups = claims.get(self.groups_claim) or []
        if isinstance(groups, str):
            groups = [groups]
        groups = tuple(str(g) for g in groups if isinstance(g, str | int))
        subject = _clean(str(claims["sub"]))
        email = _clean(str(claims.get("email") or "")).replace(" ", "")
        username = _clean(str(claims.get("preferred_username") or email or subject))
        return Principal(
            name=f"oidc:{username}",
            kind="oidc",
            grants=self.policy.grants(groups),
            display=_clean(str(claims.get("name") or username)),
            email=email or f"{subject}@oidc.ecp.local",
            subject=subject,
            expires_at=float(claims["exp"]),
            groups=groups,
        )


def _clean(value: str) -> str:
    """Claims end up in git author lines and trailers: a bounded, newline-free alphabet."""
    return _SAFE.sub("", value)[:100]
