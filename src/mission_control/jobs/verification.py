"""Running verification and recording it: once from the CLI, or as a background job.

The run's results and the notifications its changes call for are written in one transaction, so a
change is queued exactly once, whoever ran it and however often a lost attempt was retried.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select

from mission_control.catalog import Catalog
from mission_control.db.database import Database
from mission_control.jobs.execution import JobContext, JobView, Step, kind
from mission_control.jobs.models import JobRun
from mission_control.notifications.changes import ChangeSet
from mission_control.notifications.detect import ItemLinks, verification_changes
from mission_control.notifications.outbox import Outbox
from mission_control.progress.models import ItemState
from mission_control.progress.service import get_environment
from mission_control.verification.aws import AwsClients
from mission_control.verification.config import EnvironmentConfig
from mission_control.verification.latest import latest_results
from mission_control.verification.models import VerificationRun
from mission_control.verification.runner import VerificationReport, count_steps, run_verification
from mission_control.verification.service import fail_run, finish_run, start_run

KIND = "verification"


def verify_and_record(
    *,
    database: Database,
    catalog: Catalog,
    config: EnvironmentConfig,
    clients: AwsClients,
    actor: str,
    on_progress: Callable[[str], None] | None = None,
    outbox: Outbox | None = None,
    public_url: str = "http://127.0.0.1:8000",
    job_run_id: int | None = None,
) -> tuple[VerificationReport, list[str]]:
    """Run every probe for `config` and store the run, with the requests its clients sent; returns the
    report and newly regressed items. With an `outbox`, the items whose state changed are queued as one
    change set for its channels, in the transaction that stores the run."""
    with database.transaction() as session:
        run_id = start_run(session=session, environment_name=config.name, actor=actor)
        if job_run_id is not None:
            job = session.get(JobRun, job_run_id)
            if job is not None:
                job.verification_run_id = run_id
    try:
        report = run_verification(config, catalog=catalog, clients=clients, on_progress=on_progress)
    except BaseException as error:
        with database.transaction() as session:
            fail_run(session=session, run_id=run_id, error=f"{type(error).__name__}: {error}")
        raise
    with database.transaction() as session:
        if outbox is not None:
            _queue_changes(session, outbox, catalog, config, report, run_id, public_url)
        regressed = finish_run(
            session=session, run_id=run_id, report=report,
            request_rates=clients.requests.observed(),
        )  # fmt: skip
    return report, regressed


def _queue_changes(
    session: Any,
    outbox: Outbox,
    catalog: Catalog,
    config: EnvironmentConfig,
    report: VerificationReport,
    run_id: int,
    public_url: str,
) -> None:
    """Compare with the previous completed run, read before this one is stored."""
    environment = get_environment(session=session, name=config.name)
    states = session.scalars(select(ItemState).where(ItemState.environment_id == environment.id)).all()
    links = ItemLinks(catalog, {state.item_id: state.owner for state in states}, public_url, config.name)
    changes = verification_changes(
        previous=latest_results(session=session, environment_id=environment.id),
        results=report.results,
        ticked={state.item_id for state in states if state.checked},
        links=links,
    )
    if changes:
        outbox.queue(
            session,
            ChangeSet(config.name, datetime.now(UTC), tuple(changes), source=f"verification run {run_id}"),
        )


@kind(KIND)
def verification_job(context: JobContext, job: JobView, step: Step) -> list[int]:
    """A background verification: the environment's configuration, its clients, every probe.
    A retry first closes the run its lost attempt left open."""
    config = context.configs.get(job.environment)
    if config is None:
        raise LookupError(
            f"environment {job.environment!r} has no AWS configuration in this process's configuration file"
        )
    if job.attempts > 1:
        with context.database.transaction() as session:
            lost = session.scalar(
                select(VerificationRun)
                .join(JobRun, JobRun.verification_run_id == VerificationRun.id)
                .where(JobRun.id == job.id, VerificationRun.state == "running")
            )
            if lost is not None:
                fail_run(
                    session=session, run_id=lost.id,
                    error=f"interrupted: its worker stopped; retried as attempt {job.attempts}",
                )  # fmt: skip
    outbox = Outbox(context.channels, {name: c.template for name, c in context.configs.items()})
    verify_and_record(
        database=context.database, catalog=context.catalog, config=config,
        clients=context.clients_factory(config), actor=job.actor, on_progress=step,
        outbox=outbox, public_url=context.public_url, job_run_id=job.id,
    )  # fmt: skip
    return outbox.queued


def steps(catalog: Catalog) -> int:
    return count_steps(catalog)
