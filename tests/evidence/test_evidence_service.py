"""Evidence on real SQLite and PostgreSQL: safe uploads, freshness, attestations bound to configuration."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import event, func, select

from mission_control.catalog import Catalog
from mission_control.db.database import Database
from mission_control.evidence import service
from mission_control.evidence.drills.record import DrillRecord, Outcome, Step
from mission_control.evidence.freshness import KindStatus, evidence_statuses
from mission_control.evidence.models import Attestation, DrillRun, Evidence
from mission_control.progress import service as progress
from mission_control.verification.results import ProbeResult, Status
from mission_control.verification.runner import VerificationReport
from mission_control.verification.service import finish_run, start_run

NOW = datetime.now(UTC)
GEO = "cloudfront.geo-restriction"


def write(database: Database, catalog: Catalog, action, **fields):
    with database.transaction() as session:
        return action(session=session, catalog=catalog, environment_name="production", actor="ana", **fields)


def drill(
    database: Database,
    item_id: str,
    outcome: Outcome,
    finished: datetime,
    *,
    environment: str = "production",
    steps: tuple[Step, ...] = (),
) -> None:
    record = DrillRecord(
        "edge-latency", environment, item_id, finished - timedelta(minutes=1), finished, outcome, list(steps)
    )
    with database.transaction() as session:
        service.record_drill(session=session, environment_name=environment, record=record, actor="ana")


def item(database: Database, catalog: Catalog, item_id: str):
    with database.read() as session:
        view = progress.get_checklist(session=session, catalog=catalog, environment_name="production")
    return next(entry for entry in view.items if entry.item.id == item_id)


def geo_run(database: Database, catalog: Catalog, fingerprint: str | None) -> None:
    """A completed verification run whose geo-restriction probe saw `fingerprint` (None: recorded none)."""
    results = tuple(
        ProbeResult(
            i.id, Status.MANUAL, "", {"fingerprint": fingerprint} if i.id == GEO and fingerprint else {}
        )
        for i in catalog.items
    )
    with database.transaction() as session:
        run_id = start_run(session=session, environment_name="production", actor="ci")
        finish_run(
            session=session, run_id=run_id, report=VerificationReport("production", catalog.id, NOW, results)
        )


def test_only_http_links_are_accepted(database: Database, catalog: Catalog) -> None:
    for url in ("javascript:alert(1)", "data:text/html,<script>", "ftp://x/y", "not a url"):
        with pytest.raises(progress.InvalidInput, match="must be an http"):
            write(database, catalog, service.add_link, item_id=GEO, title="t", url=url)
    link = write(
        database, catalog, service.add_link, item_id=GEO, title="Wiki page", url="https://wiki.example/geo"
    )
    assert (link.kind, link.url) == ("link", "https://wiki.example/geo")


def test_an_oversized_file_is_refused_and_nothing_is_stored(database: Database, catalog: Catalog) -> None:
    with pytest.raises(progress.InvalidInput, match="the limit is 5000000"):
        write(
            database,
            catalog,
            service.add_file,
            item_id=GEO,
            filename="big.pdf",
            content=b"%PDF-" + b"x" * 5_000_000,
        )
    with database.read() as session:
        assert session.scalar(select(func.count()).select_from(Evidence)) == 0


@pytest.mark.parametrize(
    ("filename", "content", "stored_name", "content_type"),
    [
        ("review.pdf", b"%PDF-1.7 ...", "review.pdf", "application/pdf"),
        ("fake.pdf", b"<html><script>alert(1)</script>", "fake.pdf", "application/octet-stream"),
        ("../../etc/evil.html", b"<script>alert(1)</script>", "evil.html", "application/octet-stream"),
        ("shot.png", b"\x89PNG\r\n\x1a\nrest", "shot.png", "image/png"),
        ("notes.md", b"# Strategy\n", "notes.md", "text/plain; charset=utf-8"),
        ("binary.txt", b"\xff\xfe\x00", "binary.txt", "application/octet-stream"),
        ('a"b;\r\nX-Evil: 1.txt', b"hello", "a_b_X-Evil_1.txt", "text/plain; charset=utf-8"),
    ],
)
def test_uploads_are_hashed_and_never_get_a_dangerous_type_or_name(
    database: Database, catalog: Catalog, filename: str, content: bytes, stored_name: str, content_type: str
) -> None:
    evidence = write(database, catalog, service.add_file, item_id=GEO, filename=filename, content=content)
    assert (evidence.filename, evidence.content_type, evidence.size) == (
        stored_name,
        content_type,
        len(content),
    )
    assert len(evidence.sha256) == 64


def test_a_fresh_passed_drill_completes_its_item_without_a_tick(database: Database, catalog: Catalog) -> None:
    drill(database, "edge.latency", Outcome.PASSED, NOW)
    entry = item(database, catalog, "edge.latency")
    assert entry.evidence.state == "complete" and entry.done and not entry.checked


def test_a_drill_older_than_its_validity_is_stale_and_a_tick_on_it_regresses(
    database: Database, catalog: Catalog
) -> None:
    drill(database, "edge.latency", Outcome.PASSED, NOW - timedelta(days=91))
    write(database, catalog, progress.update_item, item_id="edge.latency", checked=True)
    entry = item(database, catalog, "edge.latency")
    assert entry.evidence.state == "stale"
    assert entry.regressed and not entry.done
    assert "older than 90 days" in entry.evidence.kinds[0].detail


def statuses_at(database: Database, catalog: Catalog, now: datetime) -> dict:
    with database.read() as session:
        environment = progress.get_environment(session=session, name="production")
        return evidence_statuses(
            session=session, catalog=catalog, environment_id=environment.id, live_fingerprints={}, now=now
        )


def test_a_drill_exactly_its_validity_old_is_already_stale(database: Database, catalog: Catalog) -> None:
    finished = NOW - timedelta(days=30)
    drill(database, "edge.latency", Outcome.PASSED, finished)
    valid_until = finished + timedelta(days=90)
    assert statuses_at(database, catalog, valid_until - timedelta(microseconds=1))["edge.latency"].state == (
        "complete"
    )
    stale = statuses_at(database, catalog, valid_until)["edge.latency"]
    assert (stale.state, stale.kinds) == (
        "stale",
        (KindStatus("drill", "stale", finished, "the last passed edge-latency drill is older than 90 days"),),
    )


def test_a_failed_drill_does_not_count(database: Database, catalog: Catalog) -> None:
    drill(database, "edge.latency", Outcome.PASSED, NOW - timedelta(days=2))
    drill(database, "edge.latency", Outcome.FAILED, NOW - timedelta(days=1))
    entry = item(database, catalog, "edge.latency")
    assert (entry.evidence.state, entry.evidence.kinds[0].state) == ("stale", "failed")
    assert not entry.done


def test_every_required_kind_must_be_present(database: Database, catalog: Catalog) -> None:
    write(
        database,
        catalog,
        service.add_document,
        item_id="dns.failover-runbook",
        title="Runbook",
        markdown="# Runbook",
    )
    entry = item(database, catalog, "dns.failover-runbook")
    assert entry.evidence.state == "incomplete"
    assert [(k.kind, k.state) for k in entry.evidence.kinds] == [("document", "fresh"), ("drill", "missing")]
    drill(database, "dns.failover-runbook", Outcome.PASSED, NOW)
    assert item(database, catalog, "dns.failover-runbook").evidence.state == "complete"


def test_an_attestation_holds_until_the_configuration_changes(database: Database, catalog: Catalog) -> None:
    geo_run(database, catalog, "a" * 64)
    attested = write(
        database,
        catalog,
        service.attest,
        item_id=GEO,
        statement="Blocking KP is intentional",
        fingerprint="a" * 64,
    )
    write(database, catalog, progress.update_item, item_id=GEO, checked=True)
    entry = item(database, catalog, GEO)
    assert entry.evidence.state == "complete" and entry.done
    geo_run(database, catalog, "b" * 64)
    entry = item(database, catalog, GEO)
    assert entry.evidence.state == "stale"
    assert entry.evidence.kinds == (  # a voided attestation still says when it was made
        KindStatus(
            "attestation",
            "stale",
            attested.attested_at,
            "the live configuration changed since it was attested",
        ),
    )
    assert entry.regressed and not entry.done


def test_an_attestation_is_bound_to_the_latest_runs_fingerprint_by_default(
    database: Database, catalog: Catalog
) -> None:
    unbound = write(database, catalog, service.attest, item_id=GEO, statement="Before any run")
    geo_run(database, catalog, "c" * 64)
    bound = write(database, catalog, service.attest, item_id=GEO, statement="Blocking KP is intentional")
    assert (unbound.fingerprint, bound.fingerprint) == (None, "c" * 64)


def test_an_attestation_expires(database: Database, catalog: Catalog) -> None:
    write(database, catalog, service.attest, item_id="cognito.token-sync", statement="Option A, reviewed")
    with database.read() as session:
        environment = progress.get_environment(session=session, name="production")
        later = evidence_statuses(
            session=session, catalog=catalog, environment_id=environment.id, live_fingerprints={},
            now=NOW + timedelta(days=181),
        )  # fmt: skip
    assert [(k.kind, k.state) for k in later["cognito.token-sync"].kinds] == [
        ("document", "missing"),
        ("attestation", "stale"),
    ]


def test_a_link_is_not_the_document_an_item_requires(database: Database, catalog: Catalog) -> None:
    """cognito.token-sync asks for a document (the completed strategy): a link and an attestation
    leave it incomplete, a written document completes it."""
    write(database, catalog, service.attest, item_id="cognito.token-sync", statement="Option A, reviewed")
    write(
        database, catalog, service.add_link,
        item_id="cognito.token-sync", title="Strategy", url="https://wiki.spaceduck.example/strategy",
    )  # fmt: skip
    entry = item(database, catalog, "cognito.token-sync")
    assert [(k.kind, k.state) for k in entry.evidence.kinds] == [
        ("document", "missing"),
        ("attestation", "fresh"),
    ]
    assert entry.evidence.state == "incomplete"
    write(
        database, catalog, service.add_document,
        item_id="cognito.token-sync", title="Token sync strategy", markdown="# Option A",
    )  # fmt: skip
    assert item(database, catalog, "cognito.token-sync").evidence.state == "complete"


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"statement": "   "}, "needs a statement"),
        ({"statement": "x" * 10_001}, "the limit is 10000"),
        ({"statement": "ok", "fingerprint": "not-hex"}, "64 hexadecimal"),
    ],
)
def test_bad_attestations_are_refused(
    database: Database, catalog: Catalog, fields: dict, message: str
) -> None:
    with pytest.raises(progress.InvalidInput, match=message):
        write(database, catalog, service.attest, item_id=GEO, **fields)


def test_evidence_for_an_unknown_item_is_not_found(database: Database, catalog: Catalog) -> None:
    with pytest.raises(progress.NotFound):
        write(database, catalog, service.add_link, item_id="dns.nope", title="t", url="https://x.example")


def test_a_document_exactly_its_validity_old_is_already_stale(database: Database, catalog: Catalog) -> None:
    """dns.failover-runbook's runbook holds for 90 days: fresh (naming its author) until the last
    microsecond, stale from that moment on."""
    write(
        database, catalog, service.add_document,
        item_id="dns.failover-runbook", title="Runbook", markdown="# Runbook",
    )  # fmt: skip
    with database.read() as session:
        written = session.scalar(select(Evidence.created_at))
    valid_until = written + timedelta(days=90)
    fresh = statuses_at(database, catalog, valid_until - timedelta(microseconds=1))["dns.failover-runbook"]
    assert fresh.kinds[0] == KindStatus("document", "fresh", written, "'Runbook' by ana")
    stale = statuses_at(database, catalog, valid_until)["dns.failover-runbook"]
    assert stale.kinds[0] == KindStatus("document", "stale", written, "'Runbook' is older than 90 days")
    assert stale.state == "stale"


def test_each_missing_kind_says_what_is_missing(database: Database, catalog: Catalog) -> None:
    statuses = statuses_at(database, catalog, NOW)
    assert set(statuses) == {item.id for item in catalog.items if item.evidence}
    assert statuses["dns.failover-runbook"].kinds == (
        KindStatus("document", "missing", None, "no document yet"),
        KindStatus("drill", "missing", None, "no drill recorded yet"),
    )
    assert statuses[GEO].kinds == (KindStatus("attestation", "missing", None, "not attested yet"),)
    assert {status.state for status in statuses.values()} == {"incomplete"}


def test_a_drill_says_who_ran_it_until_when_it_holds_and_why_it_failed(
    database: Database, catalog: Catalog
) -> None:
    """The detail is what the item page shows next to the drill: the first failed step's reason when
    there is one, and just the outcome when there is none (an aborted drill)."""
    passed_at = NOW - timedelta(days=2)
    drill(database, "edge.latency", Outcome.PASSED, passed_at)
    passed = statuses_at(database, catalog, NOW)["edge.latency"]
    assert (passed.state, passed.valid_days, passed.fresh_until) == (
        "complete",
        90,
        passed_at + timedelta(days=90),
    )
    assert passed.kinds == (KindStatus("drill", "fresh", passed_at, "edge-latency drill passed, run by ana"),)

    failed_at = NOW - timedelta(days=1)
    step = Step("cold start", failed_at, failed_at, 1.0, False, "p99 2.1 s is over the 1 s budget")
    drill(database, "edge.latency", Outcome.FAILED, failed_at, steps=(Step("warm", failed_at), step))
    failed = statuses_at(database, catalog, NOW)["edge.latency"]
    assert (failed.state, failed.fresh_until) == ("stale", None)
    assert failed.kinds == (
        KindStatus(
            "drill",
            "failed",
            failed_at,
            "the last edge-latency drill failed: p99 2.1 s is over the 1 s budget",
        ),
    )

    drill(database, "edge.latency", Outcome.ABORTED, NOW)
    aborted = statuses_at(database, catalog, NOW)["edge.latency"]
    assert aborted.kinds == (KindStatus("drill", "failed", NOW, "the last edge-latency drill aborted"),)


def test_an_attestation_exactly_its_validity_old_has_expired(database: Database, catalog: Catalog) -> None:
    write(database, catalog, service.attest, item_id=GEO, statement="Blocking KP is intentional")
    with database.read() as session:
        attested = session.scalar(select(Attestation.attested_at))
    valid_until = attested + timedelta(days=180)
    fresh = statuses_at(database, catalog, valid_until - timedelta(microseconds=1))[GEO]
    assert (fresh.state, fresh.kinds) == (
        "complete",
        (KindStatus("attestation", "fresh", attested, "attested by ana"),),
    )
    stale = statuses_at(database, catalog, valid_until)[GEO]
    assert (stale.state, stale.kinds) == (
        "stale",
        (KindStatus("attestation", "stale", attested, "attestation expired after 180 days"),),
    )


def test_an_attestation_made_before_any_fingerprint_is_not_voided_by_one(
    database: Database, catalog: Catalog
) -> None:
    """Only a change the probes saw voids an attestation: one made before any run recorded a
    fingerprint is bound to none, so a later run's fingerprint does not make it stale."""
    write(database, catalog, service.attest, item_id=GEO, statement="Before any run")
    geo_run(database, catalog, "c" * 64)
    assert item(database, catalog, GEO).evidence.state == "complete"


def test_a_run_that_recorded_no_fingerprint_does_not_void_an_attestation(
    database: Database, catalog: Catalog
) -> None:
    """A run whose probe could not read the configuration says nothing about whether it changed."""
    write(database, catalog, service.attest, item_id=GEO, statement="Reviewed", fingerprint="a" * 64)
    geo_run(database, catalog, None)
    entry = item(database, catalog, GEO)
    assert (entry.evidence.state, entry.evidence.kinds[0].detail) == ("complete", "attested by ana")


def test_evidence_recorded_for_another_environment_does_not_count(
    database: Database, catalog: Catalog
) -> None:
    """A drill passed in staging proves nothing about production."""
    with database.transaction() as session:
        progress.create_environment(session=session, catalog=catalog, name="staging", actor="ana")
    drill(database, "edge.latency", Outcome.PASSED, NOW, environment="staging")
    with database.transaction() as session:
        service.attest(
            session=session,
            catalog=catalog,
            environment_name="staging",
            item_id=GEO,
            statement="s",
            actor="ana",
        )
    production = statuses_at(database, catalog, NOW)
    assert (production["edge.latency"].state, production[GEO].state) == ("incomplete", "incomplete")


def evidence_for_two_items_of_each_kind(database: Database, catalog: Catalog) -> None:
    drill(database, "edge.latency", Outcome.PASSED, NOW - timedelta(days=1))
    drill(database, "dynamodb.restore-drill", Outcome.PASSED, NOW - timedelta(days=1))
    for item_id in ("dns.failover-runbook", "cognito.token-sync"):
        write(database, catalog, service.add_document, item_id=item_id, title="Doc", markdown="# Doc")
    for item_id in (GEO, "cognito.token-sync"):
        write(database, catalog, service.attest, item_id=item_id, statement="Reviewed")


def test_every_items_newest_record_counts_not_only_the_newest_of_all(
    database: Database, catalog: Catalog
) -> None:
    evidence_for_two_items_of_each_kind(database, catalog)
    statuses = statuses_at(database, catalog, NOW)
    assert {
        item_id: status.state for item_id, status in statuses.items() if status.state != "incomplete"
    } == {
        "edge.latency": "complete",
        "dynamodb.restore-drill": "complete",
        GEO: "complete",
        "cognito.token-sync": "complete",
    }
    assert [(k.kind, k.state) for k in statuses["dns.failover-runbook"].kinds] == [
        ("document", "fresh"),
        ("drill", "missing"),
    ]


def test_one_items_status_loads_only_that_items_records(database: Database, catalog: Catalog) -> None:
    """The item page and each tick ask for one item: they get its status without loading any other
    item's records, however many there are."""
    evidence_for_two_items_of_each_kind(database, catalog)
    loaded: list[tuple[str, str]] = []

    def keep(target: Evidence | Attestation | DrillRun, _context: object) -> None:
        loaded.append((type(target).__name__, target.item_id))

    for model in (Evidence, Attestation, DrillRun):
        event.listen(model, "load", keep)
    try:
        with database.read() as session:
            environment = progress.get_environment(session=session, name="production")
            one = {
                item_id: evidence_statuses(
                    session=session,
                    catalog=catalog,
                    environment_id=environment.id,
                    live_fingerprints={},
                    now=NOW,
                    item_id=item_id,
                )
                for item_id in ("cognito.token-sync", "edge.latency")
            }
    finally:
        for model in (Evidence, Attestation, DrillRun):
            event.remove(model, "load", keep)
    assert {
        item_id: {key: status.state for key, status in statuses.items()} for item_id, statuses in one.items()
    } == {
        "cognito.token-sync": {"cognito.token-sync": "complete"},
        "edge.latency": {"edge.latency": "complete"},
    }
    assert sorted(loaded) == [
        ("Attestation", "cognito.token-sync"),
        ("DrillRun", "edge.latency"),
        ("Evidence", "cognito.token-sync"),
    ]
