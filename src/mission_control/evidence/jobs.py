"""Drills started from the dashboard: automated ones only, in the background, recorded as evidence."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from mission_control.db.database import Database
from mission_control.evidence.drills.record import DrillRecorder
from mission_control.evidence.drills.registry import DRILLS, Drill, load_all
from mission_control.evidence.service import record_drill
from mission_control.jobs import Advance, BackgroundJobs, NotConfigured
from mission_control.progress.service import InvalidInput, NotFound
from mission_control.verification.aws import AwsClients
from mission_control.verification.config import EnvironmentConfig


def startable_drills() -> dict[str, Drill]:
    """The drills a background job can run: every one that needs no operator at a terminal."""
    load_all()
    return {name: drill for name, drill in DRILLS.items() if not drill.guided}


class DrillJobs:
    def __init__(
        self,
        *,
        database: Database,
        configs: dict[str, EnvironmentConfig],
        publish: Callable[[dict[str, Any]], None],
        clients_factory: Callable[[], AwsClients] = AwsClients,
    ) -> None:
        self._database = database
        self._configs = configs
        self._publish = publish
        self._clients_factory = clients_factory
        self._jobs = BackgroundJobs()

    def running(self, environment: str) -> dict[str, int] | None:
        return self._jobs.progress(environment)

    def wait(self, environment: str, timeout: float) -> bool:
        return self._jobs.wait(environment, timeout)

    def start(self, *, environment: str, name: str, actor: str, allow_writes: bool) -> None:
        """Start drill `name`; refuses guided drills, unconfirmed writes, and unconfigured environments."""
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
        config = self._configs.get(environment)
        if config is None:
            raise NotConfigured(
                f"environment {environment!r} has no AWS configuration: start the server with --config"
            )

        def work(advance: Advance) -> None:
            recorder = DrillRecorder(name, environment, chosen.item_id)
            self._publish({"environment": environment, "action": "drill.progress", "drill": name} | advance())
            record = recorder.run(lambda recording: chosen.body(recording, config, self._clients_factory()))
            with self._database.transaction() as session:
                record_drill(session=session, environment_name=environment, record=record, actor=actor)

        self._jobs.start(environment, work, total=1, busy=f"a drill is already running in {environment!r}")
