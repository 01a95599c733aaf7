"""The dashboard in a real browser (Debian's chromium via Playwright) against a real `ecp serve`.

Each test drives the pages as a person would: sign in, filter the overview, open a tenant and see
a chart move when a sample is POSTed, run the calculator, create a tenant through the form (a
field error first), a 412 conflict, the language switch and demo mode, and an axe-core audit.
Every page's screenshot lands in build/screenshots/.
"""

from __future__ import annotations

import difflib
import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

import api_server
import httpx
import pytest
from api_server import REPO, LiveServer, git, make_workspace, running_server
from browser_support import axe_violations, browser, many_tenants_workspace, screenshot

from compiler.access.tokens import TokenStore

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page, Route

__all__ = ["browser"]  # the fixture, imported for pytest

# Test servers know one admin token per run (api_server.ADMIN_TOKEN); the dashboard signs in
# with it, and the test's own HTTP calls send it.
AUTH: dict[str, str] = api_server.AUTH
TOKEN: str = api_server.ADMIN_TOKEN
REAL = {"X-Demo-Mode": "false", **AUTH}
WAIT_MS = 15_000


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    # output/ committed: each write through the API commits its compiled output, so the history
    # shows numbers for every commit.
    root = make_workspace(tmp_path_factory.mktemp("dash") / "workspace", track_output=True)
    with running_server(root) as live:
        yield live


@pytest.fixture
def page(browser: Browser, server: LiveServer) -> Iterator[Page]:
    context = browser.new_context(locale="en-US", viewport={"width": 1280, "height": 900})
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.set_default_timeout(WAIT_MS)
    yield page
    context.close()
    assert errors == [], f"uncaught errors in the page: {errors}"


def open_signed_in(
    page: Page, server: LiveServer, fragment: str = "#/", token: str = TOKEN
) -> None:
    page.goto(f"{server.url}/dashboard/#/signin")
    page.fill("#token", token)
    page.click("#sign-in-submit")
    page.wait_for_selector("#tenant-table")
    if fragment != "#/":
        page.goto(f"{server.url}/dashboard/{fragment}")


def visible_tenants(page: Page) -> list[str]:
    ids: list[str] = page.eval_on_selector_all(
        "#tenant-table tbody tr[data-tenant]", "rows => rows.map(r => r.dataset.tenant)"
    )
    return ids


def shown_history(page: Page) -> list[dict[str, str]]:
    rows: list[dict[str, str]] = page.eval_on_selector_all(
        "#history tbody tr",
        """rows => rows.map(r => Object.fromEntries([['commit', r.dataset.commit],
             ...[...r.querySelectorAll('[data-cell]')]
                .map(c => [c.dataset.cell, c.textContent])]))""",
    )
    return rows


def expected_history(history: dict[str, object]) -> list[dict[str, str]]:
    """What the table must say for each commit: the value as compiled, then its change."""
    fields = {
        "replicas": ("replicas_total", "replicas"),
        "cpu": ("cpu", "cpu"),
        "memory": ("memory", "memory"),
        "gpu": ("gpu", "gpu"),
        "cost": ("estimated_cost", "monthly_cost_usd"),
    }
    rows = []
    for commit in history["commits"]:  # type: ignore[attr-defined]
        row = {"commit": commit["commit"], "action": commit["action"]}
        for cell, (value, delta_field) in fields.items():
            change = next(
                (d["change"] for d in commit["deltas"] if d["field"] == delta_field), None
            )
            text = str(commit["resources"][value])
            row[cell] = text + (f" ({change})" if change is not None else "")
        rows.append(row)
    return rows


def cell_filled_js(selector: str) -> str:
    """A wait_for_function body true once the cell exists and holds more than the '…' placeholder
    (a missing cell is not filled: `?.textContent !== '…'` was true before the row was drawn)."""
    found = f'document.querySelector("{selector}")'
    return f"() => {{ const c = {found}; return !!c && c.textContent !== '…'; }}"


def test_root_redirects_to_the_dashboard_and_its_modules_are_served(server: LiveServer) -> None:
    answer = httpx.get(f"{server.url}/", follow_redirects=False)
    assert answer.status_code in (302, 307)
    assert answer.headers["location"] == "/dashboard/"
    sdk = httpx.get(f"{server.url}/dashboard/node_modules/@ecp-ai/orchestrator-client/src/index.js")
    assert sdk.status_code == 200
    assert "ECPClient" in sdk.text
    assert "javascript" in sdk.headers["content-type"]


def test_sign_in_keeps_the_token_in_session_storage_only(page: Page, server: LiveServer) -> None:
    open_signed_in(page, server)
    stored = page.evaluate("() => [sessionStorage.getItem('ecp.token'), localStorage.length]")
    assert stored == [TOKEN, 0]
    assert page.text_content("#who") == "Signed in"
    page.click("#sign-out")
    page.wait_for_selector("#token")
    assert page.evaluate("() => sessionStorage.getItem('ecp.token')") is None


def test_overview_lists_filters_searches_and_sorts(page: Page, server: LiveServer) -> None:
    # The module's other tests add tenants and edit them, in any order: what the table must show
    # is read from the API, around the two seeded tenants.
    listed = httpx.get(f"{server.api}/tenants/", headers=REAL).json()["tenants"]
    ids = sorted(t["tenant_id"] for t in listed)
    micro = sorted(t["tenant_id"] for t in listed if t["preset"] == "micro")
    assert {"my-ai-service", "shop-chat-lite"} <= set(ids) and "shop-chat-lite" in micro
    open_signed_in(page, server)
    assert visible_tenants(page) == ids
    # The lazily fetched columns show the tenant's own answer.
    detail = httpx.get(f"{server.api}/tenants/shop-chat-lite", headers=REAL).json()
    row = "tr[data-tenant='shop-chat-lite']"
    page.wait_for_function(cell_filled_js(f"{row} [data-cell=cost]"))
    assert page.text_content(f"{row} [data-cell=cost]") == detail["estimated_cost"]
    replicas = sum(s["replicas"] for s in detail["services"])
    assert page.text_content(f"{row} [data-cell=replicas]") == str(replicas)
    deployed = page.text_content(f"{row} [data-cell=deployed]")
    if detail["deployment_id"]:  # the last publish and when; a tenant never published has none
        assert deployed == f"{detail['updated_at']} · {detail['deployment_id']}"
    else:
        assert deployed == "—"
    screenshot(page, "overview")

    page.select_option("#preset-filter", "micro")
    assert visible_tenants(page) == micro
    assert page.text_content("#count") == f"{len(micro)} of {len(ids)} tenants"
    page.select_option("#preset-filter", "")
    page.fill("#search", "AI 서비스")  # the Korean name of my-ai-service
    assert visible_tenants(page) == ["my-ai-service"]
    page.fill("#search", "")
    # The label filter: key=value, or a key alone, against each tenant's labels in the list.
    labelled = sorted(t["tenant_id"] for t in listed if "cost-center" in t["labels"])
    retail = sorted(
        t["tenant_id"] for t in listed if t["labels"].get("cost-center") == "retail-web"
    )
    assert "shop-chat-lite" in retail
    assert page.is_enabled("#label-filter")
    page.fill("#label-filter", "cost-center=retail-web")
    assert visible_tenants(page) == retail
    page.fill("#label-filter", "cost-center")
    assert visible_tenants(page) == labelled
    page.fill("#label-filter", "cost-center=nobody")
    assert visible_tenants(page) == []
    page.fill("#label-filter", "")
    page.click("button[data-sort=tenant_id]")  # second click on the sorted column: descending
    assert visible_tenants(page) == ids[::-1]
    assert page.get_attribute("th[aria-sort]", "aria-sort") == "descending"


def test_tenant_page_shows_plan_manifest_and_a_chart_that_moves_on_a_post(
    page: Page, server: LiveServer
) -> None:
    open_signed_in(page, server, "#/tenant/my-ai-service")
    page.wait_for_selector("#stream-state[data-state=open]")
    page.wait_for_selector("#plan #cost-lines")
    page.wait_for_selector("#manifest .y-key")
    tenant = httpx.get(f"{server.api}/tenants/my-ai-service", headers=REAL).json()
    deployed = page.eval_on_selector_all(
        "#deployed-services tbody tr", "rows => rows.map(r => r.cells[2].textContent)"
    )
    assert deployed == [str(s["replicas"]) for s in tenant["services"]]
    assert page.get_attribute("#download-manifest", "download") == "my-ai-service.yaml"
    assert "kind: Namespace" in (page.text_content("#manifest") or "")
    history = httpx.get(f"{server.api}/tenants/my-ai-service/history", headers=REAL).json()
    page.wait_for_selector("#history tbody tr")
    assert shown_history(page) == expected_history(history)

    cpu = "figure[data-metric=cpu]"
    before = int(page.get_attribute(cpu, "data-points") or 0)
    posted = httpx.post(
        f"{server.api}/tenants/my-ai-service/monitoring",
        headers=REAL,
        json={"metrics": {"cpu": 61.25, "response_time": 180.0}},
    )
    assert posted.status_code in (200, 201, 202), posted.text
    page.wait_for_selector(f"{cpu}[data-last='61.25']")
    assert int(page.get_attribute(cpu, "data-points") or 0) == before + 1
    assert page.get_attribute("figure[data-metric=response_time]", "data-last") == "180"
    screenshot(page, "tenant")
    # The time axis spans the data (at least ten minutes), not uPlot's guess of years for one
    # point or the epoch for none.
    ranges = page.evaluate(
        """async () => {
          const { timeRange } = await import('./src/charts.js');
          return [timeRange([1000]), timeRange([], 5000), timeRange([0, 10000])];
        }"""
    )
    assert ranges == [[400, 1030], [4400, 5000], [0, 10000]]


def test_an_alert_a_post_raises_shows_on_the_tenant_page_and_in_the_overview(
    page: Page, server: LiveServer
) -> None:
    open_signed_in(page, server, "#/tenant/shop-chat-lite")
    page.wait_for_selector("#stream-state[data-state=open]")
    page.wait_for_selector("#alert-list li")  # the 24 h list has loaded (maybe "No alerts.")
    now = datetime.now(UTC)
    batch = [  # 97 % held past the rule's `for: 2m`: one critical alert
        {
            "timestamp": (now - timedelta(minutes=3 - i)).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "metrics": {"cpu_usage": 97},
        }
        for i in range(4)
    ]
    posted = httpx.post(
        f"{server.api}/tenants/shop-chat-lite/monitoring", headers=REAL, json=batch, timeout=30
    )
    assert posted.status_code in (200, 201, 202), posted.text
    fired = posted.json()["alerts"]
    assert [a["severity"] for a in fired] == ["critical"]
    shown = "#alert-list li.alert.sev-critical"
    page.wait_for_selector(shown)  # pushed by the alerts stream, no reload
    assert fired[0]["message"] in (page.text_content(shown) or "")
    listed = httpx.get(f"{server.api}/tenants/shop-chat-lite/alerts", headers=REAL).json()
    page.goto(f"{server.url}/dashboard/#/")
    cell = "tr[data-tenant='shop-chat-lite'] [data-cell=alerts]"
    page.wait_for_function(cell_filled_js(cell))
    assert page.text_content(cell) == str(len(listed["alerts"]))


def test_tenant_page_lays_out_the_sizing_explanation_with_its_cost_lines(
    page: Page, server: LiveServer
) -> None:
    open_signed_in(page, server, "#/tenant/my-ai-service")
    page.wait_for_selector("#explain li", state="attached")
    tenant = httpx.get(f"{server.api}/tenants/my-ai-service", headers=REAL).json()
    request = {
        "service_requirements": tenant["service_requirements"],
        "sla_target": tenant["sla_target"],
    }
    answer = httpx.post(
        f"{server.api}/tenants/calculate-resources",
        headers={**REAL, "X-Debug": "true"},
        json=request,
        timeout=60,
    ).json()
    lines = answer["debug"]["explanation"]
    shown = page.eval_on_selector_all("#explain li", "items => items.map(i => i.textContent)")
    assert shown == lines  # the --explain account, line for line
    cost = [line for line in shown if line.startswith("cost: ")]
    assert len(cost) == 1 and " + memory $" in cost[0] and " + GPU $" in cost[0]
    products = [line for line in shown if line.startswith("path ") and " x " in line]
    assert products  # each multi-stage path's availability product, factor by factor
    page.click("#explain summary")
    assert page.is_visible("#explain li.key")
    screenshot(page, "tenant-explain")


def test_calculator_recalculates_as_you_type_and_hands_over_to_the_form(
    page: Page, server: LiveServer
) -> None:
    open_signed_in(page, server, "#/calc")
    page.wait_for_selector("#calc-result[data-calls='1'] #estimated-cost")
    page.fill("[data-field='service_requirements.stt']", "")
    page.type("[data-field='service_requirements.stt']", "120")  # three keystrokes, one call
    page.wait_for_selector("#calc-result[data-calls='2']")
    page.wait_for_timeout(600)
    assert page.get_attribute("#calc-result", "data-calls") == "2"
    request = page.evaluate("() => JSON.parse(sessionStorage.getItem('ecp.calc'))")
    assert request["service_requirements"]["stt"] == 120
    answer = httpx.post(
        f"{server.api}/tenants/calculate-resources", headers=REAL, json=request
    ).json()
    assert page.text_content("#estimated-cost") == answer["estimated_cost"]
    assert page.text_content("#recommended-preset") == answer["recommended_preset"]
    shown = page.eval_on_selector_all(
        "#alternatives tbody th", "cells => cells.map(c => c.textContent)"
    )
    assert shown == [a["preset"] for a in answer["alternatives"]]
    paths = answer.get("paths") or []  # the path model's answer; older answers have none
    if paths:
        rows = page.eval_on_selector_all(
            "#paths tbody tr",
            "rows => rows.map(r => [r.cells[0].textContent, r.cells[3].textContent.trim(),"
            " r.className])",
        )
        assert rows == [
            [p["name"], f"{p['predicted_ms']:.1f} ms", "ok" if p["meets_sla"] else "bad"]
            for p in paths
        ]
    else:
        assert page.is_visible("#no-paths")
    screenshot(page, "calculator")
    page.click("#create-from-calc")
    page.wait_for_selector("#tenant-form")
    assert page.input_value("[data-field='service_requirements.stt']") == "120"


def test_calculator_shows_a_refused_sla_beside_its_field(page: Page, server: LiveServer) -> None:
    open_signed_in(page, server, "#/calc")
    page.wait_for_selector("#calc-result[data-calls='1']")
    page.fill("[data-field='sla_target.response_time']", "fast")
    slot = "[data-error-for='sla_target.response_time']"
    page.wait_for_function(f"() => document.querySelector(\"{slot}\").textContent !== ''")
    assert page.get_attribute("[data-field='sla_target.response_time']", "aria-invalid") == "true"


def test_create_form_shows_field_errors_then_creates_and_publishes(
    page: Page, server: LiveServer
) -> None:
    open_signed_in(page, server, "#/new")
    page.wait_for_selector("#tenant-form")
    page.fill("[data-field=tenant_id]", "Bad_Id")
    page.fill("[data-field=name]", "Browser made")
    page.fill("[data-field='service_requirements.chatbot']", "5")
    page.click("#tenant-submit")
    page.wait_for_function(
        "() => document.querySelector('[data-error-for=tenant_id]')"
        ".textContent.includes('DNS-1123')"
    )
    assert page.get_attribute("[data-field=tenant_id]", "aria-invalid") == "true"
    assert page.evaluate("() => document.activeElement.dataset.field") == "tenant_id"
    screenshot(page, "form-field-error")

    page.fill("[data-field=tenant_id]", "browser-made")
    page.click("#tenant-submit")
    page.wait_for_selector("#created", timeout=120_000)
    assert page.text_content("[data-error-for=tenant_id]") == ""
    created = httpx.get(f"{server.api}/tenants/browser-made", headers=REAL)
    assert created.status_code == 200
    assert created.json()["service_requirements"]["chatbot"] == 5
    manifest = httpx.get(f"{server.api}/tenants/browser-made/manifest", headers=REAL)
    assert manifest.status_code == 200
    assert "ecp-ai-browser-made" in manifest.text
    screenshot(page, "form-created")
    page.click("#created a")  # the new tenant's page lists its creation in the history
    page.wait_for_selector("#history tbody tr")
    history = httpx.get(f"{server.api}/tenants/browser-made/history", headers=REAL).json()
    assert [c["action"] for c in history["commits"]] == ["created"]
    shown = shown_history(page)
    assert shown == expected_history(history)
    # Created from nothing: every number is its own change, with a plus sign.
    committed = json.loads(git(server.root, "show", "HEAD:output/index.json"))["tenants"]
    entry = committed["browser-made"]
    assert shown[0]["cost"] == f"{entry['estimated_cost']} (+${entry['monthly_cost_usd']:,.2f})"
    replicas = sum(entry["replicas"].values())
    assert shown[0]["replicas"] == f"{replicas} (+{replicas})"
    # Published: the overview's last-deployment cell names the publish and its time.
    detail = httpx.get(f"{server.api}/tenants/browser-made", headers=REAL).json()
    assert detail["deployment_id"].startswith("dep-")
    page.goto(f"{server.url}/dashboard/#/")
    cell = "tr[data-tenant='browser-made'] [data-cell=deployed]"
    page.wait_for_function(cell_filled_js(cell))
    assert page.text_content(cell) == f"{detail['updated_at']} · {detail['deployment_id']}"


def test_edit_after_someone_else_changed_the_tenant_explains_the_412(
    page: Page, server: LiveServer
) -> None:
    open_signed_in(page, server, "#/edit/shop-chat-lite")
    page.wait_for_selector("#tenant-form")
    other = httpx.put(
        f"{server.api}/tenants/shop-chat-lite",
        headers=REAL,
        json={"description": "changed behind the form's back"},
        timeout=120,
    )
    assert other.status_code == 200, other.text
    page.fill("[data-field=name]", "Shop chat (edited)")
    # The preview compiles against the version the form loaded (If-Match): already refused.
    page.click("#tenant-submit")
    page.wait_for_selector("#conflict", timeout=120_000)
    assert page.locator("#change-table").count() == 0
    screenshot(page, "form-conflict")
    page.click("#conflict button")  # reload: the form now carries the other writer's version
    page.wait_for_function(
        "() => document.querySelector('[data-field=description]')?.value === "
        '"changed behind the form\'s back"'
    )
    assert "null" not in (page.text_content("main") or "")  # no stray text for a missing note
    # A change landing between the preview and the save is refused at the save.
    page.fill("[data-field=name]", "Shop chat (edited again)")
    page.click("#tenant-submit")
    page.wait_for_selector("#change-table")
    again = httpx.put(
        f"{server.api}/tenants/shop-chat-lite",
        headers=REAL,
        json={"description": "changed again"},
        timeout=120,
    )
    assert again.status_code == 200, again.text
    page.click("#tenant-submit")
    page.wait_for_selector("#conflict", timeout=120_000)
    assert httpx.get(f"{server.api}/tenants/shop-chat-lite", headers=REAL).json()["name"] != (
        "Shop chat (edited again)"
    )


def test_language_follows_the_browser_and_the_switch(browser: Browser, server: LiveServer) -> None:
    context = browser.new_context(locale="ko-KR")
    page = context.new_page()
    open_signed_in(page, server)
    assert page.text_content("h1") == "테넌트"
    assert page.get_attribute("html", "lang") == "ko"
    screenshot(page, "overview-ko")
    page.select_option("#lang-select", "en")
    page.wait_for_function("() => document.querySelector('h1').textContent === 'Tenants'")
    page.reload()
    page.wait_for_selector("#tenant-table")
    assert page.text_content("h1") == "Tenants"  # the choice outlives a reload
    missing = page.evaluate(
        """async () => {
          const { TEXT_FOR_TESTS: text } = await import('./src/i18n.js');
          const en = Object.keys(text.en), ko = Object.keys(text.ko);
          return [en.filter((k) => !ko.includes(k)), ko.filter((k) => !en.includes(k))];
        }"""
    )
    assert missing == [[], []]  # every English text has its Korean one and back
    context.close()


def test_demo_mode_is_visibly_separate_and_lists_the_sandbox(
    page: Page, server: LiveServer
) -> None:
    demo = {"X-Demo-Mode": "true", **AUTH}
    made = httpx.post(
        f"{server.api}/tenants/",
        headers=demo,
        json={
            "tenant_id": "demo-shop",
            "name": "Demo shop",
            "service_requirements": {"chatbot": 5},
        },
        timeout=120,
    )
    assert made.status_code in (201, 409), made.text  # 409: a rerun in the same module
    open_signed_in(page, server)
    assert page.is_hidden("#demo-banner")
    page.select_option("#mode-select", "true")
    page.wait_for_selector("#demo-banner:not([hidden])")
    page.wait_for_selector("#tenant-table")
    assert "demo" in (page.get_attribute("body", "class") or "")
    colours = page.evaluate(
        "() => getComputedStyle(document.getElementById('top')).backgroundColor"
    )
    assert colours != "rgb(15, 47, 87)"  # the real mode's header colour
    page.wait_for_selector("tr[data-tenant='demo-shop']")
    sandbox = httpx.get(f"{server.api}/tenants/", headers=demo).json()
    assert visible_tenants(page) == sorted(t["tenant_id"] for t in sandbox["tenants"])[:50]
    assert "my-ai-service" not in visible_tenants(page)  # the real tenants stay out of the sandbox
    cost = "tr[data-tenant='demo-shop'] [data-cell=cost]"
    page.wait_for_function(cell_filled_js(cost))
    screenshot(page, "overview-demo")


def test_a_page_left_while_loading_never_draws_over_the_next_one(
    page: Page, server: LiveServer
) -> None:
    # Switching mode re-renders twice (once at once, once when the role probe answers): the
    # first overview, still waiting for its list, must not add a second table when it lands.
    open_signed_in(page, server)
    held: list[Route] = []
    page.route("**/api/v1/tenants/?*", lambda route: held.append(route))  # wait for release
    for _ in range(2):  # two renders of the overview, both waiting for their list
        page.evaluate("() => window.dispatchEvent(new HashChangeEvent('hashchange'))")
    page.wait_for_function("() => !document.querySelector('#tenant-table')")
    deadline = 50
    while len(held) < 2 and deadline:
        page.wait_for_timeout(100)
        deadline -= 1
    assert len(held) == 2
    for route in held:  # the stale render's list first, then the current one's
        route.continue_()
    page.unroute("**/api/v1/tenants/?*")
    page.wait_for_selector("#tenant-table tbody tr[data-tenant]")
    page.wait_for_timeout(500)
    listed = httpx.get(f"{server.api}/tenants/", headers=REAL).json()["tenants"]
    assert page.locator("#tenant-table").count() == 1
    assert page.locator("#count").count() == 1
    assert visible_tenants(page) == sorted(t["tenant_id"] for t in listed)


@pytest.mark.parametrize(
    ("fragment", "ready"),
    [
        ("#/", "#tenant-table tbody tr"),
        ("#/tenant/my-ai-service", "#manifest .y-key, #history tbody tr"),
        ("#/calc", "#calc-result #estimated-cost"),
        ("#/new", "#tenant-form"),
        ("#/signin", "#token"),
    ],
    ids=["overview", "tenant", "calculator", "form", "sign-in"],
)
def test_pages_have_no_serious_or_critical_axe_violations(
    page: Page, server: LiveServer, fragment: str, ready: str
) -> None:
    if fragment != "#/signin":
        open_signed_in(page, server, fragment)
    else:
        page.goto(f"{server.url}/dashboard/{fragment}")
    for selector in ready.split(", "):  # every part of the page the audit must see
        page.wait_for_selector(selector)
    page.wait_for_timeout(300)
    found = axe_violations(page)
    assert found == [], json.dumps(found, indent=1, ensure_ascii=False)


def test_every_page_loads_from_the_server_alone(page: Page, server: LiveServer) -> None:
    # Offline: no CDN, no web font, no third-party script; every request and stream goes to
    # `ecp serve` itself, and the libraries come from the npm lock file, not the repository.
    asked: list[str] = []
    page.on("request", lambda request: asked.append(request.url))
    page.on("websocket", lambda socket: asked.append(socket.url))
    open_signed_in(page, server)
    for fragment, ready in (
        ("#/tenant/my-ai-service", "#stream-state[data-state=open]"),
        ("#/calc", "#calc-result #estimated-cost"),
        ("#/new", "#tenant-form"),
    ):
        page.goto(f"{server.url}/dashboard/{fragment}")
        page.wait_for_selector(ready)
    here = urlsplit(server.url).netloc
    foreign = [
        u
        for u in asked
        if urlsplit(u).scheme not in ("data", "blob") and urlsplit(u).netloc != here
    ]
    assert foreign == []
    assert any("/node_modules/uplot/" in u for u in asked)
    assert any(u.startswith("ws://") for u in asked)  # the live charts' stream, same origin
    lock = json.loads((REPO / "dashboard" / "package-lock.json").read_text("utf-8"))["packages"]
    for package in ("uplot", "axe-core"):
        assert lock[f"node_modules/{package}"]["integrity"].startswith("sha512-"), package
    tracked = git(REPO, "ls-files", "dashboard/node_modules", "dashboard/vendor")
    assert tracked == ""  # installed by `npm ci` (make, .ci/run), never committed


def test_keyboard_reaches_a_tenant_from_the_skip_link(page: Page, server: LiveServer) -> None:
    open_signed_in(page, server)
    page.reload()
    page.wait_for_selector("#tenant-table tbody tr")
    page.keyboard.press("Tab")
    assert page.evaluate("() => document.activeElement.className") == "skip"
    page.keyboard.press("Enter")
    assert page.evaluate("() => document.activeElement.id") == "main"
    first = page.text_content("#tenant-table tbody a")
    page.focus("#tenant-table tbody a")
    page.keyboard.press("Enter")
    page.wait_for_selector("#plan-section")
    assert page.url.endswith(f"#/tenant/{first}")


def test_a_thousand_tenants_page_and_filter(browser: Browser, tmp_path: Path) -> None:
    root = many_tenants_workspace(tmp_path / "workspace", 1000)
    with running_server(root) as big:
        context = browser.new_context(locale="en-US")
        page = context.new_page()
        open_signed_in(page, big)
        assert page.text_content("#count") == "1000 of 1000 tenants"
        assert len(visible_tenants(page)) == 50  # one page, never 1,000 rows in the DOM
        assert visible_tenants(page)[0] == "t-0000"
        assert page.text_content(".pager span") == "Page 1 of 20"
        page.click("#next-page")
        assert visible_tenants(page)[0] == "t-0050"
        page.select_option("#preset-filter", "small")
        assert page.text_content("#count") == "500 of 1000 tenants"
        assert all(int(tid[2:]) % 2 == 1 for tid in visible_tenants(page))
        assert page.text_content(".pager span") == "Page 1 of 10"  # filtering goes back to page 1
        page.fill("#search", "tenant 0999")
        assert visible_tenants(page) == ["t-0999"]
        screenshot(page, "overview-1000")
        context.close()


def test_a_viewer_is_not_offered_writes_and_sees_a_403_clearly(
    page: Page, server: LiveServer
) -> None:
    viewer = "ecp_" + "v" * 48
    store = TokenStore(server.root / ".ecp" / "tokens.json")
    if store.lookup(viewer) is None:
        store.create("dashboard-viewer", "viewer", secret=viewer)
    page.wait_for_timeout(1500)  # the server re-reads its token file within a second
    open_signed_in(page, server, token=viewer)
    page.wait_for_function("() => document.getElementById('who').textContent.includes('read-only')")
    assert page.locator("nav a[href='#/new']").count() == 0
    page.goto(f"{server.url}/dashboard/#/tenant/my-ai-service")
    page.wait_for_selector("#plan-section")
    assert page.locator("#edit-tenant").count() == 0
    page.goto(f"{server.url}/dashboard/#/new")  # typed in by hand: the server still says no
    page.wait_for_selector("#tenant-form")
    page.fill("[data-field=tenant_id]", "viewer-made")
    page.fill("[data-field=name]", "Viewer made")
    page.click("#tenant-submit")
    page.wait_for_selector(".error.forbidden")
    assert "403" in (page.text_content(".error.forbidden") or "")
    screenshot(page, "viewer-403")


def test_calculator_applies_to_a_tenant_and_the_edit_previews_then_saves(
    page: Page, server: LiveServer
) -> None:
    open_signed_in(page, server, "#/calc")
    page.wait_for_selector("#calc-result[data-calls='1']")
    page.fill("[data-field='service_requirements.chatbot']", "60")
    page.wait_for_selector("#calc-result[data-calls='2']")
    page.wait_for_selector("#apply-tenant option[value='my-ai-service']", state="attached")
    page.select_option("#apply-tenant", "my-ai-service")
    page.click("#apply-to-tenant")
    page.wait_for_selector("#applied-note")
    assert page.input_value("[data-field='service_requirements.chatbot']") == "60"
    assert page.input_value("[data-field='service_requirements.advisor']") == "0"

    before = httpx.get(f"{server.api}/tenants/my-ai-service", headers=REAL).json()
    manifest_before = httpx.get(f"{server.api}/tenants/my-ai-service/manifest", headers=REAL).text
    page.click("#tenant-submit")
    page.wait_for_selector("#change-table")
    page.wait_for_selector("#manifest-diff")
    request = page.evaluate("() => JSON.parse(sessionStorage.getItem('ecp.calc'))")
    cost = page.eval_on_selector_all(
        "#change-table tbody tr:last-child td", "cells => cells.map(c => c.textContent)"
    )
    shown_diff = page.text_content("#manifest-diff")
    assert page.locator("#manifest-diff .d-add").count() >= 1
    screenshot(page, "form-preview")
    found = axe_violations(page)
    assert found == [], json.dumps(found, indent=1, ensure_ascii=False)
    assert httpx.get(f"{server.api}/tenants/my-ai-service", headers=REAL).json() == before
    assert cost[0] == before["estimated_cost"]

    page.click("#tenant-submit")
    page.wait_for_selector("#updated", timeout=120_000)
    after = httpx.get(f"{server.api}/tenants/my-ai-service", headers=REAL).json()
    # advisor, set to 0 in the calculator, is switched off too (an update merges per service)
    assert after["service_requirements"] == {**request["service_requirements"], "advisor": 0}
    # The preview said what the save then did: the cost, the replicas and the manifest's diff.
    assert cost[1] == after["estimated_cost"]
    manifest_after = httpx.get(f"{server.api}/tenants/my-ai-service/manifest", headers=REAL).text
    expected_diff = "".join(
        difflib.unified_diff(
            manifest_before.splitlines(keepends=True),
            manifest_after.splitlines(keepends=True),
            fromfile="a/my-ai-service/manifest.yaml",
            tofile="b/my-ai-service/manifest.yaml",
        )
    )
    assert shown_diff == expected_diff
    was = {s["service_name"]: s["replicas"] for s in before["services"]}
    now = {s["service_name"]: s["replicas"] for s in after["services"]}
    for name in was.keys() | now.keys():
        shown = page.eval_on_selector_all(
            f"#change-table tr[data-row^='{name} '] td", "cells => cells.map(c => c.textContent)"
        )
        assert shown == [str(was.get(name, "—")), str(now.get(name, "—"))], name
