"""A change set rendered for each kind of channel: Slack Block Kit, a JSON webhook body, an email."""

from __future__ import annotations

import html
import json
from email.message import EmailMessage

from mission_control.notifications.changes import ChangeSet, ItemChange

# Slack refuses messages of more than 50 blocks; keep room for the header and the overflow note.
SLACK_MAX_ITEMS = 45
_SYMBOLS = {
    "regressed": "🔴",
    "failing": "🔴",
    "error": "🟠",
    "recovered": "🟢",
    "evidence-expiring": "🟡",
    "evidence-stale": "🟠",
    "drill-failed": "🔴",
    "drill-passed": "🟢",
}


def headline(change_set: ChangeSet) -> str:
    count = len(change_set.changes)
    return f"Mission Control: {count} item{'s' if count != 1 else ''} changed in {change_set.environment}"


def slack_message(change_set: ChangeSet) -> dict[str, object]:
    """Block Kit: a header, one section per changed item (linked title, state, reason, owner)."""
    blocks: list[dict[str, object]] = [
        {"type": "header", "text": {"type": "plain_text", "text": headline(change_set)[:150]}}
    ]
    shown = change_set.changes[:SLACK_MAX_ITEMS]
    blocks.extend(
        {"type": "section", "text": {"type": "mrkdwn", "text": _slack_item(change)[:3000]}}
        for change in shown
    )
    hidden = len(change_set.changes) - len(shown)
    if hidden:
        blocks.append(
            {
                "type": "context",
                "elements": [{"type": "mrkdwn", "text": f"and {hidden} more on the dashboard"}],
            }
        )
    return {"text": headline(change_set), "blocks": blocks}


def _slack_item(change: ItemChange) -> str:
    was = f" (was {change.old_state})" if change.old_state else ""
    owner = f" · owner {_slack_escape(change.owner)}" if change.owner else ""
    return (
        f"{_SYMBOLS.get(change.event, '•')} *<{change.url}|{_slack_escape(change.title)}>*\n"
        f"{change.event}: {change.new_state}{was}{owner}\n{_slack_escape(change.reason)}"
    )


def _slack_escape(text: str) -> str:
    """Slack mrkdwn's three control characters; anything else is shown as written."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def webhook_body(change_set: ChangeSet) -> bytes:
    return json.dumps(change_set.webhook_payload(), separators=(",", ":"), ensure_ascii=False).encode()


def email_message(change_set: ChangeSet, *, sender: str, recipients: tuple[str, ...]) -> EmailMessage:
    """Plain text first, HTML as the alternative; every stored text is escaped in the HTML."""
    message = EmailMessage()
    message["Subject"] = headline(change_set)
    message["From"] = sender
    message["To"] = ", ".join(recipients)
    message["Message-ID"] = f"<{change_set.key}@mission-control>"
    lines = [headline(change_set), ""]
    for change in change_set.changes:
        was = f" (was {change.old_state})" if change.old_state else ""
        owner = f", owner {change.owner}" if change.owner else ""
        lines += [
            f"- {change.title}: {change.event}, {change.new_state}{was}{owner}",
            f"  {change.reason}",
            f"  {change.url}",
        ]
    message.set_content("\n".join(lines) + "\n")
    rows = "".join(
        '<li><a href="{url}">{title}</a>: {event}, {state}{owner}<br>{reason}</li>'.format(
            url=html.escape(change.url),
            title=html.escape(change.title),
            event=html.escape(change.event),
            state=html.escape(change.new_state),
            owner=html.escape(f", owner {change.owner}") if change.owner else "",
            reason=html.escape(change.reason),
        )
        for change in change_set.changes
    )
    message.add_alternative(
        f"<!doctype html><html><body><h1>{html.escape(headline(change_set))}</h1><ul>{rows}</ul></body></html>",
        subtype="html",
    )
    return message
