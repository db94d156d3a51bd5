"""Every table, imported in one place so Alembic and create-time code see the whole schema."""

from mission_control.identity.models import ApiToken, User, WebSession
from mission_control.progress.models import AuditEvent, Environment, ItemState
from mission_control.verification.models import VerificationResult, VerificationRun

__all__ = [
    "ApiToken",
    "AuditEvent",
    "Environment",
    "ItemState",
    "User",
    "VerificationResult",
    "VerificationRun",
    "WebSession",
]
