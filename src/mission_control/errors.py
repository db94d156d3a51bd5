"""The project-wide error base: an error whose message an operator can act on as it stands."""

from __future__ import annotations


class MissionControlError(Exception):
    """Shown to the person as its message alone (one line, no traceback): it says what to change."""
