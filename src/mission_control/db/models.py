"""Every table, imported in one place so Alembic and create-time code see the whole schema."""

from mission_control.evidence.models import Attestation, DrillRun, Evidence
from mission_control.identity.models import ApiToken, LoginFailure, User, WebSession
from mission_control.progress.models import AuditEvent, Environment, ItemState
from mission_control.verification.models import VerificationResult, VerificationRun

__all__ = [
    "ApiToken",
    "Attestation",
    "AuditEvent",
    "DrillRun",
    "Environment",
    "Evidence",
    "ItemState",
    "LoginFailure",
    "User",
    "VerificationResult",
    "VerificationRun",
    "WebSession",
]
