"""Progress per environment: read the checklist with its counters, change items, read history.

Every change is written with its audit events in the same transaction, so the state and the audit
trail can never disagree.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from mission_control.catalog import Catalog, Item
from mission_control.db.base import utcnow
from mission_control.errors import MissionControlError
from mission_control.evidence.freshness import EvidenceStatus, evidence_statuses
from mission_control.progress.checklist import ChecklistView, ItemView, build_checklist_view, item_view
from mission_control.progress.models import AuditEvent, Environment, ItemState
from mission_control.text import ENVIRONMENT_NAME_RULE, is_environment_name, storable, text_problem
from mission_control.verification.latest import latest_results
from mission_control.verification.results import StoredResult

DEFAULT_ENVIRONMENT = "production"
MAX_NOTE_LENGTH = 10_000
MAX_OWNER_LENGTH = 128


class NotFound(MissionControlError):
    pass


class InvalidInput(MissionControlError):
    pass


class VersionConflict(MissionControlError):
    def __init__(self, item_id: str, expected: int, actual: int) -> None:
        super().__init__(
            f"item {item_id} was changed by someone else (you had version {expected}, it is now {actual}); "
            "reload and try again"
        )
        self.actual = actual


class _Unset:
    def __repr__(self) -> str:
        return "UNSET"


UNSET: Any = _Unset()


def list_environments(*, session: Session) -> list[Environment]:
    return list(session.scalars(select(Environment).order_by(Environment.name)))


def get_environment(*, session: Session, name: str) -> Environment:
    """The environment called `name`; NotFound otherwise (also for names no environment can have)."""
    environment = (
        session.scalar(select(Environment).where(Environment.name == name))
        if is_environment_name(name)
        else None
    )
    if environment is None:
        raise NotFound(f"environment {name!r} does not exist")
    return environment


def create_environment(*, session: Session, catalog: Catalog, name: str, actor: str) -> Environment:
    """Create an environment with an unchecked state row for every catalog item."""
    if not is_environment_name(name):
        raise InvalidInput(f"invalid environment name {name!r}: {ENVIRONMENT_NAME_RULE}")
    if session.scalar(select(Environment).where(Environment.name == name)):
        raise InvalidInput(f"environment {name!r} already exists")
    environment = Environment(name=name)
    session.add(environment)
    session.flush()
    session.add(
        AuditEvent(actor=actor, action="environment.created", environment_id=environment.id, new_value=name)
    )
    _add_missing_states(session, environment, catalog)
    return environment


def ensure_defaults(*, session: Session, catalog: Catalog, environments: Iterable[str] = ()) -> None:
    """Make sure `production` and `environments` exist, each with a row for every catalog item."""
    existing = {environment.name for environment in list_environments(session=session)}
    for name in dict.fromkeys([DEFAULT_ENVIRONMENT, *environments]):
        if name not in existing:
            create_environment(session=session, catalog=catalog, name=name, actor="system")
    for environment in list_environments(session=session):
        _add_missing_states(session, environment, catalog)


def _add_missing_states(session: Session, environment: Environment, catalog: Catalog) -> None:
    existing = set(
        session.scalars(select(ItemState.item_id).where(ItemState.environment_id == environment.id))
    )
    for item in catalog.items:
        if item.id not in existing:
            session.add(
                ItemState(environment_id=environment.id, item_id=item.id, checked=False, note="", version=0)
            )
    session.flush()


def item_states(*, session: Session, environment: Environment) -> dict[str, ItemState]:
    rows = session.scalars(select(ItemState).where(ItemState.environment_id == environment.id))
    return {row.item_id: row for row in rows}


def get_checklist(
    *, session: Session, catalog: Catalog, environment_name: str, now: datetime | None = None
) -> ChecklistView:
    """The checklist of one environment with its state and counters, evidence judged as of `now`."""
    return checklist_of(
        session=session, catalog=catalog, environment=get_environment(session=session, name=environment_name),
        now=now,
    )  # fmt: skip


def checklist_of(
    *, session: Session, catalog: Catalog, environment: Environment, now: datetime | None = None
) -> ChecklistView:
    """get_checklist for a caller that already holds the environment."""
    results, evidence = proofs(session, catalog, environment.id, now=now)
    return build_checklist_view(
        catalog, environment.name, item_states(session=session, environment=environment), results, evidence
    )


def get_item(*, session: Session, catalog: Catalog, state: ItemState) -> ItemView:
    """One item as the checklist shows it, reading only that item's proof and evidence."""
    results, evidence = proofs(session, catalog, state.environment_id, state.item_id)
    return item_view(
        catalog_item(catalog, state.item_id), state, results.get(state.item_id), evidence.get(state.item_id)
    )


def proofs(
    session: Session,
    catalog: Catalog,
    environment_id: int,
    item_id: str | None = None,
    now: datetime | None = None,
) -> tuple[dict[str, StoredResult], dict[str, EvidenceStatus]]:
    """Latest probe results and evidence statuses, of every item or only of `item_id`."""
    results = latest_results(session=session, environment_id=environment_id, item_id=item_id)
    live_fingerprints = {
        item_id: result.facts["fingerprint"]
        for item_id, result in results.items()
        if "fingerprint" in result.facts
    }
    evidence = evidence_statuses(
        session=session,
        catalog=catalog,
        environment_id=environment_id,
        live_fingerprints=live_fingerprints,
        item_id=item_id,
        now=now,
    )
    return results, evidence


def catalog_item(catalog: Catalog, item_id: str) -> Item:
    """The catalog's item, or NotFound naming the checklist."""
    item = catalog.item(item_id)
    if item is None:
        raise NotFound(f"item {item_id!r} is not in the checklist {catalog.title!r}")
    return item


def update_item(
    *,
    session: Session,
    catalog: Catalog,
    environment_name: str,
    item_id: str,
    actor: str,
    checked: bool | None = None,
    owner: str | None = UNSET,
    note: str = UNSET,
    expected_version: int | None = None,
) -> ItemState:
    """Apply the given changes atomically; each changed field becomes one audit event.

    `expected_version` makes the write conditional (optimistic concurrency): VersionConflict if stale.
    """
    catalog_item(catalog, item_id)
    environment = get_environment(session=session, name=environment_name)
    if owner is not UNSET:
        owner = _clean_owner(owner)
    if note is not UNSET:
        note = _clean_note(note)
    state = _locked_state(session, catalog, environment, item_id)
    if expected_version is not None and expected_version != state.version:
        raise VersionConflict(item_id, expected_version, state.version)

    def record(action: str, old: str | None, new: str | None) -> None:
        session.add(
            AuditEvent(
                actor=actor,
                action=action,
                environment_id=environment.id,
                item_id=item_id,
                old_value=old,
                new_value=new,
            )
        )

    changed = False
    if checked is not None and checked != state.checked:
        record("checked" if checked else "unchecked", str(state.checked).lower(), str(checked).lower())
        state.checked = checked
        state.checked_by = actor if checked else None
        state.checked_at = utcnow() if checked else None
        changed = True
    if owner is not UNSET and owner != state.owner:
        record("owner", state.owner, owner)
        state.owner = owner
        changed = True
    if note is not UNSET and note != state.note:
        record("note", state.note, note)
        state.note = note
        changed = True
    if changed:
        state.version += 1
    session.flush()
    return state


def _locked_state(session: Session, catalog: Catalog, environment: Environment, item_id: str) -> ItemState:
    """The item's row, locked for update; created first if the catalog gained the item later."""
    query = (
        select(ItemState)
        .where(ItemState.environment_id == environment.id, ItemState.item_id == item_id)
        .with_for_update()
    )
    state = session.scalar(query)
    if state is None:
        _add_missing_states(session, environment, catalog)
        state = session.scalar(query)
    assert state is not None
    return state


def _clean_owner(owner: str | None) -> str | None:
    if owner is None:
        return None
    if not isinstance(owner, str):
        raise InvalidInput("owner must be a string or null")
    owner = owner.strip()
    problem = text_problem(owner, field="owner", max_length=MAX_OWNER_LENGTH)
    if problem:
        raise InvalidInput(problem)
    return owner or None


def _clean_note(note: str) -> str:
    if not isinstance(note, str):
        raise InvalidInput("note must be a string")
    problem = text_problem(note, field="note", max_length=MAX_NOTE_LENGTH)
    if problem:
        raise InvalidInput(problem)
    return note


def item_history(
    *, session: Session, catalog: Catalog, environment_name: str, item_id: str
) -> list[AuditEvent]:
    """Every audit event of one item in one environment, newest first."""
    catalog_item(catalog, item_id)
    environment = get_environment(session=session, name=environment_name)
    return list(
        session.scalars(
            select(AuditEvent)
            .where(AuditEvent.environment_id == environment.id, AuditEvent.item_id == item_id)
            .order_by(AuditEvent.id.desc())
        )
    )


def events_after(*, session: Session, after_id: int, limit: int = 500) -> list[AuditEvent]:
    """Audit events with an id above `after_id`, oldest first: the live-update feed."""
    return list(
        session.scalars(
            select(AuditEvent).where(AuditEvent.id > after_id).order_by(AuditEvent.id).limit(limit)
        )
    )


def last_event_id(*, session: Session) -> int:
    return session.scalar(select(AuditEvent.id).order_by(AuditEvent.id.desc()).limit(1)) or 0


def record_event(*, session: Session, actor: str, action: str, new_value: str | None = None) -> None:
    """An audit event that belongs to no item (users, tokens, imports, sign-ins: hostile text too)."""
    session.add(
        AuditEvent(
            actor=storable(actor)[:128],
            action=action,
            new_value=storable(new_value) if new_value else new_value,
        )
    )
