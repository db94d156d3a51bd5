"""Lambda@Edge probes: functions, versions and roles in moto (real shapes); CloudFront's associations,
which moto drops, answered by ModelStub."""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, replace
from typing import Any
from urllib.parse import quote

import boto3
import pytest
from moto import mock_aws

from mission_control.verification.aws import AwsClients
from mission_control.verification.collectors.cloudfront import collect_cloudfront
from mission_control.verification.collectors.lambda_edge import (
    EDGE_REGION,
    collect_lambda_edge,
    policy_document,
)
from mission_control.verification.config import EnvironmentConfig
from mission_control.verification.probes.edge import auth_handler, iam_role, redirects
from mission_control.verification.results import ProbeResult, Status
from tests.verification.cloudfront_estate import (
    API_DISTRIBUTION,
    AUTH_FUNCTION,
    EDGE_CONFIG,
    EDGE_ROLE,
    REDIRECT_FUNCTION,
    SHORT_POLICY,
    WEB_DISTRIBUTION,
    api_distribution,
    behaviour,
    function_arn,
    stub_cache_policy,
    stub_distribution,
    stub_ready_cloudfront,
    web_distribution,
)
from tests.verification.estates import ACCOUNT
from tests.verification.isolation import isolated_from_real_aws
from tests.verification.model_stub import ModelStub

CONFIG = EDGE_CONFIG
BOTH_SERVICES = ["lambda.amazonaws.com", "edgelambda.amazonaws.com"]
ASSOCIATIONS = {
    "viewer-request": function_arn(AUTH_FUNCTION),
    "origin-request": function_arn(REDIRECT_FUNCTION),
}


@dataclass
class EdgeAws:
    clients: AwsClients
    cloudfront: ModelStub
    iam: Any  # moto
    lambda_: Any  # moto


@pytest.fixture(scope="module")
def session() -> Iterator[boto3.Session]:
    """One session for the module: it caches the service models between tests."""
    with isolated_from_real_aws():
        yield boto3.Session(region_name=EDGE_REGION)


@pytest.fixture
def aws(session: boto3.Session) -> Iterator[EdgeAws]:
    with mock_aws():
        clients = AwsClients(session)
        yield EdgeAws(
            clients,
            ModelStub(clients.get("cloudfront", EDGE_REGION)),
            session.client("iam"),
            session.client("lambda"),
        )


def trust_policy(*statements: dict[str, Any]) -> dict[str, Any]:
    return {"Version": "2012-10-17", "Statement": list(statements)}


def allow(services: str | list[str], action: str | list[str] = "sts:AssumeRole") -> dict[str, Any]:
    return {"Effect": "Allow", "Principal": {"Service": services}, "Action": action}


def create_role(aws: EdgeAws, name: str = EDGE_ROLE, trust: dict[str, Any] | None = None) -> str:
    document = json.dumps(trust or trust_policy(allow(BOTH_SERVICES)))
    return aws.iam.create_role(RoleName=name, AssumeRolePolicyDocument=document)["Role"]["Arn"]


def package(padding: int = 0) -> bytes:
    """A deployment package; `padding` stored (uncompressed) bytes push its size past a quota."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("index.js", "exports.handler = async (event) => event.Records[0].cf.request;")
        if padding:
            archive.writestr("padding.bin", b"\0" * padding, compress_type=zipfile.ZIP_STORED)
    return buffer.getvalue()


def create_function(
    aws: EdgeAws,
    name: str,
    role_arn: str,
    *,
    publish: bool = True,
    memory: int = 128,
    timeout: int = 5,
    padding: int = 0,
) -> None:
    aws.lambda_.create_function(
        FunctionName=name,
        Runtime="nodejs20.x",
        Role=role_arn,
        Handler="index.handler",
        Code={"ZipFile": package(padding)},
        MemorySize=memory,
        Timeout=timeout,
    )
    if publish:
        aws.lambda_.publish_version(FunctionName=name)


def seed_functions(aws: EdgeAws, **auth: Any) -> None:
    """The edge role, the auth function (`auth` overrides its settings) and the redirect function, which
    runs on origin-request and so may use more memory and time than a viewer function."""
    role_arn = create_role(aws)
    create_function(aws, AUTH_FUNCTION, role_arn, **auth)
    create_function(aws, REDIRECT_FUNCTION, role_arn, memory=512, timeout=30)


def verify(aws: EdgeAws, config: EnvironmentConfig = CONFIG) -> dict[str, ProbeResult]:
    lambda_edge = collect_lambda_edge(config, aws.clients)
    cloudfront = collect_cloudfront(config, aws.clients)
    return {
        "edge.auth-handler": auth_handler(config, lambda_edge=lambda_edge, cloudfront=cloudfront),
        "edge.redirects": redirects(config, lambda_edge=lambda_edge, cloudfront=cloudfront),
        "edge.iam-role": iam_role(config, lambda_edge=lambda_edge, cloudfront=cloudfront),
    }


def with_web(aws: EdgeAws, web: dict[str, Any]) -> dict[str, ProbeResult]:
    """Verify the ready functions with a ready API distribution and `web` as the web distribution."""
    seed_functions(aws)
    stub_distribution(aws.cloudfront, API_DISTRIBUTION, api_distribution())
    stub_distribution(aws.cloudfront, WEB_DISTRIBUTION, web)
    stub_cache_policy(aws.cloudfront, SHORT_POLICY, "spaceduck-short", default_ttl=60, max_ttl=3600)
    return verify(aws)


def test_ready_estate_verifies_all_three_edge_items(aws: EdgeAws) -> None:
    seed_functions(aws)
    stub_ready_cloudfront(aws.cloudfront)
    results = verify(aws)
    assert {item: r.status for item, r in results.items()} == dict.fromkeys(results, Status.VERIFIED)
    auth = results["edge.auth-handler"].facts
    assert auth["published_versions"] == ["1"]
    assert auth["associations"][WEB_DISTRIBUTION] == [
        {
            "behaviour": "default (*)",
            "event_type": "viewer-request",
            "function_arn": function_arn(AUTH_FUNCTION),
        }
    ]
    [quotas] = auth["versions_checked_for_quotas"]
    assert (quotas["version"], quotas["memory_mb"], quotas["timeout_s"]) == ("1", 128, 5)
    assert results["edge.iam-role"].facts["trusted_services"] == sorted(BOTH_SERVICES)
    role_arn = f"arn:aws:iam::{ACCOUNT}:role/{EDGE_ROLE}"
    assert results["edge.iam-role"].facts["function_roles"] == {
        AUTH_FUNCTION: {"1": role_arn},
        REDIRECT_FUNCTION: {"1": role_arn},
    }


@pytest.mark.parametrize(
    ("probe", "key"),
    [
        ("edge.auth-handler", "edge_auth_function"),
        ("edge.auth-handler", "distributions"),
        ("edge.auth-handler", "health_check_paths"),
        ("edge.redirects", "edge_redirect_function"),
        ("edge.redirects", "distributions"),
        ("edge.iam-role", "edge_role"),
        ("edge.iam-role", "edge_redirect_function"),
    ],
)
def test_each_edge_probe_fails_naming_its_missing_configuration_key(
    aws: EdgeAws, probe: str, key: str
) -> None:
    stub_ready_cloudfront(aws.cloudfront)
    empty = () if key in ("distributions", "health_check_paths") else None
    result = verify(aws, replace(CONFIG, **{key: empty}))[probe]
    assert (result.status, result.summary) == (
        Status.FAILING,
        f"not configured: set {key} in [environments.production]",
    )


# --- edge.auth-handler -------------------------------------------------------------------------------


def test_auth_handler_fails_when_the_function_does_not_exist_in_us_east_1(aws: EdgeAws) -> None:
    create_function(aws, REDIRECT_FUNCTION, create_role(aws))
    stub_ready_cloudfront(aws.cloudfront)
    results = verify(aws)
    expected = f"function {AUTH_FUNCTION} not found in us-east-1"
    assert (results["edge.auth-handler"].status, results["edge.auth-handler"].summary) == (
        Status.FAILING,
        expected,
    )
    assert results["edge.iam-role"].summary == expected


def test_auth_handler_fails_when_only_latest_exists(aws: EdgeAws) -> None:
    seed_functions(aws, publish=False)
    stub_ready_cloudfront(aws.cloudfront)
    result = verify(aws)["edge.auth-handler"]
    assert result.status is Status.FAILING
    assert result.summary.split("; ") == [
        f"{AUTH_FUNCTION} has no published version in us-east-1, only $LATEST",
        f"distribution {API_DISTRIBUTION} uses {AUTH_FUNCTION} version 1, which is not published",
        f"distribution {WEB_DISTRIBUTION} uses {AUTH_FUNCTION} version 1, which is not published",
    ]


@pytest.mark.parametrize(
    "web",
    [
        web_distribution(
            default=behaviour("web-failover", associations={"viewer-response": function_arn(AUTH_FUNCTION)})
        ),
        web_distribution(
            default=behaviour("web-failover"),
            behaviours=(
                behaviour(
                    "web-failover",
                    path="/app/*",
                    associations={"viewer-request": function_arn(AUTH_FUNCTION)},
                ),
            ),
        ),
        web_distribution(
            default=behaviour("web-failover", associations={"viewer-request": function_arn("other-auth")})
        ),
    ],
    ids=["viewer-response-only", "on-a-path-behaviour-not-serving-the-api", "another-function"],
)
def test_auth_handler_fails_without_viewer_request_on_the_behaviour_serving_the_api(
    aws: EdgeAws, web: dict[str, Any]
) -> None:
    result = with_web(aws, web)["edge.auth-handler"]
    assert (result.status, result.summary) == (
        Status.FAILING,
        f"distribution {WEB_DISTRIBUTION} has no viewer-request association with {AUTH_FUNCTION} "
        "on behaviour default (*), which serves /beak/system/status, /beak",
    )


def test_auth_handler_fails_when_an_api_path_behaviour_lacks_it_though_the_default_has_it(
    aws: EdgeAws,
) -> None:
    """CloudFront runs only the associations of the behaviour a request is routed to."""
    bypass = behaviour("web-failover", path="/beak/system/*")
    result = with_web(aws, web_distribution(behaviours=(bypass,)))["edge.auth-handler"]
    assert (result.status, result.summary) == (
        Status.FAILING,
        f"distribution {WEB_DISTRIBUTION} has no viewer-request association with {AUTH_FUNCTION} "
        "on behaviour /beak/system/*, which serves /beak/system/status",
    )
    assert result.facts["api_behaviours"][WEB_DISTRIBUTION] == {
        "/beak/system/status": "/beak/system/*",
        "/beak": "default (*)",
    }


def test_auth_handler_needs_it_only_on_the_behaviours_serving_the_api(aws: EdgeAws) -> None:
    api = behaviour(
        "web-failover", path="/beak*", associations={"viewer-request": function_arn(AUTH_FUNCTION)}
    )
    redirect_only = {"origin-request": function_arn(REDIRECT_FUNCTION)}
    web = web_distribution(default=behaviour("web-failover", associations=redirect_only), behaviours=(api,))
    result = with_web(aws, web)["edge.auth-handler"]
    assert result.status is Status.VERIFIED
    assert result.facts["associations"][WEB_DISTRIBUTION] == [
        {"behaviour": "/beak*", "event_type": "viewer-request", "function_arn": function_arn(AUTH_FUNCTION)}
    ]


def test_auth_handler_fails_when_a_distribution_runs_an_unpublished_version(aws: EdgeAws) -> None:
    stale = {
        "viewer-request": function_arn(AUTH_FUNCTION, "7"),
        "origin-request": function_arn(REDIRECT_FUNCTION),
    }
    result = with_web(aws, web_distribution(default=behaviour("web-failover", associations=stale)))
    assert result["edge.auth-handler"].summary == (
        f"distribution {WEB_DISTRIBUTION} uses {AUTH_FUNCTION} version 7, which is not published"
    )


@pytest.mark.parametrize(
    ("settings", "problem"),
    [
        ({"memory": 256}, "has 256 MB memory; viewer events allow 128 MB"),
        ({"timeout": 6}, "has a 6 s timeout; viewer events allow 5 s"),
        ({"padding": 1_048_576}, "byte package; viewer events allow 1048576 bytes"),
    ],
    ids=["memory", "timeout", "package-size"],
)
def test_auth_handler_fails_when_the_version_in_use_exceeds_a_viewer_quota(
    aws: EdgeAws, settings: dict[str, int], problem: str
) -> None:
    seed_functions(aws, **settings)
    stub_ready_cloudfront(aws.cloudfront)
    result = verify(aws)["edge.auth-handler"]
    assert result.status is Status.FAILING
    assert result.summary.startswith(f"{AUTH_FUNCTION} version 1 ")
    assert result.summary.endswith(problem)


def test_auth_handler_holds_quotas_against_the_associated_version_not_a_newer_one(aws: EdgeAws) -> None:
    seed_functions(aws)
    aws.lambda_.update_function_configuration(FunctionName=AUTH_FUNCTION, MemorySize=1024)
    aws.lambda_.publish_version(FunctionName=AUTH_FUNCTION)
    stub_ready_cloudfront(aws.cloudfront)
    result = verify(aws)["edge.auth-handler"]
    assert result.status is Status.VERIFIED
    assert result.facts["published_versions"] == ["1", "2"]
    assert [v["version"] for v in result.facts["versions_checked_for_quotas"]] == ["1"]


def test_access_denied_on_list_versions_errors_the_items_needing_that_function(aws: EdgeAws) -> None:
    create_role(aws)
    stub_ready_cloudfront(aws.cloudfront)
    lambda_ = ModelStub(aws.clients.get("lambda", EDGE_REGION))
    lambda_.add_error("ListVersionsByFunction", {"FunctionName": AUTH_FUNCTION}, "AccessDeniedException", 403)
    redirect = {
        "FunctionName": REDIRECT_FUNCTION,
        "Version": "1",
        "Role": f"arn:aws:iam::{ACCOUNT}:role/{EDGE_ROLE}",
        "MemorySize": 512,
        "Timeout": 30,
        "CodeSize": 2048,
    }
    latest = {**redirect, "Version": "$LATEST"}
    lambda_.add(
        "ListVersionsByFunction", {"FunctionName": REDIRECT_FUNCTION}, {"Versions": [latest, redirect]}
    )
    results = verify(aws)
    denied = f"AccessDeniedException on lambda:ListVersionsByFunction for {AUTH_FUNCTION} in us-east-1"
    assert (results["edge.auth-handler"].status, results["edge.auth-handler"].summary) == (
        Status.ERROR,
        denied,
    )
    assert (results["edge.iam-role"].status, results["edge.iam-role"].summary) == (Status.ERROR, denied)
    assert results["edge.redirects"].status is Status.VERIFIED


def test_access_denied_on_a_distribution_errors_the_association_items(aws: EdgeAws) -> None:
    seed_functions(aws)
    stub_distribution(aws.cloudfront, API_DISTRIBUTION, api_distribution())
    stub_cache_policy(aws.cloudfront, SHORT_POLICY, "spaceduck-short", default_ttl=60, max_ttl=3600)
    aws.cloudfront.add_error("GetDistributionConfig", {"Id": WEB_DISTRIBUTION}, "AccessDenied", 403)
    results = verify(aws)
    denied = f"AccessDenied on cloudfront:GetDistributionConfig for {WEB_DISTRIBUTION} in us-east-1"
    for item in ("edge.auth-handler", "edge.redirects"):
        assert (results[item].status, results[item].summary) == (Status.ERROR, denied)


# --- edge.redirects ----------------------------------------------------------------------------------


def test_redirects_accept_origin_request_on_a_path_behaviour(aws: EdgeAws) -> None:
    auth_only = {"viewer-request": function_arn(AUTH_FUNCTION)}
    web = web_distribution(
        default=behaviour("web-failover", cache_policy=SHORT_POLICY, associations=auth_only),
        behaviours=(
            behaviour(
                "web-failover",
                path="/old/*",
                associations={"origin-request": function_arn(REDIRECT_FUNCTION)},
            ),
        ),
    )
    result = with_web(aws, web)["edge.redirects"]
    assert result.status is Status.VERIFIED
    assert result.facts["associations"][WEB_DISTRIBUTION][0]["behaviour"] == "/old/*"


def test_redirects_fail_when_the_function_runs_on_origin_response_instead(aws: EdgeAws) -> None:
    wrong_event = {
        "viewer-request": function_arn(AUTH_FUNCTION),
        "origin-response": function_arn(REDIRECT_FUNCTION),
    }
    result = with_web(aws, web_distribution(default=behaviour("web-failover", associations=wrong_event)))
    assert (result["edge.redirects"].status, result["edge.redirects"].summary) == (
        Status.FAILING,
        f"distribution {WEB_DISTRIBUTION} has no origin-request association with {REDIRECT_FUNCTION} "
        "on any behaviour",
    )


def test_redirects_fail_when_a_distribution_does_not_exist(aws: EdgeAws) -> None:
    seed_functions(aws)
    stub_ready_cloudfront(aws.cloudfront)
    aws.cloudfront.add_error("GetDistributionConfig", {"Id": "EMISSING"}, "NoSuchDistribution", 404)
    result = verify(aws, replace(CONFIG, distributions=(API_DISTRIBUTION, "EMISSING")))["edge.redirects"]
    assert (result.status, result.summary) == (Status.FAILING, "distribution EMISSING not found")


# --- edge.iam-role -----------------------------------------------------------------------------------


def test_iam_role_fails_when_the_trust_policy_omits_edgelambda(aws: EdgeAws) -> None:
    role_arn = create_role(aws, trust=trust_policy(allow("lambda.amazonaws.com")))
    create_function(aws, AUTH_FUNCTION, role_arn)
    create_function(aws, REDIRECT_FUNCTION, role_arn)
    stub_ready_cloudfront(aws.cloudfront)
    result = verify(aws)["edge.iam-role"]
    assert (result.status, result.summary) == (
        Status.FAILING,
        f"role {EDGE_ROLE} does not trust edgelambda.amazonaws.com for sts:AssumeRole: "
        "no statement allows it",
    )


def deny(services: str | list[str], action: str | list[str] = "sts:AssumeRole") -> dict[str, Any]:
    return {**allow(services, action), "Effect": "Deny"}


def conditioned(statement: dict[str, Any], operator: str, key: str, value: Any) -> dict[str, Any]:
    return {**statement, "Condition": {operator: {key: value}}}


def judge_trust(aws: EdgeAws, trust: dict[str, Any]) -> ProbeResult:
    role_arn = create_role(aws, trust=trust)
    create_function(aws, AUTH_FUNCTION, role_arn)
    create_function(aws, REDIRECT_FUNCTION, role_arn)
    stub_ready_cloudfront(aws.cloudfront)
    return verify(aws)["edge.iam-role"]


ALLOW_BOTH = allow(BOTH_SERVICES)
SOURCE_ACCOUNT = ("StringEquals", "aws:SourceAccount", ACCOUNT)


@pytest.mark.parametrize(
    ("trust", "status"),
    [
        (trust_policy(allow("lambda.amazonaws.com"), allow("edgelambda.amazonaws.com", ["sts:AssumeRole"])),
         Status.VERIFIED),
        (trust_policy(allow(BOTH_SERVICES, "sts:*")), Status.VERIFIED),
        (trust_policy(allow(BOTH_SERVICES, "STS:assume?ole")), Status.VERIFIED),
        (trust_policy({**ALLOW_BOTH, "Principal": "*"}), Status.VERIFIED),
        (trust_policy({"Effect": "Allow", "Principal": {"Service": BOTH_SERVICES}, "NotAction": "sts:TagSession"}),
         Status.VERIFIED),
        (trust_policy(allow(BOTH_SERVICES, "sts:TagSession")), Status.FAILING),
        (trust_policy({"Effect": "Allow", "Principal": {"Service": BOTH_SERVICES}, "NotAction": "sts:Assume*"}),
         Status.FAILING),
        (trust_policy(allow("lambda.amazonaws.com"), deny("edgelambda.amazonaws.com")), Status.FAILING),
        (trust_policy(ALLOW_BOTH, deny("edgelambda.amazonaws.com", "sts:*")), Status.FAILING),
        (trust_policy(ALLOW_BOTH, {"Effect": "Deny", "NotPrincipal": {"Service": "lambda.amazonaws.com"},
                                   "Action": "sts:AssumeRole"}), Status.FAILING),
        (trust_policy(ALLOW_BOTH, {"Effect": "Deny", "Principal": "*", "NotAction": "sts:TagSession"}),
         Status.FAILING),
    ],
    ids=["statement-per-service", "action-wildcard", "question-mark-any-case", "principal-star",
         "not-action-allow", "other-action", "not-action-excludes-it", "deny-statement",
         "deny-beats-allow", "not-principal-deny", "not-action-deny"],
)  # fmt: skip
def test_iam_role_evaluates_allow_deny_and_wildcards_as_iam_does(
    aws: EdgeAws, trust: dict[str, Any], status: Status
) -> None:
    assert judge_trust(aws, trust).status is status


def test_an_explicit_deny_beats_an_allow_and_is_named(aws: EdgeAws) -> None:
    denying = {**deny("edgelambda.amazonaws.com"), "Sid": "NoEdge"}
    result = judge_trust(aws, trust_policy(ALLOW_BOTH, denying))
    assert (result.status, result.summary) == (
        Status.FAILING,
        f"role {EDGE_ROLE} does not trust edgelambda.amazonaws.com for sts:AssumeRole: statement NoEdge denies it",
    )
    assert result.facts["trusted_services"] == ["lambda.amazonaws.com"]


@pytest.mark.parametrize(
    ("operator", "key", "value"),
    [
        ("Bool", "aws:MultiFactorAuthPresent", "true"),
        ("NumericLessThan", "aws:MultiFactorAuthAge", "3600"),
        ("ArnEquals", "aws:PrincipalArn", f"arn:aws:iam::{ACCOUNT}:user/deployer"),
        ("StringEquals", "aws:PrincipalAccount", ACCOUNT),
        ("StringEquals", "sts:ExternalId", "beak"),
        ("Bool", "aws:PrincipalIsAWSService", "false"),
        ("Null", "aws:MultiFactorAuthPresent", "false"),
    ],
)
def test_an_allow_whose_condition_a_service_principal_cannot_meet_grants_nothing(
    aws: EdgeAws, operator: str, key: str, value: str
) -> None:
    result = judge_trust(aws, trust_policy(conditioned(ALLOW_BOTH, operator, key, value)))
    assert result.status is Status.FAILING
    assert result.summary.endswith(
        "edgelambda.amazonaws.com for sts:AssumeRole: statement #1 allows it only under a condition "
        "a service principal cannot meet"
    )


@pytest.mark.parametrize(
    ("operator", "key", "value"),
    [
        ("BoolIfExists", "aws:MultiFactorAuthPresent", "true"),
        ("Null", "aws:MultiFactorAuthPresent", "true"),
        ("StringNotEquals", "aws:PrincipalAccount", "999999999999"),
        ("ForAllValues:StringEquals", "aws:PrincipalTag/team", "edge"),
        ("StringLike", "aws:PrincipalServiceName", "*lambda.amazonaws.com"),
    ],
)
def test_conditions_that_hold_for_a_service_principal_still_trust_it(
    aws: EdgeAws, operator: str, key: str, value: str
) -> None:
    assert (
        judge_trust(aws, trust_policy(conditioned(ALLOW_BOTH, operator, key, value))).status
        is Status.VERIFIED
    )


def test_a_condition_only_the_request_decides_needs_a_reviewed_attestation(aws: EdgeAws) -> None:
    result = judge_trust(aws, trust_policy(conditioned(ALLOW_BOTH, *SOURCE_ACCOUNT)))
    assert result.status is Status.MANUAL
    assert result.summary == (
        f"needs a reviewed attestation: role {EDGE_ROLE} trusts lambda.amazonaws.com and "
        f'edgelambda.amazonaws.com only under {{"StringEquals": {{"aws:SourceAccount": "{ACCOUNT}"}}}}'
    )
    assert result.facts["trust"]["lambda.amazonaws.com"]["conditions"] == [
        {"statement": "#1", "effect": "Allow", "condition": {"StringEquals": {"aws:SourceAccount": ACCOUNT}}}
    ]
    assert len(result.facts["fingerprint"]) == 64


def test_an_undecidable_deny_also_needs_review_rather_than_passing(aws: EdgeAws) -> None:
    source = conditioned(deny(BOTH_SERVICES), "StringNotEquals", "aws:SourceArn", "arn:aws:lambda:*")
    result = judge_trust(aws, trust_policy(ALLOW_BOTH, source))
    assert result.status is Status.MANUAL
    assert result.facts["trust"]["edgelambda.amazonaws.com"]["trust"] == "conditional"


def test_the_attestation_fingerprint_changes_with_the_trust_policy(aws: EdgeAws) -> None:
    first = judge_trust(aws, trust_policy(conditioned(ALLOW_BOTH, *SOURCE_ACCOUNT)))
    aws.iam.update_assume_role_policy(
        RoleName=EDGE_ROLE,
        PolicyDocument=json.dumps(
            trust_policy(conditioned(ALLOW_BOTH, "StringEquals", "aws:SourceAccount", "1"))
        ),
    )
    second = verify(aws)["edge.iam-role"]
    assert second.status is Status.MANUAL
    assert second.facts["fingerprint"] != first.facts["fingerprint"]


def test_a_definite_failure_wins_over_a_condition_to_review(aws: EdgeAws) -> None:
    trust = trust_policy(conditioned(allow("lambda.amazonaws.com"), *SOURCE_ACCOUNT))
    assert judge_trust(aws, trust).status is Status.FAILING


def test_iam_role_fails_when_an_edge_function_runs_with_another_role(aws: EdgeAws) -> None:
    create_function(aws, AUTH_FUNCTION, create_role(aws))
    other = create_role(aws, "beak-legacy")
    create_function(aws, REDIRECT_FUNCTION, other)
    stub_ready_cloudfront(aws.cloudfront)
    result = verify(aws)["edge.iam-role"]
    assert (result.status, result.summary) == (
        Status.FAILING,
        f"{REDIRECT_FUNCTION} version 1 runs with {other}, not role {EDGE_ROLE}",
    )


def test_iam_role_fails_when_the_role_does_not_exist(aws: EdgeAws) -> None:
    other = create_role(aws, "beak-legacy")
    create_function(aws, AUTH_FUNCTION, other)
    create_function(aws, REDIRECT_FUNCTION, other)
    stub_ready_cloudfront(aws.cloudfront)
    result = verify(aws)["edge.iam-role"]
    assert result.status is Status.FAILING
    assert result.summary.startswith(
        f"role {EDGE_ROLE} not found; {AUTH_FUNCTION} version 1 runs with {other}"
    )


def test_access_denied_on_get_role_errors_only_the_iam_role_item(aws: EdgeAws) -> None:
    seed_functions(aws)
    stub_ready_cloudfront(aws.cloudfront)
    ModelStub(aws.clients.get("iam", EDGE_REGION)).add_error(
        "GetRole", {"RoleName": EDGE_ROLE}, "AccessDenied", 403
    )
    results = verify(aws)
    assert (results["edge.iam-role"].status, results["edge.iam-role"].summary) == (
        Status.ERROR,
        f"AccessDenied on iam:GetRole for role {EDGE_ROLE} in us-east-1",
    )
    assert results["edge.auth-handler"].status is Status.VERIFIED


def test_trust_policy_is_read_from_a_url_encoded_string_or_a_decoded_dict() -> None:
    document = trust_policy(allow(BOTH_SERVICES))
    assert policy_document(quote(json.dumps(document))) == document
    assert policy_document(document) == document
