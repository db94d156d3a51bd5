"""Commands that serve the dashboard: `serve` against your database, `demo` against a sample estate."""

from __future__ import annotations

import gc
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from mission_control.cli import common

if TYPE_CHECKING:
    from fastapi import FastAPI

commands = typer.Typer()
MAX_CONNECTIONS = 500  # per server process (each open dashboard holds one for its live updates)
HEADER_TIMEOUT_SECONDS = 10.0
GRACEFUL_SHUTDOWN_SECONDS = 3  # what a stopping server waits for open requests before cancelling them

HostOption = Annotated[str, typer.Option(help="Interface to listen on.")]
PortOption = Annotated[int, typer.Option(help="TCP port.")]


def frozen(app: FastAPI) -> FastAPI:
    """`app`, with everything start-up made (modules, mappers, templates) frozen out of the collector's
    full passes, which otherwise stalled every request for 50-140 ms; today's garbage is collected first."""
    gc.collect()
    gc.freeze()
    return app


def serving_app() -> FastAPI:
    """The app each `serve --workers N` process builds from the environment, frozen."""
    from mission_control.web.app import create_app

    return frozen(create_app())


def _run_server(
    app_instance: Any,
    host: str,
    port: int,
    workers: int = 1,
    *,
    max_connections: int = MAX_CONNECTIONS,
    header_timeout: float = HEADER_TIMEOUT_SECONDS,
) -> None:
    """Serve `app_instance`, or with several workers an app each worker process builds from the environment."""
    import uvicorn

    from mission_control.web.connections import server_options

    options = server_options(max_connections=max_connections, header_timeout=header_timeout)
    typer.echo(f"Mission Control on http://{host}:{port}/", err=True)
    if workers > 1:
        uvicorn.run(
            "mission_control.cli.server:serving_app", factory=True, workers=workers,
            host=host, port=port, timeout_graceful_shutdown=GRACEFUL_SHUTDOWN_SECONDS, log_level="info", proxy_headers=False, **options,
        )  # fmt: skip
        return

    class Server(uvicorn.Server):
        def handle_exit(self, sig: int, frame: Any) -> None:
            """Ctrl-C ends the open dashboards' event streams first, so stopping does not wait them out."""
            app_instance.state.live_events.end_streams()
            super().handle_exit(sig, frame)

    Server(
        uvicorn.Config(  # forwarded headers: only from MC_FORWARDED_ALLOW_IPS, in the app (web/app.py)
            app_instance,
            host=host,
            port=port,
            timeout_graceful_shutdown=GRACEFUL_SHUTDOWN_SECONDS,
            log_level="info",
            proxy_headers=False,
            **options,
        )
    ).run()


@commands.command()
def serve(
    host: HostOption = "127.0.0.1",
    port: PortOption = 8000,
    config: Annotated[
        Path | None, typer.Option("--config", help="Verification configuration (TOML) enabling 'Verify now'.")
    ] = None,
    workers: Annotated[int, typer.Option("--workers", min=1, help="Server processes (use the cores).")] = 1,
    max_connections: Annotated[
        int,
        typer.Option("--max-connections", min=2, help="Open connections per process; more get 503 at once."),
    ] = MAX_CONNECTIONS,
    header_timeout: Annotated[
        float,
        typer.Option(
            "--header-timeout", min=0.1, help="Seconds a client has to send request headers (else 408)."
        ),
    ] = HEADER_TIMEOUT_SECONDS,
    forwarded_allow_ips: Annotated[
        str | None,
        typer.Option(
            "--forwarded-allow-ips",
            help="Comma-separated proxy addresses or networks whose X-Forwarded-For is believed "
            "(default: MC_FORWARDED_ALLOW_IPS, else none).",
        ),
    ] = None,
) -> None:
    """Run the dashboard (SQLite by default; MC_DATABASE_URL selects PostgreSQL)."""
    import os
    from dataclasses import replace

    from mission_control.catalog import load_default_catalog
    from mission_control.db.database import Database
    from mission_control.web.app import create_app, prepare_database

    if forwarded_allow_ips is not None:  # through the environment, so every worker process reads it too
        os.environ["MC_FORWARDED_ALLOW_IPS"] = forwarded_allow_ips
    settings = common.settings()
    config_path = config or settings.config_path
    configs = common.configs(config_path, required=True) if config_path else {}
    if workers > 1:  # prepare once here, so the workers find the database ready instead of racing
        if config_path:
            os.environ["MC_CONFIG"] = str(config_path.resolve())
        database = Database(settings.database_url)
        password = prepare_database(database, load_default_catalog(), configs)
        database.dispose()
        if password:
            typer.echo(f"Created the first user: admin / {password}\nThis password is shown once.", err=True)
    single = (
        frozen(create_app(replace(settings, config_path=config_path), configs=configs))
        if workers == 1
        else None
    )
    _run_server(single, host, port, workers, max_connections=max_connections, header_timeout=header_timeout)


@commands.command()
def demo(
    host: HostOption = "127.0.0.1",
    port: PortOption = 8000,
    data_dir: Annotated[
        Path | None,
        typer.Option("--data-dir", help="Where the demo keeps its database, configuration and password."),
    ] = None,
    reset: Annotated[bool, typer.Option("--reset", help="Start over: forget the demo's progress.")] = False,
) -> None:
    """Run the dashboard against a built-in sample AWS estate (an embedded moto server): no account needed.

    Progress is kept in the data directory (default: under your user data directory) between runs.
    """
    from mission_control.demo.workspace import DEFAULT_DATA_DIR, DemoWorkspace, PortBusy, check_port_free

    try:
        check_port_free(host, port)
    except PortBusy as error:
        raise common.fail(str(error)) from error
    from mission_control.demo import require_moto

    require_moto()
    from mission_control.demo.session import running_demo
    from mission_control.web.app import create_app

    workspace = DemoWorkspace(data_dir or DEFAULT_DATA_DIR)
    typer.echo("Seeding the demo AWS estate (moto) and verifying it…", err=True)
    try:
        with running_demo(workspace, reset=reset) as run:
            typer.echo(run.instructions(f"http://{host}:{port}/"), err=True)
            app_instance = create_app(
                run.settings, database=run.database, configs={run.config.name: run.config}
            )
            _run_server(frozen(app_instance), host, port)
    except KeyboardInterrupt:  # during seeding: uvicorn handles it once serving
        raise typer.Exit(130) from None
