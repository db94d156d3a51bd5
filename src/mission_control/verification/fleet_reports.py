"""Render a fleet verification: one line per environment for people, every environment's report for tools."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET

from rich.markup import escape
from rich.table import Table

from mission_control.catalog import Catalog
from mission_control.verification import reports
from mission_control.verification.fleet import FleetReport, environment_state

_STATE_LABELS = {"ready": "✅ ready", "failing": "❌ failing", "error": "⚠️ error"}
_STATE_STYLES = {"ready": "green", "failing": "red", "error": "yellow"}


def to_json(fleet: FleetReport, catalog: Catalog) -> str:
    return json.dumps(fleet.to_dict(catalog), indent=2, ensure_ascii=False) + "\n"


def to_junit(fleet: FleetReport, catalog: Catalog) -> str:
    """Every environment's suite under one <testsuites>, so CI lists each environment's failing items."""
    combined = ET.Element("testsuites", name=f"{catalog.id} fleet")
    for report in fleet.reports:
        combined.extend(ET.fromstring(reports.to_junit(report, catalog).encode()))
    ET.indent(combined)
    return ET.tostring(combined, encoding="unicode", xml_declaration=True) + "\n"


def to_markdown(fleet: FleetReport, catalog: Catalog) -> str:
    """A fleet table first (what needs attention), then each environment's own report."""
    lines = [
        f"# {catalog.title}: fleet of {len(fleet.reports)}",
        "",
        f"generated {fleet.generated_at.isoformat()}",
        "",
        "| Environment | State | Verified | Failing | Error | Manual |",
        "|---|---|---|---|---|---|",
    ]
    for report in _attention_first(fleet):
        summary = report.summary
        lines.append(
            f"| {report.environment} | {_STATE_LABELS[environment_state(report)]} | {summary['verified']} | "
            f"{summary['failing']} | {summary['error']} | {summary['manual']} |"
        )
    sections = [reports.to_markdown(report, catalog).replace("# ", "## ", 1) for report in fleet.reports]
    return "\n".join(lines) + "\n\n" + "\n".join(sections)


def to_table(fleet: FleetReport, catalog: Catalog) -> Table:
    summary = fleet.summary
    table = Table(
        title=escape(f"{catalog.title}: fleet of {summary['environments']}"),
        caption=f"{summary['ready']} ready, {summary['failing']} failing, {summary['error']} in error only",
    )
    for column in ("Environment", "State", "Verified", "Failing", "Error", "Manual"):
        table.add_column(column, no_wrap=column != "Environment")
    for report in _attention_first(fleet):
        state = environment_state(report)
        counts = report.summary
        table.add_row(
            escape(report.environment),
            f"[{_STATE_STYLES[state]}]{_STATE_LABELS[state]}[/]",
            *(str(counts[key]) for key in ("verified", "failing", "error", "manual")),
        )
    return table


def _attention_first(fleet: FleetReport) -> list:
    order = {"failing": 0, "error": 1, "ready": 2}
    return sorted(fleet.reports, key=lambda report: (order[environment_state(report)], report.environment))


RENDERERS = {"json": to_json, "junit": to_junit, "markdown": to_markdown}
