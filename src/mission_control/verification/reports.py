"""Render a verification report for people (terminal table, Markdown) and for tools (JSON, JUnit XML)."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET

from rich.markup import escape
from rich.table import Table

from mission_control.catalog import Catalog, Item
from mission_control.escaping import markdown_cell, xml_text
from mission_control.verification.results import ProbeResult, Status
from mission_control.verification.runner import VerificationReport

STATUS_ICONS = {Status.VERIFIED: "✅", Status.FAILING: "❌", Status.ERROR: "⚠️", Status.MANUAL: "📝"}
_STATUS_STYLES = {
    Status.VERIFIED: "green",
    Status.FAILING: "red",
    Status.ERROR: "yellow",
    Status.MANUAL: "dim",
}
_JUNIT_ELEMENTS = {Status.FAILING: "failure", Status.ERROR: "error", Status.MANUAL: "skipped"}


def to_json(report: VerificationReport, catalog: Catalog) -> str:
    return json.dumps(report.to_dict(catalog), indent=2, ensure_ascii=False) + "\n"


def to_junit(report: VerificationReport, catalog: Catalog) -> str:
    """One testcase per item, grouped by category, so CI shows failing items as failed tests."""
    summary = report.summary
    suites = ET.Element("testsuites", name=xml_text(report.checklist))
    suite = ET.SubElement(
        suites,
        "testsuite",
        name=xml_text(f"{report.checklist} ({report.environment})"),
        tests=str(summary["total"]),
        failures=str(summary["failing"]),
        errors=str(summary["error"]),
        skipped=str(summary["manual"]),
        timestamp=report.generated_at.isoformat(),
    )
    items = _items(catalog)
    for result in report.results:
        item = items[result.item_id]
        case = ET.SubElement(
            suite, "testcase", classname=xml_text(item.category), name=xml_text(f"{item.id}: {item.title}")
        )
        element = _JUNIT_ELEMENTS.get(result.status)
        if element:
            outcome = ET.SubElement(case, element, message=xml_text(result.summary))
            if result.facts:
                outcome.text = xml_text(json.dumps(result.facts, indent=2, ensure_ascii=False))
    ET.indent(suites)
    return ET.tostring(suites, encoding="unicode", xml_declaration=True) + "\n"


def to_markdown(report: VerificationReport, catalog: Catalog) -> str:
    summary = report.summary
    lines = [
        f"# {catalog.title}: {report.environment}",
        "",
        f"{summary['verified']} of {summary['total']} verified · {summary['failing']} failing · "
        f"{summary['error']} error · {summary['manual']} manual · generated {report.generated_at.isoformat()}",
        "",
        "| Status | Item | Category | Summary |",
        "|---|---|---|---|",
    ]
    items = _items(catalog)
    for result in report.results:
        item = items[result.item_id]
        title = f"{item.title} (`{item.id}`)"
        lines.append(
            f"| {_status_label(result)} | {markdown_cell(title)} | {markdown_cell(item.category)} | {markdown_cell(result.summary)} |"
        )
    return "\n".join(lines) + "\n"


def to_table(report: VerificationReport, catalog: Catalog) -> Table:
    summary = report.summary
    table = Table(
        title=escape(f"{catalog.title}: {report.environment}"),
        caption=f"{summary['verified']}/{summary['total']} verified, {summary['failing']} failing, "
        f"{summary['error']} error, {summary['manual']} manual",
    )
    table.add_column("Status", no_wrap=True)
    table.add_column("Item")
    table.add_column("Summary")
    items = _items(catalog)
    for result in report.results:
        item = items[result.item_id]
        table.add_row(
            f"[{_STATUS_STYLES[result.status]}]{_status_label(result)}[/]",
            f"{escape(item.title)}\n[dim]{item.id}[/]",
            escape(result.summary),
        )
    return table


def _items(catalog: Catalog) -> dict[str, Item]:
    """The catalog's items by id; a report is rendered with the catalog it was run against."""
    return {item.id: item for item in catalog.items}


def _status_label(result: ProbeResult) -> str:
    return f"{STATUS_ICONS[result.status]} {result.status.value}"
