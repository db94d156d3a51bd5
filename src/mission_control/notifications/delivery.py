"""Sending one change set through one channel; a failure is a DeliveryError saying what to fix.

Error messages never contain a channel's URL or secret: a Slack webhook URL is itself a credential.
"""

from __future__ import annotations

import smtplib
import ssl
import time
from collections.abc import Callable, Mapping

import httpx

from mission_control.notifications.changes import ChangeSet
from mission_control.notifications.channels import Channel
from mission_control.notifications.messages import email_message, slack_message, webhook_body
from mission_control.notifications.signing import SIGNATURE_HEADER, sign

DELIVERY_HEADER = "X-Mission-Control-Delivery"  # the change set's idempotency key
HTTP_TIMEOUT_SECONDS = 10
SMTP_TIMEOUT_SECONDS = 20
DEFAULT_SMTP_PORT = 587


class DeliveryError(Exception):
    """A message that did not go out; the text names the channel and the cause, never a secret."""


def deliver(
    channel: Channel,
    change_set: ChangeSet,
    *,
    environ: Mapping[str, str],
    clock: Callable[[], float] = time.time,
) -> None:
    """Send `change_set` (already filtered to what `channel` wants) or raise DeliveryError."""
    if channel.kind == "email":
        _send_email(channel, change_set, environ)
        return
    url = _secret(channel, "url_env", environ)
    headers = {DELIVERY_HEADER: change_set.key, "Content-Type": "application/json"}
    if channel.kind == "slack":
        body = httpx.Request("POST", url, json=slack_message(change_set)).content
    else:
        body = webhook_body(change_set)
        headers[SIGNATURE_HEADER] = sign(_secret(channel, "secret_env", environ), body, int(clock()))
    try:
        response = httpx.post(url, content=body, headers=headers, timeout=HTTP_TIMEOUT_SECONDS)
    except httpx.HTTPError as error:
        raise DeliveryError(f"{channel.kind} channel {channel.name}: {type(error).__name__}") from None
    if not response.is_success:
        raise DeliveryError(
            f"{channel.kind} channel {channel.name}: HTTP {response.status_code} from the receiver"
        )


def _send_email(channel: Channel, change_set: ChangeSet, environ: Mapping[str, str]) -> None:
    settings = channel.settings
    message = email_message(change_set, sender=settings["from"], recipients=settings["to"])
    context = ssl.create_default_context(cafile=settings.get("ca_file"))
    where = f"email channel {channel.name} ({settings['smtp_host']})"
    try:
        with smtplib.SMTP(
            settings["smtp_host"], settings.get("smtp_port", DEFAULT_SMTP_PORT), timeout=SMTP_TIMEOUT_SECONDS
        ) as smtp:
            smtp.starttls(context=context)  # never send a password or a report in clear text
            if "username_env" in settings:
                smtp.login(
                    _secret(channel, "username_env", environ), _secret(channel, "password_env", environ)
                )
            smtp.send_message(message)
    except smtplib.SMTPNotSupportedError:
        raise DeliveryError(f"{where}: the server does not offer STARTTLS") from None
    except (smtplib.SMTPException, ssl.SSLError, OSError) as error:
        raise DeliveryError(f"{where}: {type(error).__name__}: {error}") from None


def _secret(channel: Channel, key: str, environ: Mapping[str, str]) -> str:
    variable = channel.settings.get(key)
    if not variable:
        raise DeliveryError(
            f"{channel.kind} channel {channel.name}: set {key} in [notifications.{channel.name}]"
        )
    value = environ.get(variable, "")
    if not value:
        raise DeliveryError(
            f"{channel.kind} channel {channel.name}: environment variable {variable} is not set"
        )
    return value
