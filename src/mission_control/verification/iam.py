"""The least-privilege policy for verification, derived from what the probes declare (never listed here)."""

from __future__ import annotations

from typing import Any

from mission_control.verification import registry


def read_only_policy() -> dict[str, Any]:
    """An IAM policy allowing exactly the union of every registered probe's declared actions."""
    registry.load_all()
    actions = {action for probe in registry.PROBES.values() for action in probe.actions}
    return _policy("MissionControlVerifyReadOnly", actions)


def drills_policy() -> dict[str, Any]:
    """The separate policy drills run with: the union of every registered drill's declared actions."""
    from mission_control.evidence.drills import registry as drills

    drills.load_all()
    return _policy(
        "MissionControlDrills", {action for drill in drills.DRILLS.values() for action in drill.actions}
    )


def _policy(sid: str, actions: set[str]) -> dict[str, Any]:
    return {
        "Version": "2012-10-17",
        "Statement": [{"Sid": sid, "Effect": "Allow", "Action": sorted(actions), "Resource": "*"}],
    }
