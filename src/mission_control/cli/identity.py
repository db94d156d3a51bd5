"""The `user` and `token` sub-commands: who may sign in, and API tokens for scripts."""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from mission_control.cli import common

user_app = typer.Typer(help="Users and roles.", no_args_is_help=True)
token_app = typer.Typer(help="API tokens for scripts.", no_args_is_help=True)
CLI_ACTOR = "cli"  # who the audit log names for changes made here


@user_app.command("logout")
def user_logout(name: Annotated[str, typer.Argument()]) -> None:
    """End every browser session of a user (a lost laptop); their API tokens are separate."""
    from mission_control.identity.service import end_all_sessions, get_user

    with common.open_database() as database, database.transaction() as session:
        user = get_user(session=session, name=name)
        if user is None:
            raise common.fail(f"user {name!r} does not exist")
        ended = end_all_sessions(session=session, user=user, actor=CLI_ACTOR)
    typer.echo(f"sessions ended for {name}: {ended}")


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

    password = sys.stdin.readline().rstrip("\n") if password_stdin else None
    database = common.database()
    try:
        with database.transaction() as session:
            add_user(session=session, name=name, role=role, password=password, actor=CLI_ACTOR)
    except IdentityError as error:
        raise common.fail(str(error)) from error
    typer.echo(f"added {role} {name}")


@token_app.command("create")
def token_create(
    user: Annotated[str, typer.Option("--user", help="Whose token.")],
    name: Annotated[str, typer.Option("--name", help="A label: what will use it.")],
) -> None:
    """Create an API token; its secret is printed once, alone on the last line."""
    from mission_control.identity.service import IdentityError, create_token, get_user

    database = common.database()
    try:
        with database.transaction() as session:
            owner = get_user(session=session, name=user)
            if owner is None:
                raise IdentityError(f"user {user!r} does not exist")
            secret = create_token(session=session, user=owner, name=name, actor=CLI_ACTOR)
    except IdentityError as error:
        raise common.fail(str(error)) from error
    typer.echo(f"token {name!r} for {user} (shown once; store it now):", err=True)
    typer.echo(secret)


@token_app.command("list")
def token_list(
    user: Annotated[str | None, typer.Option("--user", help="Only this user's tokens.")] = None,
) -> None:
    """List API tokens with when each was last used (never their secrets)."""
    from rich.console import Console
    from rich.table import Table

    from mission_control.identity.service import list_tokens

    with common.open_database() as database, database.read() as session:
        records = list_tokens(session=session, user_name=user)
    table = Table()
    for heading in ("Id", "User", "Name", "Created", "Last used", "Revoked"):
        table.add_column(heading)
    for record in records:
        table.add_row(
            str(record.id),
            record.user,
            record.name,
            f"{record.created_at:%Y-%m-%d %H:%M}",
            f"{record.last_used_at:%Y-%m-%d %H:%M}" if record.last_used_at else "never",
            f"{record.revoked_at:%Y-%m-%d %H:%M}" if record.revoked_at else "",
        )
    Console(width=140).print(table)


@token_app.command("revoke")
def token_revoke(
    token_id: Annotated[int, typer.Argument(metavar="ID", help="The token's id (see token list).")],
) -> None:
    """Revoke an API token: it stops working at once."""
    from mission_control.identity.service import get_token, revoke_token

    with common.open_database() as database, database.transaction() as session:
        record = get_token(session=session, token_id=token_id)
        if record is None:
            raise common.fail(f"token {token_id} does not exist (see `mission-control token list`)")
        if record.revoked_at is not None:
            typer.echo(f"token {token_id} ({record.user}: {record.name}) was already revoked")
            return
        revoke_token(session=session, token_id=token_id, actor=CLI_ACTOR)
    typer.echo(f"revoked token {token_id} ({record.user}: {record.name})")
