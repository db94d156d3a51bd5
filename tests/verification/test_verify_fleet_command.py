"""`mission-control verify` over a fleet: --all, --template, repeated --env; one exit code for all."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from xml.etree import ElementTree

import boto3
import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from mission_control.cli import app
from mission_control.db.database import Database
from mission_control.verification.fleet import fleet_exit_code, summary_state
from mission_control.verification.models import VerificationRun
from tests.verification.aws_gateway import Gateway
from tests.verification.fleet_estate import NETWORK, TENANTS, role_arn

runner = CliRunner()


@pytest.fixture
def config_file(fleet_estate: Gateway, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("MC_DATABASE_URL", f"sqlite:///{tmp_path / 'fleet.db'}")
    path = tmp_path / "mission-control.toml"
    tenants = "\n".join(
        f'[environments.{name}]\ntemplate = "tenant"\nrole_arn = "{role_arn(account)}"\nmain_table = "{name}-main"\n'
        for name, account in TENANTS.items()
    )
    path.write_text(
        f"""
[templates.tenant]
primary_region = "us-east-1"
secondary_region = "ap-southeast-1"
hosted_zone = "b.example"
api_domain = "api.b.example"
accounts = {{ route53 = "{role_arn(NETWORK)}" }}

{tenants}
[environments.solo]
primary_region = "us-east-1"
secondary_region = "ap-southeast-1"
""",
        encoding="utf-8",
    )
    return path


def verify(*args: str):
    return runner.invoke(app, ["verify", *args])


def test_verify_template_prints_one_document_per_environment(config_file: Path) -> None:
    result = verify("--config", str(config_file), "--template", "tenant", "--format", "json")
    fleet = json.loads(result.stdout)
    assert set(fleet) == {"generated_at", "summary", "environments"}
    assert [document["environment"] for document in fleet["environments"]] == list(TENANTS)
    assert all(
        set(document) == {"environment", "checklist", "generated_at", "summary", "items"}
        for document in fleet["environments"]
    )
    by_name = {document["environment"]: document for document in fleet["environments"]}
    main = {
        name: next(i for i in doc["items"] if i["id"] == "dynamodb.global-main")
        for name, doc in by_name.items()
    }
    assert [main[name]["status"] for name in TENANTS] == ["verified", "failing", "error"]
    assert fleet["summary"]["environments"] == 3 and fleet["summary"]["failing"] == 2
    assert fleet["summary"]["error"] == 1
    assert result.exit_code == 1


def test_repeated_env_verifies_just_those_and_junit_has_a_suite_each(
    config_file: Path, tmp_path: Path
) -> None:
    output = tmp_path / "fleet.xml"
    result = verify(
        "--config", str(config_file), "--env", "tenant-a", "--env", "tenant-17", "--format", "junit",
        "--output", str(output),
    )  # fmt: skip
    assert result.exit_code == 1, result.stderr
    suites = ElementTree.parse(output).getroot().findall("testsuite")
    assert [suite.get("name").rsplit("(", 1)[1] for suite in suites] == ["tenant-a)", "tenant-17)"]


def test_an_environment_with_only_errors_exits_3(config_file: Path) -> None:
    result = verify("--config", str(config_file), "--env", "tenant-17", "--env", "tenant-17")
    assert result.exit_code == 3, result.stderr
    assert "tenant-17: 0 verified, 0 failing, " in result.stderr


def test_fleet_exit_code_is_failing_first_then_errors_then_ready() -> None:
    assert fleet_exit_code(["ready", "ready"]) == 0
    assert fleet_exit_code(["ready", "error"]) == 3
    assert fleet_exit_code(["error", "failing", "ready"]) == 1
    assert fleet_exit_code([]) == 0


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--all", "--template", "tenant"], "choose one of --all, --template or --env"),
        (["--template", "shard"], "no environment has template = 'shard'"),
        (["--env", "tenant-a", "--env", "nowhere"], "no [environments.nowhere] table"),
    ],
)
def test_bad_fleet_selections_exit_2_with_a_message(config_file: Path, args: list[str], message: str) -> None:
    result = verify("--config", str(config_file), *args)
    assert result.exit_code == 2
    assert message in result.stderr


@pytest.mark.parametrize("processes", ["0", "65", "two"])
def test_a_bad_process_count_exits_2_before_verifying_and_keeps_the_stored_runs(
    config_file: Path, processes: str
) -> None:
    assert verify("--config", str(config_file), "--all", "--format", "json").exit_code == 1
    result = verify("--config", str(config_file), "--all", "--processes", processes)
    assert result.exit_code == 2
    assert "Invalid value for '--processes'" in result.stderr
    database = Database(f"sqlite:///{config_file.parent / 'fleet.db'}")
    with database.read() as session:
        runs = session.scalars(select(VerificationRun.state)).all()
    database.dispose()
    assert runs == ["completed"] * 4  # the first verify's runs, and no new one begun


def without_time(document: dict) -> dict:
    return {key: value for key, value in document.items() if key != "generated_at"}


def test_verify_all_prints_each_environment_as_its_own_verify_would(config_file: Path) -> None:
    """Three tenant accounts (ready, not ready, refused), their zones in a network account, and one
    environment on the base credentials: one document each, equal to that environment's own verify."""
    result = verify("--config", str(config_file), "--all", "--format", "json")
    fleet = json.loads(result.stdout)
    assert set(fleet) == {"generated_at", "summary", "environments"}
    names = [document["environment"] for document in fleet["environments"]]
    assert names == [*TENANTS, "solo"]
    for document in fleet["environments"]:
        alone = verify("--config", str(config_file), "--env", document["environment"], "--format", "json")
        assert without_time(document) == without_time(json.loads(alone.stdout))
    states = {
        document["environment"]: summary_state(document["summary"]) for document in fleet["environments"]
    }
    assert states["tenant-17"] == "error" and states["tenant-b"] == "failing"
    main_table = [
        next(item["status"] for item in document["items"] if item["id"] == "dynamodb.global-main")
        for document in fleet["environments"]
    ]
    assert main_table == ["verified", "failing", "error", "failing"]
    assert fleet["summary"]["environments"] == 4
    assert fleet["summary"]["items_total"] == sum(d["summary"]["total"] for d in fleet["environments"])
    assert result.exit_code == fleet_exit_code(list(states.values())) == 1


def test_discovered_environments_join_verify_all_until_their_account_leaves(config_file: Path) -> None:
    organizations = boto3.client("organizations", region_name="us-east-1")
    organizations.create_organization(FeatureSet="ALL")
    joined = organizations.create_account(AccountName="tenant-new", Email="new@example.com")
    account = joined["CreateAccountStatus"]["AccountId"]
    discover = ["env", "discover", "--role-name", "mission-control-read", "--template", "tenant"]
    discovered = runner.invoke(app, [*discover, "--config", str(config_file)])
    assert discovered.exit_code == 0, discovered.stderr
    assert "tenant-new" in discovered.stdout.splitlines()[0]
    fleet = json.loads(verify("--config", str(config_file), "--all", "--format", "json").stdout)
    names = [document["environment"] for document in fleet["environments"]]
    assert "tenant-new" in names and set(TENANTS) <= set(names)
    alone = json.loads(verify("--config", str(config_file), "--env", "tenant-new", "--format", "json").stdout)
    assert without_time(alone) == without_time(fleet["environments"][names.index("tenant-new")])
    organizations.remove_account_from_organization(AccountId=account)
    assert runner.invoke(app, [*discover, "--config", str(config_file)]).exit_code == 0
    fleet = json.loads(verify("--config", str(config_file), "--all", "--format", "json").stdout)
    assert "tenant-new" not in [document["environment"] for document in fleet["environments"]]


def test_assumed_credentials_are_never_written_to_disk_or_the_database(
    config_file: Path, fleet_estate: Gateway, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))  # botocore's own caches would live under ~/.aws
    result = verify(
        "--config", str(config_file), "--all", "--format", "json", "--output", str(tmp_path / "fleet.json")
    )
    assert result.exit_code == 1, result.stderr
    assert len(fleet_estate.issued_secrets) >= 6  # two roles at least, a secret key and a token each
    written = [path for path in tmp_path.rglob("*") if path.is_file()]
    assert tmp_path / "fleet.db" in written and tmp_path / "fleet.json" in written
    for path in written:
        content = path.read_bytes()
        leaked = [secret[:8] for secret in fleet_estate.issued_secrets if secret.encode() in content]
        assert not leaked, f"{path} holds assumed-role secrets {leaked}"


def test_verify_all_split_across_processes_prints_what_one_process_does(config_file: Path) -> None:
    """`python -m mission_control` in a real process, as a user starts it: the spawned process verifies
    its share (the environment on the base credentials) and the documents come back in order."""
    split = subprocess.run(
        [sys.executable, "-m", "mission_control", "verify", "--config", str(config_file), "--all",
         "--processes", "2", "--format", "json"],
        capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert split.returncode == 1, split.stderr
    one = json.loads(
        verify("--config", str(config_file), "--all", "--processes", "1", "--format", "json").stdout
    )
    documents = json.loads(split.stdout)["environments"]
    assert [without_time(document) for document in documents] == [
        without_time(document) for document in one["environments"]
    ]
