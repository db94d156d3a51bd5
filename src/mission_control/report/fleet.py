"""A fleet's report (`report --all`, `report --template T`): a table of the fleet, then each environment's own.

Each environment's part is its single-environment report, built and rendered as `report --env` would,
so the two never disagree; JSON and JUnit hold those documents whole.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from html import escape
from typing import TYPE_CHECKING, Any
from xml.etree import ElementTree as ET

from sqlalchemy.orm import Session

from mission_control.catalog import Catalog
from mission_control.db.base import utcnow
from mission_control.escaping import markdown_cell
from mission_control.report import render
from mission_control.report.builder import EnvironmentReport, build_report

if TYPE_CHECKING:
    from datetime import datetime

    from mission_control.verification.config import EnvironmentConfig

FORMATS = render.FORMATS


@dataclass(frozen=True)
class FleetProgress:
    """Every chosen environment's report, in the order asked for."""

    generated_at: datetime
    title: str
    reports: tuple[EnvironmentReport, ...]

    @property
    def summary(self) -> dict[str, int]:
        checklists = [report.checklist for report in self.reports]
        return {
            "environments": len(checklists),
            "complete": sum(1 for checklist in checklists if checklist.completed == checklist.total),
            "items_completed": sum(checklist.completed for checklist in checklists),
            "items_total": sum(checklist.total for checklist in checklists),
            "regressed": sum(_regressed(report) for report in self.reports),
        }


def build_fleet_report(
    *, session: Session, catalog: Catalog, names: Sequence[str], targets: Mapping[str, EnvironmentConfig]
) -> FleetProgress:
    """The report of each environment in `names`, with RTO/RPO targets from its configuration if any."""
    reports = []
    for name in names:
        config = targets.get(name)
        rto, rpo = (config.rto_seconds, config.rpo_seconds) if config else (None, None)
        reports.append(
            build_report(
                session=session, catalog=catalog, environment_name=name, rto_target=rto, rpo_target=rpo
            )
        )
    return FleetProgress(utcnow(), catalog.title, tuple(reports))


def render_fleet(fleet: FleetProgress, fmt: str) -> str:
    renderers = {"md": to_markdown, "html": to_html, "json": to_json, "junit": to_junit}
    if fmt not in renderers:
        raise ValueError(f"unknown report format {fmt!r}: choose one of {', '.join(FORMATS)}")
    return renderers[fmt](fleet)


def _regressed(report: EnvironmentReport) -> int:
    return sum(1 for entry in report.checklist.items if entry.regressed)


def _rows(fleet: FleetProgress) -> list[tuple[str, str, str, str, str]]:
    """Environment, completion, complete of total, regressed, last verification: one row each."""
    return [
        (
            report.checklist.environment,
            f"{report.checklist.percent}%",
            f"{report.checklist.completed} / {report.checklist.total}",
            str(_regressed(report)),
            f"{report.last_run.state}, {report.last_run.started_at:%Y-%m-%d %H:%M UTC}"
            if report.last_run
            else "never",
        )
        for report in fleet.reports
    ]


def _heading(fleet: FleetProgress) -> str:
    return f"{fleet.title} report — fleet of {len(fleet.reports)}"


def to_markdown(fleet: FleetProgress) -> str:
    summary = fleet.summary
    lines = [
        f"# {_heading(fleet)}",
        "",
        f"Generated {fleet.generated_at:%Y-%m-%d %H:%M UTC}. **{summary['complete']} of "
        f"{summary['environments']} environments complete** · {summary['items_completed']} / "
        f"{summary['items_total']} items · {summary['regressed']} regressed",
        "",
        "| Environment | Completion | Complete | Regressed | Last verification |",
        "|---|---|---|---|---|",
        *("| " + " | ".join(markdown_cell(cell) for cell in row) + " |" for row in _rows(fleet)),
        "",
    ]
    for report in fleet.reports:  # each environment's own report, one heading level down
        lines += [
            f"#{line}" if line.startswith("#") else line for line in render.to_markdown(report).splitlines()
        ]
        lines.append("")
    return "\n".join(lines)


def to_html(fleet: FleetProgress) -> str:
    summary = fleet.summary
    rows = "\n".join(
        f'<tr><td><a href="#env-{escape(row[0])}">{escape(row[0])}</a></td>'
        + "".join(f"<td>{escape(cell)}</td>" for cell in row[1:])
        + "</tr>"
        for row in _rows(fleet)
    )
    sections = "\n".join(
        f'<section id="env-{escape(report.checklist.environment)}">\n'
        f"<h2>{escape(report.checklist.environment)}</h2>\n{render.html_body(report, level=3)}\n</section>"
        for report in fleet.reports
    )
    body = f"""<h1>{escape(_heading(fleet))}</h1>
<p>Generated {fleet.generated_at:%Y-%m-%d %H:%M UTC}. <strong>{summary["complete"]} of {summary["environments"]} environments complete</strong> · {summary["items_completed"]} / {summary["items_total"]} items · {summary["regressed"]} regressed</p>
<table><thead><tr><th>Environment</th><th>Completion</th><th>Complete</th><th>Regressed</th><th>Last verification</th></tr></thead><tbody>
{rows}
</tbody></table>
{sections}"""
    return render.html_page(_heading(fleet), body)


def to_json(fleet: FleetProgress) -> str:
    """`{"generated_at", "summary", "environments"}`, each element the document of `report --format json`."""
    document: dict[str, Any] = {
        "generated_at": fleet.generated_at.isoformat(),
        "summary": fleet.summary,
        "environments": [json.loads(render.to_json(report)) for report in fleet.reports],
    }
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


def to_junit(fleet: FleetProgress) -> str:
    """Every environment's suite under one <testsuites>, so CI lists what blocks each environment."""
    combined = ET.Element("testsuites", name=f"{fleet.title} fleet")
    for report in fleet.reports:
        combined.append(ET.fromstring(render.to_junit(report).encode()))
    ET.indent(combined)
    return ET.tostring(combined, encoding="unicode", xml_declaration=True) + "\n"
