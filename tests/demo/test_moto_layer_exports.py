"""The moto layer's ListExports without a TableArn: every table's exports in the caller's account, as AWS
lists them (moto alone answers 500)."""

from __future__ import annotations

from collections.abc import Iterator

import boto3
import pytest

from tests.verification.aws_gateway import Gateway, aws_gateway
from tests.verification.fleet_estate import as_account

REGION = "us-east-1"


@pytest.fixture
def gateway(monkeypatch: pytest.MonkeyPatch) -> Iterator[Gateway]:
    for name in ("AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_ENDPOINT_URL", "AWS_SESSION_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    with aws_gateway() as running:
        yield running


def exported_table(session: boto3.Session, endpoint: str, name: str) -> str:
    dynamodb = session.client("dynamodb", endpoint_url=endpoint, region_name=REGION)
    arn = dynamodb.create_table(
        TableName=name,
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )["TableDescription"]["TableArn"]
    dynamodb.update_continuous_backups(
        TableName=name, PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": True}
    )
    return dynamodb.export_table_to_point_in_time(TableArn=arn, S3Bucket="exports", S3Prefix=name)[
        "ExportDescription"
    ]["ExportArn"]


def test_list_exports_lists_every_tables_exports_past_the_first_page_of_tables(gateway: Gateway) -> None:
    endpoint = gateway.endpoint_url
    tenant = as_account(endpoint, "111111111111")
    tenant.client("s3", endpoint_url=endpoint).create_bucket(Bucket="exports")
    dynamodb = tenant.client("dynamodb", endpoint_url=endpoint, region_name=REGION)
    for number in range(100):  # ListTables answers 100 names a page: the exported tables sort after them
        dynamodb.create_table(
            TableName=f"a-{number:03d}",
            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
        )
    exports = {exported_table(tenant, endpoint, name) for name in ("z-orders", "z-users")}
    other = as_account(endpoint, "222222222222")
    exported_table(other, endpoint, "z-elsewhere")
    listed = dynamodb.list_exports()["ExportSummaries"]
    assert {summary["ExportArn"] for summary in listed} == exports
