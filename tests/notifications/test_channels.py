"""[notifications.NAME] tables: strictly validated, secrets only by variable name, filters that hold."""

from __future__ import annotations

import pytest

from mission_control.notifications.channels import Channel, parse_channels
from mission_control.verification.config import ConfigError, parse_config

ENVIRONMENTS = """
[environments.production]
primary_region = "us-east-1"
secondary_region = "ap-southeast-1"
"""


def channels(text: str) -> dict[str, Channel]:
    import tomllib

    parse_config(ENVIRONMENTS + text, source="mc.toml")
    return parse_channels(tomllib.loads(ENVIRONMENTS + text).get("notifications", {}), "mc.toml")


def test_a_slack_channel_names_its_url_variable_and_defaults_to_every_environment() -> None:
    found = channels(
        '[notifications.ops]\nkind = "slack"\nurl_env = "SLACK_WEBHOOK_URL"\nevents = ["regressed"]\n'
    )
    assert found["ops"] == Channel("ops", "slack", ("regressed",), ("*",), {"url_env": "SLACK_WEBHOOK_URL"})


@pytest.mark.parametrize(
    ("table", "message"),
    [
        (
            'kind = "pager"\nevents = ["regressed"]',
            "notifications.ops.kind: expected one of slack, webhook, email",
        ),
        ('kind = "slack"\nevents = ["regressed"]', "notifications.ops: missing required key 'url_env'"),
        ('kind = "webhook"\nurl_env = "U"\nevents = ["regressed"]', "missing required key 'secret_env'"),
        ('kind = "slack"\nurl_env = "U"', "missing required key 'events'"),
        ('kind = "slack"\nurl_env = "U"\nevents = ["regresed"]', "unknown event 'regresed'"),
        (
            'kind = "slack"\nurl = "https://hooks.example/T0/B0/x"\nurl_env = "U"\nevents = ["error"]',
            "unknown key 'url'",
        ),
        ('kind = "slack"\nurl_env = "U"\nevents = []', "notifications.ops.events: expected a non-empty list"),
        (
            'kind = "slack"\nurl_env = "U"\nevents = ["error"]\nenvironments = "prod"',
            "environments: expected",
        ),
        (
            'kind = "email"\nsmtp_host = "h"\nfrom = "a@b"\nto = ["c@d"]\nsmtp_port = 0\nevents = ["error"]',
            "smtp_port",
        ),
        (
            'kind = "email"\nsmtp_host = "h"\nfrom = "a@b"\nto = "c@d"\nevents = ["error"]',
            "notifications.ops.to",
        ),
    ],
)
def test_a_wrong_channel_is_refused_naming_the_key(table: str, message: str) -> None:
    with pytest.raises(ConfigError, match=r"^mc\.toml: ") as refused:
        parse_config(ENVIRONMENTS + "[notifications.ops]\n" + table + "\n", source="mc.toml")
    assert message in str(refused.value)


def test_a_channel_takes_only_its_events_and_environments() -> None:
    channel = Channel("ops", "slack", ("regressed", "recovered"), ("prod*", "tenants"), {"url_env": "U"})
    assert channel.wants("regressed", "production")
    assert not channel.wants("error", "production")
    assert not channel.wants("regressed", "staging")
    assert channel.wants("recovered", "tenant-17", template="tenants")
    assert not channel.wants("recovered", "tenant-17", template="other")
