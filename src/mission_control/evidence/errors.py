"""The error every evidence generator raises when the live configuration cannot support it."""

from mission_control.errors import MissionControlError


class EvidenceError(MissionControlError):
    """The message says what to fix first (or which AWS call failed)."""
