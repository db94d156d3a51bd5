"""HTTP for reports: the dashboard's one-click HTML report and its Markdown, JSON, CSV, JUnit, SARIF, OCSF
and ASFF files."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import Response

from mission_control.findings.account import AccountError
from mission_control.findings.asff import Account
from mission_control.findings.formats import render as render_findings
from mission_control.findings.model import findings_run_for_file
from mission_control.progress.export import render as render_export
from mission_control.progress.service import NotFound
from mission_control.report.builder import build_report
from mission_control.report.render import render as render_report
from mission_control.web.auth import Principal, require

pages = APIRouter(include_in_schema=False)
Viewer = Annotated[Principal, Depends(require("viewer"))]

MEDIA_TYPES = {
    "html": "text/html; charset=utf-8",
    "md": "text/markdown; charset=utf-8",
    "json": "application/json",
    "csv": "text/csv; charset=utf-8",
    "junit": "application/xml",
    "sarif": "application/sarif+json",
    "ocsf": "application/json",
    "asff": "application/json",
}
FILE_SUFFIXES = {
    "html": "html",
    "md": "md",
    "json": "json",
    "csv": "csv",
    "junit": "xml",
    "sarif": "sarif",
    "ocsf": "ocsf.json",
    "asff": "asff.json",
}
FINDINGS_FORMATS = ("sarif", "ocsf", "asff")
DEFAULT_CONFIG = Path("mission-control.toml")
# The HTML report carries its own small stylesheet and an inline SVG: allow exactly that, nothing else.
REPORT_CONTENT_SECURITY_POLICY = "default-src 'none'; style-src 'unsafe-inline'; img-src data:"


@pages.get("/environments/{environment}/report.{fmt}")
def report_file(environment: str, fmt: str, request: Request, _: Viewer) -> Response:
    """The environment's report in `fmt`; every format but HTML comes as a download."""
    if fmt not in MEDIA_TYPES:
        raise NotFound(f"no report format {fmt!r}: choose one of {', '.join(MEDIA_TYPES)}")
    targets = request.app.state.configs.get(environment)
    with request.app.state.database.read() as session:
        report = build_report(
            session=session,
            catalog=request.app.state.catalog,
            environment_name=environment,
            rto_target=targets.rto_seconds if targets else None,
            rpo_target=targets.rpo_seconds if targets else None,
        )
    if fmt in FINDINGS_FORMATS:
        config_path = request.app.state.settings.config_path or DEFAULT_CONFIG
        run = findings_run_for_file(report.checklist, config_path, report.generated_at)
        account = _account(request, environment) if fmt == "asff" else None
        text = render_findings(run, fmt, account=account)
    elif fmt == "csv":
        text = render_export(report.checklist, "csv")
    else:
        text = render_report(report, fmt)
    headers = {"Content-Security-Policy": REPORT_CONTENT_SECURITY_POLICY}
    if fmt != "html":
        filename = f"mission-control-{environment}-{report.generated_at:%Y-%m-%d}.{FILE_SUFFIXES[fmt]}"
        headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    return Response(text, media_type=MEDIA_TYPES[fmt], headers=headers)


def _account(request: Request, environment: str) -> Account:
    """The account ASFF names: 503 when the server has no configuration for the environment, 502 when
    AWS will not say whose its credentials are."""
    config = request.app.state.configs.get(environment)
    if config is None:
        raise HTTPException(
            503,
            f"ASFF names {environment}'s AWS account and primary region, which only its configuration "
            f"says: start the server with a configuration that has [environments.{environment}]",
        )
    try:
        return request.app.state.accounts.of(config)
    except AccountError as error:
        raise HTTPException(
            502, f"cannot name the AWS account of {environment}'s findings: {error}"
        ) from error
