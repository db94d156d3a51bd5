"""Report renderers: JSON is the contract, JUnit parses as XML, Markdown and the Rich table read well."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from datetime import UTC, datetime

from rich.console import Console

from mission_control.catalog import Catalog, Category, Item
from mission_control.verification.reports import to_json, to_junit, to_markdown, to_table
from mission_control.verification.results import ProbeResult, Status
from mission_control.verification.runner import VerificationReport

TRICKY = "TTL <300> & \"quoted\" 'single' | piped [environments.production]\x07"

CATALOG = Catalog(
    "multi-region-readiness",
    "Multi-region readiness",
    "🌍",
    (
        Category(
            "dns",
            "DNS",
            "🧭",
            "D",
            (
                Item("dns.a", "Latency routing", "Why.", "Low", "dns"),
                Item("dns.b", "Health checks", "Why.", "Low", "dns"),
            ),
        ),
        Category(
            "dynamodb",
            "DynamoDB",
            "🗄️",
            "T",
            (
                Item("dynamodb.c", "Global main", "Why.", "Low", "dynamodb"),
                Item("dynamodb.d", "Restore drill", "Why.", "Low", "dynamodb"),
            ),
        ),
    ),
)
REPORT = VerificationReport(
    environment="production",
    checklist="multi-region-readiness",
    generated_at=datetime(2024, 6, 1, 12, 0, tzinfo=UTC),
    results=(
        ProbeResult("dns.a", Status.VERIFIED, "covers both regions", {"regions": ["us-east-1"]}),
        ProbeResult("dns.b", Status.FAILING, TRICKY, {"records": [{"ttl": 300, "note": "<&>"}]}),
        ProbeResult("dynamodb.c", Status.ERROR, "AccessDenied on dynamodb:DescribeTable for t in us-east-1"),
        ProbeResult("dynamodb.d", Status.MANUAL, "No read-only AWS API proves this; attach evidence"),
    ),
)


def junit_cases() -> dict[str, ET.Element]:
    root = ET.fromstring(to_junit(REPORT, CATALOG))
    return {case.get("name", "").split(":")[0]: case for case in root.iter("testcase")}


def test_json_is_the_reports_dict() -> None:
    assert json.loads(to_json(REPORT, CATALOG)) == json.loads(json.dumps(REPORT.to_dict(CATALOG)))


def test_junit_has_one_testcase_per_item_classed_by_category() -> None:
    root = ET.fromstring(to_junit(REPORT, CATALOG))
    suite = root.find("testsuite")
    assert suite is not None
    assert {key: suite.get(key) for key in ("tests", "failures", "errors", "skipped")} == {
        "tests": "4",
        "failures": "1",
        "errors": "1",
        "skipped": "1",
    }
    assert {name: case.get("classname") for name, case in junit_cases().items()} == {
        "dns.a": "dns",
        "dns.b": "dns",
        "dynamodb.c": "dynamodb",
        "dynamodb.d": "dynamodb",
    }


def test_junit_maps_each_status_to_its_element() -> None:
    cases = junit_cases()
    assert list(cases["dns.a"]) == []
    assert [child.tag for child in cases["dns.b"]] == ["failure"]
    assert [child.tag for child in cases["dynamodb.c"]] == ["error"]
    assert [child.tag for child in cases["dynamodb.d"]] == ["skipped"]
    assert (
        cases["dynamodb.c"][0].get("message") == "AccessDenied on dynamodb:DescribeTable for t in us-east-1"
    )


def test_junit_escapes_markup_and_carries_facts_in_the_body() -> None:
    failure = junit_cases()["dns.b"][0]
    assert failure.get("message") == TRICKY.replace("\x07", "\ufffd")
    assert json.loads(failure.text or "") == {"records": [{"ttl": 300, "note": "<&>"}]}


def test_markdown_has_a_summary_line_and_one_escaped_row_per_item() -> None:
    markdown = to_markdown(REPORT, CATALOG)
    assert "1 of 4 verified · 1 failing · 1 error · 1 manual" in markdown
    rows = [line for line in markdown.splitlines() if line.startswith("| ") and "`" in line]
    assert len(rows) == 4
    assert rows[0].startswith("| ✅ verified | Latency routing (`dns.a`) | dns |")
    assert "\\| piped" in rows[1] and rows[1].count(" | ") == 3


def test_rich_table_shows_summaries_literally() -> None:
    console = Console(record=True, width=240, color_system=None)
    console.print(to_table(REPORT, CATALOG))
    text = console.export_text()
    assert "[environments.production]" in text
    assert "❌ failing" in text and "📝 manual" in text
    assert "1/4 verified, 1 failing, 1 error, 1 manual" in text
