"""Drills as the dashboard shows them, in headless Chromium against a server started with a
configuration: a running drill's progress arriving live on its item, and a drill's RTO and RPO
against the environment's targets."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, expect

from mission_control.catalog import load_default_catalog
from mission_control.db.database import Database
from mission_control.evidence.drills.record import DrillRecord, Outcome, Step
from mission_control.evidence.service import record_drill
from mission_control.web.app import prepare_database
from tests.conftest import ServerProcess, free_port, make_user
from tests.web.conftest import LIVE_TIMEOUT_MS, PASSWORD, item, sign_in_through_form, wait_until_live

pytestmark = pytest.mark.browser

GATE_SECONDS = 8  # under the drill's 10 s request timeout: a gate never released still ends the drill
OUTCOME_TIMEOUT_MS = 30_000  # the gate is open by then: a long wait costs time only on a loaded machine


class Edge:
    """A local edge URL whose first answer waits until the test opens the gate, holding the drill running."""

    def __init__(self) -> None:
        self.gate = threading.Event()
        edge = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                edge.gate.wait(GATE_SECONDS)
                self.send_response(200)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, format: str, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/edge"


@pytest.fixture(scope="module")
def edge() -> Iterator[Edge]:
    running = Edge()
    thread = threading.Thread(target=running.server.serve_forever, daemon=True)
    thread.start()
    yield running
    running.gate.set()
    running.server.shutdown()
    running.server.server_close()
    thread.join()


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory, edge: Edge) -> Iterator[tuple[ServerProcess, Database]]:
    """A server whose production environment has the edge URL above and RTO/RPO targets."""
    directory = tmp_path_factory.mktemp("drills")
    config = directory / "mission-control.toml"
    config.write_text(
        "[environments.production]\n"
        'primary_region = "us-east-1"\nsecondary_region = "ap-southeast-1"\n'
        f'edge_latency_urls = ["{edge.url}"]\nedge_latency_requests = 2\n'
        "rto_seconds = 900\nrpo_seconds = 300\n",
        encoding="utf-8",
    )
    database_url = f"sqlite:///{directory / 'mission-control.db'}"
    database = Database(database_url)
    prepare_database(database, load_default_catalog())
    make_user(database, "alice", "editor", PASSWORD)
    server = ServerProcess(database_url, free_port(), options=("--config", str(config)))
    server.start()
    try:
        yield server, database
    finally:
        server.stop()
        database.dispose()


@pytest.fixture
def open_item(browser: Browser, site: tuple[ServerProcess, Database]) -> Iterator[Callable[[str], Page]]:
    """A new signed-in page on the production dashboard with `item_id`'s details open."""
    server, _ = site
    contexts: list[Any] = []

    def open_one(item_id: str) -> Page:
        context = browser.new_context(base_url=server.url)
        contexts.append(context)
        page = context.new_page()
        page.goto("/login")
        sign_in_through_form(page, "alice")
        item(page, item_id).locator(".item-details > summary").click()
        wait_until_live(page)
        return page

    yield open_one
    for context in contexts:
        context.close()


def drill_line(page: Page, item_id: str, drill: str) -> Any:
    return item(page, item_id).locator(f'.drill-last[data-drill="{drill}"]')


def test_a_running_drill_shows_its_progress_on_the_item_live_then_its_outcome(
    open_item: Callable[[str], Page], edge: Edge
) -> None:
    watching = open_item("edge.latency")  # another person, on the dashboard before the drill starts
    running = open_item("edge.latency")

    running.get_by_role("button", name="Run drill edge-latency").click()

    for page in (running, watching):
        expect(drill_line(page, "edge.latency", "edge-latency")).to_contain_text(
            "⏳ Running…", timeout=LIVE_TIMEOUT_MS
        )
    expect(item(running, "edge.latency").locator(".item-details")).to_have_attribute("open", "")
    edge.gate.set()
    for page in (running, watching):
        expect(drill_line(page, "edge.latency", "edge-latency")).to_contain_text(
            "✔ passed", timeout=OUTCOME_TIMEOUT_MS
        )
        expect(drill_line(page, "edge.latency", "edge-latency")).not_to_contain_text("Running")


def record_restore(database: Database, rto: float, rpo: float) -> None:
    now = datetime.now(UTC)
    passed = rto <= 900 and rpo <= 300
    steps = [Step("compare with the RTO and RPO targets", now, now, 0.01, passed)]
    record = DrillRecord(
        "restore", "production", "dynamodb.restore-drill", now, now,
        Outcome.PASSED if passed else Outcome.FAILED, steps,
        measurements={"rto_seconds": rto, "rpo_seconds": rpo},
    )  # fmt: skip
    with database.transaction() as session:
        record_drill(session=session, environment_name="production", record=record, actor="alice")


def test_a_drill_shows_its_rpo_against_the_target(
    open_item: Callable[[str], Page], site: tuple[ServerProcess, Database]
) -> None:
    _, database = site
    record_restore(database, rto=120.5, rpo=42.0)

    page = open_item("dynamodb.restore-drill")
    measures = drill_line(page, "dynamodb.restore-drill", "restore").locator(".measure")

    expect(item(page, "dynamodb.restore-drill")).to_contain_text("Targets: RTO 900 s, RPO 300 s")
    expect(measures).to_have_text(["RTO 120.5 s / target 900 ✔", "RPO 42.0 s / target 300 ✔"])
    expect(measures.nth(1)).not_to_have_class("measure over")

    record_restore(database, rto=120.5, rpo=420.0)  # the newest restore lost more than the target allows

    expect(measures).to_have_text(
        ["RTO 120.5 s / target 900 ✔", "RPO 420.0 s / target 300 ✖ over"], timeout=LIVE_TIMEOUT_MS
    )
    expect(measures.nth(1)).to_have_class("measure over")
