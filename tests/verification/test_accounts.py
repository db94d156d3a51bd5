"""Credentials per environment and per service, against moto keyed by the assumed role's account."""

from __future__ import annotations

import itertools
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from datetime import timedelta
from typing import Any

from sqlalchemy import select

from mission_control.catalog import load_default_catalog
from mission_control.db.database import Database
from mission_control.progress.models import Environment
from mission_control.progress.service import ensure_defaults
from mission_control.verification.aws import clients_for
from mission_control.verification.budgets import Bucket, Budgets, Rates
from mission_control.verification.credentials import RoleSessions
from mission_control.verification.fleet import fleet_exit_code, verify_fleet
from mission_control.verification.models import VerificationRun
from mission_control.verification.results import Status
from mission_control.verification.runner import run_verification
from tests.verification.aws_gateway import Gateway
from tests.verification.estates import PRIMARY
from tests.verification.fleet_estate import FLEET, NETWORK, TENANTS, as_account, role_arn


def with_environments(database: Database, configs: Any) -> Database:
    with database.transaction() as session:
        ensure_defaults(
            session=session, catalog=load_default_catalog(), environments=tuple(c.name for c in configs)
        )
    return database


def statuses(report: Any, *item_ids: str) -> list[str]:
    found = {result.item_id: result for result in report.results}
    return [found[item_id].status.value for item_id in item_ids]


def test_assumed_role_sees_its_own_account_and_a_service_in_the_network_account(
    fleet_estate: Gateway,
) -> None:
    catalog = load_default_catalog()
    budgets = Budgets()
    report = run_verification(FLEET[0], catalog=catalog, clients=clients_for(FLEET[0], budgets=budgets))
    assert statuses(report, "dynamodb.global-main", "dns.latency-routing") == ["verified", "verified"]
    called = budgets.observed()
    assert set(called) == {TENANTS["tenant-a"], NETWORK}
    assert "route53" in called[NETWORK] and "route53" not in called[TENANTS["tenant-a"]]


def test_fleet_runs_every_environment_and_a_refused_role_errors_only_its_own(
    fleet_estate: Gateway, database: Database
) -> None:
    catalog = load_default_catalog()
    fleet = verify_fleet(
        FLEET,
        database=with_environments(database, FLEET),
        catalog=catalog,
        concurrency=3,
        budgets=Budgets(),
        actor="test",
    )
    a, b, refused = fleet.reports
    assert statuses(a, "dynamodb.global-main", "dns.latency-routing") == ["verified", "verified"]
    assert statuses(b, "dynamodb.global-main", "dns.latency-routing") == ["failing", "failing"]
    probed = [result for result in refused.results if result.status is not Status.MANUAL]
    assert probed and {result.status for result in probed} == {Status.ERROR}
    assert probed[0].summary == (
        f"AccessDenied on sts:AssumeRole for {role_arn(TENANTS['tenant-17'])} (environment tenant-17)"
    )
    assert fleet_exit_code(["ready", "error"]) == 3
    assert fleet.summary["environments"] == 3 and fleet.summary["error"] == 1


def test_a_refused_service_role_errors_only_that_services_items(fleet_estate: Gateway) -> None:
    denied_network = role_arn("444444444444")
    fleet_estate.refused_roles.add(denied_network)
    config = replace(FLEET[0], accounts={"route53": denied_network})
    report = run_verification(config, catalog=load_default_catalog(), clients=clients_for(config))
    found = {result.item_id: result for result in report.results}
    assert found["dynamodb.global-main"].status is Status.VERIFIED
    assert found["dns.latency-routing"].status is Status.ERROR
    assert f"AccessDenied on sts:AssumeRole for {denied_network} (environment tenant-a)" in (
        found["dns.latency-routing"].summary
    )


def test_a_role_is_assumed_once_however_many_environments_use_it(fleet_estate: Gateway) -> None:
    roles = RoleSessions()
    catalog = load_default_catalog()
    twins = [replace(FLEET[0], name=f"twin-{n}") for n in range(3)]
    for config in twins:
        run_verification(config, catalog=catalog, clients=clients_for(config, roles=roles))
    assume_calls = [family for _, _, family in fleet_estate.requests if family == "sts"]
    assert len(assume_calls) == 2  # tenant-a's role and the network role, once each


GATEWAY_SLACK = 1.0  # seconds: a request reaches moto at most this long after the limiter releases it


def assert_within_bucket(times: list[float], bucket: Bucket, *, slack: float = 0.0) -> None:
    """At most `capacity + rate * (T + slack)` of the sorted `times` in any T seconds: a token bucket's
    bound, widened by `slack` for requests that may each arrive up to `slack` late."""
    for first in range(len(times)):
        for last in range(first, len(times)):
            allowed = bucket.capacity + bucket.rate * (times[last] - times[first] + slack)
            assert last - first + 1 <= allowed + 1e-9, (
                f"{last - first + 1} requests in {times[last] - times[first]:.3f} s, "
                f"the bucket allows {allowed:.2f}"
            )


def test_route53_budget_is_never_exceeded_in_a_shared_network_account(
    fleet_estate: Gateway, database: Database
) -> None:
    """Six environments' Route53 calls all land in the network account and share one bucket of 2/s.

    The limiter's own send log obeys the bucket exactly; at moto every request that arrived was one the
    limiter released, and arrivals obey the bucket widened by GATEWAY_SLACK (threads of a loaded
    machine may be scheduled late between the limiter and the socket).
    """
    catalog = load_default_catalog()
    fleet = [replace(FLEET[0], name=f"shard-{n}") for n in range(6)]
    budgets = Budgets(Rates(route53=2, route53_burst=2))
    verify_fleet(
        fleet,
        database=with_environments(database, fleet),
        catalog=catalog,
        concurrency=6,
        budgets=budgets,
        actor="test",
    )
    bucket = Bucket(rate=2, capacity=2)
    sent = budgets.log.times(NETWORK, "route53")
    arrived = sorted(
        moment
        for moment, account, family in fleet_estate.requests
        if (account, family) == (NETWORK, "route53")
    )
    assert len(sent) >= 12  # enough that an unpaced fleet, done in well under a second, would break both
    assert_within_bucket(sent, bucket)
    assert len(arrived) == len(sent)
    assert_within_bucket(arrived, bucket, slack=GATEWAY_SLACK)


def test_health_check_status_is_paced_at_one_a_second_for_an_environments_own_clients(
    fleet_estate: Gateway,
) -> None:
    """Clients built for one environment (a drill's, an evidence import's) have budgets of their own."""
    network = as_account(fleet_estate.endpoint_url, NETWORK).client(
        "route53", endpoint_url=fleet_estate.endpoint_url
    )
    check_id = network.list_health_checks()["HealthChecks"][0]["Id"]
    fleet_estate.requests.clear()
    clients = clients_for(FLEET[0])
    route53 = clients.get("route53", PRIMARY)
    for _ in range(3):
        route53.get_health_check_status(HealthCheckId=check_id)
    sent = clients.requests.times(NETWORK, "route53:GetHealthCheckStatus")
    arrived = [
        moment
        for moment, account, family in fleet_estate.requests
        if (account, family) == (NETWORK, "route53:GetHealthCheckStatus")
    ]
    assert len(sent) == len(arrived) == 3
    assert_within_bucket(sent, Bucket(rate=1))
    assert_within_bucket(sorted(arrived), Bucket(rate=1), slack=GATEWAY_SLACK)
    assert all(later - earlier >= 1.0 - 1e-9 for earlier, later in itertools.pairwise(sent))


def test_cognito_user_pool_reads_share_fifteen_a_second_across_threads(fleet_estate: Gateway) -> None:
    account = TENANTS["tenant-a"]
    session = as_account(fleet_estate.endpoint_url, account)
    pool = session.client("cognito-idp", endpoint_url=fleet_estate.endpoint_url).create_user_pool(
        PoolName="users"
    )["UserPool"]["Id"]
    clients = clients_for(FLEET[0])
    cognito = clients.get("cognito-idp", PRIMARY)
    with ThreadPoolExecutor(max_workers=8) as pool_threads:
        list(pool_threads.map(lambda _: cognito.describe_user_pool(UserPoolId=pool), range(24)))
    sent = clients.requests.times(account, "cognito-idp")
    assert len(sent) == 24
    assert_within_bucket(sent, Bucket(rate=15))
    assert clients.requests.observed()[account]["cognito-idp"]["max_per_second"] <= 15


def test_each_run_stores_the_requests_of_its_own_environment(
    fleet_estate: Gateway, database: Database
) -> None:
    """Two environments share the network account: each run stores what it sent, not the account's total."""
    catalog = load_default_catalog()
    pair = FLEET[:2]
    budgets = Budgets()
    verify_fleet(
        pair, database=with_environments(database, pair), catalog=catalog, concurrency=2, budgets=budgets,
        actor="test",
    )  # fmt: skip
    with database.read() as session:
        stored = dict(
            session.execute(
                select(Environment.name, VerificationRun.request_rates).join(VerificationRun)
            ).all()
        )
    a, b = stored["tenant-a"], stored["tenant-b"]
    assert set(a) == {TENANTS["tenant-a"], NETWORK} and set(b) == {TENANTS["tenant-b"], NETWORK}
    whole_account = budgets.observed()[NETWORK]["route53"]["requests"]
    own = [a[NETWORK]["route53"]["requests"], b[NETWORK]["route53"]["requests"]]
    assert all(count > 0 for count in own) and sum(own) == whole_account
    assert (
        a[TENANTS["tenant-a"]]["dynamodb"]["requests"]
        == (budgets.observed()[TENANTS["tenant-a"]]["dynamodb"]["requests"])
    )
    assert a[TENANTS["tenant-a"]]["dynamodb"]["max_per_second"] >= 1


def test_credentials_near_expiry_are_refreshed_by_assuming_the_role_again(fleet_estate: Gateway) -> None:
    """Five minutes left is inside botocore's mandatory refresh window (ten): every request refreshes."""

    def assume_calls() -> int:
        return sum(1 for _, _, family in fleet_estate.requests if family == "sts")

    lasting = clients_for(FLEET[0], roles=RoleSessions()).get("dynamodb", PRIMARY)
    lasting.list_tables()
    lasting.list_tables()
    assert assume_calls() == 1
    fleet_estate.requests.clear()
    fleet_estate.credential_lifetime = timedelta(minutes=5)
    expiring = clients_for(FLEET[0], roles=RoleSessions()).get("dynamodb", PRIMARY)
    assert expiring.list_tables()["TableNames"] == ["tenant-a-main"]
    assert expiring.list_tables()["TableNames"] == ["tenant-a-main"]  # refreshed: still tenant-a's account
    assert assume_calls() >= 3  # the first assumption, then one refresh before each request
