"""HTTP for evidence: start automated drills and read past ones."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import BaseModel, ConfigDict

from mission_control.evidence.service import drill_runs
from mission_control.progress.service import get_environment
from mission_control.web.auth import Principal, require

api = APIRouter(prefix="/api/v1", tags=["evidence"])
pages = APIRouter(include_in_schema=False)

Viewer = Annotated[Principal, Depends(require("viewer"))]
Editor = Annotated[Principal, Depends(require("editor"))]


class DrillStart(BaseModel):
    model_config = ConfigDict(extra="forbid")
    allow_writes: bool = False


def past_drills(request: Request, environment: str, item_id: str | None = None) -> list[dict[str, Any]]:
    """Recorded drill runs, newest first, as the API and the history page show them."""
    with request.app.state.database.read() as session:
        environment_id = get_environment(session=session, name=environment).id
        return [
            {
                "id": run.id,
                "drill": run.drill,
                "item_id": run.item_id,
                "outcome": run.outcome,
                "run_by": run.run_by,
                "started_at": run.started_at.isoformat(),
                "finished_at": run.finished_at.isoformat(),
                "steps": run.record.get("steps", []),
                "measurements": run.record.get("measurements", {}),
            }
            for run in drill_runs(session=session, environment_id=environment_id, item_id=item_id)
        ]


def _start(request: Request, environment: str, name: str, principal: Principal, allow_writes: bool) -> None:
    with request.app.state.database.read() as session:
        get_environment(session=session, name=environment)
    request.app.state.drill_jobs.start(
        environment=environment, name=name, actor=principal.name, allow_writes=allow_writes
    )


@api.get("/environments/{environment}/drills")
def list_drills(environment: str, request: Request, _: Viewer) -> dict[str, Any]:
    """Past drill runs (newest first) and the one in progress, if any."""
    return {
        "running": request.app.state.drill_jobs.running(environment),
        "runs": past_drills(request, environment),
    }


@api.post("/environments/{environment}/drills/{name}", status_code=202)
def start_drill(
    environment: str, name: str, body: DrillStart, request: Request, principal: Editor
) -> dict[str, Any]:
    """Start an automated drill in the background; one that writes to AWS needs `allow_writes`."""
    _start(request, environment, name, principal, body.allow_writes)
    return {"running": request.app.state.drill_jobs.running(environment)}


@pages.post("/environments/{environment}/drills/{name}")
def start_drill_form(
    environment: str,
    name: str,
    request: Request,
    principal: Editor,
    allow_writes: Annotated[str | None, Form()] = None,
) -> Response:
    """The no-JavaScript drill button."""
    _start(request, environment, name, principal, allow_writes is not None)
    return RedirectResponse(f"/?env={environment}", status_code=303)
