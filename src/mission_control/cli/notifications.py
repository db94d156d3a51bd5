"""The `notify` sub-commands: try a notification channel before relying on it."""

from __future__ import annotations

import os
from typing import Annotated

import typer

from mission_control.cli import common

notify_app = typer.Typer(
    help="Notification channels ([notifications.NAME] in the configuration).", no_args_is_help=True
)

DashboardUrlOption = Annotated[
    str, typer.Option("--dashboard-url", help="The dashboard's public URL, for the message's links.")
]


@notify_app.command("test")
def notify_test(
    channel: Annotated[str, typer.Argument(help="The channel's NAME in [notifications.NAME].")],
    config: common.ConfigOption = common.DEFAULT_CONFIG,
    env: common.VerifyEnvOption = None,
    dashboard_url: DashboardUrlOption = "http://127.0.0.1:8000",
) -> None:
    """Send one clearly labelled test change through a channel; exit 1 with the cause if it fails."""
    from datetime import UTC, datetime

    from mission_control.catalog import load_default_catalog
    from mission_control.notifications.changes import ChangeSet, ItemChange
    from mission_control.notifications.channels import load_channels
    from mission_control.notifications.delivery import DeliveryError, deliver
    from mission_control.verification.config import ConfigError

    environment = common.environment_config(config, env).name
    try:
        channels = load_channels(config)
    except ConfigError as error:
        raise common.fail(str(error)) from error
    if channel not in channels:
        known = ", ".join(sorted(channels)) or "none"
        raise common.fail(f"{config}: no [notifications.{channel}] table (found: {known})")
    item = load_default_catalog().items[0]
    change = ItemChange(
        event=channels[channel].events[0],
        item_id=item.id,
        title=item.title,
        old_state=None,
        new_state="test",
        reason="A test from `mission-control notify test`: nothing changed.",
        owner=None,
        url=f"{dashboard_url.rstrip('/')}/?env={environment}#item-{item.id}",
    )
    change_set = ChangeSet(environment, datetime.now(UTC), (change,), source="notify test")
    try:
        deliver(channels[channel], change_set, environ=os.environ)
    except DeliveryError as error:
        raise common.fail(str(error), code=1) from error
    typer.echo(f"sent a test notification through {channels[channel].kind} channel {channel}")
