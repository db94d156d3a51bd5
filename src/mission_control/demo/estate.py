"""The sample spaceduck estate: about half way to a second region, with the defects real teams leave.

`seed_demo_estate` builds it through the ordinary AWS APIs, so the probes read it as they would an
account; `EXPECTED_FAILING` names the probe items its defects fail (every other probe verifies).
"""

from __future__ import annotations

import io
import json
import zipfile
from dataclasses import fields
from typing import Any

import boto3

from mission_control.demo.endpoints import DemoEndpoints
from mission_control.verification.config import EnvironmentConfig

PRIMARY_REGION = "us-east-1"
SECONDARY_REGION = "ap-southeast-1"
REGIONAL_ENDPOINTS = {
    PRIMARY_REGION: "use1.api.spaceduck.example",
    SECONDARY_REGION: "apse1.api.spaceduck.example",
}
PLATFORM_TABLES = (
    "spaceduck-main",
    "spaceduck-birth-certs",
    "audit-log",
    "spaceduck-ledger",
    "spaceduck-sessions",
)
REPLICATED_TABLES = ("spaceduck-main", "spaceduck-birth-certs", "spaceduck-ledger")
TABLES_WITHOUT_PITR = ("spaceduck-sessions",)

EXPECTED_FAILING = {
    "dns.failover-ttl": "the ap-southeast-1 latency record for api.spaceduck.example has TTL 300 (limit 60)",
    "dynamodb.global-platform": "audit-log and spaceduck-sessions have no ap-southeast-1 replica",
    "dynamodb.pitr-backup-copy": "point-in-time recovery is off for spaceduck-sessions",
    "cloudfront.origin-failover": "the media distribution has one us-east-1 origin and no origin group",
    "cloudfront.cache-ttls": "the media distribution's DefaultTTL 86400 and MaxTTL 31536000 exceed 300 and 86400",
    "cognito.parity": "the backup pool lacks the PostConfirmation trigger and its web callback URL differs",
}


class _Clients:
    """boto3 clients for the demo server, with the fake credentials moto accepts."""

    def __init__(self, endpoint_url: str) -> None:
        self._session = boto3.Session(
            aws_access_key_id="testing", aws_secret_access_key="testing", region_name=PRIMARY_REGION
        )
        self._endpoint_url = endpoint_url
        self._clients: dict[tuple[str, str], Any] = {}

    def __call__(self, service: str, region: str = PRIMARY_REGION) -> Any:
        if (service, region) not in self._clients:
            self._clients[service, region] = self._session.client(
                service, region_name=region, endpoint_url=self._endpoint_url
            )
        return self._clients[service, region]


RTO_TARGET_SECONDS = 900  # the recovery objectives the restore and DNS drills are judged against
RPO_TARGET_SECONDS = 300


def seed_demo_estate(endpoint_url: str, endpoints: DemoEndpoints | None = None) -> EnvironmentConfig:
    """Create the sample estate on the moto server at `endpoint_url`; return its configuration, with
    the recovery targets and, given `endpoints`, the URLs the edge-latency and failover drills reach."""
    clients = _Clients(endpoint_url)
    account_id = clients("sts").get_caller_identity()["Account"]
    table_arns = _seed_tables(clients)
    _seed_backups(clients, table_arns)
    edge_versions = _seed_edge_functions(clients)
    app_distribution, media_distribution = _seed_distributions(clients, edge_versions)
    _seed_dns(clients, app_distribution["DomainName"], media_distribution["DomainName"])
    primary_pool, backup_pool = _seed_user_pools(clients, account_id)
    return EnvironmentConfig(
        name="production",
        primary_region=PRIMARY_REGION,
        secondary_region=SECONDARY_REGION,
        hosted_zone="spaceduck.example.",
        api_domain="api.spaceduck.example",
        regional_endpoints=dict(REGIONAL_ENDPOINTS),
        main_table="spaceduck-main",
        platform_tables=PLATFORM_TABLES,
        distributions=(app_distribution["Id"], media_distribution["Id"]),
        edge_auth_function="beak-edge-auth",
        edge_redirect_function="beak-edge-redirects",
        edge_role="beak-edge-execution",
        cognito_primary_pool=primary_pool,
        cognito_backup_pool=backup_pool,
        rto_seconds=RTO_TARGET_SECONDS,
        rpo_seconds=RPO_TARGET_SECONDS,
        edge_latency_urls=endpoints.edge_latency_urls if endpoints else (),
        origin_health_urls=endpoints.origin_health_urls if endpoints else (),
    )


def demo_config_toml(config: EnvironmentConfig) -> str:
    """`config` as the `[environments.NAME]` table of a mission-control.toml file."""
    lines = [f"[environments.{config.name}]"]
    for config_field in fields(EnvironmentConfig):
        value = getattr(config, config_field.name)
        if config_field.name == "name" or value is None:
            continue
        lines.append(f"{config_field.name} = {_toml_value(value)}")
    return "\n".join(lines) + "\n"


def _toml_string(text: str) -> str:
    """A TOML basic string: quotes, backslashes and control characters escaped, other text as is."""
    escaped = "".join(
        f"\\u{ord(char):04x}" if ord(char) < 0x20 or ord(char) == 0x7F else char
        for char in text.replace("\\", "\\\\").replace('"', '\\"')
    )
    return f'"{escaped}"'


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return _toml_string(value)
    if isinstance(value, int):
        return str(value)
    if isinstance(value, tuple):
        return "[" + ", ".join(_toml_value(item) for item in value) + "]"
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{_toml_string(k)} = {_toml_value(v)}" for k, v in value.items()) + " }"
    raise TypeError(f"no TOML form for {type(value).__name__}")


def _trust_policy(*services: str) -> str:
    """An IAM role trust policy letting `services` assume the role."""
    statement = {"Effect": "Allow", "Principal": {"Service": list(services)}, "Action": "sts:AssumeRole"}
    return json.dumps({"Version": "2012-10-17", "Statement": [statement]})


def _seed_tables(clients: _Clients) -> list[str]:
    """The five platform tables in the primary region; three replicated, PITR on all but sessions."""
    dynamodb = clients("dynamodb")
    keys = {
        "spaceduck-main": ("pk", "sk"),
        "spaceduck-birth-certs": ("duck_id", None),
        "audit-log": ("stream_id", "event_time"),
        "spaceduck-ledger": ("account_id", "entry_id"),
        "spaceduck-sessions": ("session_id", None),
    }
    arns = []
    for table, (hash_key, range_key) in keys.items():
        key_names = [name for name in (hash_key, range_key) if name]
        replicated = table in REPLICATED_TABLES
        description = dynamodb.create_table(
            TableName=table,
            BillingMode="PAY_PER_REQUEST",
            KeySchema=[
                {"AttributeName": name, "KeyType": kind}
                for name, kind in zip(key_names, ("HASH", "RANGE"), strict=False)
            ],
            AttributeDefinitions=[{"AttributeName": name, "AttributeType": "S"} for name in key_names],
            StreamSpecification=(
                {"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"}
                if replicated
                else {"StreamEnabled": False}
            ),
        )["TableDescription"]
        arns.append(description["TableArn"])
        if table not in TABLES_WITHOUT_PITR:
            dynamodb.update_continuous_backups(
                TableName=table, PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": True}
            )
        if replicated:
            dynamodb.update_table(
                TableName=table, ReplicaUpdates=[{"Create": {"RegionName": SECONDARY_REGION}}]
            )
            if table not in TABLES_WITHOUT_PITR:  # PITR is set per replica: AWS does not copy it
                clients("dynamodb", SECONDARY_REGION).update_continuous_backups(
                    TableName=table, PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": True}
                )
    dynamodb.update_time_to_live(
        TableName="spaceduck-sessions",
        TimeToLiveSpecification={"Enabled": True, "AttributeName": "expires_at"},
    )
    return arns


def _seed_backups(clients: _Clients, table_arns: list[str]) -> None:
    """A daily plan over every platform table, copied to a vault in the secondary region."""
    role_arn = clients("iam").create_role(
        RoleName="spaceduck-backup", AssumeRolePolicyDocument=_trust_policy("backup.amazonaws.com")
    )["Role"]["Arn"]
    clients("backup").create_backup_vault(BackupVaultName="spaceduck-primary")
    copy_vault_arn = clients("backup", SECONDARY_REGION).create_backup_vault(BackupVaultName="spaceduck-dr")[
        "BackupVaultArn"
    ]
    plan_id = clients("backup").create_backup_plan(
        BackupPlan={
            "BackupPlanName": "spaceduck-dynamodb-daily",
            "Rules": [
                {
                    "RuleName": "daily-0500-utc",
                    "TargetBackupVaultName": "spaceduck-primary",
                    "ScheduleExpression": "cron(0 5 * * ? *)",
                    "Lifecycle": {"DeleteAfterDays": 35},
                    "CopyActions": [
                        {"DestinationBackupVaultArn": copy_vault_arn, "Lifecycle": {"DeleteAfterDays": 35}}
                    ],
                }
            ],
        }
    )["BackupPlanId"]
    clients("backup").create_backup_selection(
        BackupPlanId=plan_id,
        BackupSelection={
            "SelectionName": "spaceduck-platform-tables",
            "IamRoleArn": role_arn,
            "Resources": table_arns,
        },
    )


def _seed_edge_functions(clients: _Clients) -> dict[str, str]:
    """The two Lambda@Edge functions in us-east-1, each published; returns name -> version ARN."""
    role_arn = clients("iam").create_role(
        RoleName="beak-edge-execution",
        AssumeRolePolicyDocument=_trust_policy("lambda.amazonaws.com", "edgelambda.amazonaws.com"),
    )["Role"]["Arn"]
    awslambda = clients("lambda")
    sources = {
        "beak-edge-auth": "exports.handler = async (event) => event.Records[0].cf.request;\n",
        "beak-edge-redirects": "exports.handler = async (event) => event.Records[0].cf.request;\n",
    }
    versions = {}
    for name, source in sources.items():
        package = io.BytesIO()
        with zipfile.ZipFile(package, "w") as archive:
            archive.writestr("index.js", source)
        awslambda.create_function(
            FunctionName=name,
            Runtime="nodejs20.x",
            Role=role_arn,
            Handler="index.handler",
            Code={"ZipFile": package.getvalue()},
            MemorySize=128,
            Timeout=5,
        )
        versions[name] = awslambda.publish_version(FunctionName=name)["FunctionArn"]
    return versions


def _custom_origin(origin_id: str, domain: str) -> dict[str, Any]:
    return {
        "Id": origin_id,
        "DomainName": domain,
        "CustomOriginConfig": {"HTTPPort": 80, "HTTPSPort": 443, "OriginProtocolPolicy": "https-only"},
    }


def _s3_origin(origin_id: str, bucket: str) -> dict[str, Any]:
    return {
        "Id": origin_id,
        "DomainName": f"{bucket}.s3.{PRIMARY_REGION}.amazonaws.com",
        "S3OriginConfig": {"OriginAccessIdentity": ""},
    }


def _behaviour(target: str, ttls: tuple[int, int, int], edge: dict[str, str]) -> dict[str, Any]:
    """A cache behaviour on `target` with (min, default, max) TTLs and Lambda@Edge event -> ARN."""
    return {
        "TargetOriginId": target,
        "ViewerProtocolPolicy": "redirect-to-https",
        "ForwardedValues": {"QueryString": True, "Cookies": {"Forward": "none"}},
        "MinTTL": ttls[0],
        "DefaultTTL": ttls[1],
        "MaxTTL": ttls[2],
        "LambdaFunctionAssociations": {
            "Quantity": len(edge),
            "Items": [
                {"EventType": event, "LambdaFunctionARN": arn, "IncludeBody": False}
                for event, arn in edge.items()
            ],
        },
    }


def _seed_distributions(
    clients: _Clients, edge_versions: dict[str, str]
) -> tuple[dict[str, Any], dict[str, Any]]:
    """The app+API distribution fails over between regions; the media one was never made regional."""
    cloudfront = clients("cloudfront")
    auth = {"viewer-request": edge_versions["beak-edge-auth"]}
    auth_and_redirects = {**auth, "origin-request": edge_versions["beak-edge-redirects"]}
    app = cloudfront.create_distribution(
        DistributionConfig={
            "CallerReference": "spaceduck-app",
            "Comment": "spaceduck app and beak API (app.spaceduck.example)",
            "Enabled": True,
            "Origins": {
                "Quantity": 3,
                "Items": [
                    _custom_origin("beak-use1", REGIONAL_ENDPOINTS[PRIMARY_REGION]),
                    _custom_origin("beak-apse1", REGIONAL_ENDPOINTS[SECONDARY_REGION]),
                    _s3_origin("web-assets", "spaceduck-web-assets"),
                ],
            },
            "OriginGroups": {
                "Quantity": 1,
                "Items": [
                    {
                        "Id": "beak-failover",
                        "FailoverCriteria": {"StatusCodes": {"Quantity": 4, "Items": [500, 502, 503, 504]}},
                        "Members": {
                            "Quantity": 2,
                            "Items": [{"OriginId": "beak-use1"}, {"OriginId": "beak-apse1"}],
                        },
                    }
                ],
            },
            "DefaultCacheBehavior": _behaviour("beak-failover", (0, 0, 60), auth_and_redirects),
            "CacheBehaviors": {
                "Quantity": 1,
                "Items": [{"PathPattern": "/assets/*", **_behaviour("web-assets", (0, 300, 86400), auth)}],
            },
        }
    )["Distribution"]
    media = cloudfront.create_distribution(
        DistributionConfig={
            "CallerReference": "spaceduck-media",
            "Comment": "spaceduck media (media.spaceduck.example)",
            "Enabled": True,
            "Origins": {"Quantity": 1, "Items": [_s3_origin("media-use1", "spaceduck-media-use1")]},
            "DefaultCacheBehavior": _behaviour("media-use1", (0, 86400, 31536000), auth_and_redirects),
        }
    )["Distribution"]
    return app, media


def _seed_dns(clients: _Clients, app_domain: str, media_domain: str) -> None:
    """Latency records for the API in both regions with health checks; the secondary's TTL is 300."""
    route53 = clients("route53")
    zone_id = route53.create_hosted_zone(Name="spaceduck.example.", CallerReference="spaceduck-zone")[
        "HostedZone"
    ]["Id"]
    addresses = {PRIMARY_REGION: "203.0.113.10", SECONDARY_REGION: "198.51.100.20"}
    ttls = {PRIMARY_REGION: 60, SECONDARY_REGION: 300}
    changes = [
        _record("app.spaceduck.example", "CNAME", app_domain),
        _record("media.spaceduck.example", "CNAME", media_domain),
    ]
    for region, endpoint in REGIONAL_ENDPOINTS.items():
        health_check_id = route53.create_health_check(
            CallerReference=f"beak-{region}",
            HealthCheckConfig={
                "Type": "HTTPS",
                "FullyQualifiedDomainName": endpoint,
                "ResourcePath": "/beak/system/status",
                "Port": 443,
                "RequestInterval": 30,
                "FailureThreshold": 3,
            },
        )["HealthCheck"]["Id"]
        changes.append(_record(endpoint, "A", addresses[region]))
        changes.append(
            _record(
                "api.spaceduck.example",
                "CNAME",
                endpoint,
                ttl=ttls[region],
                SetIdentifier=f"beak-{region}",
                Region=region,
                HealthCheckId=health_check_id,
            )
        )
    route53.change_resource_record_sets(HostedZoneId=zone_id, ChangeBatch={"Changes": changes})


def _record(name: str, kind: str, value: str, *, ttl: int = 300, **routing: str) -> dict[str, Any]:
    return {
        "Action": "CREATE",
        "ResourceRecordSet": {
            "Name": name,
            "Type": kind,
            "TTL": ttl,
            "ResourceRecords": [{"Value": value}],
            **routing,
        },
    }


def _seed_user_pools(clients: _Clients, account_id: str) -> tuple[str, str]:
    """Matching pools in both regions, except for the drift EXPECTED_FAILING names; returns their ids."""
    pool_ids = []
    for region in (PRIMARY_REGION, SECONDARY_REGION):
        is_backup = region == SECONDARY_REGION
        functions = f"arn:aws:lambda:{region}:{account_id}:function"
        triggers = {"PreSignUp": f"{functions}:spaceduck-pre-signup"}
        if not is_backup:
            triggers["PostConfirmation"] = f"{functions}:spaceduck-post-confirmation"
        cognito = clients("cognito-idp", region)
        pool_id = cognito.create_user_pool(
            PoolName="spaceduck-users-dr" if is_backup else "spaceduck-users",
            Policies={
                "PasswordPolicy": {
                    "MinimumLength": 12,
                    "RequireUppercase": True,
                    "RequireLowercase": True,
                    "RequireNumbers": True,
                    "RequireSymbols": True,
                    "TemporaryPasswordValidityDays": 3,
                }
            },
            MfaConfiguration="OPTIONAL",
            UsernameAttributes=["email"],
            AutoVerifiedAttributes=["email"],
            Schema=[
                {"Name": "duck_id", "AttributeDataType": "String", "Mutable": False},
                {"Name": "hatch_region", "AttributeDataType": "String", "Mutable": True},
            ],
            LambdaConfig=triggers,
        )["UserPool"]["Id"]
        web_callback = (
            "https://app.spaceduck.example/callback"
            if is_backup
            else "https://app.spaceduck.example/auth/callback"
        )
        for client_name, callback in (
            ("spaceduck-web", web_callback),
            ("spaceduck-mobile", "spaceduck://auth/callback"),
        ):
            cognito.create_user_pool_client(
                UserPoolId=pool_id,
                ClientName=client_name,
                ExplicitAuthFlows=["ALLOW_USER_SRP_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"],
                AllowedOAuthFlowsUserPoolClient=True,
                AllowedOAuthFlows=["code"],
                AllowedOAuthScopes=["openid", "email", "profile"],
                CallbackURLs=[callback],
                SupportedIdentityProviders=["COGNITO"],
                AccessTokenValidity=60,
                IdTokenValidity=60,
                RefreshTokenValidity=30,
                TokenValidityUnits={"AccessToken": "minutes", "IdToken": "minutes", "RefreshToken": "days"},
            )
        pool_ids.append(pool_id)
    return pool_ids[0], pool_ids[1]
