"""Schedules fire once per due time across every process; evidence reminders come once per end."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from croniter import croniter
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import event, select
from sqlalchemy.engine import Engine

from mission_control.catalog import Catalog
from mission_control.db.database import Database
from mission_control.evidence.models import Attestation
from mission_control.evidence.service import attest
from mission_control.jobs import runner as runners
from mission_control.jobs import schedules
from mission_control.jobs.in_process import InProcessRunner
from mission_control.jobs.models import JobRun, ScheduleFire
from mission_control.notifications.channels import Channel
from mission_control.notifications.models import Delivery
from tests.jobs.conftest import broken_clients, with_config

SIX_HOURLY = "17 */6 * * *"
DUE = datetime(2026, 12, 7, 12, 17, tzinfo=UTC)


def scheduled_jobs(database: Database) -> list[JobRun]:
    with database.read() as session:
        return list(
            session.scalars(select(JobRun).where(JobRun.trigger.startswith("schedule")).order_by(JobRun.id))
        )


def fires(database: Database) -> list[tuple[str, datetime, str]]:
    """The verify and drill schedules' fires (not the reminders' ledger)."""
    with database.read() as session:
        return [
            (fire.schedule, fire.due_at, fire.outcome)
            for fire in session.scalars(
                select(ScheduleFire)
                .where(
                    ScheduleFire.schedule.startswith("verify ") | ScheduleFire.schedule.startswith("drill ")
                )
                .order_by(ScheduleFire.id)
            )
        ]


@settings(max_examples=200, deadline=None)
@given(
    cron=st.sampled_from([SIX_HOURLY, "* * * * * 7", "1-59/5 * * * * 30", "0 0 1 * *", "*/15 * * * *"]),
    nows=st.lists(
        st.datetimes(min_value=datetime(2026, 1, 1), max_value=datetime(2027, 1, 1), timezones=st.just(UTC)),
        min_size=1,
        max_size=8,
    ),
)
def test_latest_due_is_croniters_answer_for_any_sequence_of_times(cron: str, nows: list[datetime]) -> None:
    """The latest due time is remembered per cron; forwards, backwards or exactly on a due time, the
    answer stays croniter's own."""
    schedule = schedules.Schedule("verify x", cron, "x", "verification")
    for now in [*nows, *(schedule.latest_due(now) for now in nows)]:
        expected = croniter(cron, now + timedelta(microseconds=1)).get_prev(datetime).astimezone(UTC)
        assert schedule.latest_due(now) == expected


def test_a_tick_whose_due_times_have_fired_writes_nothing(
    make_runner: Callable[..., InProcessRunner], database: Database
) -> None:
    """Ticks come every few seconds and most fire nothing: those read the ledger once and write no row
    (an upsert per schedule per tick was most of a worker's CPU at 1,000 environments)."""
    runner = with_config(make_runner(clients_factory=broken_clients), verify_schedule=SIX_HOURLY)
    schedules.tick(runner, DUE + timedelta(seconds=3))
    assert runner.wait_idle(30)
    statements: list[str] = []

    def record(conn: object, cursor: object, statement: str, *args: object) -> None:
        statements.append(statement)

    event.listen(Engine, "before_cursor_execute", record)  # every engine: SQLite writes on its own
    try:
        schedules.tick(runner, DUE + timedelta(seconds=20))
    finally:
        event.remove(Engine, "before_cursor_execute", record)
    assert statements, "the tick read the ledger"
    assert not [
        sql for sql in statements if "schedule_fires" in sql and sql.lstrip().upper().startswith("INSERT")
    ]
    assert [fire[1] for fire in fires(database)] == [DUE]


def test_a_schedule_fires_once_per_due_time_however_many_processes_tick(
    make_runner: Callable[..., InProcessRunner], database_url: str, database: Database
) -> None:
    """Four "processes" (each its own engine) tick at the same moment; one fire, one job."""
    others = [Database(database_url) for _ in range(3)]
    runners_ = [with_config(make_runner(clients_factory=broken_clients), verify_schedule=SIX_HOURLY)]
    runners_ += [
        with_config(make_runner(database=other, clients_factory=broken_clients), verify_schedule=SIX_HOURLY)
        for other in others
    ]
    start = threading.Barrier(len(runners_))

    def tick(runner: InProcessRunner) -> None:
        start.wait()
        schedules.tick(runner, DUE + timedelta(seconds=3))

    threads = [threading.Thread(target=tick, args=(runner,)) for runner in runners_]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    for runner in runners_:
        assert runner.wait_idle(30)
    [fired] = scheduled_jobs(database)
    assert (fired.trigger, fired.actor, fired.kind) == (f"schedule {SIX_HOURLY}", "schedule", "verification")
    assert fires(database) == [("verify production", DUE, f"queued job {fired.id}")]
    schedules.tick(runners_[0], DUE + timedelta(minutes=5))  # the same due time: nothing more
    assert len(scheduled_jobs(database)) == 1
    schedules.tick(runners_[0], DUE + timedelta(hours=6))  # the next one
    assert runners_[0].wait_idle(30)
    assert [fire[1] for fire in fires(database)] == [DUE, DUE + timedelta(hours=6)]
    for other in others:
        other.dispose()


def test_a_due_time_missed_by_more_than_ten_minutes_is_not_fired_late(
    make_runner: Callable[..., InProcessRunner], database: Database
) -> None:
    runner = with_config(make_runner(clients_factory=broken_clients), verify_schedule=SIX_HOURLY)
    schedules.tick(runner, DUE + schedules.MAX_LATENESS + timedelta(seconds=1))
    assert scheduled_jobs(database) == [] and fires(database) == []
    schedules.tick(runner, DUE + schedules.MAX_LATENESS)
    assert runner.wait_idle(30)
    assert len(scheduled_jobs(database)) == 1


def test_a_due_time_while_its_verification_runs_is_skipped_and_says_why(
    make_runner: Callable[..., InProcessRunner], database: Database, catalog: Catalog
) -> None:
    runner = with_config(make_runner(), verify_schedule=SIX_HOURLY)
    with database.transaction() as session:
        running = runners.queue_verification(
            session, catalog=catalog, environment="production", actor="ed", trigger="manual"
        )
    schedules.tick(runner, DUE)
    assert fires(database) == [
        ("verify production", DUE, "skipped: a verification of 'production' is already queued or running")
    ]
    assert [job.id for job in scheduled_jobs(database)] == []
    assert running


def test_an_environment_without_schedules_fires_nothing(
    make_runner: Callable[..., InProcessRunner], database: Database
) -> None:
    schedules.tick(make_runner(), DUE)
    assert fires(database) == []


def test_drill_schedule_runs_the_read_only_drills_and_writing_ones_only_when_allowed() -> None:
    from dataclasses import replace

    from tests.jobs.conftest import PRODUCTION

    read_only = schedules.schedules([replace(PRODUCTION, drill_schedule="0 4 * * 1")])
    writing = schedules.schedules([replace(PRODUCTION, drill_schedule="0 4 * * 1", scheduled_writes=True)])
    assert [(s.name, s.drill) for s in read_only] == [("drill edge-latency production", "edge-latency")]
    assert [s.drill for s in writing] == ["auth-flow", "dns-cutover", "edge-latency", "restore"]
    assert schedules.schedules([PRODUCTION]) == []


REVIEWED = "cloudfront.geo-restriction"  # an attestation, valid 180 days


def test_evidence_is_reminded_once_before_it_goes_stale_and_once_when_it_has(
    make_runner: Callable[..., InProcessRunner], database: Database, catalog: Catalog
) -> None:
    team = Channel(
        "team",
        "webhook",
        ("evidence-expiring", "evidence-stale"),
        ("*",),
        {"url_env": "U", "secret_env": "S"},
    )
    runner = make_runner(channels={"team": team}, public_url="https://mc.example")
    attested = DUE - timedelta(days=170)  # ends 10 days after DUE: inside the 14-day reminder window
    with database.transaction() as session:
        record = attest(
            session=session, catalog=catalog, environment_name="production", item_id=REVIEWED,
            statement="Geo-restriction reviewed: none", actor="ana",
        )  # fmt: skip
        session.get(Attestation, record.id).attested_at = attested
    assert len(schedules.evidence_reminders(runner.context, DUE - timedelta(days=5))) == 0  # 15 days left
    [expiring] = schedules.evidence_reminders(runner.context, DUE)
    assert schedules.evidence_reminders(runner.context, DUE + timedelta(hours=1)) == []  # reminded already
    [stale] = schedules.evidence_reminders(runner.context, DUE + timedelta(days=11))
    assert schedules.evidence_reminders(runner.context, DUE + timedelta(days=12)) == []
    with database.read() as session:
        sent = {row.id: row for row in session.scalars(select(Delivery))}
    [change] = sent[expiring].payload["changes"]
    assert (change["event"], change["item_id"], change["reason"]) == (
        "evidence-expiring", REVIEWED, f"its evidence goes stale on {attested + timedelta(days=180):%Y-%m-%d %H:%M} UTC",
    )  # fmt: skip
    assert change["url"] == f"https://mc.example/?env=production#item-{REVIEWED}"
    assert sent[stale].payload["changes"][0]["event"] == "evidence-stale"


def test_reminders_wait_for_the_environments_own_reminder_days(
    make_runner: Callable[..., InProcessRunner], database: Database, catalog: Catalog
) -> None:
    team = Channel("team", "webhook", ("evidence-expiring",), ("*",), {"url_env": "U", "secret_env": "S"})
    runner = with_config(make_runner(channels={"team": team}), evidence_reminder_days=3)
    with database.transaction() as session:
        record = attest(
            session=session, catalog=catalog, environment_name="production", item_id=REVIEWED,
            statement="Reviewed", actor="ana",
        )  # fmt: skip
        session.get(Attestation, record.id).attested_at = DUE - timedelta(days=170)
    assert schedules.evidence_reminders(runner.context, DUE) == []  # 10 days left, reminded at 3
    assert len(schedules.evidence_reminders(runner.context, DUE + timedelta(days=7, hours=1))) == 1


def test_the_dashboard_shows_the_schedule_its_next_due_time_and_what_the_last_one_did(
    database: Database, database_url: str, catalog: Catalog
) -> None:
    from dataclasses import replace

    from fastapi.testclient import TestClient

    from mission_control.settings import Settings
    from mission_control.web.app import create_app
    from tests.conftest import bearer, token_for
    from tests.jobs.conftest import PRODUCTION

    app = create_app(
        Settings(database_url=database_url, jobs="in-process"), database=database, catalog=catalog,
        configs={"production": replace(PRODUCTION, verify_schedule=SIX_HOURLY)},
    )  # fmt: skip
    with database.transaction() as session:
        session.add(
            ScheduleFire(schedule="verify production", due_at=DUE, fired_at=DUE, outcome="queued job 7")
        )
    viewer = bearer(token_for(database, "vi", "viewer"))
    with TestClient(app) as client:
        state = client.get("/api/v1/environments/production/verification", headers=viewer).json()
        page = client.get("/", headers=viewer).text
    assert state["schedule"]["cron"] == SIX_HOURLY
    assert state["schedule"]["last"] == {"due_at": DUE.isoformat(), "outcome": "queued job 7"}
    upcoming = datetime.fromisoformat(state["schedule"]["next"])
    assert upcoming > datetime.now(UTC) and upcoming.minute == 17 and upcoming.hour % 6 == 0
    assert f"Scheduled <code>{SIX_HOURLY}</code> (UTC): next {upcoming:%Y-%m-%d %H:%M} UTC" in page
    assert "last due 2026-12-07 12:17 UTC, queued job 7." in page
