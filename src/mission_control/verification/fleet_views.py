"""`/fleet`: one row per environment, one cell per item, filtered, sorted and paginated on the server."""

from __future__ import annotations

from dataclasses import replace
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response

from mission_control.verification.fleet_view import EnvironmentSummary, summaries
from mission_control.web.auth import Principal, require
from mission_control.web.templating import templates

pages = APIRouter(include_in_schema=False)
PAGE_SIZE = 50
CELL_SYMBOLS = {"verified": "✔", "failing": "✖", "error": "⚠", "manual": "✎", None: "·"}
SORTS = {
    "name": lambda row: row.name,
    "completion": lambda row: (row.percent, row.name),
    "regressed": lambda row: (-row.regressed, row.name),
    "last-verified": lambda row: (row.last_verified is None, row.last_verified or 0, row.name),
    "template": lambda row: (row.template is None, row.template or "", row.name),
    "ou": lambda row: (row.organizational_unit is None, row.organizational_unit or "", row.name),
}  # environments without a template (or OU) come last

Viewer = Annotated[Principal, Depends(require("viewer"))]


@pages.get("/fleet")
def fleet(
    request: Request,
    principal: Viewer,
    template: str = "",
    ou: str = "",
    tag: Annotated[str, Query(pattern=r"^([^=]+=.*)?$")] = "",
    regressed: bool = False,
    sort: Annotated[str, Query(pattern=f"^({'|'.join(SORTS)})$")] = "name",
    page: Annotated[int, Query(ge=1)] = 1,
) -> Response:
    catalog = request.app.state.catalog
    with request.app.state.database.read() as session:
        rows = [_with_file_template(row, request) for row in summaries(session=session, catalog=catalog)]
    chosen = [row for row in rows if _matches(row, template=template, ou=ou, tag=tag, regressed=regressed)]
    chosen.sort(key=SORTS[sort])
    pages_total = max(1, -(-len(chosen) // PAGE_SIZE))
    shown = chosen[(page - 1) * PAGE_SIZE : page * PAGE_SIZE]
    return templates.TemplateResponse(
        request,
        "fleet.html",
        {
            "principal": principal,
            "items": catalog.items,
            "rows": shown,
            "matching": len(chosen),
            "total": len(rows),
            "page": page,
            "pages_total": pages_total,
            "filters": {"template": template, "ou": ou, "tag": tag, "regressed": regressed, "sort": sort},
            "templates_seen": sorted({row.template for row in rows if row.template}),
            "ous_seen": sorted({row.organizational_unit for row in rows if row.organizational_unit}),
            "symbols": CELL_SYMBOLS,
            "sorts": tuple(SORTS),
            "previous_url": str(request.url.include_query_params(page=page - 1)) if page > 1 else None,
            "next_url": str(request.url.include_query_params(page=page + 1)) if page < pages_total else None,
        },
    )


def _with_file_template(row: EnvironmentSummary, request: Request) -> EnvironmentSummary:
    """Environments from the configuration file carry their template there, not in the database."""
    config = request.app.state.configs.get(row.name)
    if config is None or not config.template:
        return row
    return replace(row, template=config.template)


def _matches(row: EnvironmentSummary, *, template: str, ou: str, tag: str, regressed: bool) -> bool:
    key, _, value = tag.partition("=")
    return (
        (not template or row.template == template)
        and (not ou or row.organizational_unit == ou)
        and (not tag or row.tags.get(key) == value)
        and (not regressed or row.regressed > 0)
    )
