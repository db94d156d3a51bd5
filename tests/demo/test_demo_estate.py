"""The demo estate, read back from its moto server with plain boto3 calls and with the probes.

moto's backends are process-global and every server start resets them, so the seeded estate is
class-scoped: the lifecycle tests after the class start their own servers.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

from mission_control.catalog.loader import load_default_catalog
from mission_control.demo.estate import (
    EXPECTED_FAILING,
    PLATFORM_TABLES,
    REPLICATED_TABLES,
    demo_config_toml,
    seed_demo_estate,
)
from mission_control.demo.server import MotoServer, start_moto_server
from mission_control.verification.aws import AwsClients
from mission_control.verification.config import EnvironmentConfig, parse_config
from mission_control.verification.results import Status
from mission_control.verification.runner import run_verification

PRIMARY, SECONDARY = "us-east-1", "ap-southeast-1"


@pytest.fixture(autouse=True)
def isolated_aws_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_ENDPOINT_URL", "AWS_SESSION_TOKEN"):
        monkeypatch.delenv(name, raising=False)


def _client(server: MotoServer, service: str, region: str = PRIMARY) -> Any:
    return boto3.client(
        service,
        region_name=region,
        endpoint_url=server.endpoint_url,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )


@pytest.fixture(scope="class")
def server() -> Iterator[MotoServer]:
    with start_moto_server() as running:
        yield running


@pytest.fixture(scope="class")
def config(server: MotoServer) -> EnvironmentConfig:
    return seed_demo_estate(server.endpoint_url)


@pytest.fixture
def aws(server: MotoServer, config: EnvironmentConfig) -> Any:
    return lambda service, region=PRIMARY: _client(server, service, region)


class TestSeededEstate:
    """One seeded server, read by every test in the class."""

    def test_config_names_the_estate_and_round_trips_through_toml(self, config: EnvironmentConfig) -> None:
        assert (config.name, config.primary_region, config.secondary_region) == (
            "production",
            PRIMARY,
            SECONDARY,
        )
        assert config.platform_tables == PLATFORM_TABLES
        assert len(config.distributions) == 2
        assert config.cognito_primary_pool.startswith(f"{PRIMARY}_")  # type: ignore[union-attr]
        assert config.cognito_backup_pool.startswith(f"{SECONDARY}_")  # type: ignore[union-attr]
        assert parse_config(demo_config_toml(config), source="demo") == {"production": config}

    def test_expected_failures_are_probed_catalog_items_and_about_half(self) -> None:
        catalog_ids = {item.id for item in load_default_catalog().items}
        assert set(EXPECTED_FAILING) <= catalog_ids
        assert len(EXPECTED_FAILING) == 6  # of the 13 probed items: about half ready

    def test_dns_has_latency_records_with_health_checks_and_one_long_ttl(
        self, aws: Any, config: EnvironmentConfig
    ) -> None:
        route53 = aws("route53")
        zone = route53.list_hosted_zones_by_name(DNSName=config.hosted_zone)["HostedZones"][0]
        assert zone["Name"] == config.hosted_zone
        records = route53.list_resource_record_sets(HostedZoneId=zone["Id"])["ResourceRecordSets"]
        latency = {r["Region"]: r for r in records if r["Name"] == f"{config.api_domain}." and "Region" in r}
        assert {region: record["TTL"] for region, record in latency.items()} == {PRIMARY: 60, SECONDARY: 300}
        for region, record in latency.items():
            check = route53.get_health_check(HealthCheckId=record["HealthCheckId"])["HealthCheck"]
            settings = check["HealthCheckConfig"]
            assert settings["FullyQualifiedDomainName"] == config.regional_endpoints[region]
            assert (settings["Type"], settings["ResourcePath"]) == ("HTTPS", "/beak/system/status")

    def test_dynamodb_replicates_three_tables_and_lacks_pitr_on_sessions(
        self, aws: Any, config: EnvironmentConfig
    ) -> None:
        primary, secondary = aws("dynamodb"), aws("dynamodb", SECONDARY)
        for table in config.platform_tables:
            description = primary.describe_table(TableName=table)["Table"]
            expected = (
                [{"RegionName": SECONDARY, "ReplicaStatus": "ACTIVE"}] if table in REPLICATED_TABLES else None
            )
            assert description.get("Replicas") == expected, table
            pitr = primary.describe_continuous_backups(TableName=table)["ContinuousBackupsDescription"]
            status = pitr["PointInTimeRecoveryDescription"]["PointInTimeRecoveryStatus"]
            assert status == ("DISABLED" if table == "spaceduck-sessions" else "ENABLED"), table
        assert sorted(secondary.list_tables()["TableNames"]) == sorted(REPLICATED_TABLES)
        replica = secondary.describe_table(TableName=config.main_table)["Table"]
        assert replica["Replicas"] == [{"RegionName": PRIMARY, "ReplicaStatus": "ACTIVE"}]
        assert (
            replica["KeySchema"] == primary.describe_table(TableName=config.main_table)["Table"]["KeySchema"]
        )

    def test_backup_plan_copies_every_platform_table_to_the_secondary_region(self, aws: Any) -> None:
        backup = aws("backup")
        (plan_summary,) = backup.list_backup_plans()["BackupPlansList"]
        plan = backup.get_backup_plan(BackupPlanId=plan_summary["BackupPlanId"])["BackupPlan"]
        (copy_action,) = plan["Rules"][0]["CopyActions"]
        vault = copy_action["DestinationBackupVaultArn"]
        assert f":{SECONDARY}:" in vault
        assert aws("backup", SECONDARY).describe_backup_vault(BackupVaultName=vault.rsplit(":", 1)[1])
        (selection,) = backup.list_backup_selections(BackupPlanId=plan_summary["BackupPlanId"])[
            "BackupSelectionsList"
        ]
        chosen = backup.get_backup_selection(
            BackupPlanId=plan_summary["BackupPlanId"], SelectionId=selection["SelectionId"]
        )["BackupSelection"]
        assert sorted(arn.rsplit("/", 1)[1] for arn in chosen["Resources"]) == sorted(PLATFORM_TABLES)

    def test_distributions_one_failing_over_between_regions_one_not(
        self, aws: Any, config: EnvironmentConfig
    ) -> None:
        cloudfront = aws("cloudfront")
        app_id, media_id = config.distributions
        app = cloudfront.get_distribution_config(Id=app_id)["DistributionConfig"]
        (group,) = app["OriginGroups"]["Items"]
        assert sorted(group["FailoverCriteria"]["StatusCodes"]["Items"]) == [500, 502, 503, 504]
        assert len(group["Members"]["Items"]) == 2
        assert app["DefaultCacheBehavior"]["TargetOriginId"] == group["Id"]
        media = cloudfront.get_distribution(Id=media_id)["Distribution"]["DistributionConfig"]
        assert media["OriginGroups"]["Quantity"] == 0
        assert (media["DefaultCacheBehavior"]["DefaultTTL"], media["DefaultCacheBehavior"]["MaxTTL"]) == (
            86400,
            31536000,
        )
        summaries = cloudfront.list_distributions()["DistributionList"]["Items"]
        assert {s["Id"]: s["DefaultCacheBehavior"]["TargetOriginId"] for s in summaries} == {
            app_id: group["Id"],
            media_id: "media-use1",
        }

    def test_edge_functions_are_published_associated_and_run_with_the_edge_role(
        self, aws: Any, config: EnvironmentConfig
    ) -> None:
        awslambda = aws("lambda")
        role = aws("iam").get_role(RoleName=config.edge_role)["Role"]
        (statement,) = role["AssumeRolePolicyDocument"]["Statement"]
        assert sorted(statement["Principal"]["Service"]) == [
            "edgelambda.amazonaws.com",
            "lambda.amazonaws.com",
        ]
        published = {}
        for name in (config.edge_auth_function, config.edge_redirect_function):
            versions = awslambda.list_versions_by_function(FunctionName=name)["Versions"]
            (version,) = [v for v in versions if v["Version"] != "$LATEST"]
            assert (version["MemorySize"], version["Timeout"], version["Role"]) == (128, 5, role["Arn"])
            published[name] = version["FunctionArn"]
        for distribution_id in config.distributions:
            behaviour = aws("cloudfront").get_distribution_config(Id=distribution_id)["DistributionConfig"][
                "DefaultCacheBehavior"
            ]
            associations = {
                a["EventType"]: a["LambdaFunctionARN"]
                for a in behaviour["LambdaFunctionAssociations"]["Items"]
            }
            assert associations == {
                "viewer-request": published[config.edge_auth_function],
                "origin-request": published[config.edge_redirect_function],
            }

    def test_cognito_backup_pool_matches_except_a_trigger_and_a_callback(
        self, aws: Any, config: EnvironmentConfig
    ) -> None:
        pools = {
            "primary": (aws("cognito-idp"), config.cognito_primary_pool),
            "backup": (aws("cognito-idp", SECONDARY), config.cognito_backup_pool),
        }
        triggers, schemas, callbacks = {}, {}, {}
        for role, (cognito, pool_id) in pools.items():
            pool = cognito.describe_user_pool(UserPoolId=pool_id)["UserPool"]
            triggers[role] = set(pool["LambdaConfig"])
            schemas[role] = sorted(attribute["Name"] for attribute in pool["SchemaAttributes"])
            clients = cognito.list_user_pool_clients(UserPoolId=pool_id, MaxResults=10)["UserPoolClients"]
            callbacks[role] = {
                client["ClientName"]: cognito.describe_user_pool_client(
                    UserPoolId=pool_id, ClientId=client["ClientId"]
                )["UserPoolClient"]["CallbackURLs"]
                for client in clients
            }
        assert schemas["primary"] == schemas["backup"]
        assert triggers == {"primary": {"PreSignUp", "PostConfirmation"}, "backup": {"PreSignUp"}}
        assert set(callbacks["primary"]) == set(callbacks["backup"]) == {"spaceduck-web", "spaceduck-mobile"}
        assert callbacks["primary"]["spaceduck-web"] != callbacks["backup"]["spaceduck-web"]

    def test_the_probes_fail_exactly_the_expected_items(
        self, server: MotoServer, config: EnvironmentConfig, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.setenv("AWS_ENDPOINT_URL", server.endpoint_url)
        monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
        monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
        report = run_verification(config, catalog=load_default_catalog(), clients=AwsClients(boto3.Session()))
        probed = {
            result.item_id: result.status for result in report.results if result.status != Status.MANUAL
        }
        assert {item for item, status in probed.items() if status == Status.FAILING} == set(EXPECTED_FAILING)
        assert {item for item, status in probed.items() if status != Status.FAILING} == {
            item for item, status in probed.items() if status == Status.VERIFIED
        }

    def test_unextended_errors_pass_through(self, aws: Any, config: EnvironmentConfig) -> None:
        with pytest.raises(ClientError) as missing_table:
            aws("dynamodb").describe_table(TableName="no-such-table")
        assert missing_table.value.response["Error"]["Code"] == "ResourceNotFoundException"
        plan_id = aws("backup").list_backup_plans()["BackupPlansList"][0]["BackupPlanId"]
        with pytest.raises(ClientError) as missing_selection:
            aws("backup").get_backup_selection(BackupPlanId=plan_id, SelectionId="no-such-selection")
        assert missing_selection.value.response["Error"]["Code"] == "ResourceNotFoundException"
        assert aws("backup").list_backup_selections(BackupPlanId="no-such-plan")["BackupSelectionsList"] == []


def test_seeding_twice_on_fresh_servers_builds_the_same_estate() -> None:
    with start_moto_server() as first:
        first_config = seed_demo_estate(first.endpoint_url)
    with start_moto_server() as second:
        assert _client(second, "dynamodb").list_tables()["TableNames"] == []
        second_config = seed_demo_estate(second.endpoint_url)
    assert second_config.platform_tables == first_config.platform_tables
    assert second_config.distributions != first_config.distributions  # moto makes new ids


def test_stopped_server_leaves_no_threads_and_frees_its_port() -> None:
    before = set(threading.enumerate())
    server = start_moto_server()
    port = int(server.endpoint_url.rsplit(":", 1)[1])
    assert _client(server, "dynamodb").list_tables()["TableNames"] == []
    server.stop()
    deadline = time.monotonic() + 5
    while set(threading.enumerate()) - before and time.monotonic() < deadline:
        time.sleep(0.05)
    assert set(threading.enumerate()) - before == set()
    with pytest.raises(ConnectionRefusedError), socket.create_connection(("127.0.0.1", port), timeout=1):
        pass


def test_a_busy_port_is_an_error_not_a_hang() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        with pytest.raises(OSError):
            start_moto_server(taken.getsockname()[1])
