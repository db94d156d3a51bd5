"""The progress service on real SQLite and PostgreSQL: changes, audit trail, conflicts, bad input."""

from __future__ import annotations

import pytest
from sqlalchemy import inspect, select

from mission_control.catalog import Catalog
from mission_control.db.database import Database
from mission_control.db.migrate import current_revision
from mission_control.progress import service
from mission_control.progress.models import AuditEvent, ItemState

ITEM = "dynamodb.global-main"


def checklist(database: Database, catalog: Catalog, environment: str = "production"):
    with database.read() as session:
        return service.get_checklist(session=session, catalog=catalog, environment_name=environment)


def update(database: Database, catalog: Catalog, **changes: object) -> ItemState:
    with database.transaction() as session:
        return service.update_item(
            session=session,
            catalog=catalog,
            environment_name="production",
            item_id=ITEM,
            actor="ana",
            **changes,
        )


def history(database: Database, catalog: Catalog) -> list[AuditEvent]:
    with database.read() as session:
        return service.item_history(
            session=session, catalog=catalog, environment_name="production", item_id=ITEM
        )


def test_migrations_reach_head_and_create_every_table(database: Database) -> None:
    assert current_revision(database) is not None
    tables = set(inspect(database.engine).get_table_names())
    assert {"environments", "item_states", "audit_events", "users", "api_tokens", "web_sessions"} <= tables


def test_production_exists_by_default_with_every_item_open(database: Database, catalog: Catalog) -> None:
    view = checklist(database, catalog)
    assert view.environment == "production"
    assert (view.completed, view.total) == (0, 20)


def test_tick_records_who_and_when_and_one_audit_event(database: Database, catalog: Catalog) -> None:
    state = update(database, catalog, checked=True)
    assert (state.checked, state.checked_by, state.version) == (True, "ana", 1)
    assert state.checked_at is not None and state.checked_at.tzinfo is not None
    [event] = history(database, catalog)
    assert (event.actor, event.action, event.old_value, event.new_value) == (
        "ana",
        "checked",
        "false",
        "true",
    )


def test_untick_owner_and_note_each_append_an_event_with_old_and_new(
    database: Database, catalog: Catalog
) -> None:
    update(database, catalog, checked=True)
    update(database, catalog, owner="platform-team", note="replica in ap-southeast-1")
    update(database, catalog, checked=False, owner=None)
    actions = [(e.action, e.old_value, e.new_value) for e in reversed(history(database, catalog))]
    assert actions == [
        ("checked", "false", "true"),
        ("owner", None, "platform-team"),
        ("note", "", "replica in ap-southeast-1"),
        ("unchecked", "true", "false"),
        ("owner", "platform-team", None),
    ]
    item = next(i for i in checklist(database, catalog).items if i.item.id == ITEM)
    assert (item.checked, item.checked_by, item.owner, item.note, item.version) == (
        False, None, None, "replica in ap-southeast-1", 3,
    )  # fmt: skip


def test_a_change_to_the_same_value_is_not_recorded(database: Database, catalog: Catalog) -> None:
    update(database, catalog, checked=True)
    state = update(database, catalog, checked=True)
    assert state.version == 1
    assert len(history(database, catalog)) == 1


def test_stale_version_is_a_conflict_and_changes_nothing(database: Database, catalog: Catalog) -> None:
    update(database, catalog, checked=True, expected_version=0)
    with pytest.raises(service.VersionConflict, match="version 0, it is now 1"):
        update(database, catalog, note="late", expected_version=0)
    assert [e.action for e in history(database, catalog)] == ["checked"]


def test_note_over_the_limit_is_rejected_and_nothing_changes(database: Database, catalog: Catalog) -> None:
    update(database, catalog, note="kept")
    with pytest.raises(service.InvalidInput, match="10001 characters long; the limit is 10000"):
        update(database, catalog, checked=True, note="x" * 10_001)
    item = next(i for i in checklist(database, catalog).items if i.item.id == ITEM)
    assert (item.checked, item.note, item.version) == (False, "kept", 1)


def test_note_at_the_limit_is_accepted(database: Database, catalog: Catalog) -> None:
    assert update(database, catalog, note="x" * 10_000).note == "x" * 10_000


def test_unknown_environment_and_item_are_not_found(database: Database, catalog: Catalog) -> None:
    with pytest.raises(service.NotFound, match="environment 'nowhere' does not exist"):
        checklist(database, catalog, "nowhere")
    with (
        database.transaction() as session,
        pytest.raises(service.NotFound, match=r"item 'dns\.nope' is not in"),
    ):
        service.update_item(
            session=session,
            catalog=catalog,
            environment_name="production",
            item_id="dns.nope",
            actor="a",
            checked=True,
        )


def test_environments_keep_separate_progress(database: Database, catalog: Catalog) -> None:
    with database.transaction() as session:
        service.create_environment(session=session, catalog=catalog, name="staging", actor="ana")
    with database.transaction() as session:
        service.update_item(
            session=session,
            catalog=catalog,
            environment_name="staging",
            item_id=ITEM,
            actor="ana",
            checked=True,
        )
    assert checklist(database, catalog, "staging").completed == 1
    assert checklist(database, catalog, "production").completed == 0


@pytest.mark.parametrize("name", ["Staging", "", "a" * 65, "with space", "-leading"])
def test_invalid_environment_names_are_rejected(database: Database, catalog: Catalog, name: str) -> None:
    with (
        database.transaction() as session,
        pytest.raises(service.InvalidInput, match="invalid environment name"),
    ):
        service.create_environment(session=session, catalog=catalog, name=name, actor="ana")


def test_duplicate_environment_is_rejected(database: Database, catalog: Catalog) -> None:
    with database.transaction() as session, pytest.raises(service.InvalidInput, match="already exists"):
        service.create_environment(session=session, catalog=catalog, name="production", actor="ana")


def test_audit_events_are_appended_in_order_for_the_live_feed(database: Database, catalog: Catalog) -> None:
    with database.read() as session:
        start = service.last_event_id(session=session)
    update(database, catalog, checked=True)
    update(database, catalog, note="n")
    with database.read() as session:
        events = service.events_after(session=session, after_id=start)
        assert [e.action for e in events] == ["checked", "note"]
        assert session.scalar(select(AuditEvent).where(AuditEvent.id == events[0].id)).item_id == ITEM
