"""The `env` sub-commands: environments whose progress is tracked."""

from __future__ import annotations

from typing import Annotated

import typer

from mission_control.cli import common
from mission_control.cli.common import DEFAULT_CONFIG, ConfigOption

env_app = typer.Typer(help="Environments whose progress is tracked.", no_args_is_help=True)


@env_app.command("add")
def env_add(name: Annotated[str, typer.Argument(help="e.g. staging")]) -> None:
    """Create an environment; all its items start open."""
    from mission_control.catalog import load_default_catalog
    from mission_control.errors import MissionControlError
    from mission_control.progress.service import create_environment

    database = common.database()
    try:
        with database.transaction() as session:
            create_environment(session=session, catalog=load_default_catalog(), name=name, actor="cli")
    except MissionControlError as error:
        raise common.fail(str(error)) from error
    typer.echo(f"created environment {name}")


@env_app.command("list")
def env_list(config: ConfigOption = DEFAULT_CONFIG) -> None:
    """List environments and where each comes from: the configuration file, discovery, or the database."""
    from mission_control.progress.service import list_environments
    from mission_control.verification.discovery import discovered

    configured = common.configs(config, required=False)
    with common.database().read() as session:
        found = discovered(session=session)
        stored = [environment.name for environment in list_environments(session=session)]
        for name in sorted({*stored, *configured}):
            row = found.get(name)
            if name in configured:
                source = f"config {config}"
            elif row is not None:
                state = "archived" if row.archived_at else "discovered"
                source = (
                    f"{state}: account {row.account_id}, template {row.template}, {row.organizational_unit}"
                )
            else:
                source = "database"
            typer.echo(f"{name}\t{source}")


@env_app.command("discover")
def env_discover(
    role_name: Annotated[str, typer.Option("--role-name", help="Role to assume in each account.")],
    template: Annotated[str, typer.Option("--template", help="[templates.NAME] the environments use.")],
    ou: Annotated[
        list[str] | None, typer.Option("--ou", help="Only this OU (and those nested in it).")
    ] = None,
    tag: Annotated[list[str] | None, typer.Option("--tag", help="Only accounts tagged KEY=VALUE.")] = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Print the plan; change nothing.")] = False,
    config: ConfigOption = DEFAULT_CONFIG,
) -> None:
    """Create or update one environment per ACTIVE account of the AWS organization (read-only calls).

    Accounts that left or closed are archived (history kept, never deleted). Running it again changes nothing.
    """
    import boto3

    from mission_control.catalog import load_default_catalog
    from mission_control.verification.config import ConfigError, load_templates
    from mission_control.verification.discovery import DiscoveryError, member_ids, reconcile, walk, with_tags

    tags = dict(_tag(text) for text in tag or [])
    try:
        if template not in load_templates(config):
            raise common.fail(f"{config}: no [templates.{template}] table for --template")
    except ConfigError as error:
        raise common.fail(str(error)) from error
    configured = set(common.configs(config, required=False))
    client = boto3.client("organizations")
    try:
        accounts = walk(client, parents=ou or ())
        if tags:
            accounts = with_tags(client, accounts)
        members = member_ids(client)
    except DiscoveryError as error:
        raise common.fail(str(error), code=1) from error
    database = common.database()
    with database.transaction() as session:
        plan = reconcile(
            session=session, catalog=load_default_catalog(), accounts=accounts, members=members,
            role_name=role_name, template=template, tags=tags, configured=configured, apply=not dry_run,
        )  # fmt: skip
    prefix = "would be " if dry_run else ""
    for label, names in (("added", plan.added), ("changed", plan.changed), ("suspended", plan.suspended)):
        typer.echo(f"{prefix}{label} ({len(names)}): {', '.join(names) or '-'}")
    typer.echo(f"skipped ({len(plan.skipped)}):" + "".join(f"\n  {entry}" for entry in plan.skipped))


def _tag(text: str) -> tuple[str, str]:
    key, equals, value = text.partition("=")
    if not equals or not key:
        raise common.fail(f"--tag {text!r}: expected KEY=VALUE")
    return key, value
