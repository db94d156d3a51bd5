"""The server-rendered dashboard: the seed's content, correct counters, forms that work without JS."""

from __future__ import annotations

import html
import re

import pytest
from fastapi.testclient import TestClient
from markupsafe import escape

from mission_control.catalog import Catalog
from mission_control.db.database import Database
from tests.conftest import bearer, make_user, page_csrf_token, queries, sign_in, token_for

PASSWORD = "correct horse"


@pytest.fixture
def editor_client(client: TestClient, database: Database) -> TestClient:
    make_user(database, "ed", "editor", password=PASSWORD)
    sign_in(client, "ed", PASSWORD)
    return client


def visible_text(page: str) -> str:
    """The page's text with tags removed, without elements marked `hidden`."""
    page = re.sub(r"<span[^>]*\shidden>[^<]*</span>", "", page)
    page = re.sub(r"</?(span|strong|small|code|a)\b[^>]*>", "", page)  # inline: no word break
    return html.unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", page)))


def tick(client: TestClient, item_id: str, *, checked: bool = True, version: int = 0) -> None:
    token = page_csrf_token(client.get("/").text)
    form = {"csrf_token": token, "form_kind": "check", "version": str(version)}
    if checked:
        form["checked"] = "on"
    response = client.post(f"/environments/production/items/{item_id}", data=form, follow_redirects=False)
    assert response.status_code == 303, response.text
    assert response.headers["location"] == f"/?env=production#item-{item_id}"


def test_unauthenticated_browser_is_sent_to_the_login_page(client: TestClient) -> None:
    response = client.get("/", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"].startswith("/login")
    assert "Sign in" in client.get("/login").text


def test_wrong_password_is_refused_with_a_message(client: TestClient, database: Database) -> None:
    make_user(database, "ed", "editor", password=PASSWORD)
    form = client.get("/login").text
    csrf = form.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
    response = client.post("/login", data={"name": "ed", "password": "wrong", "csrf_token": csrf})
    assert response.status_code == 401
    assert "Unknown user or wrong password." in response.text


def test_dashboard_shows_everything_the_seed_shows(editor_client: TestClient, catalog: Catalog) -> None:
    text = visible_text(editor_client.get("/").text)
    for expected in (
        "Mission Control",
        "🌍 Multi-Region Readiness",
        "0 / 20 complete",
        "Overall completion 0%",
    ):
        assert expected in text
    assert "20 items across 5 categories" in text
    assert "shared database" in text
    for category in catalog.categories:
        assert f"{category.icon} {category.name}" in text
        assert "0 / 4 done" in text
    for item in catalog.items:
        assert item.title in text
        assert item.description in text
    assert text.count("Medium effort") == 7
    assert "✅ Category complete" not in text


def test_category_complete_appears_only_when_all_its_items_are_done(
    editor_client: TestClient, catalog: Catalog
) -> None:
    dns = [item.id for item in catalog.categories[0].items]
    for item_id in dns[:3]:
        tick(editor_client, item_id)
    assert "✅ Category complete" not in visible_text(editor_client.get("/").text)
    tick(editor_client, dns[3])
    text = visible_text(editor_client.get("/").text)
    assert text.count("✅ Category complete") == 1
    assert "4 / 20 complete" in text and "Overall completion 20%" in text


def test_plain_form_post_ticks_and_shows_who(editor_client: TestClient) -> None:
    tick(editor_client, "edge.iam-role")
    text = visible_text(editor_client.get("/").text)
    assert "1 / 20 complete" in text
    assert "Ticked by ed on" in text


def test_plain_form_post_unticks(editor_client: TestClient) -> None:
    tick(editor_client, "edge.iam-role")
    tick(editor_client, "edge.iam-role", checked=False, version=1)
    assert "0 / 20 complete" in visible_text(editor_client.get("/").text)


def test_stale_form_post_gets_409_page_and_changes_nothing(editor_client: TestClient) -> None:
    tick(editor_client, "edge.iam-role")
    token = page_csrf_token(editor_client.get("/").text)
    response = editor_client.post(
        "/environments/production/items/edge.iam-role",
        data={"csrf_token": token, "form_kind": "check", "version": "0"},
    )
    assert response.status_code == 409
    assert "changed by someone else" in response.text
    assert "1 / 20 complete" in visible_text(editor_client.get("/").text)


def test_form_post_without_csrf_token_is_refused(editor_client: TestClient) -> None:
    response = editor_client.post(
        "/environments/production/items/edge.iam-role",
        data={"form_kind": "check", "checked": "on", "version": "0"},
    )
    assert response.status_code == 403
    assert "CSRF" in response.text
    assert "0 / 20 complete" in visible_text(editor_client.get("/").text)


def test_owner_and_note_form_saves_and_note_is_escaped(editor_client: TestClient) -> None:
    token = page_csrf_token(editor_client.get("/").text)
    hostile = '<script>alert("x")</script><img src=x onerror=alert(1)>'
    response = editor_client.post(
        "/environments/production/items/cognito.parity",
        data={
            "csrf_token": token,
            "form_kind": "details",
            "owner": "iam-team",
            "note": hostile,
            "version": "0",
        },
        follow_redirects=False,
    )
    assert response.status_code == 303
    page = editor_client.get("/").text
    assert hostile not in page
    assert str(escape(hostile)) in page
    assert "iam-team" in page


def test_filters_show_open_or_done_items_and_by_effort(editor_client: TestClient, catalog: Catalog) -> None:
    tick(editor_client, "dns.latency-routing")
    done = editor_client.get("/?status=done").text
    assert 'id="item-dns.latency-routing"' in done and 'id="item-dns.health-checks"' not in done
    opened = editor_client.get("/?status=open").text
    assert 'id="item-dns.latency-routing"' not in opened and 'id="item-dns.health-checks"' in opened
    high = editor_client.get("/?effort=High").text
    high_ids = {item.id for item in catalog.items if item.effort == "High"}
    assert set(re.findall(r'id="item-([a-z.-]+)"', high)) == high_ids
    assert "20 items across 5 categories" in visible_text(high)


def test_history_page_lists_who_changed_what(editor_client: TestClient) -> None:
    tick(editor_client, "dns.failover-ttl")
    page = editor_client.get("/environments/production/items/dns.failover-ttl/history").text
    assert "Validate DNS TTL is ≤60s for failover records" in page
    assert "ed" in page and "checked" in page


def test_viewer_sees_disabled_checkboxes_and_cannot_post(client: TestClient, database: Database) -> None:
    make_user(database, "vi", "viewer", password=PASSWORD)
    sign_in(client, "vi", PASSWORD)
    page = client.get("/").text
    assert page.count(" disabled>") == 20
    token = page_csrf_token(page)
    response = client.post(
        "/environments/production/items/dns.failover-ttl",
        data={"csrf_token": token, "form_kind": "check", "checked": "on", "version": "0"},
    )
    assert response.status_code == 403


def test_unknown_environment_page_is_404(editor_client: TestClient) -> None:
    response = editor_client.get("/?env=nowhere")
    assert response.status_code == 404
    assert "environment &#39;nowhere&#39; does not exist" in response.text


def test_import_form_reports_matched_and_unmatched(editor_client: TestClient, database: Database) -> None:
    token = page_csrf_token(editor_client.get("/").text)
    payload = b'["Enable Route53 latency-based routing", 5, "Launch rockets"]'
    response = editor_client.post(
        "/environments/production/import",
        data={"csrf_token": token},
        files={"file": ("sd_multiregion_checklist.json", payload, "application/json")},
    )
    assert response.status_code == 200
    assert "2 matched" in response.text and "1 not matched" in response.text
    assert "Launch rockets" in response.text
    checklist = editor_client.get(
        "/api/v1/environments/production/checklist", headers=bearer(token_for(database, "reader", "viewer"))
    ).json()
    assert checklist["completed"] == 2


def test_import_of_unreadable_file_says_why_and_changes_nothing(editor_client: TestClient) -> None:
    tick(editor_client, "dns.failover-ttl")
    token = page_csrf_token(editor_client.get("/").text)
    response = editor_client.post(
        "/environments/production/import",
        data={"csrf_token": token},
        files={"file": ("broken.json", b"{not json", "application/json")},
    )
    assert response.status_code == 400
    assert "not valid JSON" in response.text and "Nothing was changed" in response.text
    assert "1 / 20 complete" in visible_text(editor_client.get("/").text)


def test_logout_ends_the_session(editor_client: TestClient) -> None:
    token = page_csrf_token(editor_client.get("/").text)
    assert (
        editor_client.post("/logout", data={"csrf_token": token}, follow_redirects=False).status_code == 303
    )
    assert editor_client.get("/", follow_redirects=False).status_code == 303


def test_the_favicon_is_served_where_browsers_look_for_it(editor_client: TestClient) -> None:
    linked = re.search(r'<link rel="icon" href="([^"]+)" type="image/svg\+xml">', editor_client.get("/").text)
    assert linked is not None
    icon = editor_client.get(linked.group(1))
    assert icon.status_code == 200
    assert icon.headers["content-type"].startswith("image/svg+xml")
    assert icon.text.lstrip().startswith("<svg")
    legacy = editor_client.get("/favicon.ico", follow_redirects=False)  # asked for without any link
    assert (legacy.status_code, legacy.headers["location"]) == (301, linked.group(1))
    assert editor_client.get("/favicon.ico").content == icon.content


def item_section(page: str, item_id: str) -> str:
    """The item's part of the page: up to the next item, or the end of its category."""
    return re.split(r'<li class="item |</section>', page.split(f'id="item-{item_id}"', 1)[1], maxsplit=1)[0]


def test_an_items_newest_changes_are_in_its_details_without_javascript(editor_client: TestClient) -> None:
    tick(editor_client, "dns.failover-ttl")
    for number in range(11):
        token = page_csrf_token(editor_client.get("/").text)
        note = f"<b>note {number}</b>"
        form = {
            "csrf_token": token,
            "form_kind": "details",
            "owner": "",
            "note": note,
            "version": str(number + 1),
        }
        response = editor_client.post("/environments/production/items/dns.failover-ttl", data=form)
        assert response.status_code == 200, response.text

    history = item_section(editor_client.get("/").text, "dns.failover-ttl").split(
        'class="recent-changes"', 1
    )[1]
    changes = re.findall(r"<li>(.*?)</li>", history, flags=re.S)

    assert len(changes) == 10  # the newest ten; the tick and the first note are on the history page
    assert visible_text(changes[0]).endswith(" UTC ed note: <b>note 9</b> → <b>note 10</b>")
    assert "<b>note 10</b>" not in history  # a note is text, never markup
    assert "Older changes, evidence and drill runs" in history
    assert 'href="/environments/production/items/dns.failover-ttl/history"' in history
    untouched = item_section(editor_client.get("/").text, "edge.latency")
    assert "No changes yet." in untouched and "Full history, evidence and drill runs" in untouched


def test_the_dashboard_reads_every_items_history_in_one_query(
    editor_client: TestClient, catalog: Catalog
) -> None:
    database = editor_client.app.state.database
    tick(editor_client, "dns.failover-ttl")
    editor_client.get("/")  # the first page of a session reads a few things once
    tick(editor_client, "dns.failover-ttl", checked=False, version=1)  # a write: the next page is read anew
    with queries(database) as one_item_changed:
        assert "ed unchecked" in visible_text(editor_client.get("/").text)

    for item in catalog.items:
        if item.id != "dns.failover-ttl":
            tick(editor_client, item.id)
    tick(editor_client, "dns.failover-ttl", version=2)
    with queries(database) as every_item_changed:
        page = editor_client.get("/").text
    assert all("ed checked" in visible_text(item_section(page, item.id)) for item in catalog.items)

    def history_reads(seen: list[str]) -> list[str]:  # not the live feed's polls, which run meanwhile
        return [query for query in seen if "audit_events.item_id =" in query]

    assert len(history_reads(one_item_changed)) == len(history_reads(every_item_changed)) == 1
