"""The top of the dashboard: one status per item, the counts, and what needs attention, worst first."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from mission_control.catalog import Catalog
from mission_control.db.database import Database
from mission_control.evidence.drills.record import DrillRecord, Outcome, Step
from mission_control.evidence.service import record_drill
from mission_control.progress import service
from mission_control.progress.attention import FILTERS, count, needs_attention
from mission_control.progress.checklist import ChecklistView
from mission_control.verification.results import failing, verified
from mission_control.verification.runner import VerificationReport
from mission_control.verification.service import finish_run, start_run
from tests.conftest import change_item

NOW = datetime.now(UTC)


def checklist(database: Database, catalog: Catalog) -> ChecklistView:
    with database.read() as session:
        return service.get_checklist(session=session, catalog=catalog, environment_name="production")


def verify(database: Database, *results: object) -> None:
    with database.transaction() as session:
        run_id = start_run(session=session, environment_name="production", actor="ci")
        report = VerificationReport("production", "multi-region-readiness", NOW, tuple(results))
        finish_run(session=session, run_id=run_id, report=report)


def drill(
    database: Database, item_id: str, name: str, outcome: Outcome, finished: datetime, detail: str = ""
) -> None:
    steps = [Step("check the configuration", finished, finished, 0.1, outcome is Outcome.PASSED, detail)]
    record = DrillRecord(name, "production", item_id, finished, finished, outcome, steps)
    with database.transaction() as session:
        record_drill(session=session, environment_name="production", record=record, actor="ci")


def statuses(view: ChecklistView) -> dict[str, str]:
    return {entry.item.id: entry.status for entry in view.items}


def test_an_untouched_checklist_has_nothing_to_attend_and_every_item_open_or_needing_evidence(
    database: Database, catalog: Catalog
) -> None:
    view = checklist(database, catalog)
    assert needs_attention(view, NOW) == []
    assert set(statuses(view).values()) == {"open", "needs-evidence"}
    counts = count(view, NOW)
    assert (counts.verified, counts.ticked, counts.failing, counts.regressed, counts.going_stale) == (
        0,
        0,
        0,
        0,
        0,
    )
    assert counts.needs_evidence == sum(1 for item in catalog.items if item.evidence)


def test_each_item_gets_one_status_worst_first(database: Database, catalog: Catalog) -> None:
    change_item(database, catalog, "dns.failover-ttl", checked=True)
    change_item(database, catalog, "dns.latency-routing", checked=True)
    verify(
        database,
        failing("dns.failover-ttl", "TTL 300 exceeds 60"),
        failing("dns.health-checks", "no health check in ap-southeast-1"),
        verified("dns.latency-routing", "latency records in both regions"),
        verified("cloudfront.origin-failover", "origin group beak-failover"),
    )
    found = statuses(checklist(database, catalog))
    assert found["dns.failover-ttl"] == "regressed"  # ticked, but its check fails
    assert found["dns.health-checks"] == "failing"
    assert found["dns.latency-routing"] == "verified"  # a proof outranks a tick
    assert found["cloudfront.origin-failover"] == "verified"  # verified with an empty box: not "ticked"
    assert found["cloudfront.cache-ttls"] == "open"


def test_needs_attention_lists_regressed_failing_and_stale_worst_first_with_reasons(
    database: Database, catalog: Catalog
) -> None:
    change_item(database, catalog, "dns.failover-ttl", checked=True, owner="dns team")
    verify(
        database,
        failing("dns.failover-ttl", "TTL 300 exceeds 60"),
        failing("cloudfront.cache-ttls", "DefaultTTL 86400 exceeds 300"),
    )
    drill(
        database, "edge.latency", "edge-latency", Outcome.FAILED, NOW, "not configured: set edge_latency_urls"
    )
    view = checklist(database, catalog)
    listed = [(entry.entry.item.id, entry.state, entry.reason) for entry in needs_attention(view, NOW)]
    assert listed == [
        ("dns.failover-ttl", "regressed", "ticked, but its live check fails: TTL 300 exceeds 60"),
        ("cloudfront.cache-ttls", "failing", "DefaultTTL 86400 exceeds 300"),
        (
            "edge.latency",
            "stale",
            "the last edge-latency drill failed: not configured: set edge_latency_urls",
        ),
    ]
    assert needs_attention(view, NOW)[0].entry.owner == "dns team"
    counts = count(view, NOW)
    assert (counts.failing, counts.regressed) == (2, 1)


def test_evidence_expiring_within_14_days_is_due_and_later_is_not(
    database: Database, catalog: Catalog
) -> None:
    drill(database, "edge.latency", "edge-latency", Outcome.PASSED, NOW - timedelta(days=80))  # valid 90 days
    drill(database, "dynamodb.restore-drill", "restore", Outcome.PASSED, NOW - timedelta(days=60))
    view = checklist(database, catalog)
    [due] = needs_attention(view, NOW)
    assert (due.entry.item.id, due.state) == ("edge.latency", "due")
    assert due.reason.startswith("its evidence goes stale on ") and due.reason.endswith("(in 10 days)")
    assert count(view, NOW).going_stale == 1
    assert statuses(view)["edge.latency"] == "evidenced"


def test_filters_select_by_the_same_rules_as_the_counts(database: Database, catalog: Catalog) -> None:
    change_item(database, catalog, "dns.failover-ttl", checked=True)
    change_item(database, catalog, "dns.health-checks", checked=True)
    verify(database, failing("dns.failover-ttl", "TTL 300 exceeds 60"))
    view = checklist(database, catalog)
    chosen = {name: {e.item.id for e in view.items if rule(e)} for name, (_, rule) in FILTERS.items()}
    assert chosen["regressed"] == chosen["failing"] == {"dns.failover-ttl"}
    assert chosen["done"] == {"dns.health-checks"}
    assert len(chosen["open"]) == 19 and len(chosen["all"]) == 20
    assert chosen["needs-evidence"] == {item.id for item in catalog.items if item.evidence}
