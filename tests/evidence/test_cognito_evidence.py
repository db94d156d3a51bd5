"""Cognito evidence: the parity diff document and the token-sync strategy template, from live pools."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from typer.testing import CliRunner

from mission_control.cli import app
from mission_control.demo.estate import demo_config_toml
from mission_control.evidence.cognito import cognito_parity_document, token_sync_template
from mission_control.evidence.errors import EvidenceError
from mission_control.verification.aws import AwsError
from mission_control.verification.collectors.cognito import CognitoSnapshot, UserPoolSnapshot
from mission_control.verification.config import EnvironmentConfig
from tests.conftest import DemoEstate

NOW = datetime(2026, 11, 27, 9, 30, tzinfo=UTC)
CONFIG = EnvironmentConfig(
    name="production",
    primary_region="us-east-1",
    secondary_region="ap-southeast-1",
    cognito_primary_pool="us-east-1_primary",
    cognito_backup_pool="ap-southeast-1_backup",
)


@pytest.fixture
def config_file(demo_aws: DemoEstate, tmp_path: Path) -> Path:
    path = tmp_path / "mission-control.toml"
    path.write_text(demo_config_toml(demo_aws.config), encoding="utf-8")
    return path


def test_parity_document_lists_each_difference_of_the_demo_pools(
    config_file: Path, demo_aws: DemoEstate
) -> None:
    result = CliRunner().invoke(app, ["evidence", "cognito-parity", "--config", str(config_file)])
    assert result.exit_code == 0, result.stderr
    assert f"primary `{demo_aws.config.cognito_primary_pool}`" in result.stdout
    assert "| Setting | Primary | Backup |" in result.stdout
    assert "PostConfirmation" in result.stdout
    assert "CallbackURLs" in result.stdout


def test_token_sync_template_starts_from_the_live_pools(config_file: Path, demo_aws: DemoEstate) -> None:
    result = CliRunner().invoke(app, ["evidence", "token-sync-template", "--config", str(config_file)])
    assert result.exit_code == 0, result.stderr
    backup = demo_aws.config.cognito_backup_pool
    assert f"https://cognito-idp.ap-southeast-1.amazonaws.com/{backup}" in result.stdout
    assert "TODO: chosen option, and why." in result.stdout
    assert "triggers: " in result.stdout and "PostConfirmation" in result.stdout


@pytest.mark.parametrize(
    ("snapshot", "message"),
    [
        (CognitoSnapshot(None, None), "not configured: set cognito_primary_pool"),
        (CognitoSnapshot(UserPoolSnapshot("us-east-1_primary", "us-east-1", None), None), "user pool us-east-1_primary not found in us-east-1"),
        (CognitoSnapshot(UserPoolSnapshot("us-east-1_primary", "us-east-1", AwsError("cognito-idp:DescribeUserPool", "us-east-1_primary", "us-east-1", "AccessDenied")), None), "AccessDenied on cognito-idp:DescribeUserPool"),
    ],
)  # fmt: skip
def test_template_without_readable_pools_is_an_evidence_error(
    snapshot: CognitoSnapshot, message: str
) -> None:
    with pytest.raises(EvidenceError, match=message):
        token_sync_template(CONFIG, snapshot, NOW)


def test_parity_document_without_pools_is_an_evidence_error() -> None:
    with pytest.raises(EvidenceError, match="not configured"):
        cognito_parity_document(CONFIG, CognitoSnapshot(None, None), NOW)
