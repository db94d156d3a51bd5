"""Two web replicas and two workers on PostgreSQL, as docs/deploy.md runs them.

- progress of a run started on replica A reaches a browser on replica B;
- a worker killed mid-run loses nothing: another worker retries the job, and its record shows it;
- one notification per change reaches a webhook receiver and an SMTP server, however many runs;
- a schedule fires once per due time with two workers ticking.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select

from mission_control.db.database import Database
from mission_control.demo.estate import demo_config_toml
from mission_control.jobs.models import SUCCEEDED, JobRun, ScheduleFire
from mission_control.notifications.models import DELIVERED, Delivery
from mission_control.verification.models import VerificationRun
from mission_control.web.app import prepare_database
from tests.conftest import (
    DemoEstate,
    ServerProcess,
    _create_database,
    _database_url,
    _drop_database,
    bearer,
    free_port,
    token_for,
)
from tests.deploy.conftest import EventStream, HoldingProxy, WorkerProcess, process_env, wait_for_workers
from tests.receivers import HttpReceiver, SmtpServer

pytestmark = pytest.mark.postgres
HOOK_SECRET = "deployment-webhook-secret"


@pytest.fixture
def deployment_database(postgres_server: str, catalog: object) -> Iterator[Database]:
    name = _create_database(postgres_server)
    database = Database(_database_url(postgres_server, name))
    prepare_database(database, catalog)  # type: ignore[arg-type]
    yield database
    database.dispose()
    _drop_database(postgres_server, name)


def config_file(tmp_path: Path, demo: DemoEstate, smtp: SmtpServer | None = None, **extra: str) -> Path:
    text = demo_config_toml(demo.config) + "".join(f'{key} = "{value}"\n' for key, value in extra.items())
    text += (
        '\n[notifications.team-hook]\nkind = "webhook"\nurl_env = "HOOK_URL"\nsecret_env = "HOOK_SECRET"\n'
        'events = ["regressed", "failing", "error", "recovered"]\n'
    )
    if smtp is not None:
        text += (
            f'\n[notifications.team-mail]\nkind = "email"\nsmtp_host = "127.0.0.1"\nsmtp_port = {smtp.port}\n'
            f'from = "mc@example.test"\nto = ["sre@example.test"]\nca_file = "{smtp.ca_file}"\n'
            'events = ["regressed", "failing", "error", "recovered"]\n'
        )
    path = tmp_path / "mission-control.toml"
    path.write_text(text, encoding="utf-8")
    return path


def until(condition: Callable[[], object], what: str, timeout: float = 90) -> object:
    deadline = time.monotonic() + timeout
    while not (found := condition()):
        assert time.monotonic() < deadline, f"timed out waiting until {what}"
        time.sleep(0.2)
    return found


def jobs(database: Database) -> list[JobRun]:
    with database.read() as session:
        return list(session.scalars(select(JobRun).order_by(JobRun.id)))


@pytest.fixture
def started() -> Iterator[list[ServerProcess | WorkerProcess]]:
    processes: list[ServerProcess | WorkerProcess] = []
    yield processes
    for process in reversed(processes):
        process.stop()


def test_replicas_share_progress_a_killed_worker_loses_nothing_and_each_change_notifies_once(
    demo_estate: DemoEstate, holding_proxy: HoldingProxy, deployment_database: Database,
    receiver: HttpReceiver, smtp_server: SmtpServer, tmp_path: Path, started: list,
) -> None:  # fmt: skip
    database = deployment_database
    config = config_file(tmp_path, demo_estate, smtp_server)
    env = process_env(
        database.url.render_as_string(hide_password=False), config, holding_proxy.url,
        HOOK_URL=receiver.url, HOOK_SECRET=HOOK_SECRET, MC_PUBLIC_URL="https://mc.example.test",
    )  # fmt: skip
    replicas = [ServerProcess(env["MC_DATABASE_URL"], free_port(), env=env) for _ in range(2)]
    workers = [WorkerProcess(env, config) for _ in range(2)]
    for process in (*replicas, *workers):
        process.start()
        started.append(process)
    wait_for_workers(database, 2)
    token = token_for(database, f"ed-{uuid.uuid4().hex[:6]}", "editor")
    stream = EventStream(f"{replicas[1].url}/environments/production/events", token)

    holding_proxy.hold(after=5)  # AWS stalls a few calls in: the run waits mid-flight on its worker
    started_run = httpx.post(
        f"{replicas[0].url}/api/v1/environments/production/verification", headers=bearer(token)
    )
    assert started_run.status_code == 202, started_run.text
    running = until(
        lambda: [job for job in jobs(database) if job.status == "running" and job.verification_run_id],
        "a worker took the run and started it",
    )
    [job] = running  # type: ignore[misc]
    victim = next(worker for worker in workers if job.runner and job.runner.endswith(f":{worker.pid}"))
    until(lambda: stream.progress("verification.progress"), "the run's progress reached replica B's stream")
    victim.kill()
    holding_proxy.release()

    [retried] = until(
        lambda: [j for j in jobs(database) if j.id == job.id and j.status == SUCCEEDED],
        "another worker retried it",
    )  # type: ignore[misc]
    assert retried.attempts == 2 and not retried.runner.endswith(f":{victim.pid}")
    with database.read() as session:
        lost, finished = (
            session.get(VerificationRun, run)
            for run in (job.verification_run_id, retried.verification_run_id)
        )
    assert (lost.state, lost.error) == ("failed", "interrupted: its worker stopped; retried as attempt 2")
    assert (finished.state, finished.error) == ("completed", None)
    steps = [
        event["done"] for event in stream.progress("verification.progress") if event["status"] == "running"
    ]
    assert steps and max(steps) == retried.total  # every step streamed to the other replica's browser

    def delivered() -> list[Delivery]:
        with database.read() as session:
            return list(session.scalars(select(Delivery).where(Delivery.status == DELIVERED)))

    until(lambda: len(delivered()) == 2, "the change set went out through both channels")
    again = httpx.post(
        f"{replicas[1].url}/api/v1/environments/production/verification", headers=bearer(token)
    )
    assert again.status_code == 202
    until(lambda: len([j for j in jobs(database) if j.status == SUCCEEDED]) == 2, "the second run finished")
    time.sleep(3)  # three ticks: time for any (wrong) second notification to go out
    assert len(receiver.requests) == 1 and len(smtp_server.messages) == 1  # nothing changed the second time
    [hook] = receiver.requests
    assert hook.headers["X-Mission-Control-Delivery"] == next(
        d.idempotency_key for d in delivered() if d.kind == "webhook"
    )
    assert b"https://mc.example.test/?env=production#item-" in hook.body
    stream.close()


def test_a_schedule_fires_once_per_due_time_with_two_workers_ticking(
    demo_estate: DemoEstate, holding_proxy: HoldingProxy, deployment_database: Database, tmp_path: Path,
    started: list, receiver: HttpReceiver,
) -> None:  # fmt: skip
    database = deployment_database
    config = config_file(tmp_path, demo_estate, verify_schedule="* * * * * */5")
    env = process_env(
        database.url.render_as_string(hide_password=False), config, holding_proxy.url,
        HOOK_URL=receiver.url, HOOK_SECRET=HOOK_SECRET,
    )  # fmt: skip
    for _ in range(2):
        worker = WorkerProcess(env, config)
        worker.start()
        started.append(worker)
    wait_for_workers(database, 2)

    def fired() -> list[ScheduleFire]:
        with database.read() as session:
            return list(
                session.scalars(select(ScheduleFire).where(ScheduleFire.schedule == "verify production"))
            )

    until(lambda: len(fired()) >= 4, "four due times fired", timeout=120)
    fires = fired()
    scheduled = [job for job in jobs(database) if job.trigger.startswith("schedule")]
    assert len({fire.due_at for fire in fires}) == len(fires)  # one fire per due time
    assert {fire.due_at.second % 5 for fire in fires} == {0}
    queued = [fire for fire in fires if fire.outcome.startswith("queued")]
    assert sorted(fire.job_run_id for fire in queued) == [job.id for job in scheduled]  # one job per fire
    assert all(fire.outcome.startswith(("queued job", "skipped: a verification")) for fire in fires)
