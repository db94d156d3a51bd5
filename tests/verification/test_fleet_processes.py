"""A fleet split across processes: accounts never split, budgets still kept, results as from one process."""

from __future__ import annotations

import threading
from dataclasses import replace

from sqlalchemy import func, select

from mission_control.catalog import load_default_catalog
from mission_control.db.database import Database
from mission_control.notifications.channels import Channel
from mission_control.notifications.models import Delivery
from mission_control.notifications.outbox import Outbox
from mission_control.progress.models import Environment
from mission_control.verification.budgets import Bucket, Budgets, Rates
from mission_control.verification.fleet import default_processes, partition, verify_fleet
from mission_control.verification.models import VerificationRun
from tests.verification.aws_gateway import Gateway
from tests.verification.fleet_estate import FLEET, NETWORK, role_arn
from tests.verification.test_accounts import (
    GATEWAY_SLACK,
    assert_within_bucket,
    statuses,
    with_environments,
)

SOLO_ACCOUNT = "555555555555"
SOLO = replace(FLEET[1], name="solo", role_arn=role_arn(SOLO_ACCOUNT), accounts={})  # shares no account


def test_environments_sharing_an_account_directly_or_through_others_stay_in_one_part() -> None:
    chained = [
        replace(SOLO, name="x", role_arn=role_arn("700000000001"), accounts={"route53": role_arn("700000000009")}),
        replace(SOLO, name="y", role_arn=role_arn("700000000002"), accounts={"cognito": role_arn("700000000009")}),
        replace(SOLO, name="z", role_arn=role_arn("700000000002")),  # linked to x only through y
    ]  # fmt: skip
    lone = [replace(SOLO, name=f"lone-{n}", role_arn=role_arn(f"80000000000{n}")) for n in range(3)]
    parts = partition([*chained, *lone], 2)
    assert [0, 1, 2] in parts  # the chain is one group, kept whole
    assert sorted(index for part in parts for index in part) == list(range(6))
    assert sorted(len(part) for part in parts) == [3, 3]  # the lone ones fill the other part


def test_environments_on_the_standard_credential_chain_are_one_account() -> None:
    ambient = [replace(SOLO, name=f"ambient-{n}", role_arn=None) for n in range(4)]
    assert partition(ambient, 4) == [[0, 1, 2, 3]]


def test_a_fleet_never_gets_more_parts_than_it_has_account_groups_or_asked_processes() -> None:
    fleet = [replace(SOLO, name=f"e-{n}", role_arn=role_arn(f"90000000000{n}")) for n in range(5)]
    assert partition(fleet, 1) == [[0, 1, 2, 3, 4]]
    assert len(partition(fleet, 3)) == 3
    assert len(partition(fleet, 64)) == 5
    assert partition([], 2) == [[]]


def test_small_fleets_stay_in_one_process_by_default() -> None:
    assert default_processes(1) == 1
    assert default_processes(19) == 1
    assert 1 <= default_processes(400) <= 64


def test_route53_budget_holds_when_the_fleet_is_split_across_processes(
    fleet_estate: Gateway, database: Database
) -> None:
    """Six environments share the network account's bucket of 2/s; a seventh, alone in its account, makes
    a second part. Were the six split between the two processes, each would pace them at 2/s of its own
    and moto would see up to twice the budget."""
    shards = [replace(FLEET[0], name=f"shard-{n}") for n in range(3)] + [
        replace(FLEET[0], name=f"shard-{n}", role_arn=role_arn(f"60000000000{n}")) for n in range(3, 6)
    ]  # the last three share only the network account with the first three
    fleet = [*shards, SOLO]
    assert len(partition(fleet, 2)) == 2
    budgets = Budgets(Rates(route53=2, route53_burst=2))
    verify_fleet(
        fleet, database=with_environments(database, fleet), catalog=load_default_catalog(),
        concurrency=8, budgets=budgets, actor="test", processes=2,
    )  # fmt: skip
    arrived = sorted(
        moment
        for moment, account, family in fleet_estate.requests
        if (account, family) == (NETWORK, "route53")
    )
    assert len(arrived) >= 12
    assert len(arrived) == len(budgets.log.times(NETWORK, "route53"))  # all paced by this process's bucket
    assert_within_bucket(arrived, Bucket(rate=2, capacity=2), slack=GATEWAY_SLACK)


def test_a_fleet_split_across_processes_reports_records_and_notifies_as_one_process_would(
    fleet_estate: Gateway, database: Database
) -> None:
    fleet = [*FLEET, SOLO]
    catalog = load_default_catalog()
    channels = {"team": Channel("team", "webhook", ("failing", "error"), ("*",), {})}
    outbox = Outbox(channels)
    progress: list[tuple[str, str]] = []
    lock = threading.Lock()

    def on_progress(environment: str, label: str) -> None:
        with lock:
            progress.append((environment, threading.current_thread().name))

    split = verify_fleet(
        fleet, database=with_environments(database, fleet), catalog=catalog, concurrency=4,
        budgets=Budgets(), actor="test", processes=2, on_progress=on_progress, outbox=outbox,
    )  # fmt: skip
    assert partition(fleet, 2) == [[0, 1, 2], [3]]  # SOLO was verified by the spawned process
    assert [report.environment for report in split.reports] == ["tenant-a", "tenant-b", "tenant-17", "solo"]
    a, b, refused, solo = split.reports
    assert statuses(a, "dynamodb.global-main", "dns.latency-routing") == ["verified", "verified"]
    assert statuses(b, "dynamodb.global-main", "dns.latency-routing") == ["failing", "failing"]
    assert statuses(refused, "dynamodb.global-main") == ["error"]
    assert statuses(solo, "dynamodb.global-main") == ["failing"]  # no such table in its own account
    assert split.summary["environments"] == 4 and split.summary["error"] == 1
    assert SOLO_ACCOUNT in split.request_rates and NETWORK in split.request_rates
    relayed = {thread for environment, thread in progress if environment == "solo"}
    assert relayed and not any(thread.startswith("environment") for thread in relayed)
    with database.read() as session:
        recorded = dict(
            session.execute(
                select(Environment.name, func.count(VerificationRun.id))
                .join(VerificationRun)
                .group_by(Environment.name)
            ).all()
        )
        deliveries = set(session.scalars(select(Delivery.id)).all())
        solo_deliveries = session.scalar(
            select(func.count(Delivery.id)).where(Delivery.environment == "solo")
        )
    assert recorded == {"tenant-a": 1, "tenant-b": 1, "tenant-17": 1, "solo": 1}
    assert solo_deliveries == 1 and set(outbox.queued) == deliveries
