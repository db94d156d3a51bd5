"""HTTP for evidence: start automated drills and read past ones."""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, File, Form, Request, UploadFile
from fastapi.responses import RedirectResponse, Response
from pydantic import BaseModel, ConfigDict
from starlette.concurrency import run_in_threadpool

from mission_control.evidence.drills.registry import DRILLS
from mission_control.evidence.service import (
    MAX_FILE_BYTES,
    OPAQUE,
    add_file,
    add_link,
    attest,
    drill_runs,
    evidence_trail,
    get_evidence,
)
from mission_control.jobs import runner as runners
from mission_control.jobs.drills import KIND as drill_kind
from mission_control.progress.service import InvalidInput, NotFound, get_environment
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
    runners.start_drill(
        request.app.state.runner, environment=environment, name=name, actor=principal.name,
        allow_writes=allow_writes,
    )  # fmt: skip


@api.get("/environments/{environment}/drills")
def list_drills(environment: str, request: Request, _: Viewer) -> dict[str, Any]:
    """Past drill runs (newest first) and the one in progress, if any."""
    return {
        "running": runners.progress(request.app.state.runner, drill_kind, environment),
        "runs": past_drills(request, environment),
    }


@api.post("/environments/{environment}/drills/{name}", status_code=202)
def start_drill(
    environment: str, name: str, body: DrillStart, request: Request, principal: Editor
) -> dict[str, Any]:
    """Start an automated drill in the background; one that writes to AWS needs `allow_writes`."""
    _start(request, environment, name, principal, body.allow_writes)
    return {"running": runners.progress(request.app.state.runner, drill_kind, environment)}


@pages.post("/environments/{environment}/drills/{name}")
def start_drill_form(
    environment: str,
    name: str,
    request: Request,
    principal: Editor,
    allow_writes: Annotated[str | None, Form()] = None,
) -> Response:
    """The drill button: start it, then back to its item on the dashboard, its details open."""
    _start(request, environment, name, principal, allow_writes is not None)
    return _evidence_redirect(environment, DRILLS[name].item_id)


def _evidence_redirect(environment: str, item_id: str) -> Response:
    return RedirectResponse(
        f"/?{urlencode({'env': environment, 'open': item_id})}#item-{item_id}", status_code=303
    )


@pages.post("/environments/{environment}/items/{item_id}/evidence")
async def attach_evidence(
    environment: str,
    item_id: str,
    request: Request,
    principal: Editor,
    title: Annotated[str, Form()] = "",
    url: Annotated[str, Form()] = "",
    file: Annotated[UploadFile | None, File()] = None,
) -> Response:
    """Attach a file or a link to an item (plain form post; a file wins when both are given)."""
    content = await file.read(MAX_FILE_BYTES + 1) if file is not None and file.filename else None
    catalog, database = request.app.state.catalog, request.app.state.database

    def write() -> None:
        with database.transaction() as session:
            if content is not None:
                add_file(
                    session=session, catalog=catalog, environment_name=environment, item_id=item_id,
                    filename=file.filename or "upload", content=content, actor=principal.name, title=title,
                )  # fmt: skip
            elif url.strip():
                add_link(
                    session=session, catalog=catalog, environment_name=environment, item_id=item_id,
                    title=title, url=url, actor=principal.name,
                )  # fmt: skip
            else:
                raise InvalidInput("attach a file or give a link")

    await run_in_threadpool(write)
    request.app.state.live_events.nudge()
    return _evidence_redirect(environment, item_id)


@pages.post("/environments/{environment}/items/{item_id}/attest")
def attest_item(
    environment: str,
    item_id: str,
    request: Request,
    principal: Editor,
    statement: Annotated[str, Form()],
) -> Response:
    """Attest an item from the dashboard, bound to the fingerprint the latest run recorded for it."""
    with request.app.state.database.transaction() as session:
        attest(
            session=session, catalog=request.app.state.catalog, environment_name=environment, item_id=item_id,
            statement=statement, actor=principal.name,
        )  # fmt: skip
    request.app.state.live_events.nudge()
    return _evidence_redirect(environment, item_id)


@pages.get("/environments/{environment}/evidence/{evidence_id}")
def download_evidence(environment: str, evidence_id: int, request: Request, _: Viewer) -> Response:
    """An uploaded or generated file, always as a download with its stored (safe) type: never rendered."""
    with request.app.state.database.read() as session:
        evidence = get_evidence(session=session, environment_name=environment, evidence_id=evidence_id)
        if evidence is None or evidence.content is None:
            raise NotFound(f"evidence {evidence_id} does not exist in {environment!r}")
        return Response(
            evidence.content,
            media_type=evidence.content_type or OPAQUE,
            headers={
                "Content-Disposition": f'attachment; filename="{evidence.filename or "evidence"}"',
                "X-Content-Type-Options": "nosniff",
                "Content-Security-Policy": "default-src 'none'; sandbox",
            },
        )


def item_evidence(request: Request, environment: str, item_id: str) -> list[dict[str, Any]]:
    """Every piece of evidence and every attestation of an item, newest first, for its history page."""
    with request.app.state.database.read() as session:
        environment_id = get_environment(session=session, name=environment).id
        return evidence_trail(session=session, environment_id=environment_id, item_id=item_id)
