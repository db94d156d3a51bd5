"""The `mission-control` command. Thin: it parses arguments and calls services.

Heavy imports (FastAPI, boto3) happen inside commands so `--help` stays fast.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

app = typer.Typer(
    help="Take an AWS platform from one region to two, and prove it got there.", no_args_is_help=True
)
env_app = typer.Typer(help="Environments whose progress is tracked.", no_args_is_help=True)
db_app = typer.Typer(help="The database.", no_args_is_help=True)
user_app = typer.Typer(help="Users and roles.", no_args_is_help=True)
token_app = typer.Typer(help="API tokens for scripts.", no_args_is_help=True)
app.add_typer(env_app, name="env")
app.add_typer(db_app, name="db")
app.add_typer(user_app, name="user")
app.add_typer(token_app, name="token")

EnvOption = Annotated[str, typer.Option("--env", help="Environment name.")]


def _fail(message: str, code: int = 2) -> typer.Exit:
    typer.secho(f"error: {message}", err=True, fg=typer.colors.RED)
    return typer.Exit(code)


def _database():
    from mission_control.catalog import load_default_catalog
    from mission_control.db.database import Database
    from mission_control.db.migrate import upgrade
    from mission_control.progress.service import ensure_defaults
    from mission_control.settings import Settings

    database = Database(Settings.from_env().database_url)
    upgrade(database)
    with database.transaction() as session:
        ensure_defaults(session=session, catalog=load_default_catalog())
    return database


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port.")] = 8000,
) -> None:
    """Run the dashboard (SQLite by default; MC_DATABASE_URL selects PostgreSQL)."""
    import uvicorn

    from mission_control.web.app import create_app

    typer.echo(f"Mission Control on http://{host}:{port}/", err=True)
    uvicorn.run(create_app(), host=host, port=port, timeout_graceful_shutdown=3, log_level="info")


@app.command()
def status(env: EnvOption = "production") -> None:
    """Print progress per category as a table."""
    from rich.console import Console
    from rich.table import Table

    from mission_control.catalog import load_default_catalog
    from mission_control.progress.service import ProgressError, get_checklist

    database = _database()
    with database.read() as session:
        try:
            checklist = get_checklist(session=session, catalog=load_default_catalog(), environment_name=env)
        except ProgressError as error:
            raise _fail(str(error)) from error
    table = Table(title=f"{checklist.catalog.title} — {env}")
    table.add_column("Category")
    table.add_column("Done", justify="right")
    table.add_column("Status")
    for category in checklist.categories:
        table.add_row(
            f"{category.category.icon} {category.category.name}",
            f"{category.completed}/{category.total}",
            "✅ complete" if category.complete else "open",
        )
    table.add_section()
    table.add_row("Overall", f"{checklist.completed}/{checklist.total}", f"{checklist.percent}%")
    Console().print(table)


@app.command()
def export(
    env: EnvOption = "production",
    fmt: Annotated[str, typer.Option("--format", help="md, json or csv.")] = "md",
    output: Annotated[Path | None, typer.Option("--output", help="File to write (default: stdout).")] = None,
) -> None:
    """Export an environment's checklist and progress."""
    from mission_control.catalog import load_default_catalog
    from mission_control.progress.export import FORMATS, render
    from mission_control.progress.service import ProgressError, get_checklist

    if fmt not in FORMATS:
        raise _fail(f"unknown format {fmt!r}: choose one of {', '.join(FORMATS)}")
    database = _database()
    with database.read() as session:
        try:
            checklist = get_checklist(session=session, catalog=load_default_catalog(), environment_name=env)
        except ProgressError as error:
            raise _fail(str(error)) from error
    text = render(checklist, fmt)
    if output:
        output.write_text(text, encoding="utf-8")
    else:
        sys.stdout.write(text)


@app.command("import-localstorage")
def import_localstorage(
    file: Annotated[Path, typer.Argument(help="File holding the value of sd_multiregion_checklist.")],
    env: EnvOption = "production",
    actor: Annotated[str, typer.Option(help="Name recorded in the audit trail.")] = "cli",
) -> None:
    """Import the old page's localStorage progress, reporting what matched and what did not."""
    from mission_control.catalog import load_default_catalog
    from mission_control.progress.importer import UnreadableImport, apply_import, parse_localstorage
    from mission_control.progress.service import ProgressError

    catalog = load_default_catalog()
    try:
        plan = parse_localstorage(file.read_bytes(), catalog)
    except OSError as error:
        raise _fail(f"{file}: {error.strerror}; nothing was changed") from error
    except UnreadableImport as error:
        raise _fail(f"{file}: {error}; nothing was changed") from error
    database = _database()
    try:
        with database.transaction() as session:
            apply_import(session=session, catalog=catalog, environment_name=env, plan=plan, actor=actor)
    except ProgressError as error:
        raise _fail(f"{error}; nothing was changed") from error
    for match in plan.matches:
        typer.echo(
            f"matched   {match.key!r} -> {match.item_id} ({'checked' if match.checked else 'unchecked'})"
        )
    for key in plan.unmatched:
        typer.echo(f"unmatched {key!r}")
    typer.echo(
        f"{len(plan.matches)} matched, {len(plan.changed)} changed, {len(plan.unmatched)} unmatched in {env}"
    )


@env_app.command("add")
def env_add(name: Annotated[str, typer.Argument(help="e.g. staging")]) -> None:
    """Create an environment; all its items start open."""
    from mission_control.catalog import load_default_catalog
    from mission_control.progress.service import ProgressError, create_environment

    database = _database()
    try:
        with database.transaction() as session:
            create_environment(session=session, catalog=load_default_catalog(), name=name, actor="cli")
    except ProgressError as error:
        raise _fail(str(error)) from error
    typer.echo(f"created environment {name}")


@env_app.command("list")
def env_list() -> None:
    """List environments."""
    from mission_control.progress.service import list_environments

    with _database().read() as session:
        for environment in list_environments(session=session):
            typer.echo(environment.name)


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Apply database migrations (safe to run repeatedly)."""
    from mission_control.db.migrate import current_revision

    database = _database()
    typer.echo(f"database at revision {current_revision(database)}")


@user_app.command("add")
def user_add(
    name: Annotated[str, typer.Argument()],
    role: Annotated[str, typer.Option(help="viewer, editor or admin.")] = "viewer",
    password_stdin: Annotated[
        bool, typer.Option("--password-stdin", help="Read the password from stdin.")
    ] = False,
) -> None:
    """Add a user. Without --password-stdin the user can sign in only with API tokens."""
    from mission_control.identity.service import IdentityError, add_user
    from mission_control.progress.service import record_event

    password = sys.stdin.readline().rstrip("\n") if password_stdin else None
    database = _database()
    try:
        with database.transaction() as session:
            add_user(session=session, name=name, role=role, password=password)
            record_event(session=session, actor="cli", action="user.created", new_value=f"{name} ({role})")
    except IdentityError as error:
        raise _fail(str(error)) from error
    typer.echo(f"added {role} {name}")


@token_app.command("create")
def token_create(
    user: Annotated[str, typer.Option("--user", help="Whose token.")],
    name: Annotated[str, typer.Option("--name", help="A label: what will use it.")],
) -> None:
    """Create an API token; its secret is printed once, alone on the last line."""
    from mission_control.identity.service import IdentityError, create_token, get_user
    from mission_control.progress.service import record_event

    database = _database()
    try:
        with database.transaction() as session:
            owner = get_user(session=session, name=user)
            if owner is None:
                raise IdentityError(f"user {user!r} does not exist")
            secret = create_token(session=session, user=owner, name=name)
            record_event(session=session, actor="cli", action="token.created", new_value=f"{user}: {name}")
    except IdentityError as error:
        raise _fail(str(error)) from error
    typer.echo(f"token {name!r} for {user} (shown once; store it now):", err=True)
    typer.echo(secret)
