"""Schedules: `verify_schedule` and `drill_schedule` per environment, and hourly evidence reminders.

`tick(now)` runs every few seconds in one place per process (a thread of `serve`, a periodic task of
the queue) and fires each schedule's latest due time once. Whoever inserts the (schedule, due time)
row first fires it; everyone else finds the row and moves on, so a schedule fires once across every
replica and worker. A due time more than `MAX_LATENESS` ago is not fired late (nothing was running
then): the next one is.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from croniter import croniter
from sqlalchemy import select
from sqlalchemy.orm import Session

from mission_control.db.base import upsert
from mission_control.jobs import runner as runners
from mission_control.jobs.drills import scheduled_drills
from mission_control.jobs.execution import JobContext
from mission_control.jobs.models import ScheduleFire
from mission_control.jobs.service import AlreadyRunning
from mission_control.notifications import outbox as deliveries
from mission_control.notifications.changes import ChangeSet
from mission_control.notifications.detect import ItemLinks, evidence_change
from mission_control.progress.models import Environment, ItemState
from mission_control.progress.service import proofs
from mission_control.verification.config import EnvironmentConfig

MAX_LATENESS = timedelta(minutes=10)
REMINDERS = "evidence reminders"
REMINDER_CRON = "7 * * * *"  # hourly, off the top of the hour

logger = logging.getLogger(__name__)


# cron -> (its latest due time, the one after) as last computed: every tick asks each schedule for its
# latest due time, and croniter took most of a tick's 0.4 ms per environment to answer
_DUE_TIMES: dict[str, tuple[datetime, datetime]] = {}


@dataclass(frozen=True)
class Schedule:
    """One recurring piece of work: its name (unique), its cron, and what it starts."""

    name: str
    cron: str
    environment: str
    kind: str  # verification | drill
    drill: str | None = None

    def latest_due(self, now: datetime) -> datetime:
        """The latest due time at or before `now` (croniter's own `get_prev` is strictly before)."""
        cached = _DUE_TIMES.get(self.cron)
        if cached is not None and cached[0] <= now < cached[1]:
            return cached[0]
        latest = croniter(self.cron, now + timedelta(microseconds=1)).get_prev(datetime).astimezone(UTC)
        _DUE_TIMES[self.cron] = (latest, croniter(self.cron, latest).get_next(datetime).astimezone(UTC))
        return latest

    def next_due(self, now: datetime) -> datetime:
        return croniter(self.cron, now).get_next(datetime).astimezone(UTC)


def schedules(configs: Iterable[EnvironmentConfig]) -> list[Schedule]:
    """Every environment's schedules, as its configuration (or template) sets them."""
    found = []
    for config in configs:
        if config.verify_schedule:
            found.append(
                Schedule(f"verify {config.name}", config.verify_schedule, config.name, "verification")
            )
        if config.drill_schedule:
            found.extend(
                Schedule(f"drill {name} {config.name}", config.drill_schedule, config.name, "drill", name)
                for name in scheduled_drills(config)
            )
    return found


def last_fire(*, session: Session, schedule: str) -> ScheduleFire | None:
    """The schedule's latest fire, for the dashboard's "last run"."""
    return session.scalar(
        select(ScheduleFire)
        .where(ScheduleFire.schedule == schedule)
        .order_by(ScheduleFire.due_at.desc())
        .limit(1)
    )


def verify_schedule_of(config: EnvironmentConfig) -> Schedule | None:
    return next((s for s in schedules([config]) if s.kind == "verification"), None)


def tick(runner: runners.Runner, now: datetime) -> None:
    """Fire what is due, remind about evidence hourly, and hand due deliveries to the runner."""
    context = runner.context
    due = [(schedule, schedule.latest_due(now)) for schedule in schedules(context.configs.values())]
    due = [(schedule, due_at) for schedule, due_at in due if now - due_at <= MAX_LATENESS]
    fired = _already_fired(context, due)
    for schedule, due_at in due:
        if (schedule.name, due_at) in fired:
            continue
        try:
            _fire(runner, schedule, due_at, now)
        except Exception:  # one environment's schedule must not stop the others'
            logger.exception("schedule %s could not fire", schedule.name)
    reminders = Schedule(REMINDERS, REMINDER_CRON, "*", "reminders")
    if _claim(context, reminders.name, reminders.latest_due(now), now, outcome="sending evidence reminders"):
        runner.deliver(evidence_reminders(context, now))
    with context.database.transaction() as session:
        due = deliveries.due(session=session, now=now)
    runner.deliver(due)


def _already_fired(context: JobContext, due: list[tuple[Schedule, datetime]]) -> set[tuple[str, datetime]]:
    """The (schedule, due time) pairs of `due` in the ledger, read at once: most ticks fire nothing, and
    a write transaction per schedule per tick was most of a worker's CPU at 1,000 environments."""
    if not due:
        return set()
    with context.database.read() as session:
        rows = session.execute(
            select(ScheduleFire.schedule, ScheduleFire.due_at).where(
                ScheduleFire.due_at.in_({due_at for _, due_at in due}),
                ScheduleFire.schedule.in_([schedule.name for schedule, _ in due]),
            )
        )
        return {(name, due_at) for name, due_at in rows}


def _fire(runner: runners.Runner, schedule: Schedule, due_at: datetime, now: datetime) -> None:
    context = runner.context
    trigger = f"schedule {schedule.cron}"
    with context.database.transaction() as session:
        fire = _insert_fire(session, schedule.name, due_at, now)
        if fire is None:
            return  # another process fired it
        try:
            if schedule.kind == "verification":
                job_id = runners.queue_verification(
                    session,
                    catalog=context.catalog,
                    environment=schedule.environment,
                    actor="schedule",
                    trigger=trigger,
                )
            else:
                job_id = runners.queue_drill(
                    session, environment=schedule.environment, name=str(schedule.drill), actor="schedule",
                    allow_writes=True, trigger=trigger,
                )  # fmt: skip
        except AlreadyRunning as busy:
            fire.outcome = f"skipped: {busy}"[:256]
            return
        fire.job_run_id, fire.outcome = job_id, f"queued job {job_id}"
    runner.submit(job_id)


def _insert_fire(session: Session, name: str, due_at: datetime, now: datetime) -> ScheduleFire | None:
    """The fire, if this call made it; None if the (schedule, due time) pair was already taken."""
    fire_id = session.scalar(
        upsert(session, ScheduleFire)
        .values(schedule=name, due_at=due_at, fired_at=now, outcome="firing")
        .on_conflict_do_nothing(index_elements=["schedule", "due_at"])
        .returning(ScheduleFire.id)
    )
    return session.get(ScheduleFire, fire_id) if fire_id is not None else None


def _claim(context: JobContext, name: str, due_at: datetime, now: datetime, *, outcome: str) -> bool:
    if now - due_at > MAX_LATENESS:
        return False
    with context.database.transaction() as session:
        fire = _insert_fire(session, name, due_at, now)
        if fire is not None:
            fire.outcome = outcome
        return fire is not None


def evidence_reminders(context: JobContext, now: datetime) -> list[int]:
    """Queue, per environment, one change set of the evidence that goes stale within its
    `evidence_reminder_days` or went stale, each (item, end) reminded once."""
    queued: list[int] = []
    for config in context.configs.values():
        box = deliveries.Outbox(context.channels, {config.name: config.template})
        with context.database.transaction() as session:
            environment = session.scalar(select(Environment).where(Environment.name == config.name))
            if environment is None:
                continue
            changes = []
            for item_id, state, ends_at in _evidence_endings(session, context, environment.id, now):
                late = state == "stale"
                if not late and ends_at - now > timedelta(days=config.evidence_reminder_days):
                    continue
                ledger = f"reminder {config.name} {item_id} {state}"
                if _insert_fire(session, ledger, ends_at, now) is None:
                    continue  # reminded already
                owners = dict(session.execute(
                    select(ItemState.item_id, ItemState.owner).where(ItemState.environment_id == environment.id)
                ).all())  # fmt: skip
                links = ItemLinks(context.catalog, owners, context.public_url, config.name)
                changes.append(evidence_change(item_id=item_id, state=state, ends_at=ends_at, links=links))
            if changes:
                box.queue(
                    session,
                    ChangeSet(config.name, now, tuple(changes), f"evidence reminders {now:%Y-%m-%dT%H}"),
                )
        queued.extend(box.queued)
    return queued


def _evidence_endings(
    session: Session, context: JobContext, environment_id: int, now: datetime
) -> list[tuple[str, str, datetime]]:
    """(item, "fresh" or "stale", when its evidence ends or ended) for each evidence-backed item."""
    endings = []
    _, statuses = proofs(session, context.catalog, environment_id, now=now)
    for item_id, status in statuses.items():
        if status.state == "complete" and status.fresh_until is not None:
            endings.append((item_id, "fresh", status.fresh_until))
        elif status.state == "stale":
            window = timedelta(days=status.valid_days)
            moments = [
                kind.at + window if kind.at + window <= now else kind.at
                for kind in status.kinds
                if kind.state == "stale" and kind.at is not None
            ]
            if moments:
                endings.append((item_id, "stale", min(moments)))
    return endings
