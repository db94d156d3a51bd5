"""Deliveries: queued once per change set and channel, sent by whoever claims them, retried, resent."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from sqlalchemy import select

from mission_control.db.base import utcnow
from mission_control.db.database import Database
from mission_control.notifications.channels import Channel
from mission_control.notifications.models import DELIVERED, FAILED, PENDING, SENDING, Delivery
from mission_control.notifications.outbox import Outbox, due, resend, retry_wait, send
from mission_control.progress.models import AuditEvent
from tests.notifications.conftest import HttpReceiver, change, change_set

SECRET = "webhook-secret-for-outbox-tests"


def channels(receiver: HttpReceiver) -> dict[str, Channel]:
    return {
        "team": Channel(
            "team", "webhook", ("regressed", "recovered"), ("*",), {"url_env": "HOOK", "secret_env": "KEY"}
        ),
        "ops": Channel("ops", "webhook", ("error",), ("prod*",), {"url_env": "HOOK", "secret_env": "KEY"}),
        "elsewhere": Channel(
            "elsewhere", "webhook", ("regressed",), ("staging",), {"url_env": "HOOK", "secret_env": "KEY"}
        ),
    }


ENVIRON = {"KEY": SECRET}


def queued(database: Database, outbox: Outbox, *changes: object) -> list[int]:
    with database.transaction() as session:
        return outbox.queue(session, change_set(*changes))  # type: ignore[arg-type]


def rows(database: Database) -> list[Delivery]:
    with database.read() as session:
        return list(session.scalars(select(Delivery).order_by(Delivery.id)))


def test_a_change_set_is_one_delivery_per_channel_that_wants_some_of_it(
    database: Database, receiver: HttpReceiver
) -> None:
    outbox = Outbox(channels(receiver))
    ids = queued(database, outbox, change("regressed"), change("error", item_id="dynamodb.global-main"))
    found = rows(database)
    assert [(row.channel, row.events, len(row.payload["changes"])) for row in found] == [
        ("team", "regressed", 1),
        ("ops", "error", 1),
    ]
    assert ids == [row.id for row in found] == outbox.queued
    assert all(row.status == PENDING for row in found)


def test_the_same_change_set_is_queued_once(database: Database, receiver: HttpReceiver) -> None:
    outbox = Outbox(channels(receiver))
    first = queued(database, outbox, change("regressed"))
    again = queued(database, outbox, change("regressed"))
    assert len(first) == 1 and again == []
    assert len(rows(database)) == 1


def test_a_change_set_no_channel_wants_queues_nothing(database: Database, receiver: HttpReceiver) -> None:
    assert queued(database, Outbox(channels(receiver)), change("drill-passed")) == []
    assert queued(database, Outbox({}), change("regressed")) == []
    assert rows(database) == []


def test_a_delivery_is_sent_once_with_its_idempotency_key(database: Database, receiver: HttpReceiver) -> None:
    environ = ENVIRON | {"HOOK": receiver.url}
    [delivery_id] = queued(database, Outbox(channels(receiver)), change("regressed"))
    assert (
        send(database=database, channels=channels(receiver), delivery_id=delivery_id, environ=environ)
        == DELIVERED
    )
    assert (
        send(database=database, channels=channels(receiver), delivery_id=delivery_id, environ=environ) is None
    )
    [request] = receiver.requests
    [row] = rows(database)
    assert request.headers["X-Mission-Control-Delivery"] == row.idempotency_key
    assert (row.status, row.attempts, row.last_error) == (DELIVERED, 1, None)


def test_senders_racing_for_one_delivery_send_it_once(database: Database, receiver: HttpReceiver) -> None:
    environ = ENVIRON | {"HOOK": receiver.url}
    [delivery_id] = queued(database, Outbox(channels(receiver)), change("regressed"))
    results: list[str | None] = []
    start = threading.Barrier(6)

    def sender() -> None:
        start.wait()
        results.append(
            send(database=database, channels=channels(receiver), delivery_id=delivery_id, environ=environ)
        )

    threads = [threading.Thread(target=sender) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert sorted(results, key=str) == [None] * 5 + [DELIVERED]
    assert len(receiver.requests) == 1


def test_a_refused_delivery_is_retried_later_then_failed_after_its_window(
    database: Database, receiver: HttpReceiver
) -> None:
    receiver.status = 503
    environ = ENVIRON | {"HOOK": receiver.url}
    [delivery_id] = queued(database, Outbox(channels(receiver)), change("regressed"))
    assert (
        send(database=database, channels=channels(receiver), delivery_id=delivery_id, environ=environ)
        == PENDING
    )
    [row] = rows(database)
    assert row.last_error == "webhook channel team: HTTP 503 from the receiver"
    assert row.next_attempt_at - utcnow() > timedelta(seconds=25)  # 30 s after the first failure
    assert (
        send(database=database, channels=channels(receiver), delivery_id=delivery_id, environ=environ) is None
    )  # not due
    with database.transaction() as session:
        assert due(session=session, now=utcnow()) == []
        assert due(session=session, now=utcnow() + timedelta(seconds=31)) == [delivery_id]
        stored = session.get(Delivery, delivery_id)
        stored.next_attempt_at = utcnow()
        stored.retry_until = utcnow() + timedelta(seconds=10)  # the window ends before the next wait
    assert (
        send(database=database, channels=channels(receiver), delivery_id=delivery_id, environ=environ)
        == FAILED
    )
    [row] = rows(database)
    assert (row.status, row.attempts) == (FAILED, 2)
    assert len(receiver.requests) == 2


def test_retry_waits_double_up_to_an_hour() -> None:
    assert [retry_wait(n).total_seconds() for n in (1, 2, 3, 4, 8, 20)] == [30, 60, 120, 240, 3600, 3600]


def test_a_claim_left_by_a_dead_sender_goes_back_to_pending(
    database: Database, receiver: HttpReceiver
) -> None:
    [delivery_id] = queued(database, Outbox(channels(receiver)), change("regressed"))
    with database.transaction() as session:
        row = session.get(Delivery, delivery_id)
        row.status, row.claimed_at = SENDING, utcnow() - timedelta(minutes=11)
    with database.transaction() as session:
        assert due(session=session, now=utcnow()) == [delivery_id]
    assert rows(database)[0].status == PENDING


def test_a_channel_gone_from_the_configuration_fails_its_delivery(
    database: Database, receiver: HttpReceiver
) -> None:
    [delivery_id] = queued(database, Outbox(channels(receiver)), change("regressed"))
    assert send(database=database, channels={}, delivery_id=delivery_id, environ=ENVIRON) == FAILED
    assert rows(database)[0].last_error == "channel team is no longer in the configuration"


def test_an_admin_resends_a_failed_delivery_audited(database: Database, receiver: HttpReceiver) -> None:
    environ = ENVIRON | {"HOOK": receiver.url}
    [delivery_id] = queued(database, Outbox(channels(receiver)), change("regressed"))
    assert send(database=database, channels={}, delivery_id=delivery_id, environ=environ) == FAILED
    with database.transaction() as session:
        resend(session=session, delivery_id=delivery_id, actor="root")
    assert (
        send(database=database, channels=channels(receiver), delivery_id=delivery_id, environ=environ)
        == DELIVERED
    )
    with database.read() as session:
        [event] = session.scalars(select(AuditEvent).where(AuditEvent.action == "notification.resent"))
    assert (event.actor, event.new_value) == ("root", f"delivery {delivery_id}")


def test_resending_an_unknown_delivery_is_a_clear_error(database: Database) -> None:
    from mission_control.progress.service import NotFound

    with pytest.raises(NotFound, match="delivery 999 does not exist"), database.transaction() as session:
        resend(session=session, delivery_id=999, actor="root")
