"""The dashboard in headless Chromium, as people use it: signed in, live, by keyboard, without
JavaScript, on a failing network and on a phone.

One server (SQLite) serves the module; each test works in an environment of its own, so every test
starts from 0 / 20 without paying for a server start.
"""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from playwright.sync_api import Browser, Page, Route, expect

from tests.web.conftest import (
    DNS_ITEMS,
    LIVE_TIMEOUT_MS,
    Site,
    checkbox,
    item,
    sign_in_through_form,
    wait_until_live,
)

pytestmark = pytest.mark.browser


def test_signing_in_through_the_form_shows_the_empty_checklist(browser: Browser, site: Site) -> None:
    context = browser.new_context(base_url=site.url)
    try:
        page = context.new_page()
        page.goto("/")
        expect(page).to_have_url(re.compile(r"/login\?next=/$"))

        sign_in_through_form(page, "alice")

        expect(page.locator(".brand")).to_have_text("Mission Control")
        expect(page.locator("h1")).to_have_text("🌍 Multi-Region Readiness")
        expect(page.locator(".overall")).to_have_text("0 / 20 complete")
        expect(page.get_by_text("Overall completion 0%")).to_be_visible()
        expect(page.locator(".who")).to_contain_text("alice")
        expect(page.locator("input[type=checkbox]")).to_have_count(20)
        expect(page.get_by_text("✅ Category complete")).to_have_count(5)
        expect(page.get_by_text("✅ Category complete").filter(visible=True)).to_have_count(0)
    finally:
        context.close()


def test_a_tick_in_one_browser_appears_live_in_another_and_survives_reload(
    open_page: Callable[..., Page], environment: str
) -> None:
    alice = open_page("alice", environment)
    bob = open_page("bob", environment)
    wait_until_live(bob)

    checkbox(alice, "dns.health-checks").click()

    expect(checkbox(bob, "dns.health-checks")).to_be_checked(timeout=LIVE_TIMEOUT_MS)
    expect(bob.locator(".overall")).to_have_text("1 / 20 complete", timeout=LIVE_TIMEOUT_MS)
    expect(item(bob, "dns.health-checks")).to_contain_text("Ticked by alice", timeout=LIVE_TIMEOUT_MS)
    bob.reload()
    expect(checkbox(bob, "dns.health-checks")).to_be_checked()
    expect(bob.locator(".overall")).to_have_text("1 / 20 complete")
    expect(item(bob, "dns.health-checks")).to_contain_text("Ticked by alice")
    expect(checkbox(bob, "dns.latency-routing")).not_to_be_checked()


def test_category_complete_shows_only_when_every_item_of_that_category_is_ticked(
    open_page: Callable[..., Page], site: Site, environment: str, tmp_path_factory: pytest.TempPathFactory
) -> None:
    site.patch(
        environment, "dynamodb.global-main", owner="data team", note="main table replicated to eu-west-1"
    )
    page = open_page("alice", environment, viewport={"width": 1280, "height": 900})
    dns_complete = page.locator("#category-dns").get_by_text("✅ Category complete")

    for item_id in DNS_ITEMS[:-1]:
        checkbox(page, item_id).click()
        expect(checkbox(page, item_id)).to_be_checked()
    expect(page.locator("#category-dns .category-progress")).to_contain_text("3 / 4 done")
    expect(dns_complete).to_be_hidden()

    checkbox(page, DNS_ITEMS[-1]).click()

    expect(dns_complete).to_be_visible()
    expect(page.locator("#category-dns .category-progress")).to_contain_text("4 / 4 done")
    expect(page.get_by_text("✅ Category complete").filter(visible=True)).to_have_count(1)
    expect(page.locator(".overall")).to_have_text("4 / 20 complete")
    expect(page.get_by_text("Overall completion 20%")).to_be_visible()
    page.screenshot(path=tmp_path_factory.mktemp("screenshots") / "dashboard-desktop.png", full_page=True)


def test_space_on_a_checkbox_reached_by_tab_saves_it(
    open_page: Callable[..., Page], site: Site, environment: str
) -> None:
    page = open_page("alice", environment)
    item(page, "dns.latency-routing").locator(".item-details > summary").focus()

    page.keyboard.press("Tab")
    expect(checkbox(page, "dns.health-checks")).to_be_focused()
    page.keyboard.press("Space")

    expect(checkbox(page, "dns.health-checks")).to_be_checked()
    expect(item(page, "dns.health-checks").locator(".save-status")).to_have_text("Saved")
    saved = site.item(environment, "dns.health-checks")
    assert (saved["checked"], saved["checked_by"]) == (True, "alice")


def test_without_javascript_the_forms_save_by_plain_post(
    open_page: Callable[..., Page], site: Site, environment: str
) -> None:
    page = open_page("alice", environment, java_script_enabled=False)
    entry = item(page, "cloudfront.cache-ttls")

    checkbox(page, "cloudfront.cache-ttls").check()
    entry.get_by_role("button", name="Save", exact=True).click()

    expect(page).to_have_url(re.compile(rf"/\?env={environment}#item-cloudfront\.cache-ttls$"))
    expect(checkbox(page, "cloudfront.cache-ttls")).to_be_checked()
    expect(entry).to_contain_text("Ticked by alice")
    expect(page.locator(".overall")).to_have_text("1 / 20 complete")

    entry.locator(".item-details > summary").click()
    entry.locator("summary", has_text="Owner & note").click()
    entry.get_by_label("Owner").fill("edge team")
    entry.get_by_label("Note").fill("default TTL 300 s,\nerrors 10 s")
    entry.get_by_role("button", name="Save owner & note").click()

    expect(entry.locator('[data-field="owner"]')).to_have_text("edge team")
    expect(entry.locator('[data-field="note"]')).to_have_text("default TTL 300 s,\nerrors 10 s")
    saved = site.item(environment, "cloudfront.cache-ttls")
    assert (saved["checked"], saved["owner"], saved["note"]) == (
        True,
        "edge team",
        "default TTL 300 s,\nerrors 10 s",
    )


def test_a_failed_save_is_shown_never_ticked_and_retried_until_saved(
    open_page: Callable[..., Page], site: Site, environment: str
) -> None:
    page = open_page("alice", environment)
    pattern = f"**/api/v1/environments/{environment}/items/*"
    refused: list[str] = []

    def unavailable(route: Route) -> None:
        if route.request.method != "PATCH":
            route.continue_()
            return
        refused.append(route.request.url)
        route.fulfill(status=503, json={"detail": "maintenance"})

    page.route(pattern, unavailable)
    box = checkbox(page, "cognito.token-sync")
    status = item(page, "cognito.token-sync").locator(".save-status")

    box.click()

    expect(status).to_contain_text("Not saved")
    expect(status).to_contain_text("retrying")
    expect(box).not_to_be_checked()
    assert box.evaluate("box => box.indeterminate"), "a pending save is marked as pending"
    assert refused
    assert site.item(environment, "cognito.token-sync")["checked"] is False

    page.unroute(pattern, unavailable)

    expect(box).to_be_checked(timeout=10_000)  # the retries back off 1 s, 2 s, ...
    expect(status).to_have_text("Saved")
    assert site.item(environment, "cognito.token-sync")["checked"] is True


def test_phone_width_has_no_horizontal_overflow_and_checkboxes_work(
    open_page: Callable[..., Page], environment: str, tmp_path_factory: pytest.TempPathFactory
) -> None:
    page = open_page("alice", environment, viewport={"width": 375, "height": 800})

    assert page.evaluate("document.documentElement.scrollWidth") <= 375
    checkbox(page, "edge.iam-role").click()
    expect(checkbox(page, "edge.iam-role")).to_be_checked()
    assert page.evaluate("document.documentElement.scrollWidth") <= 375
    page.screenshot(path=tmp_path_factory.mktemp("screenshots") / "dashboard-phone.png", full_page=True)


def test_a_script_in_a_note_is_shown_as_text_and_never_runs(
    open_page: Callable[..., Page], site: Site, environment: str
) -> None:
    rendered = "<script>alert('rendered')</script><img src=x onerror=\"alert('rendered img')\">"
    live = "<img src=y onerror=\"alert('live')\"><script>alert('live')</script>"
    site.patch(environment, "edge.auth-handler", note=rendered)
    page = open_page("bob")
    dialogs: list[str] = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    page.goto(f"/?env={environment}")
    note = item(page, "edge.auth-handler").locator('[data-field="note"]')
    wait_until_live(page)

    expect(note).to_have_text(rendered)
    site.patch(environment, "edge.auth-handler", note=live)
    expect(note).to_have_text(live, timeout=LIVE_TIMEOUT_MS)

    expect(page.locator("main img")).to_have_count(0)
    expect(note.locator("script")).to_have_count(0)
    assert dialogs == []
