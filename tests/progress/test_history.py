"""Every item's newest changes in one query (SQLite and PostgreSQL), however many items have a history."""

from __future__ import annotations

from sqlalchemy import select

from mission_control.catalog import Catalog
from mission_control.db.database import Database
from mission_control.progress.history import recent_changes
from mission_control.progress.models import Environment
from mission_control.progress.service import create_environment, update_item
from tests.conftest import change_item, queries


def production_id(database: Database) -> int:
    with database.read() as session:
        return session.scalars(select(Environment.id).where(Environment.name == "production")).one()


def test_each_item_gets_its_newest_changes_first_and_at_most_the_limit(
    database: Database, catalog: Catalog
) -> None:
    for number in range(1, 13):
        change_item(database, catalog, "dns.failover-ttl", actor="ana", note=f"note {number}")
    change_item(database, catalog, "edge.latency", actor="bob", checked=True)

    with database.read() as session:
        changes = recent_changes(
            session=session,
            environment_id=production_id(database),
            item_ids=["dns.failover-ttl", "edge.latency", "cognito.parity"],
            limit=10,
        )

    assert set(changes) == {"dns.failover-ttl", "edge.latency"}  # cognito.parity never changed
    assert [change.new for change in changes["dns.failover-ttl"]] == [f"note {n}" for n in range(12, 2, -1)]
    assert changes["dns.failover-ttl"][0].old == "note 11"
    [tick] = changes["edge.latency"]
    assert (tick.actor, tick.action, tick.old, tick.new) == ("bob", "checked", "false", "true")


def test_one_query_reads_every_items_changes_and_none_of_another_environment(
    database: Database, catalog: Catalog
) -> None:
    with database.transaction() as session:
        create_environment(session=session, catalog=catalog, name="staging", actor="root")
    with database.transaction() as session:
        update_item(
            session=session, catalog=catalog, environment_name="staging", item_id="dns.failover-ttl",
            actor="eve", note="staging only",
        )  # fmt: skip
    item_ids = [item.id for item in catalog.items]
    for item_id in item_ids:
        change_item(database, catalog, item_id, note=f"changed {item_id}")

    production = production_id(database)
    with database.read() as session, queries(database) as seen:
        changes = recent_changes(session=session, environment_id=production, item_ids=item_ids)

    assert len(seen) == 1
    assert sorted(changes) == sorted(item_ids)
    assert all(change.new != "staging only" for found in changes.values() for change in found)


def test_no_items_read_nothing(database: Database) -> None:
    production = production_id(database)
    with database.read() as session, queries(database) as seen:
        assert recent_changes(session=session, environment_id=production, item_ids=[]) == {}
    assert seen == []
