"""The report as Markdown, HTML (with the burn-up chart), JSON and JUnit (open items fail a gate)."""

from __future__ import annotations

import json
from html import escape
from xml.etree import ElementTree as ET

from mission_control.escaping import markdown_cell, xml_text
from mission_control.progress.checklist import ItemView
from mission_control.progress.export import category_heading
from mission_control.report.builder import EnvironmentReport
from mission_control.report.burnup import burnup_svg

FORMATS = ("md", "html", "json", "junit")


def render(report: EnvironmentReport, fmt: str) -> str:
    renderers = {"md": to_markdown, "html": to_html, "json": to_json, "junit": to_junit}
    if fmt not in renderers:
        raise ValueError(f"unknown report format {fmt!r}: choose one of {', '.join(FORMATS)}")
    return renderers[fmt](report)


def item_state(entry: ItemView) -> str:
    """One word per item: done, regressed or open, and where the proof came from."""
    if entry.regressed:
        return "regressed"
    if not entry.done:
        return "open"
    if entry.verification and entry.verification.status.value == "verified":
        return "done (verified)"
    if entry.evidence and entry.evidence.state == "complete":
        return "done (evidence)"
    return "done (ticked)"


def _proof(entry: ItemView) -> str:
    parts = []
    if entry.verification:
        parts.append(f"{entry.verification.status.value}: {entry.verification.summary}")
    if entry.evidence:
        parts.append(
            f"evidence {entry.evidence.state}: "
            + "; ".join(
                f"{k.kind} {k.state}" + (f" {k.at:%Y-%m-%d}" if k.at else "") for k in entry.evidence.kinds
            )
        )
    return " · ".join(parts)


def to_json(report: EnvironmentReport) -> str:
    checklist = report.checklist
    document = {
        **checklist.to_dict(),
        "generated_at": report.generated_at.isoformat(),
        "last_verification": None
        if report.last_run is None
        else {
            "state": report.last_run.state,
            "finished_at": report.last_run.finished_at.isoformat() if report.last_run.finished_at else None,
        },
        "drills": [drill.to_dict() for drill in report.drills],
        "burnup": report.burnup.to_dict(),
    }
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


def to_markdown(report: EnvironmentReport) -> str:
    checklist = report.checklist
    lines = [
        f"# {checklist.catalog.title} report — {checklist.environment}",
        "",
        f"Generated {report.generated_at:%Y-%m-%d %H:%M UTC}. **{checklist.completed} / {checklist.total} complete** "
        f"· overall completion {checklist.percent}%",
        "",
    ]
    if report.last_run:
        lines += [
            f"Last verification: {report.last_run.state}, {report.last_run.started_at:%Y-%m-%d %H:%M UTC}.",
            "",
        ]
    for category in checklist.categories:
        lines += [category_heading(category), ""]
        lines += ["| Item | State | Proof |", "|---|---|---|"]
        lines += [
            f"| {markdown_cell(e.item.title)} | {item_state(e)} | {markdown_cell(_proof(e))} |"
            for e in category.items
        ]
        lines.append("")
    lines += ["## Drills", ""]
    if report.drills:
        lines += [
            "| Drill | Item | Outcome | When | Age (days) | RTO / target | RPO / target |",
            "|---|---|---|---|---|---|---|",
        ]
        for drill in report.drills:
            rto = f"{drill.measurements.get('rto_seconds', '—')} / {drill.rto_target if drill.rto_target is not None else '—'}"
            rpo = f"{drill.measurements.get('rpo_seconds', '—')} / {drill.rpo_target if drill.rpo_target is not None else '—'}"
            cells = (
                drill.drill,
                drill.item_id,
                drill.outcome,
                f"{drill.finished_at:%Y-%m-%d}",
                str(drill.age_days),
                rto,
                rpo,
            )
            lines.append("| " + " | ".join(markdown_cell(cell) for cell in cells) + " |")
    else:
        lines.append("No drill recorded yet.")
    return "\n".join(lines) + "\n"


def to_html(report: EnvironmentReport) -> str:
    title = f"{report.checklist.catalog.title} report — {report.checklist.environment}"
    return html_page(title, f"<h1>{escape(title)}</h1>\n{html_body(report, level=2)}")


def html_body(report: EnvironmentReport, *, level: int) -> str:
    """The report's sections under its title; `level` is the heading level of its sections."""
    checklist = report.checklist
    categories = "\n".join(
        f"<h{level + 1}>{escape(c.category.icon)} {escape(c.category.name)} ({c.completed}/{c.total})"
        + (' <span class="complete">✅ Category complete</span>' if c.complete else "")
        + f"</h{level + 1}>\n<table><thead><tr><th>Item</th><th>State</th><th>Proof</th></tr></thead><tbody>\n"
        + "\n".join(
            f"<tr><td>{escape(e.item.title)}</td><td>{escape(item_state(e))}</td><td>{escape(_proof(e))}</td></tr>"
            for e in c.items
        )
        + "\n</tbody></table>"
        for c in checklist.categories
    )
    drills = "\n".join(
        f"<tr><td>{escape(d.drill)}</td><td>{escape(d.outcome)}</td><td>{d.finished_at:%Y-%m-%d}</td>"
        f"<td>{escape(str(d.measurements.get('rto_seconds', '—')))} / {d.rto_target if d.rto_target is not None else '—'}</td>"
        f"<td>{escape(str(d.measurements.get('rpo_seconds', '—')))} / {d.rpo_target if d.rpo_target is not None else '—'}</td></tr>"
        for d in report.drills
    )
    return f"""<p>Generated {report.generated_at:%Y-%m-%d %H:%M UTC}. <strong>{checklist.completed} / {checklist.total} complete</strong> · overall completion {checklist.percent}%</p>
{burnup_svg(report.burnup)}
<h{level}>Items</h{level}>
{categories}
<h{level}>Drills</h{level}>
<table><thead><tr><th>Drill</th><th>Outcome</th><th>When</th><th>RTO / target (s)</th><th>RPO / target (s)</th></tr></thead><tbody>
{drills or '<tr><td colspan="5">No drill recorded yet.</td></tr>'}
</tbody></table>"""


def html_page(title: str, body: str) -> str:
    """A self-contained page: no external stylesheet, script or font."""
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>{escape(title)}</title>
<style>body{{font:15px/1.5 system-ui,sans-serif;max-width:60rem;margin:1rem auto;padding:0 1rem}}
table{{border-collapse:collapse;width:100%}}td,th{{border-bottom:1px solid #ddd;padding:.3rem;text-align:left;vertical-align:top}}
td{{overflow-wrap:anywhere}}.complete{{color:#1f8a4c}}svg{{max-width:100%;height:auto}}</style>
</head><body>
{body}
</body></html>
"""


def to_junit(report: EnvironmentReport) -> str:
    """Done items pass, regressed items fail, open items are skipped: CI sees what still blocks."""
    checklist = report.checklist
    regressed = sum(1 for e in checklist.items if e.regressed)
    opened = sum(1 for e in checklist.items if not e.done and not e.regressed)
    suite = ET.Element(
        "testsuite", name=xml_text(f"{checklist.catalog.id} ({checklist.environment})"), tests=str(checklist.total),
        failures=str(regressed), skipped=str(opened), timestamp=report.generated_at.isoformat(),
    )  # fmt: skip
    for entry in checklist.items:
        case = ET.SubElement(
            suite,
            "testcase",
            classname=xml_text(entry.item.category),
            name=xml_text(f"{entry.item.id}: {entry.item.title}"),
        )
        if entry.regressed:
            ET.SubElement(case, "failure", message=xml_text(_proof(entry) or "regressed"))
        elif not entry.done:
            ET.SubElement(case, "skipped", message="open")
    ET.indent(suite)
    return ET.tostring(suite, encoding="unicode", xml_declaration=True) + "\n"
