"""The readiness report: the dashboard's figures, drills against targets, and a burn-up chart."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from xml.etree import ElementTree

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from mission_control.catalog import Catalog
from mission_control.cli import app
from mission_control.db.database import Database
from mission_control.evidence.drills.record import DrillRecord, Outcome
from mission_control.evidence.service import record_drill
from mission_control.progress import service as progress
from mission_control.report.builder import build_report
from mission_control.report.burnup import Burnup, burnup, burnup_svg
from mission_control.report.render import render
from tests.conftest import bearer, change_item, token_for

NOW = datetime.now(UTC)


def tick(database: Database, catalog: Catalog, *item_ids: str) -> None:
    for item_id in item_ids:
        change_item(database, catalog, item_id, checked=True)


def restore_drill(database: Database, rto: float, rpo: float) -> None:
    finished = datetime.now(UTC) - timedelta(days=3)
    record = DrillRecord(
        "restore", "production", "dynamodb.restore-drill", finished - timedelta(minutes=9), finished, Outcome.PASSED,
        measurements={"rto_seconds": rto, "rpo_seconds": rpo},
    )  # fmt: skip
    with database.transaction() as session:
        record_drill(session=session, environment_name="production", record=record, actor="ci")


def report(database: Database, catalog: Catalog, **targets: int):
    with database.read() as session:
        return build_report(session=session, catalog=catalog, environment_name="production", **targets)


def test_report_figures_equal_the_dashboards(
    client: TestClient, database: Database, catalog: Catalog
) -> None:
    tick(database, catalog, "dns.latency-routing", "edge.iam-role", "cognito.parity")
    restore_drill(database, 500, 60)
    dashboard = client.get(
        "/api/v1/environments/production/checklist", headers=bearer(token_for(database, "v", "viewer"))
    ).json()
    reported = json.loads(render(report(database, catalog), "json"))
    for key in ("total", "completed", "percent", "categories"):
        assert reported[key] == dashboard[key]
    assert reported["completed"] == 4  # three ticks and a drill that completes its item


def test_drills_are_judged_against_the_recovery_targets(database: Database, catalog: Catalog) -> None:
    restore_drill(database, 500, 60)
    [within] = report(database, catalog, rto_target=600, rpo_target=300).drills
    [beyond] = report(database, catalog, rto_target=300, rpo_target=300).drills
    [untargeted] = report(database, catalog).drills
    assert (within.within_targets, beyond.within_targets, untargeted.within_targets) == (True, False, None)
    assert within.age_days == 3
    markdown = render(report(database, catalog, rto_target=300), "md")
    assert "| restore | dynamodb.restore-drill | passed |" in markdown and "| 500 / 300 |" in markdown


def test_a_drill_that_meets_its_targets_exactly_is_within_them(database: Database, catalog: Catalog) -> None:
    restore_drill(database, 300, 60)
    [exact] = report(database, catalog, rto_target=300, rpo_target=60).drills
    assert exact.within_targets is True


def test_burnup_replays_ticks_and_unticks(database: Database, catalog: Catalog) -> None:
    tick(database, catalog, "dns.latency-routing", "edge.iam-role")
    change_item(database, catalog, "edge.iam-role", checked=False)
    chart = report(database, catalog).burnup
    assert [count for _, count in chart.ticked] == [0, 1, 2, 1]
    assert chart.verified == ()
    svg = burnup_svg(chart)
    assert svg.startswith("<svg") and svg.count("<polyline") == 2  # done and ticked; no run yet
    assert 'data-series="done" data-last="1"' in svg
    assert "1 done, 1 ticked, no verification run yet" in svg
    assert "style=" not in svg and "<script" not in svg


def test_dashboard_chart_replays_only_recent_changes_starting_from_the_right_count(
    database: Database, catalog: Catalog
) -> None:
    tick(database, catalog, "dns.latency-routing", "edge.iam-role", "cognito.parity")
    change_item(database, catalog, "edge.iam-role", checked=False)
    tick(database, catalog, "edge.latency")
    with database.read() as session:
        environment = progress.get_environment(session=session, name="production")
        charts = {
            recent: burnup(session=session, environment=environment, total=20, now=NOW, recent=recent)
            for recent in (None, 2, 5, 50)
        }
    full = charts[None]
    assert [count for _, count in full.ticked] == [0, 1, 2, 3, 2, 3]
    assert full.start == environment.created_at
    assert charts[5] == full and charts[50] == full  # every change fits: the whole history
    recent = charts[2]
    assert [count for _, count in recent.ticked] == [3, 2, 3]  # 3 ticked before the window
    assert recent.start == full.ticked[4][0] == recent.ticked[0][0]  # starts at the untick
    assert recent.ticked[1:] == full.ticked[4:]


def test_dashboard_chart_counts_an_untick_before_its_window_as_minus_one(
    database: Database, catalog: Catalog
) -> None:
    tick(database, catalog, "dns.latency-routing", "edge.iam-role", "cognito.parity")
    change_item(database, catalog, "edge.iam-role", checked=False)
    tick(database, catalog, "edge.latency")
    with database.read() as session:
        environment = progress.get_environment(session=session, name="production")
        chart = burnup(session=session, environment=environment, total=20, now=NOW, recent=1)
    assert [count for _, count in chart.ticked] == [2, 3]  # 3 ticks and 1 untick before the window


def test_burnup_chart_stays_small_however_long_the_history() -> None:
    """100,000 ticks over a month: one step per pixel column, ending at the latest count."""
    start = datetime(2026, 10, 1, tzinfo=UTC)
    ticked = tuple((start + timedelta(seconds=26 * i), (i * 7) % 21) for i in range(100_000))
    svg = burnup_svg(Burnup(start, ticked[-1][0] + timedelta(hours=1), 20, ticked, ()))
    ticked_line = re.search(r'points="([^"]*)"', svg).group(1).split()
    assert len(svg) < 30_000
    assert len(ticked_line) <= 2 * 480
    columns = [float(point.split(",")[0]) for point in ticked_line]
    assert columns == sorted(columns) and columns[0] == 34 and columns[-1] == 468
    assert ticked_line[-1] == f"468,{34 + 180 * (1 - ticked[-1][1] / 20):.1f}"  # ends at the last count
    assert f"{ticked[-1][1]} ticked" in svg


def test_junit_fails_regressed_and_skips_open_items(database: Database, catalog: Catalog) -> None:
    tick(database, catalog, "dns.latency-routing")
    suite = ElementTree.fromstring(render(report(database, catalog), "junit").split("\n", 1)[1])
    outcomes = {case.get("name").split(":")[0]: [child.tag for child in case] for case in suite}
    assert outcomes["dns.latency-routing"] == []
    assert outcomes["dns.health-checks"] == ["skipped"]
    assert (suite.get("tests"), suite.get("failures"), suite.get("skipped")) == ("20", "0", "19")


def test_html_report_embeds_the_chart_and_escapes_text(database: Database, catalog: Catalog) -> None:
    html = render(report(database, catalog), "html")
    assert "<svg" in html and "0 / 20 complete" in html
    assert "No drill recorded yet." in html


def test_report_command_writes_each_format(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MC_DATABASE_URL", f"sqlite:///{tmp_path / 'report.db'}")
    runner = CliRunner()
    for fmt in ("md", "html", "json", "junit"):
        output = tmp_path / f"report.{fmt}"
        result = runner.invoke(app, ["report", "--format", fmt, "--output", str(output)])
        assert result.exit_code == 0, result.stderr
        assert output.stat().st_size > 0
    bad = runner.invoke(app, ["report", "--format", "pdf"])
    assert bad.exit_code == 2 and "unknown format 'pdf'" in bad.stderr
    missing = runner.invoke(app, ["report", "--env", "nowhere"])
    assert missing.exit_code == 2 and "environment 'nowhere' does not exist" in missing.stderr


def test_the_done_line_ends_at_the_headline_which_evidence_also_moves(
    database: Database, catalog: Catalog
) -> None:
    tick(database, catalog, "dns.latency-routing")
    restore_drill(database, 500, 60)  # a passed drill completes its item: no tick, no probe
    built = report(database, catalog)
    assert built.checklist.completed == 2
    assert [count for _, count in built.burnup.done] == [0, 1, 2]  # created, ticked, now
    assert 'data-series="done" data-last="2"' in burnup_svg(built.burnup)


def test_the_chart_has_y_ticks_every_five_and_x_labels_that_differ() -> None:
    start = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)
    within_a_day = burnup_svg(Burnup(start, start + timedelta(hours=6), 20, ((start, 0),), ()))
    over_days = burnup_svg(Burnup(start, start + timedelta(days=4), 20, ((start, 0),), ()))
    for svg in (within_a_day, over_days):
        ticks = re.findall(r'text-anchor="end" font-size="12" fill="#5b6475">(\d+)</text>', svg)
        assert ticks == ["5", "10", "15", "20", "0"]
        labels = re.findall(r'data-axis="x">([^<]+)</text>', svg)
        assert len(labels) == len(set(labels)) == 3, labels
    assert re.findall(r'data-axis="x">([^<]+)</text>', within_a_day) == ["Nov 30 09:00", "12:00", "15:00"]
    assert re.findall(r'data-axis="x">([^<]+)</text>', over_days) == ["Nov 30", "Dec 02", "Dec 04"]
    assert all(legend in over_days for legend in (">done<", ">ticked<", ">verified by probe<"))
