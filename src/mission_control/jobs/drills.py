"""Drills as background jobs: automated ones only, recorded as evidence, news when the outcome changes."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select

from mission_control.evidence.drills.record import DrillRecorder
from mission_control.evidence.drills.registry import DRILLS, Drill, load_all
from mission_control.evidence.models import DrillRun
from mission_control.evidence.outcomes import failure_reason
from mission_control.evidence.service import record_drill
from mission_control.jobs.execution import JobContext, JobView, Step, kind
from mission_control.notifications.changes import ChangeSet
from mission_control.notifications.detect import ItemLinks, drill_change
from mission_control.notifications.outbox import Outbox
from mission_control.progress.models import ItemState
from mission_control.progress.service import InvalidInput, NotFound, get_environment
from mission_control.verification.config import EnvironmentConfig

KIND = "drill"


def startable_drills() -> dict[str, Drill]:
    """The drills a background job can run: every one that needs no operator at a terminal."""
    load_all()
    return {name: drill for name, drill in DRILLS.items() if not drill.guided}


def scheduled_drills(config: EnvironmentConfig) -> list[str]:
    """What `drill_schedule` runs: the read-only drills, and those that write only with `scheduled_writes`."""
    return sorted(
        name for name, drill in startable_drills().items() if not drill.writes or config.scheduled_writes
    )


def check_startable(name: str, *, allow_writes: bool) -> Drill:
    """The drill `name`, if a background job may start it; refuses guided drills and unconfirmed writes."""
    load_all()
    if name not in DRILLS:
        raise NotFound(f"unknown drill {name!r}: choose one of {', '.join(sorted(DRILLS))}")
    chosen = DRILLS[name]
    if chosen.guided:
        raise InvalidInput(
            f"drill {name} is a guided game day: run `mission-control drill {name}` at a terminal"
        )
    if chosen.writes and not allow_writes:
        raise InvalidInput(
            f"drill {name} creates and deletes AWS resources: confirm that writes are allowed to start it"
        )
    return chosen


@kind(KIND)
def drill_job(context: JobContext, job: JobView, step: Step) -> list[int]:
    """Run the drill and record it; a changed outcome (or a first run) is queued as news."""
    name = str(job.params["drill"])
    chosen = check_startable(name, allow_writes=bool(job.params.get("allow_writes")))
    config = context.configs.get(job.environment)
    if config is None:
        raise LookupError(f"environment {job.environment!r} has no AWS configuration")
    step(f"drill {name}")
    record = DrillRecorder(name, job.environment, chosen.item_id).run(
        lambda recording: chosen.body(recording, config, context.clients_factory(config))
    )
    outbox = Outbox(context.channels, {config.name: config.template})
    with context.database.transaction() as session:
        environment = get_environment(session=session, name=job.environment)
        previous = session.scalar(
            select(DrillRun.outcome)
            .where(DrillRun.environment_id == environment.id, DrillRun.drill == name)
            .order_by(DrillRun.id.desc())
            .limit(1)
        )
        run = record_drill(session=session, environment_name=job.environment, record=record, actor=job.actor)
        owner = session.scalar(
            select(ItemState.owner).where(
                ItemState.environment_id == environment.id, ItemState.item_id == chosen.item_id
            )
        )
        links = ItemLinks(context.catalog, {chosen.item_id: owner}, context.public_url, job.environment)
        changes = drill_change(
            item_id=chosen.item_id, drill=name, outcome=run.outcome, previous_outcome=previous,
            reason=failure_reason(run.record), links=links,
        )  # fmt: skip
        if changes:
            outbox.queue(
                session, ChangeSet(job.environment, datetime.now(UTC), tuple(changes), f"drill run {run.id}")
            )
    return outbox.queued
