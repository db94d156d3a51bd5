"""HTTP for progress: the JSON API (`api`) and the server-rendered dashboard (`pages`).

Views only translate HTTP to service calls; queries live in service.py.
"""

from __future__ import annotations

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
from mission_control.evidence.drills.registry import DRILLS, load_all
from mission_control.evidence.outcomes import DrillOutcome, latest_drill_outcomes
from mission_control.evidence.views import item_evidence, past_drills
from mission_control.identity.service import role_allows
from mission_control.jobs import runner as runners
from mission_control.jobs.drills import KIND as drill_kind
from mission_control.progress import service
from mission_control.progress.attention import FILTERS, count, needs_attention
from mission_control.progress.checklist import ChecklistView
from mission_control.progress.history import RECENT_CHANGES, Change, recent_changes
from mission_control.progress.importer import (
    MAX_IMPORT_BYTES,
    UnreadableImport,
    apply_import,
    parse_localstorage,
)
from mission_control.progress.scorecard import scorecard
from mission_control.progress.service import DEFAULT_ENVIRONMENT, MAX_NOTE_LENGTH, InvalidInput
from mission_control.report.burnup import burnup, burnup_svg
from mission_control.verification.views import VerificationFacts, verification_facts, verification_state
from mission_control.web.auth import Principal, require
from mission_control.web.events import event_stream
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
STATUS_LABELS = {
    "regressed": "⚠ Regressed",
    "failing": "✖ Failing",
    "error": "⚠ Could not check",
    "verified": "✔ Verified",
    "evidenced": "📎 Evidenced",
    "ticked": "☑ Ticked",
    "needs-evidence": "📎 Needs evidence",
    "manual": "✋ Manual",
    "open": "○ Open",
}
ATTENTION_LABELS = {
    "regressed": "⚠ Regressed",
    "failing": "✖ Failing",
    "error": "⚠ Could not check",
    "stale": "⌛ Evidence stale",
    "due": "⏳ Evidence due",
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
    def compute(session: Session, now: datetime) -> tuple[ChecklistView, datetime | None]:
        view = service.get_checklist(
            session=session, catalog=request.app.state.catalog, environment_name=environment, now=now
        )
        return view, view.valid_until

    return request.app.state.read_cache.get(("checklist", environment), compute)


@dataclass(frozen=True)
class DashboardData:
    """What the dashboard shows that only the database (and the clock) can change."""

    checklist: ChecklistView
    environments: list[str]
    burnup_svg: str
    verification: VerificationFacts
    running_drill: dict[str, Any] | None  # the drill job queued or running, from any process
    drill_outcomes: dict[str, dict[str, DrillOutcome]]
    recent_changes: dict[str, tuple[Change, ...]]


def _dashboard_data(request: Request, environment: str) -> DashboardData:
    def compute(session: Session, now: datetime) -> tuple[DashboardData, datetime | None]:
        found = service.get_environment(session=session, name=environment)
        checklist = service.checklist_of(
            session=session, catalog=request.app.state.catalog, environment=found, now=now
        )
        targets = request.app.state.configs.get(environment)
        chart = burnup(
            session=session,
            environment=found,
            total=checklist.total,
            now=now,
            done_now=checklist.completed,
            recent=CHANGES_CHARTED,
        )
        data = DashboardData(
            checklist,
            [e.name for e in service.list_environments(session=session)],
            burnup_svg(chart),
            verification_facts(session, request, environment),
            runners.job_progress(session=session, kind=drill_kind, environment=environment),
            latest_drill_outcomes(
                session=session,
                environment_id=found.id,
                rto_target=targets.rto_seconds if targets else None,
                rpo_target=targets.rpo_seconds if targets else None,
            ),
            recent_changes(
                session=session,
                environment_id=found.id,
                item_ids=[entry.item.id for entry in checklist.items],
            ),
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
def list_environments(request: Request, _: Viewer) -> list[dict[str, Any]]:
    """Every environment with its summary: completion, latest proof counts, regressions, where it came from."""
    from mission_control.verification.fleet_view import summaries

    with _read(request) as session:
        return [row.to_dict() for row in summaries(session=session, catalog=request.app.state.catalog)]


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


@api.get("/environments/{environment}/scorecard")
def get_scorecard(environment: str, request: Request, _: Viewer) -> dict[str, Any]:
    """Per item: status, checked, evidence state, last proof time; poll it with a read-only (viewer) token."""
    return scorecard(_checklist(request, environment), generated_at=utcnow())


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
    status: Annotated[str, Query(pattern=f"^({'|'.join(FILTERS)})$")] = "all",
    effort: Annotated[str, Query()] = "all",
    mine: Annotated[str, Query(pattern="^1?$")] = "",
    open_item: Annotated[str, Query(alias="open")] = "",
) -> Response:
    """The dashboard; `status`, `effort` and `mine` filter the items, `open` opens one item's details."""
    data = _dashboard_data(request, env)
    return templates.TemplateResponse(
        request,
        "dashboard.html",
        _summary_context(request, data, principal)
        | {
            "environments": data.environments,
            "filters": {"status": status, "effort": effort if effort in EFFORTS else "all", "mine": mine},
            "shown": _shown(status, effort, principal.name if mine else None),
            "filter_labels": {value: label for value, (label, _) in FILTERS.items()},
            "efforts": EFFORTS,
            "open_item": open_item,
            "verification": verification_state(request, env, data.verification),
            "proof_labels": PROOF_LABELS,
            "evidence_labels": EVIDENCE_LABELS,
            "status_labels": STATUS_LABELS,
            "burnup_chart": Markup(data.burnup_svg),
            "item_drills": _item_drills(),
            "drill_outcomes": data.drill_outcomes,
            "recent_changes": data.recent_changes,
            "recent_limit": RECENT_CHANGES,
            "running_drill": _drill_name(data.running_drill),
            "drills_configured": env in request.app.state.configs,
            "drill_targets": request.app.state.configs.get(env),
        },
    )


@pages.get("/environments/{environment}/summary")
def summary_fragment(environment: str, request: Request, principal: Viewer) -> Response:
    """The top of the dashboard alone, so the page's script can refresh it after a live change."""
    data = _dashboard_data(request, environment)
    return templates.TemplateResponse(request, "_summary.html", _summary_context(request, data, principal))


def _entry(data: DashboardData, item_id: str) -> Any:
    """The item's row of the cached dashboard, for the fragments that redraw one item."""
    entry = next((entry for entry in data.checklist.items if entry.item.id == item_id), None)
    if entry is None:
        raise service.NotFound(f"unknown item {item_id!r}")
    return entry


@pages.get("/environments/{environment}/items/{item_id}/drills")
def drills_fragment(environment: str, item_id: str, request: Request, principal: Viewer) -> Response:
    """One item's drills block, so the page's script can show a finished drill in place."""
    data = _dashboard_data(request, environment)
    entry = _entry(data, item_id)
    return templates.TemplateResponse(
        request,
        "_drills.html",
        _summary_context(request, data, principal)
        | {
            "entry": entry,
            "drills": _item_drills().get(item_id, []),
            "last_drills": data.drill_outcomes.get(item_id, {}),
            "running_drill": _drill_name(data.running_drill),
            "drills_configured": environment in request.app.state.configs,
            "drill_targets": request.app.state.configs.get(environment),
        },
    )


@pages.get("/environments/{environment}/items/{item_id}/recent-history")
def recent_history_fragment(environment: str, item_id: str, request: Request, _: Viewer) -> Response:
    """One item's newest changes, so the page's script can show a change made elsewhere in place."""
    data = _dashboard_data(request, environment)
    entry = _entry(data, item_id)
    return templates.TemplateResponse(
        request,
        "_history.html",
        {
            "checklist": data.checklist,
            "entry": entry,
            "changes": data.recent_changes.get(item_id, ()),
            "recent_limit": RECENT_CHANGES,
        },
    )


def _summary_context(request: Request, data: DashboardData, principal: Principal) -> dict[str, Any]:
    now = utcnow()
    return {
        "checklist": data.checklist,
        "principal": principal,
        "can_edit": role_allows(principal.role, "editor"),
        "counts": count(data.checklist, now),
        "attention": needs_attention(data.checklist, now),
        "attention_labels": ATTENTION_LABELS,
    }


def _shown(status: str, effort: str, owner: str | None) -> Any:
    """The predicate the item list is filtered by."""
    matches_status = FILTERS[status][1]

    def shown(entry: Any) -> bool:
        return (
            matches_status(entry)
            and effort in ("all", entry.item.effort)
            and (owner is None or (entry.owner or "").casefold() == owner.casefold())
        )

    return shown


def _drill_name(running: dict[str, Any] | None) -> str | None:
    return str(running["drill"]) if running else None


def _item_drills() -> dict[str, list[Any]]:
    load_all()
    by_item: dict[str, list[Any]] = {}
    for drill in DRILLS.values():
        by_item.setdefault(drill.item_id, []).append(drill)
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
    return StreamingResponse(
        event_stream(request, request.app.state.live_events, environment),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )
