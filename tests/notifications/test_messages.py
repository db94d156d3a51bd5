"""Each channel's rendering: Slack Block Kit, the documented webhook body, text plus HTML email."""

from __future__ import annotations

import json
from email import message_from_bytes
from email.policy import default
from pathlib import Path

import jsonschema

from mission_control.notifications.messages import SLACK_MAX_ITEMS, email_message, slack_message, webhook_body
from tests.conftest import REPO
from tests.notifications.conftest import change, change_set

SCHEMA = json.loads((REPO / "docs" / "notification-webhook.schema.json").read_text())


def test_one_slack_message_lists_every_changed_item_with_its_link_reason_and_owner() -> None:
    message = slack_message(
        change_set(change(), change("recovered", item_id="dns.health-checks", owner=None))
    )
    sections = [block["text"]["text"] for block in message["blocks"] if block["type"] == "section"]
    assert message["blocks"][0]["text"]["text"] == "Mission Control: 2 items changed in production"
    assert "*<https://mc.example/?env=production#item-dns.failover-ttl|Validate DNS TTL" in sections[0]
    assert "TTL above 60s on us-east-1 (300s)" in sections[0]
    assert "owner ana" in sections[0]
    assert sections[1].startswith("🟢")


def test_slack_text_cannot_inject_links_or_mentions() -> None:
    message = slack_message(change_set(change(reason="<!channel> see <https://evil.example|here> & more")))
    section = message["blocks"][1]["text"]["text"]
    assert "&lt;!channel&gt; see &lt;https://evil.example|here&gt; &amp; more" in section


def test_a_huge_change_set_stays_within_slacks_block_limit() -> None:
    many = [change(item_id=f"item-{n}") for n in range(SLACK_MAX_ITEMS + 10)]
    message = slack_message(change_set(*many))
    assert len(message["blocks"]) <= 50
    assert message["blocks"][-1]["elements"][0]["text"] == "and 10 more on the dashboard"


def test_the_webhook_body_matches_its_published_schema() -> None:
    body = json.loads(webhook_body(change_set(change(), change("error", owner=None, old_state=None))))
    jsonschema.validate(body, SCHEMA)
    assert body["changes"][1]["old_state"] is None


def test_the_schema_refuses_a_body_missing_a_field() -> None:
    body = json.loads(webhook_body(change_set()))
    del body["changes"][0]["reason"]
    assert list(jsonschema.Draft202012Validator(SCHEMA).iter_errors(body))


def test_the_idempotency_key_is_the_same_for_the_same_changes_and_differs_otherwise() -> None:
    assert change_set().key == change_set().key
    assert change_set().key != change_set(change(reason="TTL above 60s on us-east-1 (600s)")).key


def test_an_email_has_plain_text_and_escaped_html() -> None:
    message = email_message(
        change_set(change(title="<script>alert(1)</script>")),
        sender="mc@example.com",
        recipients=("sre@example.com",),
    )
    parsed = message_from_bytes(message.as_bytes(), policy=default)
    text = parsed.get_body(("plain",)).get_content()
    markup = parsed.get_body(("html",)).get_content()
    assert "<script>alert(1)</script>: regressed" in text
    assert "<script>" not in markup
    assert "&lt;script&gt;" in markup
    assert parsed["To"] == "sre@example.com"


def test_the_schema_file_is_valid_json_schema() -> None:
    jsonschema.Draft202012Validator.check_schema(SCHEMA)
    assert Path(REPO / "docs" / "notifications.md").read_text().count("notification-webhook.schema.json")
