"""The offline API docs and the HTML status report in a real browser: Debian's headless
Chromium driven by Playwright, against a live server over the seeded database, with every
request to another host blocked. Screenshots are saved under
$TASHAN_TEST_ARTIFACTS/browser/<database> (default: var/test-artifacts in the project)."""

import json
import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import Browser, BrowserContext, Page, Route, sync_playwright
from sqlalchemy import Engine
from sqlmodel import Session, select

from app.actions.models import Action
from app.seeding.schemas import SeedReport
from tests.helpers import POSTGRES_URL, TODAY, write_action

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_FLAGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-default-apps",
    "--disable-sync",
    "--no-first-run",
    "--no-default-browser-check",
    "--metrics-recording-only",
    # no host resolves but loopback, a second wall behind the blocking route
    "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
]
TIMEOUT_MS = 60_000
HTTP_METHODS = {"get", "put", "post", "delete", "options", "head", "patch", "trace"}
OFF_HOST_PROBE = "https://example.com/probe"
ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = Path(os.environ.get("TASHAN_TEST_ARTIFACTS") or ROOT / "var" / "test-artifacts")


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """Headless Chromium, launched once for the module; the test fails (never skips) without it."""
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing: run scripts/setup-browser (as root) or scripts/test")
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_FLAGS
        )
        yield chromium
        chromium.close()


@pytest.fixture
def artifacts(capsys: pytest.CaptureFixture[str]) -> Path:
    """The folder this run's screenshots go to, announced on the terminal."""
    folder = ARTIFACTS / "browser" / ("postgresql" if POSTGRES_URL else "sqlite")
    folder.mkdir(parents=True, exist_ok=True)
    with capsys.disabled():
        print(f"\nbrowser screenshots: {folder}")
    return folder


def offline_context(
    browser: Browser, allowed: tuple[str, ...], **options: Any
) -> tuple[BrowserContext, list[str]]:
    """A browser context that aborts every request whose URL does not start with one of
    allowed, and the list those blocked requests are recorded in."""
    context = browser.new_context(viewport={"width": 1280, "height": 900}, **options)
    context.set_default_timeout(TIMEOUT_MS)
    blocked: list[str] = []

    def guard(route: Route) -> None:
        if route.request.url.startswith(allowed):
            route.continue_()
        else:
            blocked.append(route.request.url)
            route.abort("blockedbyclient")

    context.route("**/*", guard)
    return context, blocked


def operations_in_schema(base_url: str) -> set[tuple[str, str]]:
    schema = httpx.get(f"{base_url}/openapi.json").json()
    return {
        (method.upper(), path)
        for path, item in schema["paths"].items()
        for method in item
        if method in HTTP_METHODS
    }


# The button that opens an operation is named "get /api/v1/actions"; Playwright hands the
# pattern to the browser as a JavaScript regex literal, so its slashes are escaped.
OPERATION_BUTTON = re.compile(rf"^(?:{'|'.join(sorted(HTTP_METHODS))}) \/")


def operations_shown(page: Page) -> set[tuple[str, str]]:
    """(METHOD, path) of every operation the docs page lists."""
    names = [
        # Swagger UI puts zero-width spaces after the path's slashes, to wrap long paths
        (button.get_attribute("aria-label") or "").replace("\u200b", "")
        for button in page.get_by_role("button", name=OPERATION_BUTTON).all()
    ]
    return {(method.upper(), path) for method, path in (name.split(" ", 1) for name in names)}


def authorize_with_api_key(page: Page, key: str) -> None:
    """Paste key into the X-API-Key scheme of the Authorize dialog, apply it, close."""
    page.get_by_role("button", name="Authorize", exact=True).click()
    dialog = page.get_by_role("heading", name="Available authorizations")
    scheme = page.locator("form").filter(has=page.get_by_text("X-API-Key", exact=True))
    scheme.get_by_label("Value:", exact=True).fill(key)
    scheme.get_by_role("button", name="Apply credentials").click()
    scheme.get_by_role("button", name="Remove authorization").wait_for()  # Logout
    scheme.get_by_role("button", name="Close").click()
    dialog.wait_for(state="detached")


def execute_list_actions(page: Page) -> str:
    """Try it out → Execute on GET /api/v1/actions; the response body Swagger UI shows."""
    page.get_by_role("button", name="get /api/v1/actions", exact=True).click()
    page.get_by_role("button", name="Try it out").click()
    page.get_by_role("button", name="Execute").click()
    # the server's answer, not the table of documented responses
    response = page.get_by_role("table").filter(
        has=page.get_by_role("heading", name="Response body")
    )
    response.get_by_role("cell", name="200", exact=True).wait_for()
    body = response.get_by_role("code").first
    body.scroll_into_view_if_needed()
    return body.inner_text()


def test_docs_work_offline_list_every_operation_and_run_one_with_a_key(
    browser: Browser,
    live_server: str,
    admin_key: str,
    seeded: SeedReport,
    engine: Engine,
    artifacts: Path,
) -> None:
    context, blocked = offline_context(browser, allowed=(f"{live_server}/",))
    page = context.new_page()
    page.goto(f"{live_server}/docs")
    page.get_by_role("button", name=OPERATION_BUTTON).first.wait_for()

    assert operations_shown(page) == operations_in_schema(live_server)
    page.screenshot(path=artifacts / "docs.png", full_page=True)
    # the guard really blocks: a request off the host fails and is recorded
    probe = page.evaluate("url => fetch(url).then(() => 'reached', () => 'failed')", OFF_HOST_PROBE)
    assert probe == "failed"

    authorize_with_api_key(page, admin_key)
    body = execute_list_actions(page)
    page.screenshot(path=artifacts / "docs-response.png")

    with Session(engine) as session:
        titles = session.exec(select(Action.title)).all()
    assert len(titles) == 43
    missing = [t for t in titles if json.dumps(t, ensure_ascii=False)[1:-1] not in body]
    assert missing == [], f"titles not shown in the response body: {missing}"
    assert blocked == [OFF_HOST_PROBE], "the docs page asked another host for something"
    context.close()


def complete(client: httpx.Client, action_id: int) -> None:
    for status in ("accepted", "in_progress", "completed"):
        write_action(client, action_id, "transitions", {"to": status})


def test_html_report_draws_its_chart(
    browser: Browser,
    live_server: str,
    admin_key: str,
    seeded: SeedReport,
    artifacts: Path,
) -> None:
    with httpx.Client(base_url=live_server, headers={"X-API-Key": admin_key}) as client:
        units = client.get("/api/v1/stats").json()["units"]
        # complete one action of the first unit and two of the second: two bars, unequal
        for unit, count in ((units[0], 1), (units[1], 2)):
            listing = client.get("/api/v1/actions", params={"owner_id": unit["unit_id"]})
            for action in listing.json()["items"][:count]:
                complete(client, action["id"])
        ranking = client.get("/api/v1/stats").json()["units"]
    rates = {unit["unit_name"]: unit["completion_rate"] for unit in ranking}
    assert sum(rate > 0 for rate in rates.values()) == 2

    # download the report as a browser sending the key does, then open the saved file
    report = artifacts / "report.html"
    context, blocked = offline_context(
        browser,
        allowed=(f"{live_server}/", report.as_uri()),
        extra_http_headers={"X-API-Key": admin_key},
    )
    page = context.new_page()
    with page.expect_download() as download_info:
        page.evaluate(
            "url => { window.location.href = url }",
            f"{live_server}/api/v1/reports/status?format=html",
        )
    download = download_info.value
    assert download.suggested_filename.endswith(".html")
    download.save_as(report)
    page.goto(report.as_uri())

    chart = page.get_by_role("img", name="各单位完成率")
    chart.wait_for()
    labels = chart.locator("text[text-anchor=end]").all_text_contents()
    bars = [bar.bounding_box() for bar in chart.locator("rect").all()]
    chart.scroll_into_view_if_needed()
    page.screenshot(path=artifacts / "report.png")

    assert sorted(labels) == sorted(rates)
    widths = {label: box["width"] for label, box in zip(labels, bars, strict=True) if box}
    assert len(widths) == len(labels)
    assert all(box and box["height"] > 0 for box in bars)
    assert all((widths[name] > 0) == (rate > 0) for name, rate in rates.items())
    best = max(rates, key=lambda name: rates[name])
    for name, rate in rates.items():  # each bar is as long, against the best's, as its rate
        assert widths[name] == pytest.approx(rate / rates[best] * widths[best], abs=1)
    assert blocked == []
    context.close()


def test_docs_upload_an_evidence_file_and_download_it_back(
    browser: Browser,
    live_server: str,
    admin_key: str,
    seeded: SeedReport,
    artifacts: Path,
    tmp_path: Path,
) -> None:
    proof = tmp_path / "会议纪要.txt"
    proof.write_bytes("专班会议纪要：“标准地”出让方案已通过。\n".encode())
    context, blocked = offline_context(browser, allowed=(f"{live_server}/",))
    page = context.new_page()
    page.goto(f"{live_server}/docs")
    authorize_with_api_key(page, admin_key)

    operation = page.locator(".opblock").filter(
        has=page.get_by_role("button", name="post /api/v1/actions/{action_id}/evidence", exact=True)
    )
    operation.get_by_role(
        "button", name="post /api/v1/actions/{action_id}/evidence", exact=True
    ).click()
    operation.get_by_role("button", name="Try it out").click()
    operation.get_by_placeholder("action_id", exact=True).fill("16")
    operation.locator('input[type="file"]').set_input_files(proof)
    # the page offers the browser's today; the server's clock is at NOW
    operation.get_by_placeholder("evidence_date").fill(TODAY.isoformat())
    operation.get_by_role("button", name="Execute").click()
    response = operation.get_by_role("table").filter(
        has=page.get_by_role("heading", name="Response body")
    )
    try:
        response.get_by_role("cell", name="201", exact=True).wait_for(timeout=15_000)
    finally:
        operation.screenshot(path=artifacts / "docs-evidence.png")
    body = json.loads(response.get_by_role("code").first.inner_text())
    assert (body["filename"], body["media_type"], body["evidence_date"]) == (
        "会议纪要.txt",
        "text/plain; charset=utf-8",
        TODAY.isoformat(),
    )

    # download it back as the page's user would, with the key the page sends
    with page.expect_download() as waiting:
        page.evaluate(
            """([url, key]) => fetch(url, {headers: {"X-API-Key": key}})
                .then(r => r.blob()).then(blob => {
                    const a = document.createElement("a");
                    a.href = URL.createObjectURL(blob);
                    a.download = "download";
                    document.body.appendChild(a);
                    a.click();
                })""",
            [f"{live_server}/api/v1/evidence/{body['id']}/file", admin_key],
        )
    saved = Path(waiting.value.path())
    assert saved.read_bytes() == proof.read_bytes()
    assert blocked == [], "the docs page asked another host for something"
    context.close()
