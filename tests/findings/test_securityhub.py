"""Security Hub export on moto's Security Hub: stable Ids update findings, recovered items are resolved.

moto has no BatchUpdateFindings, so that one operation is answered at botocore's before-call hook,
its request and answer checked against the service model (as tests/verification/model_stub.py does).
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.awsrequest import AWSResponse
from botocore.validate import validate_parameters
from moto import mock_aws

from mission_control.catalog import load_default_catalog
from mission_control.findings.asff import Account, finding_id
from mission_control.findings.model import ConfigLocation, Finding, FindingsRun, Verdict
from mission_control.findings.securityhub import ExportError, export_findings
from mission_control.verification.aws import AwsClients
from mission_control.verification.iam import integrations_policy, read_only_policy
from tests.findings.conftest import invoke

REGION = "us-east-1"
ACCOUNT = Account("123456789012", REGION)
NOW = datetime(2026, 12, 1, 12, tzinfo=UTC)


class AnsweredOperation:
    """Answers one Security Hub operation from a session's clients; records each request."""

    def __init__(
        self, session: boto3.Session, operation: str, answer: dict[str, Any], error: str = ""
    ) -> None:
        self.requests: list[dict[str, Any]] = []
        self._answer, self._error = answer, error
        session.events.register_first(f"before-parameter-build.securityhub.{operation}", self._remember)
        session.events.register_first(f"before-call.securityhub.{operation}", self._respond)

    def _remember(self, params: dict[str, Any], model: Any, **_: Any) -> None:
        validate_parameters(params, model.input_shape)
        self.requests.append(copy.deepcopy(params))

    def _respond(self, model: Any, **_: Any) -> tuple[AWSResponse, dict[str, Any]]:
        if self._error:
            body = {"Error": {"Code": self._error, "Message": f"not allowed: {model.name}"}}
            return AWSResponse("https://stub.invalid", 403, {}, None), body
        validate_parameters(self._answer, model.output_shape)
        return AWSResponse("https://stub.invalid", 200, {}, None), copy.deepcopy(self._answer)


@pytest.fixture
def session() -> Iterator[boto3.Session]:
    with mock_aws():
        yield boto3.Session(aws_access_key_id="testing", aws_secret_access_key="testing", region_name=REGION)


def run_with(verdicts: dict[str, Verdict]) -> FindingsRun:
    catalog = load_default_catalog()
    findings = tuple(
        Finding(
            catalog.item(item_id),
            "production",
            verdict,
            False,
            f"{item_id} is {verdict}",
            NOW,
            (ConfigLocation("mission-control.toml", "environments.production.hosted_zone", 3),),
        )
        for item_id, verdict in verdicts.items()
    )
    return FindingsRun(catalog.id, catalog.title, "production", NOW, findings)


def stored(session: boto3.Session) -> dict[str, dict[str, Any]]:
    found = session.client("securityhub").get_findings()["Findings"]
    return {f["ProductFields"]["missioncontrol/item"]: f for f in found}


def test_a_later_export_updates_the_same_findings_and_resolves_a_recovered_item(
    session: boto3.Session,
) -> None:
    resolve = AnsweredOperation(
        session, "BatchUpdateFindings", {"ProcessedFindings": [], "UnprocessedFindings": []}
    )
    performed: set[str] = set()
    session.events.register(
        "before-call.securityhub.*", lambda model, **_: performed.add(f"securityhub:{model.name}")
    )
    first = export_findings(
        run_with({"dns.failover-ttl": Verdict.FAILED, "dns.latency-routing": Verdict.PASSED}),
        ACCOUNT, AwsClients(session),
    )  # fmt: skip
    assert first.created == ("dns.failover-ttl", "dns.latency-routing") and first.resolved == ()
    assert stored(session)["dns.failover-ttl"]["RecordState"] == "ACTIVE"
    second = export_findings(
        run_with({"dns.failover-ttl": Verdict.PASSED, "dns.latency-routing": Verdict.PASSED}),
        ACCOUNT, AwsClients(session),
    )  # fmt: skip
    assert second.created == () and second.resolved == ("dns.failover-ttl",)
    findings = stored(session)
    assert len(session.client("securityhub").get_findings()["Findings"]) == 2  # updated, not duplicated
    assert findings["dns.failover-ttl"]["RecordState"] == "ARCHIVED"
    assert findings["dns.failover-ttl"]["Compliance"]["Status"] == "PASSED"
    assert [request["Workflow"] for request in resolve.requests] == [{"Status": "RESOLVED"}]
    identifiers = resolve.requests[0]["FindingIdentifiers"]
    assert identifiers == [
        {"Id": finding_id(ACCOUNT, "production", "dns.failover-ttl"), "ProductArn": ACCOUNT.product_arn}
    ]
    assert performed <= set(integrations_policy()["Statement"][0]["Action"])
    assert performed == {
        "securityhub:GetFindings",
        "securityhub:BatchImportFindings",
        "securityhub:BatchUpdateFindings",
    }


def test_an_item_that_always_passed_is_never_resolved_again(session: boto3.Session) -> None:
    resolve = AnsweredOperation(
        session, "BatchUpdateFindings", {"ProcessedFindings": [], "UnprocessedFindings": []}
    )
    for _ in range(2):
        export_findings(run_with({"dns.latency-routing": Verdict.PASSED}), ACCOUNT, AwsClients(session))
    assert resolve.requests == []


def test_a_refused_import_is_an_error_naming_the_action_and_sends_nothing(session: boto3.Session) -> None:
    AnsweredOperation(session, "BatchImportFindings", {}, error="AccessDeniedException")
    with pytest.raises(
        ExportError, match=r"AccessDeniedException on securityhub:BatchImportFindings .* us-east-1"
    ):
        export_findings(run_with({"dns.failover-ttl": Verdict.FAILED}), ACCOUNT, AwsClients(session))
    assert stored(session) == {}


def test_export_findings_command_imports_the_environment_and_updates_it_on_the_next_run(
    config_file: Path,
) -> None:
    invoke("verify", "--config", str(config_file), "--format", "json")
    first = invoke("export-findings", "--to", "securityhub", "--allow-writes", "--config", str(config_file))
    assert first.exit_code == 0, first.output
    assert "20 created, 0 updated, 0 resolved" in first.stdout
    again = invoke("export-findings", "--to", "securityhub", "--allow-writes", "--config", str(config_file))
    assert "0 created, 20 updated, 0 resolved" in again.stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--to", "securityhub"), "rerun with --allow-writes"),
        (("--to", "splunk", "--allow-writes"), "unknown destination 'splunk'"),
    ],
)
def test_export_findings_refuses_bad_input_and_sends_nothing(
    config_file: Path, args: tuple[str, ...], message: str
) -> None:
    hub = boto3.client("securityhub", region_name="us-east-1")
    before = hub.get_findings()["Findings"]
    result = invoke("export-findings", *args, "--config", str(config_file))
    assert result.exit_code == 2
    assert message in result.stderr
    assert hub.get_findings()["Findings"] == before


def test_the_integrations_policy_is_its_own_and_the_read_only_policy_never_writes_findings() -> None:
    actions = integrations_policy()["Statement"][0]["Action"]
    assert actions == sorted(set(actions))
    assert {
        "securityhub:BatchImportFindings",
        "fis:GetExperiment",
        "arc-region-switch:GetPlanExecution",
    } <= set(actions)
    assert not [
        action for action in read_only_policy()["Statement"][0]["Action"] if action.startswith("securityhub:")
    ]


def test_iam_policy_prints_the_integrations_policy_and_refuses_two_policies_at_once() -> None:
    printed = invoke("iam-policy", "--integrations")
    assert printed.exit_code == 0
    assert json.loads(printed.stdout) == integrations_policy()
    both = invoke("iam-policy", "--drills", "--integrations")
    assert both.exit_code == 2
    assert "choose one of --drills, --integrations" in both.stderr


def test_export_findings_sends_them_to_the_security_hub_of_the_environments_role_account(
    config_file: Path,
) -> None:
    role = "arn:aws:iam::111111111111:role/mission-control"
    base = boto3.client("securityhub", region_name=REGION)
    before = base.get_findings()["Findings"]
    config_file.write_text(
        config_file.read_text(encoding="utf-8") + f'role_arn = "{role}"\n', encoding="utf-8"
    )
    result = invoke("export-findings", "--to", "securityhub", "--allow-writes", "--config", str(config_file))
    assert result.exit_code == 0, result.output
    assert "20 created, 0 updated, 0 resolved" in result.stdout
    credentials = boto3.client("sts", region_name=REGION).assume_role(RoleArn=role, RoleSessionName="check")[
        "Credentials"
    ]
    member = boto3.client(
        "securityhub",
        region_name=REGION,
        aws_access_key_id=credentials["AccessKeyId"],
        aws_secret_access_key=credentials["SecretAccessKey"],
        aws_session_token=credentials["SessionToken"],
    )
    found = member.get_findings()["Findings"]
    assert len(found) == 20
    assert {finding["AwsAccountId"] for finding in found} == {"111111111111"}
    assert {finding["ProductArn"] for finding in found} == {
        "arn:aws:securityhub:us-east-1:111111111111:product/111111111111/default"
    }
    assert base.get_findings()["Findings"] == before  # the base credentials' account got none
