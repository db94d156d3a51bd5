"""The dashboard's report links: every format served by the app with its content type, the HTML
report grouped by category like the dashboard, and the Markdown "Done" column meaning done."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import boto3
import botocore.session
import pytest
from botocore.validate import validate_parameters
from fastapi.testclient import TestClient
from moto import mock_aws

from mission_control.catalog import Catalog
from mission_control.db.database import Database
from mission_control.findings.account import ACTIONS as ACCOUNT_ACTIONS
from mission_control.progress.export import render as export
from mission_control.progress.service import get_checklist
from mission_control.settings import Settings
from mission_control.verification.aws import AwsClients
from mission_control.verification.config import EnvironmentConfig
from mission_control.verification.results import failing, verified
from mission_control.verification.runner import VerificationReport
from mission_control.verification.service import finish_run, start_run
from mission_control.web.app import create_app
from tests.conftest import bearer, change_item, token_for


def verify(database: Database, *results: object) -> None:
    with database.transaction() as session:
        run_id = start_run(session=session, environment_name="production", actor="ci")
        report = VerificationReport("production", "multi-region-readiness", datetime.now(UTC), tuple(results))
        finish_run(session=session, run_id=run_id, report=report)


@pytest.mark.parametrize(
    ("fmt", "content_type", "downloaded"),
    [
        ("html", "text/html; charset=utf-8", False),
        ("md", "text/markdown; charset=utf-8", True),
        ("json", "application/json", True),
        ("csv", "text/csv; charset=utf-8", True),
        ("junit", "application/xml", True),
        ("sarif", "application/sarif+json", True),
        ("ocsf", "application/json", True),
    ],
)
def test_each_report_link_is_served_with_its_content_type(
    client: TestClient, database: Database, fmt: str, content_type: str, downloaded: bool
) -> None:
    response = client.get(
        f"/environments/production/report.{fmt}", headers=bearer(token_for(database, "v", "viewer"))
    )
    assert response.status_code == 200
    assert response.headers["content-type"] == content_type
    disposition = response.headers.get("content-disposition", "")
    assert disposition.startswith('attachment; filename="mission-control-production-') == downloaded


def test_the_sarif_and_ocsf_links_carry_the_findings_of_the_environment(
    client: TestClient, database: Database, catalog: Catalog
) -> None:
    change_item(database, catalog, "dns.failover-ttl", checked=True)
    verify(database, failing("dns.failover-ttl", "TTL 300 exceeds 60"))
    viewer = bearer(token_for(database, "v", "viewer"))
    sarif = client.get("/environments/production/report.sarif", headers=viewer).json()
    assert sarif["version"] == "2.1.0"
    assert [result["ruleId"] for result in sarif["runs"][0]["results"]] == ["dns.failover-ttl"]
    ocsf = client.get("/environments/production/report.ocsf", headers=viewer).json()
    assert {finding["class_uid"] for finding in ocsf} == {2003}


def test_reports_need_a_signed_in_viewer_and_a_known_format(client: TestClient, database: Database) -> None:
    assert client.get("/environments/production/report.md", follow_redirects=False).status_code == 303
    viewer = bearer(token_for(database, "v", "viewer"))
    assert client.get("/environments/production/report.pdf", headers=viewer).status_code == 404
    assert client.get("/environments/nowhere/report.md", headers=viewer).status_code == 404


def test_the_html_report_groups_items_by_category_with_k_of_n_and_complete_only_when_all_done(
    client: TestClient, database: Database, catalog: Catalog
) -> None:
    for item in catalog.category("dns").items:
        change_item(database, catalog, item.id, checked=True)
    change_item(database, catalog, "edge.iam-role", checked=True)
    html = client.get(
        "/environments/production/report.html", headers=bearer(token_for(database, "v", "viewer"))
    ).text
    assert '🌐 DNS — Route53 (4/4) <span class="complete">✅ Category complete</span></h3>' in html
    assert "λ Lambda@Edge (1/4)</h3>" in html
    assert html.count("✅ Category complete") == 1
    assert html.index("Enable Route53 latency-based routing") < html.index("🗄 DynamoDB (0/4)")


def test_the_markdown_done_column_marks_done_items_not_ticked_ones(
    database: Database, catalog: Catalog
) -> None:
    change_item(database, catalog, "dns.failover-ttl", checked=True)  # ticked, then its check fails
    verify(
        database,
        failing("dns.failover-ttl", "TTL 300 exceeds 60"),
        verified("dns.latency-routing", "latency records in both regions"),  # verified, never ticked
    )
    with database.read() as session:
        markdown = export(
            get_checklist(session=session, catalog=catalog, environment_name="production"), "md"
        )
    assert "| ☐ | Validate DNS TTL is ≤60s for failover records |" in markdown
    assert "| ☑ | Enable Route53 latency-based routing |" in markdown


def config(role_arn: str | None = None) -> EnvironmentConfig:
    return EnvironmentConfig("production", "us-east-1", "ap-southeast-1", role_arn=role_arn)


@contextmanager
def asff_client(
    database: Database, database_url: str, catalog: Catalog, configs: dict[str, EnvironmentConfig], session
) -> Iterator[TestClient]:
    """The app with `configs`, its AWS calls made from `session`."""
    app = create_app(
        Settings(database_url=database_url), database=database, catalog=catalog, configs=configs,
        clients_factory=lambda _: AwsClients(session),
    )  # fmt: skip
    with TestClient(app) as client:
        yield client


def test_the_asff_link_names_the_callers_account_asked_of_aws_once(
    database: Database, database_url: str, catalog: Catalog
) -> None:
    with mock_aws():
        session = boto3.Session(aws_access_key_id="testing", aws_secret_access_key="testing")
        asked: list[str] = []
        session.events.register("before-call.*.*", lambda model, **_: asked.append(f"sts:{model.name}"))
        with asff_client(database, database_url, catalog, {"production": config()}, session) as client:
            viewer = bearer(token_for(database, "v", "viewer"))
            responses = [client.get("/environments/production/report.asff", headers=viewer) for _ in range(2)]
    assert [response.status_code for response in responses] == [200, 200]
    assert responses[0].headers["content-type"] == "application/json"
    assert responses[0].headers["content-disposition"].endswith('.asff.json"')
    document = responses[0].json()
    shape = botocore.session.get_session().get_service_model("securityhub")
    validate_parameters(document, shape.operation_model("BatchImportFindings").input_shape)
    assert len(document["Findings"]) == len(catalog.items)
    assert {(f["AwsAccountId"], f["Region"]) for f in document["Findings"]} == {("123456789012", "us-east-1")}
    assert asked == ["sts:GetCallerIdentity"]  # kept for the environment: the second link asked no one
    assert set(asked) <= set(ACCOUNT_ACTIONS)


def test_the_asff_link_of_an_environment_with_a_role_names_the_roles_account_without_a_call(
    database: Database, database_url: str, catalog: Catalog
) -> None:
    with mock_aws():
        session = boto3.Session(aws_access_key_id="testing", aws_secret_access_key="testing")
        asked: list[str] = []
        session.events.register("before-call.*.*", lambda model, **_: asked.append(model.name))
        role = config("arn:aws:iam::111111111111:role/mission-control")
        with asff_client(database, database_url, catalog, {"production": role}, session) as client:
            response = client.get(
                "/environments/production/report.asff", headers=bearer(token_for(database, "v", "viewer"))
            )
    assert response.status_code == 200
    assert {f["AwsAccountId"] for f in response.json()["Findings"]} == {"111111111111"}
    assert asked == []


def test_the_asff_link_without_the_environments_configuration_says_what_is_missing(
    client: TestClient, database: Database
) -> None:
    viewer = bearer(token_for(database, "v", "viewer"))
    response = client.get(
        "/environments/production/report.asff", headers={**viewer, "accept": "application/json"}
    )
    assert response.status_code == 503
    assert (
        "start the server with a configuration that has [environments.production]"
        in response.json()["detail"]
    )


def test_the_asff_link_when_aws_will_not_say_the_account_is_a_502_naming_the_call(
    database: Database, database_url: str, catalog: Catalog, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    session = boto3.Session()  # no credentials anywhere: STS cannot be asked
    with asff_client(database, database_url, catalog, {"production": config()}, session) as client:
        viewer = bearer(token_for(database, "v", "viewer"))
        response = client.get(
            "/environments/production/report.asff", headers={**viewer, "accept": "application/json"}
        )
        page = client.get("/environments/production/report.asff", headers=viewer)  # as a browser asks
    assert (page.status_code, page.headers["content-type"]) == (502, "text/html; charset=utf-8")
    assert "NoCredentialsError on sts:GetCallerIdentity" in page.text
    assert response.status_code == 502
    assert response.json()["detail"] == (
        "cannot name the AWS account of production's findings: environment production: cannot tell which "
        "AWS account to report for: NoCredentialsError on sts:GetCallerIdentity for the caller in us-east-1"
    )
