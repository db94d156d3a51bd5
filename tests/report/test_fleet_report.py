"""`report --all` and `report --template T`: a fleet report in every format `report` has."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from xml.etree import ElementTree

import boto3
import pytest
from moto import mock_aws
from typer.testing import CliRunner

from mission_control.catalog import load_default_catalog
from mission_control.cli import app
from mission_control.db.database import Database
from mission_control.db.migrate import upgrade
from mission_control.progress.service import ensure_defaults, update_item

runner = CliRunner()
TENANT_B_ROLE = "arn:aws:iam::222222222222:role/mission-control-read"
CONFIG = f"""
[templates.tenant]
primary_region = "us-east-1"
secondary_region = "ap-southeast-1"

[templates.edge]
primary_region = "eu-west-1"
secondary_region = "eu-central-1"

[environments.tenant-a]
template = "tenant"

[environments.tenant-b]
template = "tenant"
role_arn = "{TENANT_B_ROLE}"

[environments.solo]
primary_region = "eu-west-1"
secondary_region = "eu-central-1"
"""


@pytest.fixture
def fleet_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """Four environments (production, solo, tenant-a, tenant-b); tenant-a has one item ticked."""
    for name in ("AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_ENDPOINT_URL", "AWS_SESSION_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("MC_DATABASE_URL", f"sqlite:///{tmp_path / 'fleet.db'}")
    monkeypatch.chdir(tmp_path)
    path = tmp_path / "mission-control.toml"
    path.write_text(CONFIG, encoding="utf-8")
    database = Database(f"sqlite:///{tmp_path / 'fleet.db'}")
    upgrade(database)
    catalog = load_default_catalog()
    with database.transaction() as session:
        ensure_defaults(session=session, catalog=catalog, environments=("solo", "tenant-a", "tenant-b"))
        update_item(
            session=session, catalog=catalog, environment_name="tenant-a", item_id="dns.failover-ttl",
            actor="ana", checked=True,
        )  # fmt: skip
    database.dispose()
    with mock_aws():
        yield path


def report(*args: str):
    return runner.invoke(app, ["report", *args])


def text(*args: str) -> str:
    result = report(*args)
    assert result.exit_code == 0, result.stderr
    return result.stdout


def without_time(document: dict) -> dict:
    return {key: value for key, value in document.items() if key not in ("generated_at", "burnup")}


def test_json_holds_each_environments_own_report(fleet_config: Path) -> None:
    fleet = json.loads(text("--all", "--format", "json"))
    assert set(fleet) == {"generated_at", "summary", "environments"}
    names = [document["environment"] for document in fleet["environments"]]
    assert names == ["production", "solo", "tenant-a", "tenant-b"]
    for document in fleet["environments"]:
        alone = json.loads(text("--env", document["environment"], "--format", "json"))
        assert without_time(document) == without_time(alone)
    assert fleet["summary"] == {
        "environments": 4, "complete": 0, "items_completed": 1, "items_total": 80, "regressed": 0,
    }  # fmt: skip


def test_markdown_starts_with_the_fleet_then_each_report_a_level_down(fleet_config: Path) -> None:
    markdown = text("--all", "--format", "md")
    lines = markdown.splitlines()
    assert lines[0].endswith("report — fleet of 4")
    assert "| tenant-a | 5% | 1 / 20 | 0 | never |" in lines
    sections = [line for line in lines if line.startswith("## ") and "report —" in line]
    assert [line.rsplit("— ", 1)[1] for line in sections] == ["production", "solo", "tenant-a", "tenant-b"]
    assert not any(line.startswith("# ") for line in lines[1:])


def test_html_is_one_page_with_a_section_per_environment(fleet_config: Path) -> None:
    html = text("--all", "--format", "html")
    assert html.startswith("<!doctype html>") and html.count("<html") == 1
    assert '<td><a href="#env-tenant-a">tenant-a</a></td><td>5%</td>' in html
    assert [
        f'<section id="env-{name}">' in html for name in ("production", "solo", "tenant-a", "tenant-b")
    ] == [True] * 4


def test_junit_has_one_suite_per_environment(fleet_config: Path) -> None:
    root = ElementTree.fromstring(text("--template", "tenant", "--format", "junit").split("\n", 1)[1])
    suites = root.findall("testsuite")
    assert [suite.get("name").rsplit("(", 1)[1] for suite in suites] == ["tenant-a)", "tenant-b)"]
    assert [suite.get("tests") for suite in suites] == ["20", "20"]


def test_sarif_has_one_run_per_environment(fleet_config: Path) -> None:
    log = json.loads(text("--all", "--format", "sarif", "--config", str(fleet_config)))
    assert log["version"] == "2.1.0"
    ids = [run["automationDetails"]["id"] for run in log["runs"]]
    assert [run_id.split("/")[1] for run_id in ids] == ["production", "solo", "tenant-a", "tenant-b"]


def test_ocsf_lists_every_environments_findings(fleet_config: Path) -> None:
    findings = json.loads(text("--template", "tenant", "--format", "ocsf"))
    assert len(findings) == 40
    single = json.loads(text("--env", "tenant-a", "--format", "ocsf", "--config", str(fleet_config)))
    assert len(single) == 20


def test_asff_names_each_environments_own_account(fleet_config: Path) -> None:
    findings = json.loads(text("--template", "tenant", "--format", "asff"))["Findings"]
    accounts = {finding["AwsAccountId"] for finding in findings if "/tenant-b/" in finding["Id"]}
    assert accounts == {TENANT_B_ROLE.split(":")[4]}
    base = boto3.client("sts", region_name="us-east-1").get_caller_identity()["Account"]
    assert {finding["AwsAccountId"] for finding in findings if "/tenant-a/" in finding["Id"]} == {base}
    assert len(findings) == 40


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["--template", "nope"],
            "no [templates.nope] table, and no discovered environment uses it (found: edge, tenant)",
        ),
        (["--template", "edge"], "no environment made from template 'edge': nothing to report"),
        (["--all", "--template", "tenant"], "choose one of --all, --template or --env"),
        (["--all", "--env", "solo"], "choose one of --all, --template or --env"),
        (["--all", "--format", "pdf"], "unknown format 'pdf'"),
        (
            ["--all", "--format", "asff"],
            "names a region in every finding: pass --config with environment production",
        ),
    ],
)
def test_bad_fleet_reports_exit_2_with_a_message_and_write_nothing(
    fleet_config: Path, args: list[str], message: str
) -> None:
    output = fleet_config.parent / "out.txt"
    result = report(*args, "--output", str(output))
    assert result.exit_code == 2
    assert message in result.stderr
    assert not output.exists()
