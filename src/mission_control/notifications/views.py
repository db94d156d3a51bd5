"""Deliveries for admins: what was sent where, its attempts and last error, and a resend button."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Request
from fastapi.responses import RedirectResponse, Response

from mission_control.jobs.runner import resend
from mission_control.notifications.models import Delivery
from mission_control.notifications.outbox import recent
from mission_control.web.auth import Principal, require
from mission_control.web.templating import templates

api = APIRouter(prefix="/api/v1", tags=["notifications"])
pages = APIRouter(include_in_schema=False)

Admin = Annotated[Principal, Depends(require("admin"))]
DeliveryId = Annotated[int, Path(ge=1, le=2**31 - 1, description="The delivery's id.")]


def delivery_json(row: Delivery) -> dict[str, Any]:
    return {
        "id": row.id,
        "channel": row.channel,
        "kind": row.kind,
        "environment": row.environment,
        "events": row.events.split(","),
        "status": row.status,
        "attempts": row.attempts,
        "last_error": row.last_error,
        "idempotency_key": row.idempotency_key,
        "created_at": row.created_at.isoformat(),
        "next_attempt_at": row.next_attempt_at.isoformat(),
        "delivered_at": row.delivered_at.isoformat() if row.delivered_at else None,
        "changes": len(row.payload.get("changes", [])),
    }


def _recent(request: Request) -> list[dict[str, Any]]:
    with request.app.state.database.read() as session:
        return [delivery_json(row) for row in recent(session=session)]


@api.get("/deliveries")
def list_deliveries(request: Request, _: Admin) -> list[dict[str, Any]]:
    """The 200 newest notification deliveries, newest first."""
    return _recent(request)


@api.post("/deliveries/{delivery_id}/resend", status_code=202)
def resend_delivery(delivery_id: DeliveryId, request: Request, principal: Admin) -> dict[str, Any]:
    """Send a delivery again now (same idempotency key, so a receiver can tell it is a resend)."""
    resend(request.app.state.runner, delivery_id=delivery_id, actor=principal.name)
    return {"resent": delivery_id}


@pages.get("/admin/deliveries")
def deliveries_page(request: Request, principal: Admin) -> Response:
    return templates.TemplateResponse(
        request, "deliveries.html", {"principal": principal, "deliveries": _recent(request)}
    )


@pages.post("/admin/deliveries/{delivery_id}/resend")
def resend_form(delivery_id: DeliveryId, request: Request, principal: Admin) -> Response:
    resend(request.app.state.runner, delivery_id=delivery_id, actor=principal.name)
    return RedirectResponse(f"/admin/deliveries#delivery-{delivery_id}", status_code=303)
