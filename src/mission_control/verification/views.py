"""HTTP for verification: start a background run ("Verify now") and read its state."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session

from mission_control.db.base import utcnow
from mission_control.jobs import runner as runners
from mission_control.jobs.schedules import last_fire, verify_schedule_of
from mission_control.jobs.verification import KIND as verification_kind
from mission_control.progress.service import get_environment
from mission_control.verification.service import latest_run
from mission_control.web.auth import Principal, require

api = APIRouter(prefix="/api/v1", tags=["verification"])
pages = APIRouter(include_in_schema=False)

Viewer = Annotated[Principal, Depends(require("viewer"))]
Editor = Annotated[Principal, Depends(require("editor"))]


def last_run_summary(session: Session, environment: str) -> dict[str, Any] | None:
    """The environment's most recent run in any state, as shown and sent as JSON."""
    run = latest_run(session=session, environment_name=environment)
    if run is None:
        return None
    return {
        "id": run.id,
        "state": run.state,
        "triggered_by": run.triggered_by,
        "started_at": run.started_at.isoformat(),
        "finished_at": run.finished_at.isoformat() if run.finished_at else None,
        "error": run.error,
    }


@dataclass(frozen=True)
class VerificationFacts:
    """What the verification card shows that only the database can change, read in one session (the
    dashboard keeps it in its read cache)."""

    last_run: dict[str, Any] | None
    progress: dict[str, Any] | None
    last_fire: dict[str, Any] | None


def verification_facts(session: Session, request: Request, environment: str) -> VerificationFacts:
    config = request.app.state.configs.get(environment)
    schedule = verify_schedule_of(config) if config else None
    fire = last_fire(session=session, schedule=schedule.name) if schedule else None
    return VerificationFacts(
        last_run_summary(session, environment),
        runners.job_progress(session=session, kind=verification_kind, environment=environment),
        {"due_at": fire.due_at.isoformat(), "outcome": fire.outcome} if fire else None,
    )


def verification_state(request: Request, environment: str, facts: VerificationFacts) -> dict[str, Any]:
    """Whether the environment can be verified, the run queued or in progress (any process), the last
    run, its schedule, and why queued work would wait (no worker)."""
    config = request.app.state.configs.get(environment)
    schedule = verify_schedule_of(config) if config else None
    return {
        "configured": config is not None,
        "progress": facts.progress,
        "last_run": facts.last_run,
        "schedule": (
            {"cron": schedule.cron, "next": schedule.next_due(utcnow()).isoformat(), "last": facts.last_fire}
            if schedule
            else None
        ),
        "problem": request.app.state.runner.problem(),
    }


def _start(request: Request, environment: str, actor: str) -> None:
    with request.app.state.database.read() as session:
        get_environment(session=session, name=environment)
    runners.start_verification(request.app.state.runner, environment=environment, actor=actor)


def _state(request: Request, environment: str) -> dict[str, Any]:
    with request.app.state.database.read() as session:
        return verification_state(request, environment, verification_facts(session, request, environment))


@api.get("/environments/{environment}/verification")
def get_verification(environment: str, request: Request, _: Viewer) -> dict[str, Any]:
    """The state of verification for an environment: configured, in progress, last run."""
    return _state(request, environment)


@api.post("/environments/{environment}/verification", status_code=202)
def start_verification(environment: str, request: Request, principal: Editor) -> dict[str, Any]:
    """Start a background verification run; 409 if one is already running, 422 if not configured."""
    _start(request, environment, principal.name)
    return _state(request, environment)


@pages.post("/environments/{environment}/verify")
def verify_now(environment: str, request: Request, principal: Editor) -> Response:
    """The no-JavaScript "Verify now" button."""
    _start(request, environment, principal.name)
    return RedirectResponse(f"/?env={environment}", status_code=303)
