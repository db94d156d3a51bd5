"""The `mission-control` command: a root that mounts one module of commands per domain.

Thin: commands parse arguments and call services. Heavy imports (FastAPI, boto3) happen inside
commands so `--help` stays fast.
"""

from typing import Annotated, Any

import typer
from typer.core import TyperGroup

from mission_control.cli import (
    database,
    environments,
    evidence,
    findings,
    identity,
    jobs,
    notifications,
    progress,
    server,
    verification,
)
from mission_control.cli.common import dispose_opened, fail


class _Root(TyperGroup):
    """Every error that stops a command becomes one line and exit 2: a MissionControlError as its
    message, anything unexpected with a hint to rerun with --debug for the traceback. Whatever the
    end, the databases the command opened are disposed of."""

    def invoke(self, ctx: typer.Context) -> Any:
        from mission_control.errors import MissionControlError

        try:
            return super().invoke(ctx)
        except (typer.Exit, typer.Abort, typer.TyperException):  # exits, usage errors: already shaped
            raise
        except MissionControlError as error:
            raise fail(str(error)) from error
        except Exception as error:
            if ctx.params.get("debug"):
                raise
            first_line = next(iter(str(error).splitlines()), "")
            typer.secho(f"error: {type(error).__name__}: {first_line}", err=True, fg=typer.colors.RED)
            typer.echo(
                f"hint: run `mission-control --debug {ctx.invoked_subcommand or ''} ...` to see the traceback",
                err=True,
            )
            raise typer.Exit(2) from error
        finally:
            dispose_opened()


app = typer.Typer(
    cls=_Root,
    rich_markup_mode=None,  # plain help: importing Rich for it would double `--help` start-up time
    pretty_exceptions_enable=False,  # --debug shows Python's plain traceback
    help="Take an AWS platform from one region to two, and prove it got there.",
    no_args_is_help=True,
)


@app.callback()
def root(
    debug: Annotated[
        bool, typer.Option("--debug", help="On an unexpected error, show its traceback.")
    ] = False,
) -> None:
    """Take an AWS platform from one region to two, and prove it got there."""


for commands in (
    server.commands,
    jobs.commands,
    verification.commands,
    findings.commands,
    evidence.commands,
    progress.commands,
):
    app.add_typer(commands)  # no name: their commands sit at the top level, in this order
app.add_typer(environments.env_app, name="env")
app.add_typer(database.db_app, name="db")
app.add_typer(identity.user_app, name="user")
app.add_typer(identity.token_app, name="token")
app.add_typer(evidence.runbook_app, name="runbook")
app.add_typer(evidence.evidence_app, name="evidence")
app.add_typer(notifications.notify_app, name="notify")
