"""A running demo: the sample estate on moto, the demo's HTTP endpoints, its configuration written to
the data directory, the demo database opened (made on the first run) and verified once."""

from __future__ import annotations

import os
import shlex
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from mission_control.catalog import load_default_catalog
from mission_control.db.database import Database
from mission_control.demo.endpoints import DemoEndpoints
from mission_control.demo.estate import PRIMARY_REGION, demo_config_toml, seed_demo_estate
from mission_control.demo.server import start_moto_server
from mission_control.demo.workspace import DEFAULT_DATA_DIR, DemoWorkspace
from mission_control.jobs.verification import verify_and_record
from mission_control.settings import Settings
from mission_control.verification.aws import AwsClients
from mission_control.verification.config import EnvironmentConfig
from mission_control.web.app import prepare_database

DEMO_CREDENTIALS = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}


@dataclass(frozen=True)
class DemoRun:
    workspace: DemoWorkspace
    config: EnvironmentConfig
    database: Database
    settings: Settings
    password: str | None
    aws_endpoint_url: str
    outage_url: str
    summary: dict[str, int]

    def instructions(self, url: str) -> str:
        """What the demo prints: the first verification, how to sign in, and how to point the CLI at it."""
        exports = {
            "MC_DATABASE_URL": self.workspace.database_url,
            "AWS_ENDPOINT_URL": self.aws_endpoint_url,
            **DEMO_CREDENTIALS,
            "AWS_DEFAULT_REGION": PRIMARY_REGION,
        }
        summary = self.summary
        sign_in = (
            f"Sign in as admin / {self.password}"
            if self.password
            else "Sign in as admin with the password shown when this data dir was made (or start over: --reset)"
        )
        return "\n".join(
            [
                f"Verification: {summary['verified']} verified, {summary['failing']} failing, "
                f"{summary['error']} error, {summary['manual']} manual.",
                f"{sign_in} at {url}",
                f"Demo data (database, configuration, password) in {self.workspace.root}; progress is kept "
                "between runs. Stop with Ctrl-C; start over with `mission-control demo --reset`.",
                "Point the CLI at this demo from another terminal:",
                "  export " + " ".join(f"{key}={shlex.quote(value)}" for key, value in exports.items()),
                f"  mission-control verify --config {shlex.quote(str(self.workspace.config_path))}",
                "  mission-control status" + (" --demo" if self.workspace.root == DEFAULT_DATA_DIR else ""),
                f"The failover game day's primary origin goes down with `curl -X POST {self.outage_url}` "
                "(and comes back with -X DELETE).",
            ]
        )


@contextmanager
def running_demo(workspace: DemoWorkspace, *, reset: bool = False) -> Iterator[DemoRun]:
    """Serve the sample estate (moto and the demo's HTTP endpoints), write its configuration, open the
    demo database (made on the first run) and verify once; everything stops when the block ends."""
    workspace.root.mkdir(parents=True, exist_ok=True)
    if reset:
        workspace.reset()
    with start_moto_server() as moto, DemoEndpoints() as endpoints:
        for name in ("AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_SESSION_TOKEN"):
            os.environ.pop(name, None)
        os.environ.update(
            AWS_ENDPOINT_URL=moto.endpoint_url, AWS_DEFAULT_REGION=PRIMARY_REGION, **DEMO_CREDENTIALS
        )
        config = seed_demo_estate(moto.endpoint_url, endpoints)
        workspace.config_path.write_text(demo_config_toml(config), encoding="utf-8")
        settings = Settings(database_url=workspace.database_url, config_path=workspace.config_path)
        database, catalog = Database(settings.database_url), load_default_catalog()
        try:
            created = prepare_database(database, catalog, [config.name])
            if created:
                workspace.remember_password(created)
            report, _ = verify_and_record(
                database=database, catalog=catalog, config=config, clients=AwsClients(), actor="demo"
            )
            yield DemoRun(
                workspace, config, database, settings, workspace.password(), moto.endpoint_url,
                endpoints.outage_url(), report.summary,
            )  # fmt: skip
        finally:
            database.dispose()
