"""Each item's verdict, and where its configuration key sits in the TOML file."""

from __future__ import annotations

from dataclasses import fields
from datetime import UTC, datetime

import pytest

from mission_control.catalog import load_default_catalog
from mission_control.evidence.freshness import EvidenceStatus, KindStatus
from mission_control.findings.model import Verdict, config_line, verdict_of
from mission_control.progress.checklist import ItemView
from mission_control.verification import registry
from mission_control.verification.config import EnvironmentConfig
from mission_control.verification.results import Status, StoredResult

CONFIG = """\
# top comment
[environments.staging]
hosted_zone = "staging.example."

[environments.production]
primary_region = "us-east-1"
  "hosted_zone" = "example."
main_table = "spaceduck-main"

[environments.production.regional_endpoints]
us-east-1 = "use1.example"
"""
NOW = datetime(2026, 12, 1, tzinfo=UTC)


@pytest.mark.parametrize(
    ("environment", "key", "line"),
    [
        ("production", "hosted_zone", 7),  # quoted and indented, not staging's line 3
        ("production", "main_table", 8),
        ("production", "regional_endpoints", 10),  # a sub-table
        ("production", None, 5),  # the table itself
        ("production", "api_domain", None),  # unset
        ("staging", "main_table", None),  # set only in another environment
        ("qa", "hosted_zone", None),  # no such table
    ],
)
def test_config_line_finds_the_key_inside_its_environment_table(
    environment: str, key: str | None, line: int | None
) -> None:
    assert config_line(CONFIG, environment, key) == line


def test_config_line_of_an_unreadable_file_is_unknown() -> None:
    assert config_line(None, "production", "hosted_zone") is None


def entry(item_id: str, *, checked: bool = False, status: Status | None = None, evidence: str | None = None):
    item = load_default_catalog().item(item_id)
    verification = StoredResult(status, "summary", {}, NOW) if status else None
    evidence_status = (
        EvidenceStatus(evidence, 90, (KindStatus("drill", "fresh", NOW, ""),)) if evidence else None
    )
    return ItemView(item, checked, None, None, None, "", 1, verification, evidence_status)


@pytest.mark.parametrize(
    ("view", "verdict"),
    [
        (entry("dns.failover-ttl", status=Status.VERIFIED), Verdict.PASSED),
        (entry("dns.failover-ttl", status=Status.FAILING), Verdict.FAILED),
        (entry("dns.failover-ttl", checked=True, status=Status.FAILING), Verdict.FAILED),
        (entry("dns.failover-ttl", checked=True, status=Status.ERROR), Verdict.ERROR),
        (entry("dns.failover-ttl", status=Status.ERROR), Verdict.ERROR),
        (entry("dns.failover-ttl"), Verdict.OPEN),  # never verified, not ticked
        (entry("dns.failover-ttl", checked=True), Verdict.PASSED),  # ticked, nothing contradicts it
        (entry("dynamodb.restore-drill", status=Status.MANUAL, evidence="complete"), Verdict.PASSED),
        (entry("dynamodb.restore-drill", status=Status.MANUAL, evidence="incomplete"), Verdict.OPEN),
        (entry("dynamodb.restore-drill", checked=True, evidence="stale"), Verdict.FAILED),  # regressed
    ],
)
def test_verdict_of_each_item_state(view: ItemView, verdict: Verdict) -> None:
    assert verdict_of(view) is verdict


def test_every_probe_declares_configuration_keys_that_exist() -> None:
    registry.load_all()
    keys = {config_field.name for config_field in fields(EnvironmentConfig)} - {"name"}
    declared = {item_id: probe.config_keys for item_id, probe in registry.PROBES.items()}
    assert all(declared.values()), [item_id for item_id, found in declared.items() if not found]
    assert {key for found in declared.values() for key in found} <= keys
