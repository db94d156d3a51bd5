"""`mission-control worker`: work the PostgreSQL job queue, on as many machines as you like."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from mission_control.cli import common

commands = typer.Typer()


@commands.command()
def worker(
    config: Annotated[
        Path | None,
        typer.Option("--config", help="Verification configuration (TOML): the same file every server reads."),
    ] = None,
    concurrency: Annotated[
        int, typer.Option("--concurrency", min=1, max=64, help="Jobs this worker runs at once.")
    ] = 4,
) -> None:
    """Run verifications, drills, schedules and notifications from the queue (PostgreSQL only).

    Stops on Ctrl-C or SIGTERM once its jobs in flight end; a worker killed outright has its jobs
    retried by another worker.
    """
    from mission_control.catalog import load_default_catalog
    from mission_control.jobs.execution import JobContext
    from mission_control.jobs.queue import run_worker
    from mission_control.web.app import channels_of

    settings = common.settings()
    config_path = config or settings.config_path
    database = common.database()
    if database.is_sqlite:
        raise common.fail(
            "the worker works the PostgreSQL job queue: set MC_DATABASE_URL=postgresql://... "
            "(on SQLite, `mission-control serve` runs background work itself)"
        )
    configs = common.configs(config_path, required=True) if config_path else {}
    from dataclasses import replace

    context = JobContext(
        database=database, catalog=load_default_catalog(), configs=configs,
        channels=channels_of(replace(settings, config_path=config_path)), public_url=settings.public_url,
    )  # fmt: skip
    typer.echo(
        f"Mission Control worker: {concurrency} at a time, {len(configs)} configured environment(s)", err=True
    )
    run_worker(
        context, concurrency=concurrency, tick_seconds=settings.tick_seconds,
        stalled_seconds=settings.worker_stalled_seconds,
    )  # fmt: skip
