"""The web UI in a real browser: Playwright driving Debian's chromium (installed by .ci/run).

Opens the catalogue, runs a canned query with a parameter through its form, follows an entity link from
the results, finds the entity's sources, and saves screenshots. Requests to anything but the test server
are blocked, so the test also proves the pages need nothing from the network.
"""

from __future__ import annotations

import os
import shutil
import urllib.parse

import pytest

from webserver import running_server, web_project

sync_api = pytest.importorskip("playwright.sync_api", reason="the playwright package is not installed "
                               "(pip install playwright; no browser download needed)")
CHROMIUM = os.environ.get("KGTOOL_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
if not os.path.exists(CHROMIUM):
    pytest.skip(f"no chromium at {CHROMIUM} (apt-get install chromium, or set KGTOOL_CHROMIUM)",
                allow_module_level=True)
ARGS = ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
        "--disable-background-networking", "--disable-extensions", "--no-first-run"]


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    with running_server(web_project(tmp_path_factory.mktemp("web")), timeout=10.0) as running:
        yield running


@pytest.fixture()
def page(server):
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        context = browser.new_context(viewport={"width": 1280, "height": 900})
        ours = urllib.parse.urlsplit(server.url).netloc

        def only_ours(route):
            same = urllib.parse.urlsplit(route.request.url).netloc == ours
            return route.continue_() if same else route.abort()

        context.route("**/*", only_ours)
        tab = context.new_page()
        tab.set_default_timeout(15_000)
        tab.problems = []
        tab.on("console", lambda msg: tab.problems.append(msg.text) if msg.type == "error" else None)
        tab.on("pageerror", lambda error: tab.problems.append(str(error)))
        try:
            yield tab
        finally:
            browser.close()


def test_query_with_a_parameter_then_an_entity_and_its_sources(server, page, tmp_path):
    page.goto(server.url)
    assert page.locator("h1").inner_text() == "Canned queries"
    page.click("a.query:text-is('events-in-year')")

    page.fill("#param-year", "2017")
    page.click("#run")
    page.wait_for_selector("table.results")
    assert "year=2017" in page.url
    links = page.locator("table.results a[href^='/id/event/2017-']")
    assert links.count() >= 1
    page.screenshot(path=str(tmp_path / "results.png"), full_page=True)

    name = links.first.inner_text()
    links.first.click()
    page.wait_for_selector("h2#sources")
    assert page.locator("h1").inner_text() == name
    sources = page.locator("ul.sources li")
    assert sources.count() >= 1
    assert sources.locator("a[href^='/id/source/article-']").count() >= 1
    shot = tmp_path / "entity.png"
    page.screenshot(path=str(shot), full_page=True)
    assert shot.stat().st_size > 10_000
    assert page.problems == [], f"browser console errors: {page.problems}"


def test_the_stylesheet_loads_under_the_content_security_policy(server, page):
    page.goto(server.url + "timeline")
    colour = page.eval_on_selector(".kind.agreement", "e => getComputedStyle(e).backgroundColor")
    assert colour == "rgb(0, 114, 178)"
    assert page.problems == []


def test_pages_fit_a_phone_screen(server, page):
    """On a 375 px screen the results and the query box scrolled the whole page sideways (765 px)."""
    page.set_viewport_size({"width": 375, "height": 800})
    for path in ("query/events-in-year?year=2017&run=1", "sparql", "id/place/almaty"):
        page.goto(server.url + path)
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= 375, f"/{path} is {width} px wide on a 375 px screen"
