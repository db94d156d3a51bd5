"""`env discover`: environments from AWS Organizations over nested OUs, idempotent, archiving leavers."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto import mock_aws
from typer.testing import CliRunner

from mission_control.catalog import load_default_catalog
from mission_control.cli import app
from mission_control.db.database import Database
from mission_control.progress.service import get_checklist, update_item
from mission_control.verification.discovery import DISCOVERY_ACTIONS, walk

runner = CliRunner()
TEMPLATE = '[templates.tenant]\nprimary_region = "us-east-1"\nsecondary_region = "ap-southeast-1"\n'


@pytest.fixture
def organization(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, Any]]:
    """Root: sandbox; root/workloads: shared-services; root/workloads/tenants: tenant-a (tier=gold), tenant-b."""
    monkeypatch.setenv("MC_DATABASE_URL", f"sqlite:///{tmp_path / 'discovery.db'}")
    monkeypatch.chdir(tmp_path)
    (tmp_path / "mission-control.toml").write_text(
        TEMPLATE
        + '[environments.sandbox]\nprimary_region = "eu-west-1"\nsecondary_region = "eu-central-1"\n',
        encoding="utf-8",
    )
    with mock_aws():
        client = boto3.client("organizations", region_name="us-east-1")
        client.create_organization(FeatureSet="ALL")
        root = client.list_roots()["Roots"][0]["Id"]
        workloads = client.create_organizational_unit(ParentId=root, Name="workloads")["OrganizationalUnit"][
            "Id"
        ]
        tenants = client.create_organizational_unit(ParentId=workloads, Name="tenants")["OrganizationalUnit"][
            "Id"
        ]
        ids = {}
        for name, parent in (
            ("sandbox", root),
            ("shared-services", workloads),
            ("tenant-a", tenants),
            ("tenant-b", tenants),
        ):
            status = client.create_account(AccountName=name, Email=f"{name}@example.com")[
                "CreateAccountStatus"
            ]
            ids[name] = status["AccountId"]
            client.move_account(AccountId=ids[name], SourceParentId=root, DestinationParentId=parent)
        client.tag_resource(ResourceId=ids["tenant-a"], Tags=[{"Key": "tier", "Value": "gold"}])
        yield {"client": client, "ids": ids, "root": root, "workloads": workloads, "tenants": tenants}


def discover(*args: str):
    return runner.invoke(
        app, ["env", "discover", "--role-name", "MissionControlReadOnly", "--template", "tenant", *args]
    )


def lines(result: Any) -> list[str]:
    assert result.exit_code == 0, result.stderr
    return result.stdout.splitlines()


def test_discovery_walks_nested_ous_and_the_file_wins_over_a_discovered_name(
    organization: dict[str, Any],
) -> None:
    output = lines(discover())
    assert output[0] == "added (4): master, shared-services, tenant-a, tenant-b"
    assert output[1:3] == ["changed (0): -", "suspended (0): -"]
    assert "  sandbox: defined in the configuration file, which wins" in output
    listed = dict(line.split("\t") for line in lines(runner.invoke(app, ["env", "list"])))
    assert listed["sandbox"] == "config mission-control.toml"
    assert listed["tenant-a"] == (
        f"discovered: account {organization['ids']['tenant-a']}, template tenant, {organization['tenants']}"
    )
    assert listed["production"] == "database"


def test_discovery_is_idempotent(organization: dict[str, Any]) -> None:
    lines(discover())
    assert lines(discover())[:3] == ["added (0): -", "changed (0): -", "suspended (0): -"]


def test_an_account_that_leaves_is_archived_with_its_history_kept(
    organization: dict[str, Any], tmp_path: Path
) -> None:
    lines(discover())
    database = Database(f"sqlite:///{tmp_path / 'discovery.db'}")
    with database.transaction() as session:
        update_item(
            session=session, catalog=load_default_catalog(), environment_name="tenant-b",
            item_id="dns.failover-ttl", actor="ana", checked=True,
        )  # fmt: skip
    organization["client"].remove_account_from_organization(AccountId=organization["ids"]["tenant-b"])
    assert lines(discover())[2] == "suspended (1): tenant-b"
    assert lines(discover())[2] == "suspended (0): -"
    listed = dict(line.split("\t") for line in lines(runner.invoke(app, ["env", "list"])))
    assert listed["tenant-b"].startswith("archived: account ")
    with database.read() as session:
        checklist = get_checklist(
            session=session, catalog=load_default_catalog(), environment_name="tenant-b"
        )
        assert checklist.completed == 1
    database.dispose()


def test_dry_run_prints_the_plan_and_changes_nothing(organization: dict[str, Any]) -> None:
    assert (
        lines(discover("--dry-run"))[0] == "would be added (4): master, shared-services, tenant-a, tenant-b"
    )
    assert lines(discover())[0] == "added (4): master, shared-services, tenant-a, tenant-b"


def test_ou_and_tag_filters_narrow_the_walk(organization: dict[str, Any]) -> None:
    output = lines(discover("--ou", organization["tenants"], "--tag", "tier=gold"))
    assert output[0] == "added (1): tenant-a"
    assert any(line.startswith("  tenant-b: account") and "lacks tag(s) tier=gold" in line for line in output)


def test_a_missing_template_is_a_usage_error_and_stores_nothing(organization: dict[str, Any]) -> None:
    result = runner.invoke(app, ["env", "discover", "--role-name", "R", "--template", "nope"])
    assert result.exit_code == 2 and "no [templates.nope] table for --template" in result.stderr
    assert "tenant-a" not in runner.invoke(app, ["env", "list"]).stdout


def test_a_malformed_tag_is_a_usage_error(organization: dict[str, Any]) -> None:
    result = discover("--tag", "tier")
    assert result.exit_code == 2 and "--tag 'tier': expected KEY=VALUE" in result.stderr


def test_the_walk_calls_only_declared_organizations_actions(organization: dict[str, Any]) -> None:
    client = organization["client"]
    called: set[str] = set()
    client.meta.events.register(
        "before-call", lambda model, **kwargs: called.add(f"organizations:{model.name}")
    )
    walk(client)
    assert called and called <= set(DISCOVERY_ACTIONS)


def test_discovery_reads_every_page_of_accounts_and_organizational_units(
    organization: dict[str, Any],
) -> None:
    """moto pages ListOrganizationalUnitsForParent and ListAccountsForParent by 20, ListAccounts by 100."""
    client = organization["client"]
    crowded = client.create_organizational_unit(ParentId=organization["root"], Name="crowded")[
        "OrganizationalUnit"
    ]["Id"]
    units = [
        client.create_organizational_unit(ParentId=crowded, Name=f"unit-{number}")["OrganizationalUnit"]["Id"]
        for number in range(25)
    ]
    for number in range(105):
        account = client.create_account(AccountName=f"bulk-{number:03d}", Email=f"b{number}@example.com")
        client.move_account(
            AccountId=account["CreateAccountStatus"]["AccountId"],
            SourceParentId=organization["root"],
            DestinationParentId=units[-1] if number == 104 else crowded,
        )
    added = lines(discover())[0]
    names = added.split(": ", 1)[1].split(", ")
    assert added.startswith("added (109): ") and len(set(names)) == 109
    assert {f"bulk-{number:03d}" for number in range(105)} <= set(names)
    assert lines(discover())[:3] == ["added (0): -", "changed (0): -", "suspended (0): -"]


def test_a_closed_account_is_archived_and_keeps_its_history(
    organization: dict[str, Any], tmp_path: Path
) -> None:
    lines(discover())
    database = Database(f"sqlite:///{tmp_path / 'discovery.db'}")
    with database.transaction() as session:
        update_item(
            session=session, catalog=load_default_catalog(), environment_name="tenant-a",
            item_id="dns.failover-ttl", actor="ana", checked=True,
        )  # fmt: skip
    organization["client"].close_account(AccountId=organization["ids"]["tenant-a"])
    statuses = {a["Name"]: a["Status"] for a in organization["client"].list_accounts()["Accounts"]}
    assert statuses["tenant-a"] != "ACTIVE"
    assert lines(discover())[2] == "suspended (1): tenant-a"
    listed = dict(line.split("\t") for line in lines(runner.invoke(app, ["env", "list"])))
    assert listed["tenant-a"].startswith("archived: account ")
    with database.read() as session:
        checklist = get_checklist(
            session=session, catalog=load_default_catalog(), environment_name="tenant-a"
        )
        assert checklist.completed == 1
    database.dispose()
    assert lines(discover())[:3] == ["added (0): -", "changed (0): -", "suspended (0): -"]
