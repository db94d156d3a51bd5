"""Rules for text users give us, shared by every domain, so one input is judged the same everywhere.

PostgreSQL cannot store NUL, and a lone surrogate cannot be encoded as UTF-8: both are refused at the
door with a message instead of failing in the database with a 500.
"""

from __future__ import annotations

import re

ENVIRONMENT_NAME = re.compile(r"[a-z0-9][a-z0-9-]{0,63}")
ENVIRONMENT_NAME_RULE = "use lowercase letters, digits and '-', at most 64 characters"


def is_environment_name(name: str) -> bool:
    return ENVIRONMENT_NAME.fullmatch(name) is not None


def text_problem(value: str, *, field: str, max_length: int) -> str | None:
    """Why `value` cannot be stored as `field`, or None when it can."""
    if "\x00" in value:
        return f"{field} contains a NUL character"
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return f"{field} contains a character that is not valid Unicode text"
    if len(value) > max_length:
        return f"{field} is {len(value)} characters long; the limit is {max_length}"
    return None


def storable(value: str) -> str:
    """`value` made safe to record as-is (audit trail of hostile input): NUL and lone surrogates replaced."""
    return value.replace("\x00", "\ufffd").encode("utf-8", "replace").decode("utf-8")


def same_secret(submitted: str, expected: str) -> bool:
    """Constant-time comparison that any text can go through (compare_digest refuses non-ASCII str)."""
    import hmac

    return hmac.compare_digest(submitted.encode("utf-8", "replace"), expected.encode("utf-8", "replace"))
