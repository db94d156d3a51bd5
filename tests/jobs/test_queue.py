"""The PostgreSQL queue: jobs deferred by the web side and run by workers, one per environment at a time."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import replace

import pytest
from sqlalchemy import select

from mission_control.db.database import Database
from mission_control.jobs import runner as runners
from mission_control.jobs.execution import JobContext
from mission_control.jobs.models import SUCCEEDED, JobRun
from mission_control.jobs.queue import QueueRunner
from mission_control.progress.service import create_environment
from mission_control.verification.models import VerificationRun
from tests.conftest import DemoEstate, gated_clients
from tests.jobs.conftest import WorkerThread

pytestmark = pytest.mark.postgres


@pytest.fixture
def web_side(queue_context: Callable[..., JobContext]) -> Iterator[Callable[..., QueueRunner]]:
    made: list[QueueRunner] = []

    def make(**values: object) -> QueueRunner:
        runner = QueueRunner(
            queue_context(**values), tick_seconds=1, stalled_seconds=3, worker_check_seconds=0
        )
        runner.start()
        made.append(runner)
        return runner

    yield make
    for runner in made:
        runner.stop()


@pytest.fixture
def workers() -> Iterator[Callable[..., WorkerThread]]:
    started: list[WorkerThread] = []

    def start(context: JobContext, **options: int) -> WorkerThread:
        started.append(WorkerThread(context, **options))
        return started[-1]

    yield start
    for worker in started:
        worker.stop()


def finished(database: Database, job_ids: list[int], timeout: float = 60) -> list[JobRun]:
    deadline = time.monotonic() + timeout
    while True:
        with database.read() as session:
            jobs = [session.get(JobRun, job_id) for job_id in job_ids]
        if all(job is not None and job.finished_at is not None for job in jobs):
            return jobs  # type: ignore[return-value]
        assert time.monotonic() < deadline, f"jobs did not finish: {[(j.id, j.status) for j in jobs if j]}"
        time.sleep(0.1)


def test_a_verification_deferred_by_the_web_side_runs_on_a_worker(
    web_side: Callable[..., QueueRunner], workers: Callable[..., WorkerThread], demo_aws: DemoEstate,
    queue_context: Callable[..., JobContext],
) -> None:  # fmt: skip
    runner = web_side(configs={"production": demo_aws.config})
    assert runner.problem() is not None and "No `mission-control worker` is running" in runner.problem()
    job_id = runners.start_verification(runner, environment="production", actor="ed")
    assert runners.progress(runner, "verification", "production")["status"] == "queued"
    workers(queue_context(configs={"production": demo_aws.config}))
    [job] = finished(runner.context.database, [job_id])
    assert (job.status, job.attempts, job.done, job.error) == (SUCCEEDED, 1, job.total, None)
    with runner.context.database.read() as session:
        run = session.get(VerificationRun, job.verification_run_id)
    assert (run.state, run.triggered_by) == ("completed", "ed")
    assert runner.problem() is None  # the worker beats while it runs


def test_two_workers_never_run_two_jobs_of_one_environment_at_once(
    web_side: Callable[..., QueueRunner], workers: Callable[..., WorkerThread], demo_aws: DemoEstate,
    queue_context: Callable[..., JobContext], released: threading.Event,
) -> None:  # fmt: skip
    configs = {"production": demo_aws.config, "staging": replace(demo_aws.config, name="staging")}
    runner = web_side(configs=configs)
    with runner.context.database.transaction() as session:
        create_environment(session=session, catalog=runner.context.catalog, name="staging", actor="test")
    gated = queue_context(configs=configs, clients_factory=lambda config: gated_clients(released))
    workers(gated, concurrency=2)
    workers(gated, concurrency=2)
    verification = runners.start_verification(runner, environment="production", actor="ed")
    drill = runners.start_drill(
        runner, environment="production", name="edge-latency", actor="ed", allow_writes=False
    )
    other = runners.start_verification(runner, environment="staging", actor="ed")
    deadline = time.monotonic() + 30
    while True:  # both environments' first jobs start; production's second waits on its lock
        with runner.context.database.read() as session:
            statuses = {job.id: job.status for job in session.scalars(select(JobRun))}
        if statuses[verification] == statuses[other] == "running":
            break
        assert time.monotonic() < deadline, statuses
        time.sleep(0.1)
    assert statuses[drill] == "queued"
    released.set()
    first, second, beside = finished(runner.context.database, [verification, drill, other])
    assert {first.status, second.status, beside.status} == {SUCCEEDED}
    assert second.started_at >= first.finished_at


def test_the_dashboard_on_postgresql_says_when_no_worker_runs(
    postgres_url: str, demo_aws: DemoEstate, catalog: object
) -> None:
    from fastapi.testclient import TestClient

    from mission_control.settings import Settings
    from mission_control.web.app import create_app
    from tests.conftest import make_user, sign_in

    database = Database(postgres_url)
    app = create_app(
        Settings(database_url=postgres_url), database=database, catalog=catalog,  # type: ignore[arg-type]
        configs={"production": demo_aws.config},
    )  # fmt: skip
    with TestClient(app) as client:
        make_user(database, "ana", "editor", password="correct horse")
        sign_in(client, "ana")
        page = client.get("/").text
    database.dispose()
    assert "No `mission-control worker` is running: Verify now, drills" in page
