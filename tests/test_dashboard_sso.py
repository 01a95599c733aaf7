"""SSO sign-in in a real browser: the dashboard runs the authorization-code + PKCE flow against a
tiny real OIDC provider (tests/oidc_provider.py, keys generated per run) and signs in with the ID
token, which the real `ecp serve` verifies against the provider's JWKS. Token sign-in stays."""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import api_server
import httpx
import pytest
from api_server import LiveServer, make_workspace, running_server
from browser_support import axe_violations, browser, screenshot
from oidc_provider import Provider, User, running_provider

if TYPE_CHECKING:
    from playwright.sync_api import Page, Route

__all__ = ["browser"]  # the fixture, imported for pytest

CLIENT_ID = "ecp-dashboard"
POLICY = "g, platform-admins, role:admin\ng, readers, viewer\n"
WAIT_MS = 15_000


@pytest.fixture(scope="module")
def provider() -> Iterator[Provider]:
    with running_provider(CLIENT_ID) as running:
        yield running


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, provider: Provider) -> Iterator[LiveServer]:
    root = tmp_path_factory.mktemp("sso") / "workspace"
    root.mkdir()
    (root / "ecp.toml").write_text(
        f'oidc_issuer = "{provider.url}"\noidc_audience = "{CLIENT_ID}"\n', encoding="utf-8"
    )
    (root / "access-policy.csv").write_text(POLICY, encoding="utf-8")
    make_workspace(root)
    with running_server(root) as live:
        yield live


@pytest.fixture
def page(browser: Any, provider: Provider) -> Iterator[Page]:
    provider.refusals.clear()
    provider.user = User("user-1", "alice", ("platform-admins",))
    context = browser.new_context(locale="en-US", viewport={"width": 1280, "height": 900})
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.set_default_timeout(WAIT_MS)
    yield page
    context.close()
    assert errors == [], f"uncaught errors in the page: {errors}"


def claims_of(token: str) -> dict[str, Any]:
    part = token.split(".")[1]
    data: dict[str, Any] = json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))
    return data


def sign_in_with_sso(page: Page, server: LiveServer) -> None:
    page.goto(f"{server.url}/dashboard/#/signin")
    page.click("#sso-sign-in")
    page.wait_for_selector("#tenant-table")


def test_the_server_advertises_its_issuer_without_a_token_and_without_secrets(
    server: LiveServer, provider: Provider
) -> None:
    answer = httpx.get(f"{server.api}/auth/config", headers={"X-Demo-Mode": "false"}, timeout=30)
    assert answer.status_code == 200, answer.text
    assert answer.json() == {
        "token": True,
        "oidc": {
            "issuer": provider.url,
            "client_id": CLIENT_ID,
            "scopes": ["openid", "profile", "email", "groups"],
            "bearer": "id_token",
        },
    }


def test_sso_signs_in_with_pkce_and_the_id_token_is_the_bearer(
    page: Page, server: LiveServer, provider: Provider
) -> None:
    page.goto(f"{server.url}/dashboard/#/signin")
    page.wait_for_selector("#sso-sign-in")
    assert page.is_visible("#token")  # token sign-in stays beside SSO
    assert page.locator("nav a[href='#/new']").count() == 0  # nobody signed in: no writes
    screenshot(page, "sign-in-sso")
    found = axe_violations(page)
    assert found == [], json.dumps(found, indent=1, ensure_ascii=False)
    before = len(provider.exchanged)
    page.click("#sso-sign-in")
    page.wait_for_selector("#tenant-table")
    assert page.url == f"{server.url}/dashboard/#/"  # the code and state are gone from the URL
    assert provider.refusals == []
    request = provider.authorized[-1]
    exchange = provider.exchanged[before]
    # PKCE as RFC 7636 says: S256 of the verifier sent to /token is the challenge sent earlier.
    assert request["code_challenge_method"] == "S256"
    digest = hashlib.sha256(exchange["code_verifier"].encode()).digest()
    assert base64.urlsafe_b64encode(digest).rstrip(b"=").decode() == request["code_challenge"]
    assert request["redirect_uri"] == exchange["redirect_uri"] == f"{server.url}/dashboard/"
    assert request["scope"] == "openid profile email groups"
    token = page.evaluate("() => sessionStorage.getItem('ecp.token')")
    claims = claims_of(token)
    assert claims["nonce"] == request["nonce"] and claims["aud"] == CLIENT_ID
    assert page.evaluate("() => localStorage.getItem('ecp.token')") is None
    assert page.text_content("#who") == "Signed in (alice)"
    # The server took the ID token as the caller: the tenants it lists are the admin's.
    listed = httpx.get(
        f"{server.api}/tenants/",
        headers={"X-Demo-Mode": "false", "Authorization": f"Bearer {token}"},
        timeout=30,
    )
    assert listed.status_code == 200
    rows = page.eval_on_selector_all("#tenant-table tbody tr[data-tenant]", "r => r.length")
    assert rows == listed.json()["total_count"]
    assert page.locator("nav a[href='#/new']").count() == 1
    screenshot(page, "overview-sso")


def test_an_sso_viewer_is_not_offered_writes(
    page: Page, server: LiveServer, provider: Provider
) -> None:
    provider.user = User("user-2", "bob", ("readers",))
    sign_in_with_sso(page, server)
    page.wait_for_function("() => document.getElementById('who').textContent.includes('read-only')")
    assert page.text_content("#who") == "Signed in (bob) · read-only"
    assert page.locator("nav a[href='#/new']").count() == 0
    page.goto(f"{server.url}/dashboard/#/tenant/my-ai-service")
    page.wait_for_selector("#history tbody tr")
    assert page.locator("#edit-tenant").count() == 0
    # The ID token opens the live stream too (the WebSocket's bearer subprotocol).
    page.wait_for_selector("#stream-state[data-state=open]")


def test_a_callback_this_tab_did_not_start_signs_nobody_in(
    page: Page, server: LiveServer, provider: Provider
) -> None:
    page.goto(f"{server.url}/dashboard/?code=stolen&state=forged#/")
    page.wait_for_selector("#sso-error")
    assert "state" in (page.text_content("#sso-error") or "")
    assert page.evaluate("() => sessionStorage.getItem('ecp.token')") is None
    assert "code=" not in page.url
    assert len([f for f in provider.exchanged if f.get("code") == "stolen"]) == 0


@pytest.mark.parametrize(
    ("kept", "shown", "refusals"),
    [
        ("verifier", "code_verifier", ["code_verifier does not match the code_challenge"]),
        ("nonce", "nonce", []),
    ],
    ids=["verifier-the-provider-refuses", "nonce-the-dashboard-refuses"],
)
def test_a_flow_tampered_with_on_the_way_is_refused_and_signs_nobody_in(
    page: Page, server: LiveServer, provider: Provider, kept: str, shown: str, refusals: list[str]
) -> None:
    # What this tab keeps for the way back is replaced while the browser is at the provider: a
    # wrong verifier must be refused by the provider (PKCE), a wrong nonce by the dashboard.
    page.goto(f"{server.url}/dashboard/#/signin")
    page.wait_for_selector("#sso-sign-in")
    leaving: list[str] = []

    def stay(route: Route) -> None:  # a 204 keeps the browser on the dashboard and its storage
        leaving.append(route.request.url)
        route.fulfill(status=204)

    page.route(f"{provider.url}/authorize**", stay)
    page.click("#sso-sign-in")
    while not leaving:
        page.wait_for_timeout(50)
    page.unroute_all()
    page.evaluate(
        """(key) => { const p = JSON.parse(sessionStorage.getItem('ecp.oidc.pending'));
                      p[key] = 'x'.repeat(64);
                      sessionStorage.setItem('ecp.oidc.pending', JSON.stringify(p)); }""",
        kept,
    )
    back = httpx.get(leaving[0], follow_redirects=False, timeout=30)
    assert back.status_code == 302
    page.goto(back.headers["location"])
    page.wait_for_selector("#sso-error")
    assert shown in (page.text_content("#sso-error") or "")
    assert provider.refusals == refusals
    assert page.evaluate("() => sessionStorage.getItem('ecp.token')") is None


def test_without_an_issuer_only_token_sign_in_is_offered(
    page: Page, tmp_path_factory: pytest.TempPathFactory
) -> None:
    root = make_workspace(tmp_path_factory.mktemp("plain") / "workspace", ("shop-chat-lite",))
    with running_server(root) as plain:
        answer = httpx.get(f"{plain.api}/auth/config", headers={"X-Demo-Mode": "false"})
        assert answer.json() == {"token": True, "oidc": None}
        page.goto(f"{plain.url}/dashboard/#/signin")
        page.fill("#token", api_server.ADMIN_TOKEN)
        page.wait_for_timeout(300)  # the config answer has arrived
        assert page.locator("#sso-sign-in").count() == 0
        page.click("#sign-in-submit")
        page.wait_for_selector("#tenant-table")
