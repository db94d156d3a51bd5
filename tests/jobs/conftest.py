"""Job contexts on the test database: the demo estate's configuration, clients as each test needs."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import replace

import pytest

from mission_control.catalog import Catalog
from mission_control.db.database import Database
from mission_control.jobs.execution import JobContext
from mission_control.jobs.in_process import InProcessRunner
from mission_control.verification.aws import AwsClients
from mission_control.verification.config import EnvironmentConfig

PRODUCTION = EnvironmentConfig("production", "us-east-1", "ap-southeast-1")


def broken_clients(config: EnvironmentConfig) -> AwsClients:
    raise RuntimeError("no AWS credentials found")


@pytest.fixture
def make_runner(database: Database, catalog: Catalog) -> Iterator[Callable[..., InProcessRunner]]:
    """In-process runners on the test database (never ticking by themselves: tests tick them)."""
    made: list[InProcessRunner] = []

    def make(**context: object) -> InProcessRunner:
        values = {"database": database, "catalog": catalog, "configs": {"production": PRODUCTION}}
        runner = InProcessRunner(JobContext(**(values | context)), schedule=False)  # type: ignore[arg-type]
        runner.start()
        made.append(runner)
        return runner

    yield make
    for runner in made:
        runner.wait_idle(30)
        runner.stop()


def with_config(runner: InProcessRunner, **changes: object) -> InProcessRunner:
    """The runner's context with the production configuration changed."""
    configs = {name: replace(config, **changes) for name, config in runner.context.configs.items()}
    runner.context = replace(runner.context, configs=configs)
    return runner


class WorkerThread:
    """A procrastinate worker of our queue app in a thread of the test, stopped at teardown."""

    def __init__(self, context: JobContext, *, concurrency: int = 2) -> None:
        import asyncio
        import threading

        from mission_control.jobs.queue import queue_app

        self._app = queue_app(context, tick_seconds=1, stalled_seconds=3)
        self._loop = asyncio.new_event_loop()
        self._task: asyncio.Task[None] | None = None

        async def work() -> None:
            async with self._app.open_async():
                await self._app.run_worker_async(
                    concurrency=concurrency, install_signal_handlers=False, update_heartbeat_interval=1,
                    stalled_worker_timeout=3, delete_jobs="successful",
                )  # fmt: skip

        def run() -> None:
            self._task = self._loop.create_task(work())
            try:
                self._loop.run_until_complete(self._task)
            except BaseException:  # cancelled at teardown
                pass
            finally:
                self._loop.close()

        self._thread = threading.Thread(target=run, name="queue-worker", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        if self._task is not None and not self._loop.is_closed():
            self._loop.call_soon_threadsafe(self._task.cancel)
        self._thread.join(timeout=30)


@pytest.fixture
def queue_context(postgres_url: str, catalog: Catalog) -> Iterator[Callable[..., JobContext]]:
    """Job contexts on the test's PostgreSQL database (the queue runs only there)."""
    from mission_control.web.app import prepare_database

    databases: list[Database] = []

    def make(**values: object) -> JobContext:
        database = Database(postgres_url)
        databases.append(database)
        if len(databases) == 1:
            prepare_database(database, catalog)
        defaults = {"database": database, "catalog": catalog, "configs": {"production": PRODUCTION}}
        return JobContext(**(defaults | values))  # type: ignore[arg-type]

    yield make
    for database in databases:
        database.dispose()
