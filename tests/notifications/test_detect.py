"""Which changes are news: a run against the run before it, a drill against its previous run, evidence ends."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from mission_control.catalog import load_default_catalog
from mission_control.notifications.detect import (
    ItemLinks,
    drill_change,
    evidence_change,
    verification_changes,
)
from mission_control.verification.results import ProbeResult, Status, StoredResult

LINKS = ItemLinks(load_default_catalog(), {"dns.failover-ttl": "ana"}, "https://mc.example/", "production")
WHEN = datetime(2026, 12, 1, tzinfo=UTC)
ITEM = "dns.failover-ttl"


def stored(status: Status) -> dict[str, StoredResult]:
    return {ITEM: StoredResult(status, "before", {}, WHEN)}


def run(status: Status, summary: str = "TTL 300 s on us-east-1") -> list[ProbeResult]:
    return [ProbeResult(ITEM, status, summary)]


@pytest.mark.parametrize(
    ("before", "after", "ticked", "expected"),
    [
        (Status.VERIFIED, Status.FAILING, True, ("regressed", "verified", "regressed")),
        (Status.VERIFIED, Status.FAILING, False, ("failing", "verified", "failing")),
        (Status.VERIFIED, Status.ERROR, False, ("error", "verified", "error")),
        (Status.FAILING, Status.VERIFIED, True, ("recovered", "failing", "verified")),
        (Status.ERROR, Status.VERIFIED, False, ("recovered", "error", "verified")),
        (Status.FAILING, Status.ERROR, True, ("error", "failing", "error")),
        (Status.ERROR, Status.FAILING, True, ("regressed", "error", "regressed")),
        (None, Status.FAILING, False, ("failing", None, "failing")),
        (None, Status.ERROR, False, ("error", None, "error")),
    ],
)
def test_a_changed_state_is_news_named_by_what_it_means(
    before: Status | None, after: Status, ticked: bool, expected: tuple[str, str | None, str]
) -> None:
    [change] = verification_changes(
        previous=stored(before) if before else {}, results=run(after), ticked={ITEM} if ticked else set(),
        links=LINKS,
    )  # fmt: skip
    assert (change.event, change.old_state, change.new_state) == expected
    assert change.title == "Validate DNS TTL is ≤60s for failover records"
    assert (change.owner, change.reason) == ("ana", run(after)[0].summary)
    assert change.url == "https://mc.example/?env=production#item-dns.failover-ttl"


@pytest.mark.parametrize("status", list(Status))
def test_the_same_state_twice_is_no_news(status: Status) -> None:
    assert (
        verification_changes(previous=stored(status), results=run(status), ticked={ITEM}, links=LINKS) == []
    )


@pytest.mark.parametrize(
    ("before", "after"),
    [
        (None, Status.VERIFIED),
        (None, Status.MANUAL),
        (Status.MANUAL, Status.VERIFIED),
        (Status.VERIFIED, Status.MANUAL),
    ],
)
def test_a_first_pass_or_a_manual_item_is_no_news(before: Status | None, after: Status) -> None:
    previous = stored(before) if before else {}
    assert verification_changes(previous=previous, results=run(after), ticked=set(), links=LINKS) == []


def test_a_run_with_no_results_is_no_news() -> None:
    assert verification_changes(previous=stored(Status.FAILING), results=[], ticked={ITEM}, links=LINKS) == []


def test_a_drill_is_news_when_its_outcome_changes_or_it_is_the_first() -> None:
    def outcome(now: str, before: str | None) -> list[tuple[str, str | None, str]]:
        changes = drill_change(
            item_id="cloudfront.failover-test", drill="edge-latency", outcome=now, previous_outcome=before,
            reason="p95 1,200 ms over 1,000 ms" if now == "failed" else "", links=LINKS,
        )  # fmt: skip
        return [(change.event, change.old_state, change.reason) for change in changes]

    assert outcome("failed", "passed") == [
        ("drill-failed", "passed", "drill edge-latency failed: p95 1,200 ms over 1,000 ms")
    ]
    assert outcome("passed", "failed") == [("drill-passed", "failed", "drill edge-latency passed")]
    assert outcome("passed", None) == [("drill-passed", None, "drill edge-latency passed")]
    assert outcome("passed", "passed") == []
    assert outcome("failed", "failed") == []


def test_evidence_ends_are_reminders_before_and_stale_after() -> None:
    soon = evidence_change(item_id=ITEM, state="fresh", ends_at=WHEN, links=LINKS)
    late = evidence_change(item_id=ITEM, state="stale", ends_at=WHEN, links=LINKS)
    assert (soon.event, soon.reason) == (
        "evidence-expiring",
        "its evidence goes stale on 2026-12-01 00:00 UTC",
    )
    assert (late.event, late.reason) == ("evidence-stale", "its evidence went stale on 2026-12-01 00:00 UTC")
