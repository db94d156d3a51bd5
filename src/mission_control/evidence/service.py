"""Evidence: record links, files, documents, attestations and drill runs (judged in freshness.py).

Everything here is append-only: a newer record supersedes an older one for judging, and nothing is
ever updated or deleted, so the trail a reviewer reads is the trail that happened.
"""

from __future__ import annotations

import hashlib
import re
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import select
from sqlalchemy.orm import Session, defer

from mission_control.catalog import Catalog
from mission_control.evidence.drills.record import DrillRecord
from mission_control.evidence.models import Attestation, DrillRun, Evidence
from mission_control.progress.models import AuditEvent
from mission_control.progress.service import InvalidInput, catalog_item, get_environment
from mission_control.text import text_problem
from mission_control.verification.latest import latest_results

MAX_FILE_BYTES = 5_000_000
MAX_STATEMENT_LENGTH = 10_000
MAX_URL_LENGTH = 2_048  # what browsers and proxies reliably carry; evidence is append-only
MAX_TITLE_LENGTH = 256  # the column's size
MAX_ACTOR_LENGTH = 128  # the column's size; the CLI's --actor is free text
# Served as themselves; anything else is stored and served as an opaque download.
_SAFE_TYPES = {
    ".pdf": ("application/pdf", b"%PDF-"),
    ".png": ("image/png", b"\x89PNG\r\n\x1a\n"),
    ".jpg": ("image/jpeg", b"\xff\xd8\xff"),
    ".jpeg": ("image/jpeg", b"\xff\xd8\xff"),
    ".txt": ("text/plain; charset=utf-8", b""),
    ".md": ("text/plain; charset=utf-8", b""),
    ".json": ("text/plain; charset=utf-8", b""),
}
OPAQUE = "application/octet-stream"


def _audit(session: Session, environment_id: int, item_id: str, actor: str, action: str, value: str) -> None:
    session.add(
        AuditEvent(
            actor=actor, action=action, environment_id=environment_id, item_id=item_id, new_value=value
        )
    )


def _checked(value: str, *, field: str, max_length: int) -> str:
    """`value` when it can be stored (no NUL, valid Unicode, within its length); else InvalidInput."""
    problem = text_problem(value, field=field, max_length=max_length)
    if problem:
        raise InvalidInput(problem)
    return value


def add_link(
    *,
    session: Session,
    catalog: Catalog,
    environment_name: str,
    item_id: str,
    title: str,
    url: str,
    actor: str,
) -> Evidence:
    """Attach a link (http or https only: no javascript: or data: URLs reach a page); without a title,
    the link is titled by its URL."""
    catalog_item(catalog, item_id)
    environment = get_environment(session=session, name=environment_name)
    url = _checked(url.strip(), field="evidence link", max_length=MAX_URL_LENGTH)
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise InvalidInput(f"evidence link must be an http(s) URL, not {url[:80]!r}")
    evidence = Evidence(
        environment_id=environment.id, item_id=item_id, kind="link",
        title=_title(title or url[:MAX_TITLE_LENGTH]), url=url, created_by=_actor(actor),
    )  # fmt: skip
    session.add(evidence)
    _audit(session, environment.id, item_id, actor, "evidence.link", url)
    session.flush()
    return evidence


def add_file(
    *,
    session: Session,
    catalog: Catalog,
    environment_name: str,
    item_id: str,
    filename: str,
    content: bytes,
    actor: str,
    title: str = "",
) -> Evidence:
    """Store an uploaded file with its SHA-256; only a few recognised types keep a content type."""
    catalog_item(catalog, item_id)
    environment = get_environment(session=session, name=environment_name)
    if len(content) > MAX_FILE_BYTES:
        raise InvalidInput(f"file is {len(content)} bytes; the limit is {MAX_FILE_BYTES}")
    if not content:
        raise InvalidInput("file is empty")
    safe_name = _safe_filename(filename)
    digest = hashlib.sha256(content).hexdigest()
    evidence = Evidence(
        environment_id=environment.id, item_id=item_id, kind="file", title=_title(title or safe_name),
        filename=safe_name, content_type=_content_type(safe_name, content), content=content,
        size=len(content), sha256=digest, created_by=_actor(actor),
    )  # fmt: skip
    session.add(evidence)
    _audit(session, environment.id, item_id, actor, "evidence.file", f"{safe_name} sha256:{digest}")
    session.flush()
    return evidence


def add_document(
    *,
    session: Session,
    catalog: Catalog,
    environment_name: str,
    item_id: str,
    title: str,
    markdown: str,
    actor: str,
    fingerprint: str | None = None,
) -> Evidence:
    """Store a generated document (a runbook, a review) as a new version of the item's evidence."""
    catalog_item(catalog, item_id)
    environment = get_environment(session=session, name=environment_name)
    content = markdown.encode("utf-8")
    digest = hashlib.sha256(content).hexdigest()
    evidence = Evidence(
        environment_id=environment.id, item_id=item_id, kind="document", title=_title(title),
        filename=f"{item_id}.md", content_type="text/plain; charset=utf-8", content=content,
        size=len(content), sha256=digest, fingerprint=fingerprint, created_by=_actor(actor),
    )  # fmt: skip
    session.add(evidence)
    _audit(session, environment.id, item_id, actor, "evidence.document", f"{title} sha256:{digest}")
    session.flush()
    return evidence


def attest(
    *,
    session: Session,
    catalog: Catalog,
    environment_name: str,
    item_id: str,
    statement: str,
    actor: str,
    fingerprint: str | None = None,
) -> Attestation:
    """Record who states what about an item, bound to `fingerprint` (by default the one the latest run
    recorded for the item, if any): it then holds only while the live configuration has it."""
    catalog_item(catalog, item_id)
    environment = get_environment(session=session, name=environment_name)
    statement = _checked(statement.strip(), field="statement", max_length=MAX_STATEMENT_LENGTH)
    if not statement:
        raise InvalidInput("an attestation needs a statement: what are you vouching for?")
    if fingerprint is None:
        latest = latest_results(session=session, environment_id=environment.id).get(item_id)
        fingerprint = latest.facts.get("fingerprint") if latest else None
    elif not re.fullmatch(r"[0-9a-f]{64}", fingerprint):
        raise InvalidInput("fingerprint must be the 64 hexadecimal characters a review printed")
    attestation = Attestation(
        environment_id=environment.id, item_id=item_id, statement=statement, fingerprint=fingerprint,
        attested_by=_actor(actor),
    )  # fmt: skip
    session.add(attestation)
    _audit(session, environment.id, item_id, actor, "attested", statement)
    session.flush()
    return attestation


def record_drill(*, session: Session, environment_name: str, record: DrillRecord, actor: str) -> DrillRun:
    """Store a finished drill's record as evidence for its item."""
    environment = get_environment(session=session, name=environment_name)
    if record.outcome is None or record.finished_at is None:
        raise InvalidInput("only a finished drill can be recorded")
    run = DrillRun(
        environment_id=environment.id, item_id=record.item_id, drill=record.drill, outcome=record.outcome.value,
        started_at=record.started_at, finished_at=record.finished_at, record=record.to_dict(), run_by=actor,
    )  # fmt: skip
    session.add(run)
    _audit(session, environment.id, record.item_id, actor, "drill", f"{record.drill}: {record.outcome.value}")
    session.flush()
    return run


def drill_runs(*, session: Session, environment_id: int, item_id: str | None = None) -> list[DrillRun]:
    """Drill runs of an environment (optionally one item), newest first."""
    query = select(DrillRun).where(DrillRun.environment_id == environment_id)
    if item_id is not None:
        query = query.where(DrillRun.item_id == item_id)
    return list(session.scalars(query.order_by(DrillRun.id.desc())))


def _title(title: str) -> str:
    title = _checked(" ".join(title.split()), field="evidence title", max_length=MAX_TITLE_LENGTH)
    if not title:
        raise InvalidInput("evidence needs a title")
    return title


def _actor(actor: str) -> str:
    return _checked(actor, field="actor", max_length=MAX_ACTOR_LENGTH)


def _safe_filename(filename: str) -> str:
    """The last path component, with only harmless characters: never a path, never a header injection."""
    name = re.sub(r"[^A-Za-z0-9._-]+", "_", filename.replace("\\", "/").rsplit("/", 1)[-1]).strip("._")
    return (name or "upload")[:128]


def _content_type(filename: str, content: bytes) -> str:
    """A recognised extension whose bytes look right keeps its type; everything else is opaque."""
    extension = "." + filename.rsplit(".", 1)[-1].lower() if "." in filename else ""
    known = _SAFE_TYPES.get(extension)
    if known is None:
        return OPAQUE
    content_type, magic = known
    if magic and not content.startswith(magic):
        return OPAQUE
    if not magic:
        try:
            content.decode("utf-8")
        except UnicodeDecodeError:
            return OPAQUE
    return content_type


def get_evidence(*, session: Session, environment_name: str, evidence_id: int) -> Evidence | None:
    """One piece of evidence of an environment, or None (also for ids no row can have)."""
    environment = get_environment(session=session, name=environment_name)
    if not 0 < evidence_id < 2**63:
        return None
    evidence = session.get(Evidence, evidence_id)
    return evidence if evidence is not None and evidence.environment_id == environment.id else None


def evidence_trail(*, session: Session, environment_id: int, item_id: str) -> list[dict[str, Any]]:
    """Documents, files, links and attestations of one item, newest first (contents not loaded)."""
    documents = session.scalars(
        select(Evidence)
        .options(defer(Evidence.content))
        .where(Evidence.environment_id == environment_id, Evidence.item_id == item_id)
    )
    attestations = session.scalars(
        select(Attestation).where(
            Attestation.environment_id == environment_id, Attestation.item_id == item_id
        )
    )
    trail = [
        {
            "id": row.id,
            "kind": row.kind,
            "title": row.title,
            "url": row.url,
            "filename": row.filename,
            "size": row.size,
            "sha256": row.sha256,
            "by": row.created_by,
            "at": row.created_at,
        }
        for row in documents
    ] + [
        {
            "id": row.id,
            "kind": "attestation",
            "title": row.statement,
            "url": None,
            "filename": None,
            "size": None,
            "sha256": row.fingerprint,
            "by": row.attested_by,
            "at": row.attested_at,
        }
        for row in attestations
    ]
    return sorted(trail, key=lambda entry: entry["at"], reverse=True)
