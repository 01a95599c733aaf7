"""OIDC bearer tokens: tokens this test signs with keys it generates, a JWKS and discovery
document served by a real local HTTP server, and groups mapped to roles by access-policy.csv."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import jwt
import pytest
from access_support import ws_probe
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from test_monitoring_support import LiveServer, live_server, make_workspace

AUDIENCE = "ecp-api"
POLICY = """\
# g, GROUP, ROLE[, SCOPE]
g, platform-admins, role:admin
g, team-a, viewer, team-a-svc
"""


def _jwk(key: rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey, kid: str) -> dict[str, Any]:
    if isinstance(key, rsa.RSAPrivateKey):
        text = jwt.algorithms.RSAAlgorithm.to_jwk(key.public_key())
    else:
        text = jwt.algorithms.ECAlgorithm.to_jwk(key.public_key())
    data = json.loads(text)
    return {**data, "kid": kid, "use": "sig"}


@dataclass
class Issuer:
    url: str = ""
    keys: dict[str, Any] = field(default_factory=dict)  # kid -> private key
    published: list[str] = field(default_factory=list)  # kids in the JWKS
    fetches: int = 0

    def jwks(self) -> dict[str, Any]:
        return {"keys": [_jwk(self.keys[kid], kid) for kid in self.published]}

    def token(self, kid: str = "k1", alg: str = "RS256", **claims: Any) -> str:
        now = int(time.time())
        body = {
            "iss": self.url,
            "aud": AUDIENCE,
            "sub": "user-1",
            "email": "alice@example.com",
            "preferred_username": "alice",
            "groups": ["platform-admins"],
            "iat": now,
            "exp": now + 300,
            **claims,
        }
        return jwt.encode(body, self.keys[kid], algorithm=alg, headers={"kid": kid})


@pytest.fixture(scope="module")
def issuer() -> Iterator[Issuer]:
    state = Issuer()
    state.keys["k1"] = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    state.keys["k2"] = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    state.keys["ec"] = ec.generate_private_key(ec.SECP256R1())
    state.keys["rogue"] = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    state.published[:] = ["k1", "ec"]

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            if self.path == "/.well-known/openid-configuration":
                body = {"issuer": state.url, "jwks_uri": f"{state.url}/keys"}
            elif self.path == "/keys":
                state.fetches += 1
                body = state.jwks()
            else:
                self.send_error(404)
                return
            data = json.dumps(body).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    http = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state.url = f"http://127.0.0.1:{http.server_address[1]}"
    thread = threading.Thread(target=http.serve_forever, daemon=True)
    thread.start()
    yield state
    http.shutdown()
    http.server_close()


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, issuer: Issuer) -> Iterator[LiveServer]:
    root = tmp_path_factory.mktemp("oidc")
    (root / "ecp.toml").write_text(
        f'oidc_issuer = "{issuer.url}"\noidc_audience = "{AUDIENCE}"\n', encoding="utf-8"
    )
    (root / "access-policy.csv").write_text(POLICY, encoding="utf-8")
    settings = make_workspace(root, ("team-a-svc", "team-b-svc"))
    with live_server(settings) as live:
        yield live


def _get(server: LiveServer, token: str, path: str = "/api/v1/tenants/") -> httpx.Response:
    headers = {"Authorization": f"Bearer {token}", "X-Demo-Mode": "false"}
    return httpx.get(server.http + path, headers=headers, timeout=30)


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unsigned(header: dict[str, Any], claims: dict[str, Any]) -> str:
    return _b64(json.dumps(header).encode()) + "." + _b64(json.dumps(claims).encode())


def test_a_token_from_the_issuer_acts_with_its_groups_role(
    server: LiveServer, issuer: Issuer
) -> None:
    answer = _get(server, issuer.token())
    assert answer.status_code == 200, answer.text
    assert answer.json()["total_count"] == 2
    assert _get(server, issuer.token(kid="ec", alg="ES256")).status_code == 200


def test_a_group_mapped_to_a_scoped_viewer_sees_its_tenant_only(
    server: LiveServer, issuer: Issuer
) -> None:
    token = issuer.token(groups=["team-a", "unrelated"])
    assert [t["tenant_id"] for t in _get(server, token).json()["tenants"]] == ["team-a-svc"]
    assert _get(server, token, "/api/v1/tenants/team-b-svc").status_code == 404
    write = httpx.put(
        f"{server.http}/api/v1/tenants/team-a-svc",
        json={"description": "x"},
        headers={"Authorization": f"Bearer {token}", "X-Demo-Mode": "false"},
    )
    assert write.status_code == 403


def test_a_token_whose_groups_map_to_nothing_may_do_nothing(
    server: LiveServer, issuer: Issuer
) -> None:
    answer = _get(server, issuer.token(groups=["strangers"]))
    assert answer.status_code == 403
    assert answer.json()["error"]["code"] == "FORBIDDEN"


def _refused_tokens(issuer: Issuer) -> dict[str, str]:
    now = int(time.time())
    claims = {"iss": issuer.url, "aud": AUDIENCE, "sub": "mallory", "exp": now + 300}
    claims["groups"] = ["platform-admins"]
    public_pem = (
        issuer.keys["k1"]
        .public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    )
    hs_input = _unsigned({"alg": "HS256", "typ": "JWT", "kid": "k1"}, claims)
    hs_signature = hmac.new(public_pem, hs_input.encode(), hashlib.sha256).digest()
    return {
        "expired": issuer.token(exp=now - 120, iat=now - 600),
        "not-yet-valid": issuer.token(nbf=now + 600),
        "wrong-audience": issuer.token(aud="another-api"),
        "wrong-issuer": issuer.token(iss="https://evil.example.com"),
        "wrong-key": jwt.encode(
            claims, issuer.keys["rogue"], algorithm="RS256", headers={"kid": "k1"}
        ),
        "unknown-kid": issuer.token(kid="rogue"),
        "alg-none": _unsigned({"alg": "none", "typ": "JWT", "kid": "k1"}, claims) + ".",
        "hs256-with-the-public-key": hs_input + "." + _b64(hs_signature),
        "no-subject": issuer.token(sub=None),
    }


REFUSED = [
    "expired",
    "not-yet-valid",
    "wrong-audience",
    "wrong-issuer",
    "wrong-key",
    "unknown-kid",
    "alg-none",
    "hs256-with-the-public-key",
    "no-subject",
]


@pytest.mark.parametrize("kind", REFUSED, ids=REFUSED)
def test_bad_tokens_are_refused_with_401(server: LiveServer, issuer: Issuer, kind: str) -> None:
    answer = _get(server, _refused_tokens(issuer)[kind])
    assert answer.status_code == 401, answer.text
    assert answer.json()["error"]["code"] == "UNAUTHORIZED"
    assert answer.headers["WWW-Authenticate"].startswith("Bearer")


def test_a_small_clock_skew_is_tolerated(server: LiveServer, issuer: Issuer) -> None:
    now = int(time.time())
    assert _get(server, issuer.token(nbf=now + 10)).status_code == 200
    assert _get(server, issuer.token(exp=now - 10)).status_code == 200


def test_the_jwks_is_cached_and_a_rotated_key_is_picked_up(
    server: LiveServer, issuer: Issuer
) -> None:
    assert _get(server, issuer.token()).status_code == 200
    fetched = issuer.fetches
    for _ in range(5):
        assert _get(server, issuer.token()).status_code == 200
    assert issuer.fetches == fetched  # cached
    issuer.published[:] = ["k2", "ec"]  # the provider rotates k1 out, k2 in
    try:
        _wait_until_accepted(server, issuer.token(kid="k2"))
    finally:
        # Rotate back, and wait until the server has seen it: the module's other tests sign
        # with k1, in whichever order they run.
        issuer.published[:] = ["k1", "ec"]
        _wait_until_accepted(server, issuer.token())


def _wait_until_accepted(server: LiveServer, token: str) -> None:
    deadline = time.monotonic() + 5
    while _get(server, token).status_code != 200:
        assert time.monotonic() < deadline, "the rotated key was never fetched"
        time.sleep(0.2)


def test_a_browser_stream_may_carry_the_jwt_as_a_query_parameter(
    server: LiveServer, issuer: Issuer
) -> None:
    token = issuer.token(kid="ec", alg="ES256")  # in the JWKS before and after the rotation
    url = f"{server.ws}/ws/alerts/team-a-svc?access_token={token}"
    outcome = ws_probe(url, send={"action": "ping"})
    assert outcome.first == {"action": "pong"}


def test_a_jwks_file_works_without_discovery(tmp_path: Path, issuer: Issuer) -> None:
    (tmp_path / "jwks.json").write_text(json.dumps(issuer.jwks()), encoding="utf-8")
    (tmp_path / "ecp.toml").write_text(
        f'oidc_issuer = "https://idp.example.com"\noidc_audience = "{AUDIENCE}"\n'
        'oidc_jwks = "jwks.json"\n',
        encoding="utf-8",
    )
    (tmp_path / "access-policy.csv").write_text(POLICY, encoding="utf-8")
    settings = make_workspace(tmp_path)
    with live_server(settings) as live:
        good = _get(live, issuer.token(iss="https://idp.example.com"))
        bad = _get(live, issuer.token())  # the discovery issuer is not this server's
    assert good.status_code == 200, good.text
    assert bad.status_code == 401
