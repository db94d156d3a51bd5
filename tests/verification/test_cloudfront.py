"""CloudFront probes against ModelStub answers in AWS's shapes (moto rejects origin-group targets and
lacks cache policies), plus one moto distribution to prove the collector parses moto's shape too."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, replace

import boto3
import pytest
from moto import mock_aws

from mission_control.verification.aws import AwsClients
from mission_control.verification.collectors.cloudfront import CLOUDFRONT_REGION, collect_cloudfront
from mission_control.verification.config import EnvironmentConfig
from mission_control.verification.probes.cloudfront import cache_ttls, origin_failover
from mission_control.verification.results import ProbeResult, Status
from tests.verification.cloudfront_estate import (
    API_DISTRIBUTION,
    EDGE_CONFIG,
    SHORT_POLICY,
    WEB_DISTRIBUTION,
    api_distribution,
    behaviour,
    distribution,
    origin_group,
    stub_cache_policy,
    stub_distribution,
    stub_ready_cloudfront,
    web_distribution,
)
from tests.verification.isolation import isolated_from_real_aws
from tests.verification.model_stub import ModelStub

CONFIG = EDGE_CONFIG  # health_check_paths: /beak/system/status and /beak stand for the API's paths
GROUP = origin_group("api-failover", ("api-use1", "api-apse1"))


@dataclass
class StubbedCloudFront:
    clients: AwsClients
    cloudfront: ModelStub


@pytest.fixture(scope="module")
def session() -> Iterator[boto3.Session]:
    """One session for the module: it caches the (large) CloudFront model between tests."""
    with isolated_from_real_aws():
        yield boto3.Session(region_name=CLOUDFRONT_REGION)


@pytest.fixture
def aws(session: boto3.Session) -> StubbedCloudFront:
    clients = AwsClients(session)
    return StubbedCloudFront(clients, ModelStub(clients.get("cloudfront", CLOUDFRONT_REGION)))


def verify(clients: AwsClients, config: EnvironmentConfig = CONFIG) -> dict[str, ProbeResult]:
    snapshot = collect_cloudfront(config, clients)
    return {
        "cloudfront.origin-failover": origin_failover(config, cloudfront=snapshot),
        "cloudfront.cache-ttls": cache_ttls(config, cloudfront=snapshot),
    }


def with_api(aws: StubbedCloudFront, config: dict[str, object]) -> dict[str, ProbeResult]:
    """Verify an estate whose web distribution is ready and whose API distribution is `config`."""
    stub_distribution(aws.cloudfront, API_DISTRIBUTION, config)
    stub_distribution(aws.cloudfront, WEB_DISTRIBUTION, web_distribution())
    stub_cache_policy(aws.cloudfront, SHORT_POLICY, "spaceduck-short", default_ttl=60, max_ttl=3600)
    return verify(aws.clients)


def test_ready_estate_verifies_origin_failover_and_cache_ttls(aws: StubbedCloudFront) -> None:
    stub_ready_cloudfront(aws.cloudfront)
    results = verify(aws.clients)
    assert {item: r.status for item, r in results.items()} == dict.fromkeys(results, Status.VERIFIED)
    api = results["cloudfront.origin-failover"].facts["distributions"][API_DISTRIBUTION]
    assert api["failover_groups"] == ["api-failover"]
    assert api["api_paths"]["/beak"] == {"behaviour": "default (*)", "target": "api-failover"}
    assert results["cloudfront.cache-ttls"].facts["distributions"][API_DISTRIBUTION] == [
        {"behaviour": "/static/*", "source": "behaviour settings", "default_ttl": 300, "max_ttl": 86400},
        {
            "behaviour": "default (*)",
            "source": f"cache policy spaceduck-short ({SHORT_POLICY})",
            "default_ttl": 60,
            "max_ttl": 3600,
        },
    ]


def test_each_distribution_and_cache_policy_is_fetched_once(aws: StubbedCloudFront) -> None:
    stub_ready_cloudfront(aws.cloudfront)
    verify(aws.clients, replace(CONFIG, distributions=(API_DISTRIBUTION, WEB_DISTRIBUTION, API_DISTRIBUTION)))
    assert aws.cloudfront.count("GetDistributionConfig") == 2
    assert aws.cloudfront.count("GetCachePolicy") == 1  # both default behaviours use it


def test_both_probes_fail_naming_the_key_when_no_distributions_are_configured(aws: StubbedCloudFront) -> None:
    for result in verify(aws.clients, replace(CONFIG, distributions=())).values():
        assert (result.status, result.summary) == (
            Status.FAILING,
            "not configured: set distributions in [environments.production]",
        )
    assert aws.cloudfront.calls == []


def test_both_probes_fail_when_a_distribution_does_not_exist(aws: StubbedCloudFront) -> None:
    stub_ready_cloudfront(aws.cloudfront)
    aws.cloudfront.add_error("GetDistributionConfig", {"Id": "EMISSING"}, "NoSuchDistribution", 404)
    config = replace(CONFIG, distributions=(API_DISTRIBUTION, "EMISSING"))
    for result in verify(aws.clients, config).values():
        assert (result.status, result.summary) == (Status.FAILING, "distribution EMISSING not found")


def test_access_denied_on_the_distribution_is_an_error_naming_action_and_distribution(
    aws: StubbedCloudFront,
) -> None:
    stub_ready_cloudfront(aws.cloudfront)
    aws.cloudfront.add_error("GetDistributionConfig", {"Id": API_DISTRIBUTION}, "AccessDenied", 403)
    for result in verify(aws.clients).values():
        assert (result.status, result.summary) == (
            Status.ERROR,
            f"AccessDenied on cloudfront:GetDistributionConfig for {API_DISTRIBUTION} in us-east-1",
        )


# --- cloudfront.origin-failover ----------------------------------------------------------------------


def test_origin_failover_fails_a_distribution_with_no_origin_group(aws: StubbedCloudFront) -> None:
    results = with_api(aws, api_distribution(default=behaviour("api-use1"), behaviours=(), groups=()))
    result = results["cloudfront.origin-failover"]
    assert (result.status, result.summary) == (
        Status.FAILING,
        f"distribution {API_DISTRIBUTION} has no origin group",
    )
    assert result.facts["distributions"][API_DISTRIBUTION]["origin_groups"] == []


def test_origin_failover_fails_when_the_group_omits_failover_status_codes(aws: StubbedCloudFront) -> None:
    narrow = origin_group("api-failover", ("api-use1", "api-apse1"), status_codes=(500, 502))
    result = with_api(aws, api_distribution(groups=(narrow,)))["cloudfront.origin-failover"]
    assert (result.status, result.summary) == (
        Status.FAILING,
        f"origin group api-failover of distribution {API_DISTRIBUTION} does not fail over on 503, 504",
    )


def test_origin_failover_fails_when_no_behaviour_serving_the_api_targets_the_group(
    aws: StubbedCloudFront,
) -> None:
    result = with_api(aws, api_distribution(default=behaviour("api-use1")))["cloudfront.origin-failover"]
    assert result.status is Status.FAILING
    assert result.summary == "; ".join(
        f"distribution {API_DISTRIBUTION} serves {path} from api-use1 (behaviour default (*)), "
        "not from origin group api-failover"
        for path in ("/beak/system/status", "/beak")
    )


def test_origin_failover_fails_when_an_api_path_behaviour_bypasses_the_group(aws: StubbedCloudFront) -> None:
    bypass = behaviour("api-use1", path="/beak/*")
    result = with_api(aws, api_distribution(behaviours=(bypass,)))["cloudfront.origin-failover"]
    assert result.summary == (
        f"distribution {API_DISTRIBUTION} serves /beak/system/status from api-use1 (behaviour /beak/*), "
        "not from origin group api-failover"
    )
    assert result.facts["distributions"][API_DISTRIBUTION]["api_paths"]["/beak"]["behaviour"] == "default (*)"


@pytest.mark.parametrize(
    ("pattern", "serves_api"),
    [("/beak*", True), ("beak*", True), ("/be?k*", True), ("/Beak*", False), ("/beak/*/status", False)],
)
def test_origin_failover_routes_api_paths_by_cloudfront_path_pattern_rules(
    aws: StubbedCloudFront, pattern: str, serves_api: bool
) -> None:
    """A path behaviour targeting the group protects the API only if its pattern matches the API's paths."""
    api = behaviour("api-failover", path=pattern)
    result = with_api(aws, api_distribution(default=behaviour("api-use1"), behaviours=(api,)))
    assert result["cloudfront.origin-failover"].status is (Status.VERIFIED if serves_api else Status.FAILING)


def test_origin_failover_fails_naming_the_key_when_no_api_paths_are_configured(
    aws: StubbedCloudFront,
) -> None:
    """With no API path there is nothing to route: judging the default behaviour alone could pass a
    distribution whose API behaviour bypasses the group."""
    stub_ready_cloudfront(aws.cloudfront)
    result = verify(aws.clients, replace(CONFIG, health_check_paths=()))["cloudfront.origin-failover"]
    assert (result.status, result.summary) == (
        Status.FAILING,
        "not configured: set health_check_paths in [environments.production]",
    )


def test_origin_failover_reads_moto_distributions_whose_behaviours_cannot_target_groups() -> None:
    """moto keeps origin groups but refuses a behaviour targeting one: a real parse of its shape."""
    with mock_aws():
        client = boto3.client("cloudfront", region_name=CLOUDFRONT_REGION)
        created = client.create_distribution(
            DistributionConfig=distribution(
                {
                    **behaviour("api-use1", ttls=(60, 600)),
                    "ForwardedValues": {"QueryString": False, "Cookies": {"Forward": "none"}},
                },
                groups=(GROUP,),
            )
        )["Distribution"]["Id"]
        results = verify(AwsClients(), replace(CONFIG, distributions=(created,)))
    failover, ttls = results["cloudfront.origin-failover"], results["cloudfront.cache-ttls"]
    assert failover.status is Status.FAILING
    assert failover.facts["distributions"][created]["origin_groups"] == [
        {"id": "api-failover", "members": ["api-use1", "api-apse1"], "status_codes": [500, 502, 503, 504]}
    ]
    assert failover.summary.startswith(f"distribution {created} serves /beak/system/status from api-use1")
    assert ttls.status is Status.VERIFIED


# --- cloudfront.cache-ttls ---------------------------------------------------------------------------


def test_cache_ttls_fail_naming_a_behaviour_whose_legacy_ttls_exceed_the_ceilings(
    aws: StubbedCloudFront,
) -> None:
    static = behaviour("api-failover", path="/static/*", ttls=(3600, 31536000))
    result = with_api(aws, api_distribution(behaviours=(static,)))["cloudfront.cache-ttls"]
    where = f"distribution {API_DISTRIBUTION} behaviour /static/*"
    assert (result.status, result.summary) == (
        Status.FAILING,
        f"{where} has DefaultTTL 3600 > 300 (behaviour settings); "
        f"{where} has MaxTTL 31536000 > 86400 (behaviour settings)",
    )


def test_cache_ttls_fail_when_the_cache_policy_ttls_exceed_the_ceilings(aws: StubbedCloudFront) -> None:
    stub_distribution(aws.cloudfront, API_DISTRIBUTION, api_distribution())
    stub_distribution(aws.cloudfront, WEB_DISTRIBUTION, web_distribution())
    stub_cache_policy(aws.cloudfront, SHORT_POLICY, "spaceduck-short", default_ttl=300, max_ttl=172800)
    result = verify(aws.clients)["cloudfront.cache-ttls"]
    assert result.status is Status.FAILING
    assert result.summary == "; ".join(
        f"distribution {distribution_id} behaviour default (*) has MaxTTL 172800 > 86400 "
        f"(cache policy spaceduck-short ({SHORT_POLICY}))"
        for distribution_id in (API_DISTRIBUTION, WEB_DISTRIBUTION)
    )


def test_cache_ttls_apply_cloudfront_defaults_to_unset_ttls(aws: StubbedCloudFront) -> None:
    """Unset, a behaviour caches for a day by default and a year at most: both above the ceilings."""
    unset = behaviour("api-failover", path="/static/*", ttls=None)
    result = with_api(aws, api_distribution(behaviours=(unset,)))["cloudfront.cache-ttls"]
    assert result.status is Status.FAILING
    assert result.facts["distributions"][API_DISTRIBUTION][0] == {
        "behaviour": "/static/*",
        "source": "behaviour settings",
        "default_ttl": 86400,
        "max_ttl": 31536000,
    }


def test_cache_ttls_take_an_unset_default_ttl_as_at_least_the_min_ttl(aws: StubbedCloudFront) -> None:
    """CloudFront caches for MinTTL at least: unset DefaultTTL is the larger of a day and MinTTL."""
    floor = {**behaviour("api-failover", path="/static/*", ttls=None), "MinTTL": 172800}
    result = with_api(aws, api_distribution(behaviours=(floor,)))["cloudfront.cache-ttls"]
    assert result.facts["distributions"][API_DISTRIBUTION][0]["default_ttl"] == 172800


def test_cache_ttls_fail_when_a_behaviours_cache_policy_does_not_exist(aws: StubbedCloudFront) -> None:
    stub_distribution(aws.cloudfront, API_DISTRIBUTION, api_distribution())
    stub_distribution(aws.cloudfront, WEB_DISTRIBUTION, web_distribution())
    aws.cloudfront.add_error("GetCachePolicy", {"Id": SHORT_POLICY}, "NoSuchCachePolicy", 404)
    result = verify(aws.clients, replace(CONFIG, distributions=(WEB_DISTRIBUTION,)))["cloudfront.cache-ttls"]
    assert (result.status, result.summary) == (
        Status.FAILING,
        f"distribution {WEB_DISTRIBUTION} behaviour default (*) uses cache policy {SHORT_POLICY}, "
        "which does not exist",
    )


def test_access_denied_on_a_cache_policy_errors_cache_ttls_but_not_origin_failover(
    aws: StubbedCloudFront,
) -> None:
    stub_distribution(aws.cloudfront, API_DISTRIBUTION, api_distribution())
    stub_distribution(aws.cloudfront, WEB_DISTRIBUTION, web_distribution())
    aws.cloudfront.add_error("GetCachePolicy", {"Id": SHORT_POLICY}, "AccessDenied", 403)
    results = verify(aws.clients)
    assert results["cloudfront.origin-failover"].status is Status.VERIFIED
    assert (results["cloudfront.cache-ttls"].status, results["cloudfront.cache-ttls"].summary) == (
        Status.ERROR,
        f"AccessDenied on cloudfront:GetCachePolicy for cache policy {SHORT_POLICY} in us-east-1",
    )
