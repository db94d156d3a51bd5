"""HTTP for monitoring: /healthz and /readyz for probes (no sign-in), /metrics for a scraper's token."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST
from starlette.concurrency import run_in_threadpool

from mission_control.observability.health import check_readiness
from mission_control.observability.metrics import exposition
from mission_control.web.auth import Principal, require

router = APIRouter(include_in_schema=False)

Viewer = Annotated[Principal, Depends(require("viewer"))]


@router.get("/healthz")
def healthz() -> dict[str, str]:
    """The process is up and serving requests; says nothing about the database."""
    return {"status": "ok"}


@router.get("/readyz")
async def readyz(request: Request) -> JSONResponse:
    """200 when the database answers at the schema this version needs, else 503 with the reason."""
    readiness = await run_in_threadpool(check_readiness, request.app.state.database)
    return JSONResponse(readiness.to_dict(), status_code=200 if readiness.ready else 503)


@router.get("/metrics")
async def metrics(request: Request, _: Viewer) -> Response:
    """Prometheus text format; a scraper authenticates with a viewer's API token."""
    body = await run_in_threadpool(exposition, request.app.state.metrics_registry)
    return Response(body, media_type=CONTENT_TYPE_LATEST)
