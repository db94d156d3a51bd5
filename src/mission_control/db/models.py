"""Every table, imported in one place so Alembic and create-time code see the whole schema."""

from mission_control.evidence.models import Attestation, DrillRun, Evidence
from mission_control.identity.models import ApiToken, InstanceSecret, LoginAttempt, User, WebSession
from mission_control.jobs.models import JobRun, ScheduleFire
from mission_control.notifications.models import Delivery
from mission_control.progress.models import AuditEvent, Environment, ItemState
from mission_control.verification.models import DiscoveredAccount, VerificationResult, VerificationRun

__all__ = [
    "ApiToken",
    "Attestation",
    "AuditEvent",
    "Delivery",
    "DiscoveredAccount",
    "DrillRun",
    "Environment",
    "Evidence",
    "InstanceSecret",
    "ItemState",
    "JobRun",
    "LoginAttempt",
    "ScheduleFire",
    "User",
    "VerificationResult",
    "VerificationRun",
    "WebSession",
]
