"""Exports of one environment's checklist: Markdown for people, JSON and CSV for machines."""

from __future__ import annotations

import csv
import io
import json

from mission_control.escaping import csv_cell, markdown_cell
from mission_control.progress.checklist import CategoryView, ChecklistView

FORMATS = ("md", "json", "csv")


def render(checklist: ChecklistView, fmt: str) -> str:
    if fmt == "json":
        return json.dumps(checklist.to_dict(), indent=2, ensure_ascii=False) + "\n"
    if fmt == "csv":
        return _csv(checklist)
    if fmt == "md":
        return _markdown(checklist)
    raise ValueError(f"unknown export format {fmt!r}: choose one of {', '.join(FORMATS)}")


def _csv(checklist: ChecklistView) -> str:
    buffer = io.StringIO()
    # RFC 4180's CRLF: the writer quotes a field holding any character of the line terminator, so a
    # lone CR in a note is quoted too and cannot end a row in a spreadsheet.
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(
        [
            "environment",
            "id",
            "category",
            "title",
            "effort",
            "checked",
            "checked_by",
            "checked_at",
            "owner",
            "note",
        ]
    )
    for category in checklist.categories:
        for entry in category.items:
            row = entry.to_dict()
            cells = [
                checklist.environment,
                row["id"],
                category.category.name,
                row["title"],
                row["effort"],
                "yes" if row["checked"] else "no",
                row["checked_by"] or "",
                row["checked_at"] or "",
                row["owner"] or "",
                row["note"],
            ]
            writer.writerow([csv_cell(cell) for cell in cells])
    return buffer.getvalue()


def category_heading(category: CategoryView) -> str:
    """A category's Markdown heading with its k/n, and "Category complete" only when it is."""
    done = " · ✅ Category complete" if category.complete else ""
    return (
        f"## {category.category.icon} {category.category.name} ({category.completed}/{category.total}){done}"
    )


def _markdown(checklist: ChecklistView) -> str:
    lines = [
        f"# {checklist.catalog.icon} {checklist.catalog.title} — {checklist.environment}",
        "",
        f"**{checklist.completed} / {checklist.total} complete** · overall completion {checklist.percent}%",
        "",
    ]
    for category in checklist.categories:
        lines += [category_heading(category), ""]
        lines += ["| Done | Item | Effort | Owner | Ticked by | Note |", "|---|---|---|---|---|---|"]
        for entry in category.items:
            ticked = (
                f"{entry.checked_by} ({entry.checked_at:%Y-%m-%d})"
                if entry.checked and entry.checked_at
                else ""
            )
            lines.append(
                f"| {'☑' if entry.done else '☐'} | {markdown_cell(entry.item.title)} | {markdown_cell(entry.item.effort)} "
                f"| {markdown_cell(entry.owner or '')} | {markdown_cell(ticked)} | {markdown_cell(entry.note)} |"
            )
        lines.append("")
    return "\n".join(lines)
