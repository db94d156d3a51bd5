"""`mission-control verify` end to end against the demo estate on moto's HTTP server."""

from __future__ import annotations

import json
from pathlib import Path
from xml.etree import ElementTree

import pytest
from typer.testing import CliRunner

from mission_control.cli import app
from mission_control.cli.verification import readiness_exit_code
from mission_control.demo.estate import EXPECTED_FAILING, demo_config_toml
from tests.conftest import DemoEstate, free_port

runner = CliRunner()


@pytest.fixture
def config_file(demo_aws: DemoEstate, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("MC_DATABASE_URL", f"sqlite:///{tmp_path / 'verify.db'}")
    path = tmp_path / "mission-control.toml"
    path.write_text(demo_config_toml(demo_aws.config), encoding="utf-8")
    return path


def verify(*args: str):
    return runner.invoke(app, ["verify", *args])


def test_json_report_has_the_documented_shape_and_the_estate_defects(config_file: Path) -> None:
    result = verify("--config", str(config_file), "--format", "json")
    assert result.exit_code == 1, result.stderr
    report = json.loads(result.stdout)
    assert set(report) == {"environment", "checklist", "generated_at", "summary", "items"}
    assert report["summary"] == {"total": 20, "verified": 7, "failing": 6, "error": 0, "manual": 7}
    failing = {item["id"] for item in report["items"] if item["status"] == "failing"}
    assert failing == set(EXPECTED_FAILING)
    ttl = next(item for item in report["items"] if item["id"] == "dns.failover-ttl")
    assert set(ttl) == {"id", "title", "category", "status", "summary", "facts"}
    assert "300" in ttl["summary"]


def test_fail_under_gates_on_completion(config_file: Path) -> None:
    assert verify("--config", str(config_file), "--fail-under", "35", "--format", "json").exit_code == 0
    assert verify("--config", str(config_file), "--fail-under", "36", "--format", "json").exit_code == 1


def test_junit_output_file_is_valid_xml_with_one_case_per_item(config_file: Path, tmp_path: Path) -> None:
    output = tmp_path / "verify.xml"
    result = verify("--config", str(config_file), "--format", "junit", "--output", str(output))
    assert result.exit_code == 1
    cases = ElementTree.parse(output).getroot().iter("testcase")
    outcomes = {case.get("name").split(":")[0]: [child.tag for child in case] for case in cases}
    assert len(outcomes) == 20
    assert outcomes["dns.failover-ttl"] == ["failure"]
    assert outcomes["dns.latency-routing"] == []
    assert outcomes["dns.failover-runbook"] == ["skipped"]


def test_markdown_and_table_formats_render(config_file: Path) -> None:
    markdown = verify("--config", str(config_file), "--format", "markdown")
    assert markdown.exit_code == 1 and "dns.failover-ttl" in markdown.stdout
    table = verify("--config", str(config_file))
    assert table.exit_code == 1 and "failing" in table.stdout.lower()


def test_runs_are_stored_so_status_and_exports_count_verified_items(config_file: Path) -> None:
    verify("--config", str(config_file), "--format", "json")
    exported = json.loads(runner.invoke(app, ["export", "--format", "json"]).stdout)
    assert exported["completed"] == 7
    statuses = {
        item["id"]: item["verification"]["status"] for c in exported["categories"] for item in c["items"]
    }
    assert statuses["dns.latency-routing"] == "verified"


def test_a_ticked_item_that_fails_is_reported_as_regressed(config_file: Path, tmp_path: Path) -> None:
    stored = tmp_path / "old.json"
    stored.write_text(json.dumps(["dns.failover-ttl"]), encoding="utf-8")
    assert runner.invoke(app, ["import-localstorage", str(stored)]).exit_code == 0
    result = verify("--config", str(config_file), "--format", "json")
    assert "regressed: dns.failover-ttl was ticked but now fails its check" in result.stderr


@pytest.mark.parametrize(
    ("toml", "args", "message"),
    [
        ("[environments.production]\nprimary_region = 'us-east-1'\n", (), "missing required key 'secondary_region'"),
        ("[environments.production]\nprimary_region = 1\nsecondary_region = 'x'\n", (), "primary_region: expected a non-empty string"),
        ("[environments.production]\nprimary_region = 'a'\nsecondary_region = 'b'\ncolour = 'red'\n", (), "unknown key 'colour'"),
        ("not toml ===", (), "not valid TOML"),
        ("[environments.staging]\nprimary_region = 'us-east-1'\nsecondary_region = 'eu-west-1'\n[environments.dev]\nprimary_region = 'us-east-1'\nsecondary_region = 'eu-west-1'\n", (), "no [environments.production] table"),
        ("[environments.production]\nprimary_region = 'us-east-1'\nsecondary_region = 'eu-west-1'\n", ("--format", "pdf"), "unknown format 'pdf'"),
    ],
)  # fmt: skip
def test_configuration_and_usage_errors_exit_2_with_the_key_named(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, toml: str, args: tuple[str, ...], message: str
) -> None:
    monkeypatch.setenv("MC_DATABASE_URL", f"sqlite:///{tmp_path / 'verify.db'}")
    path = tmp_path / "bad.toml"
    path.write_text(toml, encoding="utf-8")
    result = verify("--config", str(path), *args)
    assert result.exit_code == 2
    assert message in result.stderr


def test_missing_configuration_file_exits_2(tmp_path: Path) -> None:
    result = verify("--config", str(tmp_path / "absent.toml"))
    assert result.exit_code == 2 and "cannot read configuration" in result.stderr


def test_iam_policy_command_prints_a_read_only_policy() -> None:
    result = runner.invoke(app, ["iam-policy"])
    policy = json.loads(result.stdout)
    [statement] = policy["Statement"]
    assert statement["Effect"] == "Allow"
    assert "dynamodb:DescribeContinuousBackups" in statement["Action"]
    assert all(action.split(":")[1].startswith(("List", "Get", "Describe")) for action in statement["Action"])


@pytest.mark.parametrize(
    ("failing", "error", "code"),
    [(0, 0, 0), (2, 0, 1), (2, 3, 1), (0, 3, 3)],
    ids=["ready", "failing", "failing-and-error", "only-error"],
)
def test_verify_exit_code_tells_ready_from_failing_from_unchecked(
    failing: int, error: int, code: int
) -> None:
    summary = {"total": 20, "verified": 20 - failing - error, "failing": failing, "error": error, "manual": 0}
    assert readiness_exit_code(summary) == code


def test_verify_exits_3_when_nothing_fails_but_aws_cannot_be_reached(
    config_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AWS_ENDPOINT_URL", f"http://127.0.0.1:{free_port()}")  # nothing listens there
    monkeypatch.setenv("AWS_MAX_ATTEMPTS", "1")
    result = verify("--config", str(config_file), "--format", "json")
    summary = json.loads(result.stdout)["summary"]
    assert (summary["failing"], summary["verified"]) == (0, 0) and summary["error"] > 0
    assert result.exit_code == 3, result.stderr


def test_fail_under_keeps_its_meaning_when_items_are_in_error(
    config_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AWS_ENDPOINT_URL", f"http://127.0.0.1:{free_port()}")
    monkeypatch.setenv("AWS_MAX_ATTEMPTS", "1")
    assert verify("--config", str(config_file), "--fail-under", "0", "--format", "json").exit_code == 0
