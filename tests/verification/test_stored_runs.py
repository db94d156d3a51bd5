"""Stored verification on real SQLite and PostgreSQL: latest proofs, regressions, what counts as done."""

from __future__ import annotations

from datetime import UTC, datetime

from mission_control.catalog import Catalog
from mission_control.db.database import Database
from mission_control.progress import service as progress
from mission_control.verification.results import ProbeResult, Status
from mission_control.verification.runner import VerificationReport
from mission_control.verification.service import fail_run, finish_run, latest_run, start_run

TTL = "dns.failover-ttl"


def report(catalog: Catalog, statuses: dict[str, Status]) -> VerificationReport:
    results = tuple(
        ProbeResult(item.id, statuses.get(item.id, Status.MANUAL), f"{item.id} summary", {"checked": item.id})
        for item in catalog.items
    )
    return VerificationReport("production", catalog.id, datetime.now(UTC), results)


def record(database: Database, catalog: Catalog, statuses: dict[str, Status]) -> list[str]:
    with database.transaction() as session:
        run_id = start_run(session=session, environment_name="production", actor="ci")
    with database.transaction() as session:
        return finish_run(session=session, run_id=run_id, report=report(catalog, statuses))


def tick(database: Database, catalog: Catalog, item_id: str) -> None:
    with database.transaction() as session:
        progress.update_item(
            session=session,
            catalog=catalog,
            environment_name="production",
            item_id=item_id,
            actor="ana",
            checked=True,
        )


def item(database: Database, catalog: Catalog, item_id: str):
    with database.read() as session:
        view = progress.get_checklist(session=session, catalog=catalog, environment_name="production")
    return view, next(entry for entry in view.items if entry.item.id == item_id)


def test_no_run_yet_means_no_proof(database: Database, catalog: Catalog) -> None:
    _, entry = item(database, catalog, TTL)
    assert entry.verification is None and not entry.done and not entry.regressed


def test_a_verified_item_counts_as_done_without_a_tick(database: Database, catalog: Catalog) -> None:
    record(database, catalog, {TTL: Status.VERIFIED})
    view, entry = item(database, catalog, TTL)
    assert entry.done and not entry.checked
    assert entry.verification.status is Status.VERIFIED
    assert entry.verification.facts == {"checked": TTL}
    assert view.completed == 1


def test_a_ticked_item_that_fails_its_probe_is_regressed_and_not_done(
    database: Database, catalog: Catalog
) -> None:
    tick(database, catalog, TTL)
    assert record(database, catalog, {TTL: Status.FAILING}) == [TTL]
    view, entry = item(database, catalog, TTL)
    assert entry.regressed and not entry.done
    assert view.completed == 0
    with database.read() as session:
        history = progress.item_history(
            session=session, catalog=catalog, environment_name="production", item_id=TTL
        )
    assert history[0].action == "regressed"
    assert history[0].new_value == f"failing: {TTL} summary"


def test_a_regression_is_announced_once_not_on_every_failing_run(
    database: Database, catalog: Catalog
) -> None:
    tick(database, catalog, TTL)
    assert record(database, catalog, {TTL: Status.FAILING}) == [TTL]
    assert record(database, catalog, {TTL: Status.FAILING}) == []


def test_an_unticked_failing_item_is_not_regressed(database: Database, catalog: Catalog) -> None:
    assert record(database, catalog, {TTL: Status.FAILING}) == []
    _, entry = item(database, catalog, TTL)
    assert not entry.regressed and not entry.done


def test_ticked_items_count_when_their_probe_errs_or_is_manual(database: Database, catalog: Catalog) -> None:
    tick(database, catalog, TTL)
    tick(database, catalog, "dns.failover-runbook")
    record(database, catalog, {TTL: Status.ERROR})
    view, entry = item(database, catalog, TTL)
    assert entry.done and not entry.regressed
    assert view.completed == 2


def test_the_latest_completed_run_wins(database: Database, catalog: Catalog) -> None:
    record(database, catalog, {TTL: Status.FAILING})
    record(database, catalog, {TTL: Status.VERIFIED})
    _, entry = item(database, catalog, TTL)
    assert entry.verification.status is Status.VERIFIED
    with database.transaction() as session:
        run_id = start_run(session=session, environment_name="production", actor="ci")
        fail_run(session=session, run_id=run_id, error="no credentials")
    _, entry = item(database, catalog, TTL)
    assert entry.verification.status is Status.VERIFIED
    with database.read() as session:
        last = latest_run(session=session, environment_name="production")
    assert (last.state, last.error) == ("failed", "no credentials")
