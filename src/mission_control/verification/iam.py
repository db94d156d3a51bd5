"""The least-privilege policy for verification, derived from what the probes declare (never listed here)."""

from __future__ import annotations

from typing import Any

from mission_control.verification import registry


def read_only_policy() -> dict[str, Any]:
    """An IAM policy allowing exactly the union of every registered probe's declared actions."""
    registry.load_all()
    actions = sorted({action for probe in registry.PROBES.values() for action in probe.actions})
    return {
        "Version": "2012-10-17",
        "Statement": [
            {"Sid": "MissionControlVerifyReadOnly", "Effect": "Allow", "Action": actions, "Resource": "*"}
        ],
    }
