"""The error every evidence generator raises when the live configuration cannot support it."""


class EvidenceError(Exception):
    """The message says what to fix first (or which AWS call failed)."""
