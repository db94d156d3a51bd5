"""HTTP for progress: the JSON API (`api`) and the server-rendered dashboard (`pages`).

Views only translate HTTP to service calls; queries live in service.py.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Depends, File, Form, Query, Request, UploadFile
from fastapi.responses import RedirectResponse, Response, StreamingResponse
from markupsafe import Markup
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from mission_control.catalog import EFFORTS
from mission_control.db.base import utcnow
from mission_control.evidence.jobs import startable_drills
from mission_control.evidence.views import item_evidence, past_drills
from mission_control.progress import service
from mission_control.progress.checklist import ChecklistView
from mission_control.progress.importer import (
    MAX_IMPORT_BYTES,
    UnreadableImport,
    apply_import,
    parse_localstorage,
)
from mission_control.progress.service import DEFAULT_ENVIRONMENT, MAX_NOTE_LENGTH, InvalidInput
from mission_control.report.burnup import burnup, burnup_svg
from mission_control.verification.views import last_run_summary, verification_state
from mission_control.web.auth import Principal, require
from mission_control.web.templating import templates

api = APIRouter(prefix="/api/v1", tags=["progress"])
EVIDENCE_LABELS = {
    "complete": "📎 Evidence complete",
    "stale": "⚠ Evidence stale",
    "incomplete": "📎 Evidence needed",
}
PROOF_LABELS = {
    "verified": "✔ Verified",
    "failing": "✖ Failing",
    "error": "⚠ Could not check",
    "manual": "Manual: needs evidence",
}
pages = APIRouter(include_in_schema=False)
BURNUP_REDRAWN_AFTER = timedelta(minutes=1)  # the chart runs up to "now"; a cached one lags at most this
CHANGES_CHARTED = 2_000  # the dashboard's chart replays the newest ticks and unticks; reports replay all

Viewer = Annotated[Principal, Depends(require("viewer"))]
Editor = Annotated[Principal, Depends(require("editor"))]
Admin = Annotated[Principal, Depends(require("admin"))]


class ItemPatch(BaseModel):
    """Fields to change; omitted fields stay as they are, `"owner": null` clears the owner."""

    model_config = ConfigDict(extra="forbid")
    checked: bool | None = None
    owner: str | None = Field(default=None, max_length=service.MAX_OWNER_LENGTH)
    note: str | None = Field(default=None, max_length=MAX_NOTE_LENGTH)
    version: int | None = None


class NewEnvironment(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str


def _read(request: Request) -> Any:
    return request.app.state.database.read()


def _write(request: Request) -> Any:
    return request.app.state.database.transaction()


def _checklist(request: Request, environment: str) -> ChecklistView:
    def compute(session: Session) -> tuple[ChecklistView, datetime | None]:
        view = service.get_checklist(
            session=session, catalog=request.app.state.catalog, environment_name=environment
        )
        return view, view.valid_until

    return request.app.state.read_cache.get(("checklist", environment), compute)


@dataclass(frozen=True)
class DashboardData:
    """What the dashboard shows that only the database (and the clock) can change."""

    checklist: ChecklistView
    environments: list[str]
    burnup_svg: str
    last_run: dict[str, Any] | None


def _dashboard_data(request: Request, environment: str) -> DashboardData:
    def compute(session: Session) -> tuple[DashboardData, datetime | None]:
        found = service.get_environment(session=session, name=environment)
        checklist = service.checklist_of(
            session=session, catalog=request.app.state.catalog, environment=found
        )
        now = utcnow()
        chart = burnup(
            session=session,
            environment=found,
            total=checklist.total,
            now=now,
            recent=CHANGES_CHARTED,
        )
        data = DashboardData(
            checklist,
            [e.name for e in service.list_environments(session=session)],
            burnup_svg(chart),
            last_run_summary(session, environment),
        )
        return data, min(filter(None, (checklist.valid_until, now + BURNUP_REDRAWN_AFTER)))

    return request.app.state.read_cache.get(("dashboard", environment), compute)


def _update(
    request: Request, environment: str, item_id: str, actor: str, changes: dict[str, Any]
) -> dict[str, Any]:
    catalog = request.app.state.catalog
    with _write(request) as session:
        state = service.update_item(
            session=session,
            catalog=catalog,
            environment_name=environment,
            item_id=item_id,
            actor=actor,
            **changes,
        )
        # read back inside the transaction: the answer shows this write, not a later writer's
        answer = service.get_item(session=session, catalog=catalog, state=state).to_dict()
    request.app.state.live_events.nudge()
    return answer


def _history(request: Request, environment: str, item_id: str) -> list[dict[str, Any]]:
    with _read(request) as session:
        events = service.item_history(
            session=session, catalog=request.app.state.catalog, environment_name=environment, item_id=item_id
        )
        return [
            {
                "id": event.id,
                "at": event.at.isoformat(),
                "actor": event.actor,
                "action": event.action,
                "old": event.old_value,
                "new": event.new_value,
            }
            for event in events
        ]


# ---- JSON API -------------------------------------------------------------------------------


@api.get("/environments")
def list_environments(request: Request, _: Viewer) -> list[dict[str, str]]:
    """Every environment whose progress is tracked."""
    with _read(request) as session:
        return [{"name": environment.name} for environment in service.list_environments(session=session)]


@api.post("/environments", status_code=201)
def create_environment(body: NewEnvironment, request: Request, principal: Admin) -> dict[str, str]:
    """Create an environment (admin only); all its items start open."""
    with _write(request) as session:
        environment = service.create_environment(
            session=session, catalog=request.app.state.catalog, name=body.name, actor=principal.name
        )
        return {"name": environment.name}


@api.get("/environments/{environment}/checklist")
def get_checklist(environment: str, request: Request, _: Viewer) -> dict[str, Any]:
    """The checklist with each item's state and the counters (percent is rounded down)."""
    return _checklist(request, environment).to_dict()


@api.patch("/environments/{environment}/items/{item_id}")
def patch_item(
    environment: str, item_id: str, body: ItemPatch, request: Request, principal: Editor
) -> dict[str, Any]:
    """Change `checked`, `owner` and/or `note`; send `version` to fail with 409 if someone changed it first."""
    changes: dict[str, Any] = {}
    for name in ("checked", "owner", "note"):
        if name in body.model_fields_set:
            value = getattr(body, name)
            if value is None and name != "owner":
                raise InvalidInput(f"{name} cannot be null")
            changes[name] = value
    if not changes:
        raise InvalidInput("nothing to change: send at least one of checked, owner, note")
    return _update(
        request, environment, item_id, principal.name, changes | {"expected_version": body.version}
    )


@api.get("/environments/{environment}/items/{item_id}/history")
def get_history(environment: str, item_id: str, request: Request, _: Viewer) -> list[dict[str, Any]]:
    """Every change of the item, newest first: who, when, old → new."""
    return _history(request, environment, item_id)


# ---- Pages ----------------------------------------------------------------------------------


@pages.get("/")
def dashboard(
    request: Request,
    principal: Viewer,
    env: str = DEFAULT_ENVIRONMENT,
    status: Annotated[str, Query(pattern="^(all|open|done)$")] = "all",
    effort: Annotated[str, Query()] = "all",
) -> Response:
    data = _dashboard_data(request, env)
    return templates.TemplateResponse(
        request,
        "dashboard.html",
        {
            "checklist": data.checklist,
            "principal": principal,
            "environments": data.environments,
            "filters": {"status": status, "effort": effort if effort in EFFORTS else "all"},
            "efforts": EFFORTS,
            "can_edit": principal.role in ("editor", "admin"),
            "verification": verification_state(request, env, data.last_run),
            "proof_labels": PROOF_LABELS,
            "evidence_labels": EVIDENCE_LABELS,
            "burnup_chart": Markup(data.burnup_svg),
            "item_drills": _item_drills(),
            "drills_configured": env in request.app.state.verification_jobs.configs,
        },
    )


def _item_drills() -> dict[str, list[dict[str, Any]]]:
    by_item: dict[str, list[dict[str, Any]]] = {}
    for drill in startable_drills().values():
        by_item.setdefault(drill.item_id, []).append({"name": drill.name, "writes": drill.writes})
    return by_item


@pages.post("/environments/{environment}/items/{item_id}")
def submit_item(
    environment: str,
    item_id: str,
    request: Request,
    principal: Editor,
    form_kind: Annotated[str, Form(pattern="^(check|details)$")],
    checked: Annotated[str | None, Form()] = None,
    owner: Annotated[str, Form()] = "",
    note: Annotated[str, Form()] = "",
    version: Annotated[int | None, Form()] = None,
) -> Response:
    """The no-JavaScript path: a plain form post, then back to the item on the dashboard."""
    if form_kind == "check":
        changes: dict[str, Any] = {"checked": checked is not None}
    else:
        changes = {"owner": owner, "note": note.replace("\r\n", "\n")}
    _update(request, environment, item_id, principal.name, changes | {"expected_version": version})
    return RedirectResponse(f"/?env={environment}#item-{item_id}", status_code=303)


@pages.get("/environments/{environment}/items/{item_id}/history")
def history_page(environment: str, item_id: str, request: Request, principal: Viewer) -> Response:
    events = _history(request, environment, item_id)
    item = request.app.state.catalog.item(item_id)
    return templates.TemplateResponse(
        request,
        "history.html",
        {
            "environment": environment,
            "item": item,
            "events": events,
            "drills": past_drills(request, environment, item_id),
            "evidence": item_evidence(request, environment, item_id),
            "principal": principal,
        },
    )


@pages.get("/environments/{environment}/import")
def import_form(environment: str, request: Request, principal: Editor) -> Response:
    _checklist(request, environment)  # 404 for an unknown environment
    return templates.TemplateResponse(
        request,
        "import.html",
        {"environment": environment, "principal": principal, "result": None, "error": None},
    )


@pages.post("/environments/{environment}/import")
async def import_upload(
    environment: str, request: Request, principal: Editor, file: Annotated[UploadFile, File()]
) -> Response:
    raw = await file.read(MAX_IMPORT_BYTES + 1)

    def run() -> tuple[Any, str | None]:
        try:
            plan = parse_localstorage(raw, request.app.state.catalog)
        except UnreadableImport as error:
            return None, f"{file.filename or 'the file'}: {error}. Nothing was changed."
        with _write(request) as session:
            apply_import(
                session=session,
                catalog=request.app.state.catalog,
                environment_name=environment,
                plan=plan,
                actor=principal.name,
            )
        request.app.state.live_events.nudge()
        return plan, None

    result, error = await run_in_threadpool(run)
    return templates.TemplateResponse(
        request,
        "import.html",
        {"environment": environment, "principal": principal, "result": result, "error": error},
        status_code=400 if error else 200,
    )


@pages.get("/environments/{environment}/events")
async def live_events(environment: str, request: Request, _: Viewer) -> StreamingResponse:
    """Server-sent events: one `change` per audit event in this environment."""
    await run_in_threadpool(_checklist, request, environment)  # 404 for an unknown environment
    feed = request.app.state.live_events
    queue = feed.subscribe()

    async def stream() -> AsyncIterator[str]:
        try:
            yield "retry: 2000\n\n"
            while True:
                try:
                    event = await asyncio.wait_for(queue.get(), timeout=15)
                except TimeoutError:
                    yield ": keep-alive\n\n"
                    continue
                if event is None:
                    return
                if event["environment"] != environment:
                    continue
                if "id" in event:  # a stored audit event: the client reloads the state
                    yield f"id: {event['id']}\nevent: change\ndata: {json.dumps(event)}\n\n"
                else:  # ephemeral progress: shown as it comes
                    yield f"event: progress\ndata: {json.dumps(event)}\n\n"
        finally:
            feed.unsubscribe(queue)

    return StreamingResponse(
        stream(),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )
