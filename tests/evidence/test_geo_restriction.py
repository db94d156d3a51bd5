"""The geo-restriction review: per-distribution policy, multi-region warnings, a stable fingerprint."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from pathlib import Path

import pytest
from typer.testing import CliRunner

from mission_control.cli import app
from mission_control.demo.estate import demo_config_toml
from mission_control.evidence.errors import EvidenceError
from mission_control.evidence.geo_restriction import geo_restriction_report, restriction_fingerprint
from mission_control.verification.aws import AwsError
from mission_control.verification.collectors.cloudfront import CloudFrontSnapshot
from mission_control.verification.config import EnvironmentConfig
from tests.conftest import DemoEstate

NOW = datetime(2026, 11, 27, 9, 30, tzinfo=UTC)
CONFIG = EnvironmentConfig(
    name="production",
    primary_region="us-east-1",
    secondary_region="ap-southeast-1",
    distributions=("E3HQHA5N284LTS", "E1WQP6P5ZWZO5K"),
)


def distribution(restriction_type: str = "none", *locations: str) -> dict:
    geo = {"RestrictionType": restriction_type, "Quantity": len(locations)}
    if locations:
        geo["Items"] = list(locations)
    return {"Restrictions": {"GeoRestriction": geo}}


def snapshot(first: dict, second: dict) -> CloudFrontSnapshot:
    return CloudFrontSnapshot({"E3HQHA5N284LTS": first, "E1WQP6P5ZWZO5K": second}, {})


def test_unrestricted_distributions_raise_no_warning() -> None:
    report = geo_restriction_report(CONFIG, snapshot(distribution(), distribution()), NOW)
    assert report.warnings == ()
    assert "| E3HQHA5N284LTS | none (served everywhere) | — |" in report.markdown
    assert f"Configuration fingerprint: `{report.fingerprint}`" in report.markdown


def test_a_block_on_the_secondary_regions_country_is_a_warning() -> None:
    report = geo_restriction_report(
        CONFIG, snapshot(distribution("blacklist", "SG", "KP"), distribution()), NOW
    )
    assert report.warnings == ("E3HQHA5N284LTS blocks SG, the home of ap-southeast-1",)
    assert "| E3HQHA5N284LTS | block | KP, SG |" in report.markdown


def test_an_allow_list_without_the_primary_country_is_a_warning() -> None:
    report = geo_restriction_report(
        CONFIG, snapshot(distribution(), distribution("whitelist", "SG", "AU")), NOW
    )
    assert report.warnings == ("E1WQP6P5ZWZO5K blocks US, the home of us-east-1",)


def test_fingerprint_ignores_order_but_not_content() -> None:
    one = {"E1": {"type": "blacklist", "locations": ["KP", "SG"]}}
    reordered = {"E1": {"type": "blacklist", "locations": ["SG", "KP"]}}
    changed = {"E1": {"type": "blacklist", "locations": ["KP"]}}
    assert restriction_fingerprint(one) == restriction_fingerprint(reordered)
    assert restriction_fingerprint(one) != restriction_fingerprint(changed)


@pytest.mark.parametrize(
    ("estate", "config", "message"),
    [
        (CloudFrontSnapshot({"E3HQHA5N284LTS": None, "E1WQP6P5ZWZO5K": distribution()}, {}), CONFIG, "distribution E3HQHA5N284LTS not found"),
        (CloudFrontSnapshot({"E3HQHA5N284LTS": AwsError("cloudfront:GetDistributionConfig", "E3HQHA5N284LTS", "us-east-1", "AccessDenied"), "E1WQP6P5ZWZO5K": distribution()}, {}), CONFIG, "AccessDenied on cloudfront:GetDistributionConfig for E3HQHA5N284LTS"),
        (CloudFrontSnapshot({}, {}), EnvironmentConfig(name="production", primary_region="us-east-1", secondary_region="ap-southeast-1"), "not configured: set distributions"),
    ],
)  # fmt: skip
def test_unreadable_configuration_is_an_evidence_error(
    estate: CloudFrontSnapshot, config: EnvironmentConfig, message: str
) -> None:
    with pytest.raises(EvidenceError, match=message):
        geo_restriction_report(config, estate, NOW)


def test_geo_restriction_command_against_the_demo_estate(demo_aws: DemoEstate, tmp_path: Path) -> None:
    config_file = tmp_path / "mission-control.toml"
    config_file.write_text(demo_config_toml(demo_aws.config), encoding="utf-8")
    result = CliRunner().invoke(app, ["evidence", "geo-restriction", "--config", str(config_file)])
    assert result.exit_code == 0, result.stderr
    for distribution_id in demo_aws.config.distributions:
        assert f"| {distribution_id} |" in result.stdout
    assert re.search(r"Configuration fingerprint: `[0-9a-f]{64}`", result.stdout)


def test_recorded_review_is_stored_as_evidence_of_the_item(
    demo_aws: DemoEstate, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MC_DATABASE_URL", f"sqlite:///{tmp_path / 'geo.db'}")
    config_file = tmp_path / "mission-control.toml"
    config_file.write_text(demo_config_toml(demo_aws.config), encoding="utf-8")
    runner = CliRunner()
    result = runner.invoke(app, ["evidence", "geo-restriction", "--config", str(config_file), "--record"])
    assert result.exit_code == 0, result.stderr
    assert "recorded as evidence for cloudfront.geo-restriction in production" in result.stderr
    history = json.loads(runner.invoke(app, ["export", "--format", "json"]).stdout)
    items = {item["id"]: item for category in history["categories"] for item in category["items"]}
    assert (
        items["cloudfront.geo-restriction"]["evidence"]["state"] == "incomplete"
    )  # still needs its attestation
