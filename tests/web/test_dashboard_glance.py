"""The dashboard read at a glance in headless Chromium: the answer on the first screen, filters that
live in the URL with and without JavaScript, a chart that agrees with the headline, and no page wider
than a phone."""

from __future__ import annotations

import itertools
import json
import re
from collections.abc import Callable, Iterator
from datetime import UTC, datetime

import pytest
from playwright.sync_api import Page, expect

from mission_control.catalog import load_default_catalog
from mission_control.db.database import Database
from mission_control.evidence.drills.record import DrillRecord, Outcome, Step
from mission_control.evidence.service import record_drill
from mission_control.verification.results import failing, verified
from mission_control.verification.runner import VerificationReport
from mission_control.verification.service import finish_run, start_run
from tests.web.conftest import LIVE_TIMEOUT_MS, Site, checkbox, item, wait_until_live

pytestmark = pytest.mark.browser

PHONE = {"width": 390, "height": 844}
EVIDENCE_BACKED = sum(1 for entry in load_default_catalog().items if entry.evidence)  # none has any yet
DESKTOP = {"width": 1280, "height": 800}
LEGEND = ("done", "ticked", "verified by probe")


@pytest.fixture
def database(site: Site) -> Iterator[Database]:
    """The site's own database, to arrange what only a verification run or a drill can record."""
    opened = Database(site.server.database_url)
    yield opened
    opened.dispose()


def verify(database: Database, environment: str, *results: object) -> None:
    with database.transaction() as session:
        run_id = start_run(session=session, environment_name=environment, actor="ci")
        report = VerificationReport(environment, "multi-region-readiness", datetime.now(UTC), tuple(results))
        finish_run(session=session, run_id=run_id, report=report)


def failed_drill(database: Database, environment: str) -> None:
    now = datetime.now(UTC)
    detail = f"not configured: set edge_latency_urls in [environments.{environment}]"
    steps = [Step("check the configuration", now, now, 0.01, False, detail)]
    record = DrillRecord("edge-latency", environment, "edge.latency", now, now, Outcome.FAILED, steps)
    with database.transaction() as session:
        record_drill(session=session, environment_name=environment, record=record, actor="bob")


@pytest.fixture
def troubled(site: Site, environment: str, database: Database) -> str:
    """An environment with one item of each kind of trouble: regressed, failing, a failed drill."""
    site.patch(environment, "dns.failover-ttl", checked=True, owner="dns team")
    site.patch(environment, "dns.health-checks", checked=True)
    verify(
        database,
        environment,
        failing("dns.failover-ttl", "TTL above 60s on beak-ap-southeast-1 (300s)"),
        failing("cloudfront.cache-ttls", "DefaultTTL 86400 > 300"),
        verified("cloudfront.origin-failover", "origin group beak-failover", origin_group="beak-failover"),
    )
    failed_drill(database, environment)
    return environment


def test_the_first_screen_says_what_blocks_readiness_worst_first(
    open_page: Callable[..., Page], troubled: str
) -> None:
    page = open_page("alice", troubled, viewport=DESKTOP)
    attention = page.locator(".attention-list > li")

    expect(page.locator(".overall")).to_have_text("2 / 20 complete")
    expect(page.locator('[data-tile="dns"]')).to_contain_text("1/4")
    expect(page.locator('[data-tile="cloudfront"]')).to_contain_text("1/4")
    expect(page.locator('[data-count="regressed"]')).to_have_text("1 regressed")
    expect(page.locator('[data-count="failing"]')).to_have_text("2 failing")
    expect(page.locator('[data-count="verified"]')).to_have_text("1 verified")
    expect(page.locator('[data-count="ticked"]')).to_have_text("2 ticked")
    expect(attention).to_have_count(3)
    expect(attention.nth(0)).to_contain_text("⚠ Regressed")
    expect(attention.nth(0)).to_contain_text("Validate DNS TTL is ≤60s for failover records")
    expect(attention.nth(0)).to_contain_text("ticked, but its live check fails: TTL above 60s")
    expect(attention.nth(0)).to_contain_text("dns team")
    expect(attention.nth(1)).to_contain_text("✖ Failing")
    expect(attention.nth(2)).to_contain_text(
        "the last edge-latency drill failed: not configured: set edge_latency_urls"
    )
    bottom = page.locator(".attention").evaluate("element => element.getBoundingClientRect().bottom")
    assert bottom <= DESKTOP["height"], f"the attention list ends at y={bottom}, below the first screen"

    attention.nth(0).get_by_role("link").click()

    expect(page).to_have_url(re.compile(r"#item-dns\.failover-ttl$"))
    expect(item(page, "dns.failover-ttl").locator(".item-details")).to_have_attribute("open", "")
    expect(item(page, "dns.failover-ttl").locator('[data-field="pill"]')).to_have_text("⚠ Regressed")


def test_a_verified_item_with_an_empty_box_is_not_struck_through_and_shows_its_facts_as_a_list(
    open_page: Callable[..., Page], troubled: str
) -> None:
    page = open_page("alice", troubled)
    entry = item(page, "cloudfront.origin-failover")

    expect(entry.locator('[data-field="pill"]')).to_have_text("✔ Verified")
    expect(checkbox(page, "cloudfront.origin-failover")).not_to_be_checked()
    assert "line-through" not in entry.locator(".title").evaluate(
        "e => getComputedStyle(e).textDecorationLine"
    )
    entry.locator(".item-details > summary").click()
    expect(entry.locator(".facts-list dt")).to_have_text(["origin group"])
    expect(entry.locator(".facts-list dd")).to_have_text(["beak-failover"])


def test_the_summary_follows_a_tick_live(open_page: Callable[..., Page], troubled: str) -> None:
    page = open_page("alice", troubled)
    wait_until_live(page)

    checkbox(page, "dns.failover-ttl").click()  # untick the regressed item: it is only failing now

    expect(page.locator('[data-count="regressed"]')).to_have_text("0 regressed", timeout=LIVE_TIMEOUT_MS)
    expect(page.locator('[data-count="ticked"]')).to_have_text("1 ticked")
    expect(page.locator(".attention-list > li").nth(0)).to_contain_text("✖ Failing")


@pytest.mark.parametrize("javascript", [True, False], ids=["with-js", "without-js"])
@pytest.mark.parametrize(
    ("link", "query", "shown"),
    [
        ("Open", "status=open", 18),
        ("Done", "status=done", 2),
        ("Regressed", "status=regressed", 1),
        ("Failing", "status=failing", 2),
        ("Needs evidence", "status=needs-evidence", EVIDENCE_BACKED),
        ("Mine", "mine=1", 1),
        ("High", "effort=High", 8),
    ],
)
def test_each_filter_is_a_link_kept_in_the_url(
    open_page: Callable[..., Page],
    site: Site,
    troubled: str,
    link: str,
    query: str,
    shown: int,
    javascript: bool,
) -> None:
    site.patch(troubled, "edge.latency", owner="alice")
    page = open_page("alice", troubled, java_script_enabled=javascript)

    page.locator(".filters").get_by_role("link", name=link, exact=True).click()

    expect(page).to_have_url(re.compile(rf"/\?env={troubled}&{re.escape(query)}#items$"))
    expect(page.locator(".item")).to_have_count(shown)
    expect(page.locator(".filters").get_by_role("link", name=link, exact=True)).to_have_attribute(
        "aria-current", "true"
    )
    page.reload()
    expect(page.locator(".item")).to_have_count(shown)


def test_the_charts_done_line_ends_at_the_headline(open_page: Callable[..., Page], troubled: str) -> None:
    page = open_page("alice", troubled)
    chart = page.locator(".progress-over-time svg")

    headline = page.locator('[data-counter="completed"]').first.inner_text()
    expect(chart.locator('[data-series="done"]')).to_have_attribute("data-last", headline)
    expect(chart.locator("text")).to_contain_text(["done", "ticked", "verified by probe"])
    labels = chart.locator('text[data-axis="x"]').all_text_contents()
    assert len(set(labels)) == len(labels) >= 2, labels
    for tick in ("5", "10", "15", "20"):
        expect(chart.locator("text", has_text=re.compile(rf"^{tick}$"))).to_have_count(1)


def test_no_page_is_wider_than_a_phone(open_page: Callable[..., Page], troubled: str) -> None:
    page = open_page("alice", troubled, viewport=PHONE)
    for entry in page.locator(".item-details").all():
        entry.evaluate("details => { details.open = true; }")
    pages = {  # every page the app renders (the other report formats and evidence files are downloads)
        f"/?env={troubled}": 200,
        f"/?env={troubled}&open=dns.failover-ttl": 200,
        "/fleet": 200,
        f"/environments/{troubled}/items/dns.failover-ttl/history": 200,
        f"/environments/{troubled}/items/edge.latency/history": 200,  # a failed drill's steps
        f"/environments/{troubled}/import": 200,
        f"/environments/{troubled}/report.html": 200,
        "/docs": 200,
        "/login": 200,
        f"/?env={'no-such-environment-' * 12}": 404,  # the error page, with a long unbroken name
        f"/environments/{troubled}/items/no-such-item/history": 404,
        "/no/such/page": 404,
        "/login/sso": 404,  # single sign-on is not configured here
    }
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"], "the dashboard, opened"
    for path, status in pages.items():
        response = page.goto(path)
        assert response is not None and response.status == status, path
        page.wait_for_load_state("load")
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= PHONE["width"], f"{path} is {width} px wide"
    unmatched = "an-entry-that-names-no-item-" * 8
    for upload, shown in ((json.dumps([unmatched]), "1 not matched"), ("{" + "x" * 300, "not valid JSON")):
        page.goto(f"/environments/{troubled}/import")
        page.set_input_files(
            "#file", files=[{"name": "old.json", "mimeType": "text/plain", "buffer": upload.encode()}]
        )
        page.get_by_role("button", name="Import").click()
        expect(page.locator("main")).to_contain_text(shown)  # the import's answer, or its error
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= PHONE["width"], f"the import page saying {shown!r} is {width} px wide"


def test_the_burnup_chart_is_readable_on_a_phone(open_page: Callable[..., Page], troubled: str) -> None:
    page = open_page("alice", troubled, viewport=PHONE)
    card = page.locator(".progress-over-time")
    card.scroll_into_view_if_needed()
    legend = [card.locator("svg text", has_text=re.compile(rf"^{name}$")) for name in LEGEND]

    for entry in legend:
        expect(entry).to_be_visible()
    box = card.bounding_box()
    assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"]
    texts = card.locator("svg text").evaluate_all(
        "texts => texts.map(t => { const r = t.getBoundingClientRect();"
        " return {text: t.textContent, left: r.left, right: r.right, height: r.height}; })"
    )
    assert [t["text"] for t in texts if t["left"] < box["x"] or t["right"] > box["x"] + box["width"]] == []
    assert [t["text"] for t in texts if t["height"] < 9] == [], "text under 9 px is not readable"
    spans = sorted((t["left"], t["right"]) for t in texts if t["text"] in LEGEND)
    assert all(right <= next_left for (_, right), (next_left, _) in itertools.pairwise(spans)), spans


def test_history_on_a_phone_is_cards_that_keep_their_labels(
    open_page: Callable[..., Page], troubled: str
) -> None:
    page = open_page("alice", troubled, viewport=PHONE)
    page.goto(f"/environments/{troubled}/items/dns.failover-ttl/history")
    cells = page.locator("table.history").first.locator("tbody tr").first.locator("td")

    expect(page.locator("table.history thead").first).to_be_hidden()
    labels = cells.evaluate_all("cells => cells.map(c => getComputedStyle(c, '::before').content)")
    assert labels == ['"When: "', '"Who: "', '"Change: "', '"From: "', '"To: "']
    desktop = open_page("alice", troubled, viewport=DESKTOP)
    desktop.goto(f"/environments/{troubled}/items/dns.failover-ttl/history")
    expect(desktop.locator("table.history thead").first).to_be_visible()
    first_cell = desktop.locator("table.history td").first
    assert first_cell.evaluate("c => getComputedStyle(c, '::before').content") in ("none", "normal")


def test_sign_out_everywhere_is_a_secondary_action(open_page: Callable[..., Page], troubled: str) -> None:
    page = open_page("alice", troubled)
    everywhere = page.get_by_role("button", name="Sign out everywhere")
    item(page, "dns.failover-ttl").locator(".item-details > summary").click()
    item(page, "dns.failover-ttl").get_by_text("Owner & note", exact=True).click()
    primary = item(page, "dns.failover-ttl").get_by_role("button", name="Save owner & note")

    def look(button: object) -> dict[str, str]:
        return button.evaluate(  # type: ignore[attr-defined]
            "b => { const s = getComputedStyle(b);"
            " return {background: s.backgroundColor, border: s.borderTopWidth, underline: s.textDecorationLine}; }"
        )

    assert look(primary)["background"] == "rgb(36, 87, 214)"  # the accent: one primary action per card
    assert look(everywhere) == {"background": "rgb(255, 255, 255)", "border": "0px", "underline": "underline"}


@pytest.mark.parametrize("javascript", [True, False], ids=["with-js", "without-js"])
def test_an_items_history_opens_in_place_newest_first(
    open_page: Callable[..., Page], troubled: str, javascript: bool
) -> None:
    page = open_page("alice", troubled, java_script_enabled=javascript)
    entry = item(page, "dns.failover-ttl")
    entry.locator(".item-details > summary").click()
    entry.locator(".recent-changes > summary").click()
    changes = entry.locator(".recent-changes .changes > li")

    expect(changes).to_have_count(3)
    expect(changes.nth(0)).to_contain_text("ci regressed: — → failing: TTL above 60s on beak-ap-southeast-1")
    expect(changes.nth(2)).to_contain_text("root checked: false → true")
    entry.get_by_role("link", name="Older changes, evidence and drill runs").or_(
        entry.get_by_role("link", name="Full history, evidence and drill runs")
    ).click()
    expect(page).to_have_url(re.compile(rf"/environments/{troubled}/items/dns\.failover-ttl/history$"))


@pytest.mark.parametrize("opened", ["before the change", "after the change"])
def test_a_change_made_elsewhere_reaches_the_items_history_live(
    open_page: Callable[..., Page], site: Site, troubled: str, opened: str
) -> None:
    page = open_page("alice", troubled)
    wait_until_live(page)
    entry = item(page, "dns.failover-ttl")
    entry.locator(".item-details > summary").click()
    if opened == "before the change":
        entry.locator(".recent-changes > summary").click()

    site.patch(troubled, "dns.failover-ttl", note="rollback plan agreed")

    expect(entry.locator('[data-field="note"]')).to_have_text("rollback plan agreed", timeout=LIVE_TIMEOUT_MS)
    if opened == "after the change":
        entry.locator(".recent-changes > summary").click()
    changes = entry.locator(".recent-changes .changes > li")
    expect(changes.first).to_contain_text("root note: — → rollback plan agreed", timeout=LIVE_TIMEOUT_MS)
    expect(changes).to_have_count(4)
    expect(entry.locator(".recent-changes")).to_have_attribute("open", "")


def test_the_fleet_grid_says_what_its_symbols_mean(open_page: Callable[..., Page], troubled: str) -> None:
    page = open_page("alice", troubled)
    page.goto("/fleet")

    expect(page.locator(".fleet-legend > span")).to_have_text(
        ["✔ verified", "✖ failing", "⚠ error", "✎ manual", "· not verified"]
    )
    row = page.locator("table.fleet tr", has=page.get_by_role("link", name=troubled, exact=True))
    expect(row.locator('a.cell[title="dns.failover-ttl: failing"]')).to_have_text("✖ failing")
