"""The in-process runner: jobs recorded in the database, one at a time per environment, failures seen."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import replace
from datetime import timedelta

import pytest
from sqlalchemy import select

from mission_control.db.base import utcnow
from mission_control.db.database import Database
from mission_control.jobs import runner as runners
from mission_control.jobs import service
from mission_control.jobs.in_process import ABANDONED_AFTER, InProcessRunner
from mission_control.jobs.models import FAILED, QUEUED, RUNNING, SUCCEEDED, JobRun
from mission_control.progress.models import AuditEvent
from mission_control.progress.service import InvalidInput, NotFound, create_environment
from tests.conftest import DemoEstate, gated_clients
from tests.jobs.conftest import broken_clients


def job(database: Database, job_id: int) -> JobRun:
    with database.read() as session:
        found = session.get(JobRun, job_id)
        assert found is not None
        return found


def test_a_failed_job_is_logged_recorded_and_shown(
    make_runner: Callable[..., InProcessRunner], database: Database, caplog: pytest.LogCaptureFixture
) -> None:
    runner = make_runner(clients_factory=broken_clients)
    job_id = runners.start_verification(runner, environment="production", actor="ed")
    assert runner.wait_idle(30)
    failed = job(database, job_id)
    reason = "RuntimeError: no AWS credentials found"
    assert (failed.status, failed.error, failed.attempts, failed.active_key) == (FAILED, reason, 1, None)
    with database.read() as session:
        [event] = session.scalars(select(AuditEvent).where(AuditEvent.action == "job.failed"))
    assert event.new_value == f"verification in production: {reason}"
    assert service.progress_event(failed, "production") == {
        "environment": "production", "action": "job.failed", "job": "verification", "reason": reason,
    }  # fmt: skip
    [logged] = [entry for entry in caplog.records if entry.name == "mission_control.jobs.execution"]
    assert logged.exc_info is not None and reason in logged.getMessage()
    assert runners.progress(runner, "verification", "production") is None  # free to run again


def test_a_verification_is_queued_once_per_environment_and_others_run_beside_it(
    make_runner: Callable[..., InProcessRunner], demo_aws: DemoEstate, database: Database, catalog: object,
    released: threading.Event,
) -> None:  # fmt: skip
    with database.transaction() as session:
        create_environment(session=session, catalog=catalog, name="staging", actor="test")  # type: ignore[arg-type]
    runner = make_runner(
        configs={"production": demo_aws.config, "staging": replace(demo_aws.config, name="staging")},
        clients_factory=lambda config: gated_clients(released),
    )  # fmt: skip
    first = runners.start_verification(runner, environment="production", actor="ed")
    with pytest.raises(service.AlreadyRunning, match="already queued or running"):
        runners.start_verification(runner, environment="production", actor="ana")
    other = runners.start_verification(runner, environment="staging", actor="ed")
    released.set()
    assert runner.wait_idle(60)
    assert [job(database, job_id).status for job_id in (first, other)] == [SUCCEEDED, SUCCEEDED]
    assert runners.start_verification(runner, environment="production", actor="ana") > other  # free again


def test_two_jobs_of_one_environment_never_run_at_once(
    make_runner: Callable[..., InProcessRunner],
    demo_aws: DemoEstate,
    database: Database,
    released: threading.Event,
) -> None:
    runner = make_runner(
        configs={"production": demo_aws.config}, clients_factory=lambda config: gated_clients(released)
    )
    verification = runners.start_verification(runner, environment="production", actor="ed")
    drill = runners.start_drill(
        runner, environment="production", name="edge-latency", actor="ed", allow_writes=False
    )
    deadline = utcnow() + timedelta(seconds=10)
    while job(database, verification).status != RUNNING:
        assert utcnow() < deadline, "the verification never started"
    assert job(database, drill).status == QUEUED  # waits for the environment's running job
    released.set()
    assert runner.wait_idle(60)
    first, second = job(database, verification), job(database, drill)
    assert (first.status, second.status) == (SUCCEEDED, SUCCEEDED)
    assert first.finished_at is not None and second.started_at is not None
    assert second.started_at >= first.finished_at


def test_a_job_whose_process_stopped_is_failed_as_abandoned(
    make_runner: Callable[..., InProcessRunner], database: Database, catalog: object
) -> None:
    with database.transaction() as session:
        lost = runners.queue_verification(
            session,
            catalog=catalog,
            environment="production",
            actor="ed",
            trigger="manual",  # type: ignore[arg-type]
        )
        service.claim(session=session, job_run_id=lost, exclusive=True, now=utcnow() - ABANDONED_AFTER * 2)
    runner = make_runner()
    runner.tick()
    abandoned = job(database, lost)
    assert (abandoned.status, abandoned.error) == (FAILED, "abandoned: the server process running it stopped")
    assert abandoned.active_key is None


def test_a_job_kept_alive_by_its_runner_is_not_abandoned(
    make_runner: Callable[..., InProcessRunner], database: Database, catalog: object
) -> None:
    with database.transaction() as session:
        waiting = runners.queue_verification(
            session,
            catalog=catalog,
            environment="production",
            actor="ed",
            trigger="manual",  # type: ignore[arg-type]
        )
        service.beat(session=session, job_run_ids=[waiting], now=utcnow())
    make_runner().tick()
    assert job(database, waiting).status == QUEUED


def test_jobs_that_cannot_start_are_refused_with_the_reason_and_nothing_queued(
    make_runner: Callable[..., InProcessRunner], database: Database
) -> None:
    runner = make_runner()
    with pytest.raises(InvalidInput, match="creates and deletes AWS resources"):
        runners.start_drill(runner, environment="production", name="restore", actor="ed", allow_writes=False)
    with pytest.raises(InvalidInput, match="guided game day"):
        runners.start_drill(
            runner, environment="production", name="cloudfront-failover", actor="ed", allow_writes=True
        )
    with pytest.raises(NotFound, match="unknown drill 'nope'"):
        runners.start_drill(runner, environment="production", name="nope", actor="ed", allow_writes=True)
    unconfigured = make_runner(configs={})
    with pytest.raises(service.NotConfigured, match="has no AWS configuration"):
        runners.start_verification(unconfigured, environment="production", actor="ed")
    with database.read() as session:
        assert session.scalars(select(JobRun)).all() == []
