"""Delivery through real local receivers: a signed webhook, Slack, and email over STARTTLS."""

from __future__ import annotations

import json
import time
from email import message_from_bytes
from email.policy import default

import pytest
from typer.testing import CliRunner

from mission_control.cli import app
from mission_control.notifications.channels import Channel
from mission_control.notifications.delivery import DELIVERY_HEADER, DeliveryError, deliver
from mission_control.notifications.signing import SIGNATURE_HEADER, verify_signature
from tests.notifications.conftest import HttpReceiver, SmtpServer, change_set

WEBHOOK = Channel(
    "hooks", "webhook", ("regressed",), settings={"url_env": "HOOK_URL", "secret_env": "HOOK_SECRET"}
)
SLACK = Channel("ops", "slack", ("regressed",), settings={"url_env": "SLACK_WEBHOOK_URL"})


def email_channel(server: SmtpServer) -> Channel:
    settings = {
        "smtp_host": "127.0.0.1",
        "smtp_port": server.port,
        "from": "mission-control@example.com",
        "to": ("sre@example.com",),
        "ca_file": str(server.ca_file),
    }
    return Channel("mail", "email", ("regressed",), settings=settings)


def test_a_webhook_delivery_is_signed_and_carries_its_idempotency_key(receiver: HttpReceiver) -> None:
    sent = change_set()
    deliver(WEBHOOK, sent, environ={"HOOK_URL": receiver.url, "HOOK_SECRET": "s3cret"})
    (request,) = receiver.requests
    verify_signature("s3cret", request.headers[SIGNATURE_HEADER], request.body, now=time.time())
    assert request.headers[DELIVERY_HEADER] == sent.key
    assert json.loads(request.body)["id"] == sent.key


def test_a_slack_delivery_posts_block_kit(receiver: HttpReceiver) -> None:
    deliver(SLACK, change_set(), environ={"SLACK_WEBHOOK_URL": receiver.url})
    (request,) = receiver.requests
    assert json.loads(request.body)["blocks"][0]["type"] == "header"


def test_a_refusing_receiver_is_a_delivery_error_that_never_shows_the_url(receiver: HttpReceiver) -> None:
    receiver.status = 500
    with pytest.raises(DeliveryError) as failed:
        deliver(SLACK, change_set(), environ={"SLACK_WEBHOOK_URL": receiver.url})
    assert str(failed.value) == "slack channel ops: HTTP 500 from the receiver"


def test_an_unreachable_receiver_is_a_delivery_error() -> None:
    from tests.conftest import free_port

    url = f"http://127.0.0.1:{free_port()}/hook"
    with pytest.raises(DeliveryError, match=r"^slack channel ops: ConnectError$"):
        deliver(SLACK, change_set(), environ={"SLACK_WEBHOOK_URL": url})


def test_a_missing_secret_variable_is_named() -> None:
    with pytest.raises(DeliveryError, match="environment variable HOOK_SECRET is not set"):
        deliver(WEBHOOK, change_set(), environ={"HOOK_URL": "http://127.0.0.1:9/"})


def test_an_email_goes_out_over_starttls_as_text_and_html(smtp_server: SmtpServer) -> None:
    deliver(email_channel(smtp_server), change_set(), environ={})
    (received,) = smtp_server.messages
    parsed = message_from_bytes(received.as_bytes(), policy=default)
    assert parsed["Subject"] == "Mission Control: 1 item changed in production"
    assert parsed.get_body(("plain",)) is not None
    assert parsed.get_body(("html",)) is not None


def test_an_smtp_server_without_starttls_gets_nothing(plain_smtp_server: SmtpServer) -> None:
    with pytest.raises(DeliveryError, match="does not offer STARTTLS"):
        deliver(email_channel(plain_smtp_server), change_set(), environ={})
    assert plain_smtp_server.messages == []


CONFIG = """
[environments.production]
primary_region = "us-east-1"
secondary_region = "ap-southeast-1"

[notifications.hooks]
kind = "webhook"
url_env = "HOOK_URL"
secret_env = "HOOK_SECRET"
events = ["regressed"]
"""


def test_notify_test_sends_a_labelled_test_through_the_channel(
    receiver: HttpReceiver, tmp_path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "mc.toml").write_text(CONFIG)
    monkeypatch.setenv("HOOK_URL", receiver.url)
    monkeypatch.setenv("HOOK_SECRET", "s3cret")
    result = CliRunner().invoke(app, ["notify", "test", "hooks", "--config", str(tmp_path / "mc.toml")])
    assert result.exit_code == 0, result.output
    assert "sent a test notification through webhook channel hooks" in result.output
    body = json.loads(receiver.requests[0].body)
    assert body["source"] == "notify test"
    assert body["changes"][0]["new_state"] == "test"


def test_notify_test_names_an_unknown_channel(tmp_path) -> None:
    (tmp_path / "mc.toml").write_text(CONFIG)
    result = CliRunner().invoke(app, ["notify", "test", "slack", "--config", str(tmp_path / "mc.toml")])
    assert result.exit_code == 2
    assert "no [notifications.slack] table (found: hooks)" in result.output


def test_notify_test_exits_1_when_the_delivery_fails(tmp_path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "mc.toml").write_text(CONFIG)
    monkeypatch.delenv("HOOK_URL", raising=False)
    result = CliRunner().invoke(app, ["notify", "test", "hooks", "--config", str(tmp_path / "mc.toml")])
    assert result.exit_code == 1
    assert "environment variable HOOK_URL is not set" in result.output
