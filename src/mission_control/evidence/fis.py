"""A finished AWS Fault Injection Service experiment, recorded as a drill of the item it proves.

An experiment proves an item only when it injected the failure that item's drill is about: the map
below is that judgement, and docs/evidence-imports.md explains each line. Reading is fis:GetExperiment.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from mission_control.evidence.drills.record import DrillRecord, Outcome, Step
from mission_control.evidence.errors import EvidenceError
from mission_control.verification.aws import AwsClients, AwsError, call

ACTIONS = ("fis:GetExperiment",)
# Which FIS actions inject the failure an item's drill must survive.
PROVES: dict[str, tuple[str, ...]] = {
    # A Region cut off from the others (the "Cross-Region: Connectivity" scenario): traffic must shift.
    "dns.failover-runbook": (
        "aws:network:route-table-disrupt-cross-region-connectivity",
        "aws:network:transit-gateway-disrupt-cross-region-connectivity",
        "aws:dynamodb:global-table-pause-replication",
    ),
    # The primary origin stops answering: CloudFront must serve from the secondary origin.
    "cloudfront.failover-test": (
        "aws:network:disrupt-connectivity",
        "aws:ec2:stop-instances",
        "aws:ecs:stop-task",
        "aws:lambda:invocation-error",
    ),
}
_FINISHED = {"completed": Outcome.PASSED, "stopped": Outcome.FAILED, "failed": Outcome.FAILED}


def import_experiment(
    experiment_id: str, *, item_id: str, environment: str, region: str, clients: AwsClients
) -> DrillRecord:
    """Read the experiment and turn it into a drill record; raise EvidenceError when it cannot prove `item_id`."""
    accepted = PROVES.get(item_id)
    if accepted is None:
        provable = ", ".join(sorted(PROVES))
        raise EvidenceError(f"no FIS experiment can prove {item_id}: FIS evidence proves only {provable}")
    answer = call(
        clients.get("fis", region), "get_experiment", action="fis:GetExperiment",
        resource=f"experiment {experiment_id}", region=region, id=experiment_id,
    )  # fmt: skip
    if isinstance(answer, AwsError):
        raise EvidenceError(f"{answer}" + (f": {answer.message}" if answer.message else ""))
    experiment = answer["experiment"]
    status = experiment["state"]["status"]
    if status == "cancelled":
        raise EvidenceError(f"experiment {experiment_id} was cancelled before it ran: it proves nothing")
    if status not in _FINISHED:
        raise EvidenceError(
            f"experiment {experiment_id} is {status}, not finished: import it once it has ended"
        )
    actions = experiment.get("actions", {})
    injected = sorted({action["actionId"] for action in actions.values()})
    if not set(injected) & set(accepted):
        raise EvidenceError(
            f"experiment {experiment_id} runs {', '.join(injected) or 'no action'}, which cannot prove "
            f"{item_id}: that needs one of {', '.join(accepted)}"
        )
    return _record(experiment, item_id=item_id, environment=environment, outcome=_FINISHED[status])


def _record(experiment: dict[str, Any], *, item_id: str, environment: str, outcome: Outcome) -> DrillRecord:
    started: datetime = experiment["startTime"]
    finished: datetime = experiment["endTime"]
    actions = experiment.get("actions", {})
    steps = sorted(
        (_step(name, action, started) for name, action in actions.items()), key=lambda step: step.started_at
    )
    state = experiment["state"]
    measurements = {
        "duration_seconds": round((finished - started).total_seconds(), 3),
        "fis_experiment_id": experiment["id"],
        "fis_experiment_template_id": experiment.get("experimentTemplateId"),
        "fis_state": state["status"],
        "fis_state_reason": state.get("reason", ""),
        "stop_conditions": [
            {"source": condition["source"], "value": condition.get("value")}
            for condition in experiment.get("stopConditions", [])
        ],
    }
    return DrillRecord("fis", environment, item_id, started, finished, outcome, steps, measurements)


def _step(name: str, action: dict[str, Any], experiment_start: datetime) -> Step:
    """One action as a step; an action that never started (skipped, cancelled) sits at the experiment's start."""
    started, finished = action.get("startTime"), action.get("endTime")
    state = action.get("state", {})
    return Step(
        name=f"{name} ({action['actionId']})",
        started_at=started or experiment_start,
        finished_at=finished,
        seconds=round((finished - started).total_seconds(), 3) if started and finished else None,
        ok=state.get("status") == "completed",
        detail=f"{state.get('status', 'unknown')}: {state.get('reason', '')}".rstrip(": "),
    )
