"""Edge cases: CloudFront runs a behaviour's own Lambda@Edge associations, and IAM decides the edge
role's trust as its policy evaluation logic does."""

from __future__ import annotations

from dataclasses import replace
from functools import partial
from typing import Any

import pytest

from tests.verification.estates.harness import Case, Corpus, Estate, case_id, unchanged
from tests.verification.estates.ready_edge import AUTH, REDIRECTS, allow, deny, seed_edge

ACCOUNT = "123456789012"
READY = {"viewer-request": AUTH, "origin-request": REDIRECTS}
WITHOUT_AUTH = {"origin-request": REDIRECTS}


def edge(**settings: Any) -> Any:
    return partial(seed_edge, **settings)


def condition(operator: str, key: str, value: Any) -> dict[str, Any]:
    return {"Condition": {operator: {key: value}}}


def no_api_paths(estate: Estate) -> None:
    estate.config = replace(estate.config, health_check_paths=())


def edge_case(
    name: str, item: str, expected: str, because: str, summary: str | None = None, **seed: Any
) -> Case:
    return Case(name, item, expected, because, unchanged, summary=summary, baseline=edge(**seed))


CASES = [
    edge_case("ready-auth-handler", "edge.auth-handler", "verified",
              "CloudFront runs a behaviour's viewer-request function on every request it routes there"),
    edge_case("ready-redirects", "edge.redirects", "verified",
              "origin-request functions run on cache misses of the behaviour they are associated with"),
    edge_case("ready-iam-role", "edge.iam-role", "verified",
              "Lambda@Edge needs a role both lambda.amazonaws.com and edgelambda.amazonaws.com may assume"),
    edge_case("ready-origin-failover", "cloudfront.origin-failover", "verified",
              "an origin group fails over to its second origin on the listed status codes"),
    edge_case("api-behaviour-without-auth", "edge.auth-handler", "failing",
              "CloudFront runs only the associations of the behaviour a request is routed to",
              summary="behaviour /beak/*", paths={"/beak/*": WITHOUT_AUTH}),
    edge_case("auth-on-api-behaviour-only", "edge.auth-handler", "verified",
              "the first matching path pattern serves /beak and /beak/system/status, so its viewer-request runs",
              default=WITHOUT_AUTH, paths={"/beak*": READY}),
    edge_case("auth-on-a-behaviour-not-serving-the-api", "edge.auth-handler", "failing",
              "/static/* does not match the API's paths, which the default behaviour serves without auth",
              default=WITHOUT_AUTH, paths={"/static/*": READY}),
    edge_case("auth-on-viewer-response", "edge.auth-handler", "failing",
              "a viewer-response function runs after the origin answered: it cannot refuse the request",
              default={"viewer-response": AUTH, "origin-request": REDIRECTS}),
    edge_case("auth-unpublished-version", "edge.auth-handler", "failing",
              "CloudFront can only run a published, numbered version of a function",
              summary="version 9",
              default={"viewer-request": f"arn:aws:lambda:us-east-1:{ACCOUNT}:function:{AUTH}:9",
                       "origin-request": REDIRECTS}),
    edge_case("redirects-on-origin-response", "edge.redirects", "failing",
              "an origin-response function runs after the origin answered, too late to redirect the request",
              default={"viewer-request": AUTH, "origin-response": REDIRECTS}),
    edge_case("deny-beats-allow", "edge.iam-role", "failing",
              "IAM policy evaluation: an explicit Deny overrides any Allow",
              summary="denies it", trust=[allow(), deny("edgelambda.amazonaws.com")]),
    edge_case("deny-not-principal", "edge.iam-role", "failing",
              "a Deny with NotPrincipal applies to every principal it does not name",
              trust=[allow(), {"Effect": "Deny", "NotPrincipal": {"Service": "lambda.amazonaws.com"},
                               "Action": "sts:AssumeRole"}]),
    edge_case("deny-wildcard-action", "edge.iam-role", "failing",
              "IAM matches actions with wildcards: sts:Assume* covers sts:AssumeRole",
              trust=[allow(), deny("edgelambda.amazonaws.com", "sts:Assume*")]),
    edge_case("allow-wildcard-action", "edge.iam-role", "verified",
              "IAM matches actions with wildcards, case-insensitively: sts:* allows sts:AssumeRole",
              trust=[allow(action="STS:*")]),
    edge_case("allow-only-with-mfa", "edge.iam-role", "failing",
              "a service principal's request carries no aws:MultiFactorAuthPresent, so Bool true never holds",
              summary="cannot meet", trust=[allow(**condition("Bool", "aws:MultiFactorAuthPresent", "true"))]),
    edge_case("allow-only-for-a-user-arn", "edge.iam-role", "failing",
              "aws:PrincipalArn names an IAM principal; a service principal never matches it",
              trust=[allow(**condition("ArnEquals", "aws:PrincipalArn", f"arn:aws:iam::{ACCOUNT}:user/deployer"))]),
    edge_case("allow-mfa-if-exists", "edge.iam-role", "verified",
              "...IfExists conditions hold when the key is absent from the request",
              trust=[allow(**condition("BoolIfExists", "aws:MultiFactorAuthPresent", "true"))]),
    edge_case("allow-with-source-account", "edge.iam-role", "manual",
              "aws:SourceAccount is set by the calling service at request time: only a reviewer can vouch for it",
              summary="needs a reviewed attestation",
              trust=[allow(**condition("StringEquals", "aws:SourceAccount", ACCOUNT))]),
    edge_case("allow-lambda-only", "edge.iam-role", "failing",
              "without edgelambda.amazonaws.com in the trust policy, CloudFront cannot replicate the function",
              summary="edgelambda.amazonaws.com", trust=[allow("lambda.amazonaws.com")]),
    Case("no-api-paths", "cloudfront.origin-failover", "failing",
         "with no API path to route, judging the default behaviour alone proves nothing about the API's route",
         no_api_paths, summary="health_check_paths", baseline=edge()),
]  # fmt: skip


@pytest.mark.parametrize("case", CASES, ids=case_id)
def test_case(corpus: Corpus, case: Case) -> None:
    corpus.check(case)
