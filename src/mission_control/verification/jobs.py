"""Running verification and recording it: once from the CLI, or in the background for "Verify now"."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from mission_control.catalog import Catalog
from mission_control.db.database import Database
from mission_control.jobs import Advance, BackgroundJobs, NotConfigured
from mission_control.verification.aws import AwsClients
from mission_control.verification.config import EnvironmentConfig
from mission_control.verification.runner import VerificationReport, count_steps, run_verification
from mission_control.verification.service import fail_run, finish_run, start_run


def verify_and_record(
    *,
    database: Database,
    catalog: Catalog,
    config: EnvironmentConfig,
    clients: AwsClients,
    actor: str,
    on_progress: Callable[[str], None] | None = None,
) -> tuple[VerificationReport, list[str]]:
    """Run every probe for `config` and store the run; returns the report and newly regressed items."""
    with database.transaction() as session:
        run_id = start_run(session=session, environment_name=config.name, actor=actor)
    try:
        report = run_verification(config, catalog=catalog, clients=clients, on_progress=on_progress)
    except BaseException as error:
        with database.transaction() as session:
            fail_run(session=session, run_id=run_id, error=f"{type(error).__name__}: {error}")
        raise
    with database.transaction() as session:
        regressed = finish_run(session=session, run_id=run_id, report=report)
    return report, regressed


class VerificationJobs:
    """Background runs for the web app: one at a time per environment, progress published live."""

    def __init__(
        self,
        *,
        database: Database,
        catalog: Catalog,
        configs: dict[str, EnvironmentConfig],
        publish: Callable[[dict[str, Any]], None],
        clients_factory: Callable[[], AwsClients] = AwsClients,
    ) -> None:
        self._database = database
        self._catalog = catalog
        self.configs = configs
        self._publish = publish
        self._clients_factory = clients_factory
        self._jobs = BackgroundJobs()

    def progress(self, environment: str) -> dict[str, int] | None:
        return self._jobs.progress(environment)

    def wait(self, environment: str, timeout: float) -> bool:
        return self._jobs.wait(environment, timeout)

    def start(self, environment: str, actor: str) -> None:
        config = self.configs.get(environment)
        if config is None:
            raise NotConfigured(
                f"environment {environment!r} has no AWS configuration: add [environments.{environment}] "
                "to the configuration file the server was started with (--config)"
            )

        def work(advance: Advance) -> None:
            def on_progress(label: str) -> None:
                event = {"environment": environment, "action": "verification.progress", "label": label}
                self._publish(event | advance())

            verify_and_record(
                database=self._database, catalog=self._catalog, config=config,
                clients=self._clients_factory(), actor=actor, on_progress=on_progress,
            )  # fmt: skip

        self._jobs.start(
            environment, work, total=count_steps(self._catalog),
            busy=f"a verification of {environment!r} is already running",
        )  # fmt: skip
