"""Headless Chromium for the dashboard tests: Debian's /usr/bin/chromium driven by Playwright.

`playwright install` (its own browser download) does not work on these machines, so the system
browser is launched with the flags that keep it off the closed network. Missing chromium,
Playwright or the dashboard's npm packages skip locally and FAIL under CI=true (.ci/run installs
them; the rule is tests/required_tools.py's). Screenshots go to build/screenshots/ (git-ignored)
for review.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from required_tools import missing

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page

REPO = Path(__file__).resolve().parent.parent
DASHBOARD = REPO / "dashboard"
SCREENSHOTS = REPO / "build" / "screenshots"
CHROMIUM = os.environ.get("ECP_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def _missing(what: str) -> None:
    missing(f"{what} (.ci/run installs it: apt chromium, `npm ci` in dashboard/)")


def require_browser() -> None:
    if not (Path(CHROMIUM).exists() or shutil.which(CHROMIUM)):
        _missing(f"{CHROMIUM} not found")
    if not (DASHBOARD / "node_modules" / "uplot" / "dist" / "uPlot.esm.js").is_file():
        _missing("dashboard/node_modules is missing")
    if not (DASHBOARD / "node_modules" / "axe-core" / "axe.min.js").is_file():
        _missing("dashboard/node_modules/axe-core is missing")


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """One Chromium per test module (Playwright gives each launch a fresh temp profile)."""
    require_browser()
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _missing("the playwright package is not installed")
        raise
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=CHROMIUM, args=CHROMIUM_FLAGS, headless=True
        )
        try:
            yield chromium
        finally:
            chromium.close()


def screenshot(page: Page, name: str) -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


AXE_RUN = """async () => {
  const result = await axe.run(document, { resultTypes: ['violations'] });
  return result.violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => ({ id: v.id, impact: v.impact, help: v.help,
                   targets: v.nodes.slice(0, 5).map((n) => n.target.join(' ')) }));
}"""


def axe_violations(page: Page) -> list[dict[str, object]]:
    """Serious and critical axe-core findings on the page as it stands."""
    page.add_script_tag(path=str(DASHBOARD / "node_modules" / "axe-core" / "axe.min.js"))
    found: list[dict[str, object]] = page.evaluate(AXE_RUN)
    return found


def many_tenants_workspace(root: Path, count: int) -> Path:
    """A workspace of `count` small tenants (alternating micro/small presets), committed but not
    compiled: the list answer then comes from the specs, which is what a big overview needs."""
    import subprocess

    root.mkdir(parents=True, exist_ok=True)
    shutil.copytree(REPO / "presets", root / "presets")
    tenants = root / "tenants"
    tenants.mkdir()
    for i in range(count):
        preset = "micro" if i % 2 == 0 else "small"
        (tenants / f"t-{i:04d}.yaml").write_text(
            f"tenant_id: t-{i:04d}\nname: Tenant {i:04d}\npreset: {preset}\n"
            f"service_requirements:\n  chatbot: {10 + i % 20}\n"
            'sla_target:\n  availability: "99.5%"\n  response_time: 300ms\n'
            f"description: generated tenant {i}\n",
            encoding="utf-8",
        )
    (root / ".gitignore").write_text("output/\n.ecp/\n", encoding="utf-8")
    for args in (
        ["init", "--quiet", "--initial-branch=main"],
        ["add", "--all"],
        ["-c", "user.name=test", "-c", "user.email=test@localhost", "commit", "-qm", "seed"],
    ):
        subprocess.run(["git", *args], cwd=root, check=True, capture_output=True, timeout=120)
    return root
