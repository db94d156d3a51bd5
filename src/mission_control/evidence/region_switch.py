"""A finished ARC Region switch plan execution, recorded as a drill with its recovery time against the RTO.

A plan execution proves a failover only when it shifted traffic: the workflow it ran (the plan's
workflow for its action and Region) has a Route 53 health check or routing control step, at the top,
inside a Parallel block, or in a child plan it runs (read with GetPlan; Region switch nests one level).
Reading is arc-region-switch:GetPlanExecution (paginated over its steps), and GetPlan for child plans.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from mission_control.evidence.drills.record import DrillRecord, Outcome, Step
from mission_control.evidence.errors import EvidenceError
from mission_control.verification.aws import AwsClients

ACTIONS = ("arc-region-switch:GetPlanExecution", "arc-region-switch:GetPlan")
# Which execution blocks shift traffic between Regions, and so prove the DNS failover drill.
PROVES: dict[str, tuple[str, ...]] = {"dns.failover-runbook": ("Route53HealthCheck", "ARCRoutingControl")}
_FINISHED = {
    "completed": Outcome.PASSED,
    "completedMonitoringApplicationHealth": Outcome.PASSED,
    "completedWithExceptions": Outcome.FAILED,
    "failed": Outcome.FAILED,
    "canceled": Outcome.ABORTED,
    "planExecutionTimedOut": Outcome.FAILED,
}
_DURATION = re.compile(r"P(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+(?:\.\d+)?)S)?)?")


def import_execution(
    execution_id: str,
    *,
    plan_arn: str,
    item_id: str,
    environment: str,
    region: str,
    rto_seconds: int | None,
    clients: AwsClients,
) -> DrillRecord:
    """Read the execution and record it as a drill; raise EvidenceError when it cannot prove `item_id`."""
    accepted = PROVES.get(item_id)
    if accepted is None:
        raise EvidenceError(
            f"no Region switch execution can prove {item_id}: it proves only {', '.join(sorted(PROVES))}"
        )
    client = clients.get("arc-region-switch", region)
    execution = _read(client, plan_arn, execution_id, region)
    state = execution["executionState"]
    if state not in _FINISHED:
        raise EvidenceError(f"execution {execution_id} is {state}, not finished: import it once it has ended")
    blocks = sorted(_blocks_run(client, execution["plan"], execution, set(accepted), region, set()))
    if not set(blocks) & set(accepted):
        raise EvidenceError(
            f"plan {execution['plan']['name']} runs {', '.join(blocks) or 'no step'} to "
            f"{execution['executionAction']} {execution['executionRegion']}, which does not shift traffic "
            f"and cannot prove {item_id}: that needs one of {', '.join(accepted)}"
        )
    return _record(execution, item_id, environment, _FINISHED[state], rto_seconds)


def _blocks_run(
    client: Any,
    plan: dict[str, Any],
    execution: dict[str, Any],
    wanted: set[str],
    region: str,
    seen: set[str],
) -> set[str]:
    """The block types the execution ran in `plan`, Parallel blocks opened; a child plan is read only
    while none of `wanted` has been found, so an unreadable child cannot refuse what the parent proves."""
    steps = [
        step
        for workflow in plan["workflows"]
        if workflow["workflowTargetAction"] == execution["executionAction"]
        and workflow.get("workflowTargetRegion") in (None, execution["executionRegion"])
        for step in _flattened(workflow.get("steps", []))
    ]
    found = {step["executionBlockType"] for step in steps}
    children = [
        step["executionBlockConfiguration"]["regionSwitchPlanConfig"]["arn"]
        for step in steps
        if step["executionBlockType"] == "ARCRegionSwitchPlan"
    ]
    for child in children:
        if found & wanted:
            break
        if child in seen:
            continue
        seen.add(child)
        found |= _blocks_run(
            client, _child_plan(client, child, plan["arn"], region), execution, wanted, region, seen
        )
    return found


def _flattened(steps: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Every step, those inside Parallel blocks (`parallelConfig.steps`, at any depth) included."""
    flat = []
    for step in steps:
        flat.append(step)
        parallel = step.get("executionBlockConfiguration", {}).get("parallelConfig")
        if parallel:
            flat.extend(_flattened(parallel.get("steps", [])))
    return flat


def _read(client: Any, plan_arn: str, execution_id: str, region: str) -> dict[str, Any]:
    what = f"execution {execution_id} of {plan_arn}"
    return _answer(
        lambda: (
            client.get_paginator("get_plan_execution")
            .paginate(planArn=plan_arn, executionId=execution_id)
            .build_full_result()
        ),
        "arc-region-switch:GetPlanExecution",
        what,
        region,
    )


def _child_plan(client: Any, arn: str, parent: str, region: str) -> dict[str, Any]:
    answer = _answer(
        lambda: client.get_plan(arn=arn), "arc-region-switch:GetPlan", f"child plan {arn} of {parent}", region
    )
    return answer["plan"]


def _answer(read: Callable[[], Any], action: str, what: str, region: str) -> dict[str, Any]:
    try:
        return read()
    except ClientError as error:
        details = error.response.get("Error", {})
        raise EvidenceError(
            f"{details.get('Code', 'ClientError')} on {action} for {what} in {region}: "
            f"{details.get('Message', '')}".rstrip(": ")
        ) from error
    except BotoCoreError as error:
        raise EvidenceError(f"{action} for {what} in {region} failed: {error}") from error


def _record(
    execution: dict[str, Any], item_id: str, environment: str, outcome: Outcome, rto_seconds: int | None
) -> DrillRecord:
    started: datetime = execution["startTime"]
    finished: datetime = execution.get("endTime") or execution.get("updatedAt") or started
    recovery = recovery_seconds(execution.get("actualRecoveryTime"))
    steps = [_step(state, started) for state in execution.get("stepStates", [])]
    measurements: dict[str, Any] = {
        "duration_seconds": round((finished - started).total_seconds(), 3),
        "region_switch_plan": execution["plan"]["name"],
        "region_switch_execution_id": execution["executionId"],
        "region_switch_action": f"{execution['executionAction']} {execution['executionRegion']}",
        "region_switch_mode": execution["mode"],
        "region_switch_state": execution["executionState"],
    }
    if recovery is not None:
        measurements["rto_seconds"] = recovery
    if rto_seconds is not None:
        check = _rto_step(recovery, rto_seconds, finished)
        steps.append(check)
        if not check.ok and outcome is Outcome.PASSED:
            outcome = Outcome.FAILED
    return DrillRecord("region-switch", environment, item_id, started, finished, outcome, steps, measurements)


def _rto_step(recovery: float | None, rto_seconds: int, at: datetime) -> Step:
    """The RTO holds only when Region switch measured the recovery: no figure is no proof."""
    if recovery is None:
        return Step(
            "recovery within RTO", at, at, 0.0, False, "Region switch reported no actual recovery time"
        )
    verdict = "within" if recovery <= rto_seconds else "over"
    detail = f"recovered in {recovery:g} s, {verdict} the RTO of {rto_seconds} s"
    return Step("recovery within RTO", at, at, 0.0, recovery <= rto_seconds, detail)


def recovery_seconds(duration: str | None) -> float | None:
    """Seconds in an ISO 8601 duration such as PT12M30S (None when absent or not one)."""
    match = _DURATION.fullmatch(duration or "")
    if not duration or match is None or duration in ("P", "PT"):
        return None
    days, hours, minutes, seconds = (float(part) if part else 0.0 for part in match.groups())
    return days * 86400 + hours * 3600 + minutes * 60 + seconds


def _step(state: dict[str, Any], execution_start: datetime) -> Step:
    started, finished = state.get("startTime"), state.get("endTime")
    status = state.get("status", "unknown")
    return Step(
        name=state.get("name", "step"),
        started_at=started or execution_start,
        finished_at=finished,
        seconds=round((finished - started).total_seconds(), 3) if started and finished else None,
        ok=status in ("completed", "skipped"),
        detail=status,
    )
