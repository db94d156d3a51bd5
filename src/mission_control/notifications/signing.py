"""Webhook signatures: `X-Mission-Control-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256>`.

The MAC covers "<t>.<body>", so a receiver that checks it and refuses timestamps outside its replay
window refuses both forged bodies and replays of old, genuine ones. `verify_signature` is the
reference check a receiver implements (docs/notifications.md shows it).
"""

from __future__ import annotations

import hashlib
import hmac

SIGNATURE_HEADER = "X-Mission-Control-Signature"
REPLAY_WINDOW_SECONDS = 300


class SignatureError(ValueError):
    """A delivery whose signature is missing, malformed, wrong or outside the replay window."""


def sign(secret: str, body: bytes, timestamp: int) -> str:
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


def verify_signature(
    secret: str, header: str, body: bytes, *, now: float, window: int = REPLAY_WINDOW_SECONDS
) -> None:
    """Raise SignatureError unless `header` signs `body` with `secret` within `window` seconds of `now`."""
    parts = dict(part.split("=", 1) for part in header.split(",") if "=" in part)
    if not parts.get("t", "").isdigit() or "v1" not in parts:
        raise SignatureError(f"malformed {SIGNATURE_HEADER} header")
    timestamp = int(parts["t"])
    if abs(now - timestamp) > window:
        raise SignatureError(
            f"signature timestamp is {int(now - timestamp)} s away: outside the replay window"
        )
    if not hmac.compare_digest(sign(secret, body, timestamp), f"t={timestamp},v1={parts['v1']}"):
        raise SignatureError("signature does not match the body")
