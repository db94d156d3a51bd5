"""A fleet estate on a moto server: three tenant accounts (ready, not ready, refused) and a network account."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import pytest

from mission_control.verification.config import EnvironmentConfig
from tests.verification.aws_gateway import Gateway, aws_gateway
from tests.verification.estates import PRIMARY, SECONDARY, create_zone, seed_ready_dns

NETWORK = "999999999999"
TENANTS = {"tenant-a": "111111111111", "tenant-b": "222222222222", "tenant-17": "333333333333"}


def role_arn(account: str) -> str:
    return f"arn:aws:iam::{account}:role/mission-control-read"


def as_account(endpoint_url: str, account: str) -> boto3.Session:
    """A session acting in `account`, as moto keys resources by the assumed role's account."""
    sts = boto3.client("sts", endpoint_url=endpoint_url, region_name=PRIMARY)
    credentials = sts.assume_role(RoleArn=role_arn(account), RoleSessionName="seed")["Credentials"]
    return boto3.Session(
        aws_access_key_id=credentials["AccessKeyId"],
        aws_secret_access_key=credentials["SecretAccessKey"],
        aws_session_token=credentials["SessionToken"],
        region_name=PRIMARY,
    )


def create_main_table(session: boto3.Session, endpoint_url: str, name: str, *, global_table: bool) -> None:
    dynamodb = session.client("dynamodb", endpoint_url=endpoint_url)
    dynamodb.create_table(
        TableName=name,
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
        StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"},
    )
    if global_table:
        dynamodb.update_table(TableName=name, ReplicaUpdates=[{"Create": {"RegionName": SECONDARY}}])


def tenant(name: str, **keys: Any) -> EnvironmentConfig:
    return EnvironmentConfig(
        name=name,
        primary_region=PRIMARY,
        secondary_region=SECONDARY,
        role_arn=role_arn(TENANTS[name]),
        accounts={"route53": role_arn(NETWORK)},
        main_table=f"{name}-main",
        **keys,
    )


@pytest.fixture
def fleet_estate(monkeypatch: pytest.MonkeyPatch) -> Iterator[Gateway]:
    """Three tenant accounts (ready, not ready, refused) and a network account holding their zones."""
    with aws_gateway() as gateway:
        monkeypatch.setenv("AWS_ENDPOINT_URL", gateway.endpoint_url)
        endpoint = gateway.endpoint_url
        network = as_account(endpoint, NETWORK).client("route53", endpoint_url=endpoint)
        seed_ready_dns(network)
        create_zone(network, "b.example.")
        create_main_table(
            as_account(endpoint, TENANTS["tenant-a"]), endpoint, "tenant-a-main", global_table=True
        )
        create_main_table(
            as_account(endpoint, TENANTS["tenant-b"]), endpoint, "tenant-b-main", global_table=False
        )
        gateway.refused_roles.add(role_arn(TENANTS["tenant-17"]))
        gateway.requests.clear()
        yield gateway


FLEET = (
    tenant(
        "tenant-a",
        hosted_zone="spaceduck.example",
        api_domain="api.spaceduck.example",
        regional_endpoints={PRIMARY: "use1.api.spaceduck.example", SECONDARY: "apse1.api.spaceduck.example"},
    ),
    tenant("tenant-b", hosted_zone="b.example", api_domain="api.b.example"),
    tenant("tenant-17", hosted_zone="b.example", api_domain="api.b.example"),
)
