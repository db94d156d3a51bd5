"""Evidence on real SQLite and PostgreSQL: safe uploads, freshness, attestations bound to configuration."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from mission_control.catalog import Catalog
from mission_control.db.database import Database
from mission_control.evidence import service
from mission_control.evidence.drills.record import DrillRecord, Outcome
from mission_control.evidence.freshness import evidence_statuses
from mission_control.evidence.models import Evidence
from mission_control.progress import service as progress
from mission_control.verification.results import ProbeResult, Status
from mission_control.verification.runner import VerificationReport
from mission_control.verification.service import finish_run, start_run

NOW = datetime.now(UTC)
GEO = "cloudfront.geo-restriction"


def write(database: Database, catalog: Catalog, action, **fields):
    with database.transaction() as session:
        return action(session=session, catalog=catalog, environment_name="production", actor="ana", **fields)


def drill(database: Database, item_id: str, outcome: Outcome, finished: datetime) -> None:
    record = DrillRecord(
        "edge-latency", "production", item_id, finished - timedelta(minutes=1), finished, outcome
    )
    with database.transaction() as session:
        service.record_drill(session=session, environment_name="production", record=record, actor="ana")


def item(database: Database, catalog: Catalog, item_id: str):
    with database.read() as session:
        view = progress.get_checklist(session=session, catalog=catalog, environment_name="production")
    return next(entry for entry in view.items if entry.item.id == item_id)


def geo_run(database: Database, catalog: Catalog, fingerprint: str) -> None:
    results = tuple(
        ProbeResult(i.id, Status.MANUAL, "", {"fingerprint": fingerprint} if i.id == GEO else {})
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
    write(
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
    assert entry.evidence.kinds[0].detail == "the live configuration changed since it was attested"
    assert entry.regressed and not entry.done


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
