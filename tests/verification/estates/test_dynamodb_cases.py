"""DynamoDB global-table cases: replicas as DescribeTable and DescribeGlobalTable report them."""

from __future__ import annotations

from dataclasses import replace

import pytest

from tests.verification.estates.harness import Case, Corpus, Estate, case_id, unchanged
from tests.verification.estates.ready import (
    PRIMARY,
    SECONDARY,
    create_table,
    set_replica_status,
    use_table,
)

THIRD = "us-west-2"


def plain_main_table(estate: Estate) -> None:
    create_table(estate, "spaceduck-plain")
    use_table(estate, "main", "spaceduck-plain")


def legacy_global_table(estate: Estate, regions: tuple[str, ...] = (PRIMARY, SECONDARY)) -> None:
    """A version 2017.11.29 global table: the same table in each region, joined by CreateGlobalTable."""
    for region in regions:
        create_table(estate, "spaceduck-legacy", region)
    estate.client("dynamodb").create_global_table(
        GlobalTableName="spaceduck-legacy", ReplicationGroup=[{"RegionName": region} for region in regions]
    )
    use_table(estate, "main", "spaceduck-legacy")


def strong_consistency(estate: Estate, *, replica: str, witness: str) -> None:
    """A Multi-Region strong consistency table: the primary, one replica and one witness."""
    create_table(estate, "spaceduck-mrsc")
    estate.client("dynamodb").update_table(
        TableName="spaceduck-mrsc",
        ReplicaUpdates=[{"Create": {"RegionName": replica}}],
        GlobalTableWitnessUpdates=[{"Create": {"RegionName": witness}}],
        MultiRegionConsistency="STRONG",
    )
    use_table(estate, "main", "spaceduck-mrsc")


def replica_status(status: str) -> Case:
    serving = status == "UPDATING"
    return Case(
        f"replica-{status.lower().replace('_', '-')}",
        "dynamodb.global-platform",
        "verified" if serving else "failing",
        "an UPDATING replica keeps serving reads and writes while a setting changes"
        if serving
        else f"a {status} replica does not serve reads and writes, so a failover to it fails",
        lambda estate: set_replica_status(estate, "audit-log", status),
        summary="UPDATING: it serves" if serving else f"is {status}, not ACTIVE",
    )


CASES = [
    Case("ready-global-main", "dynamodb.global-main", "verified",
         "a global table (2019.11.21) lists each replica and its ReplicaStatus in DescribeTable", unchanged,
         summary="serving replica"),
    Case("ready-global-platform", "dynamodb.global-platform", "verified",
         "a global table (2019.11.21) lists each replica and its ReplicaStatus in DescribeTable", unchanged),
    Case("main-table-not-global", "dynamodb.global-main", "failing",
         "a table without replicas lives in one region only", plain_main_table, summary="no replica"),
    Case("main-table-missing", "dynamodb.global-main", "failing",
         "DescribeTable answers ResourceNotFoundException for a table that does not exist",
         lambda estate: use_table(estate, "main", "spaceduck-gone"), summary="not found"),
    Case("main-table-not-configured", "dynamodb.global-main", "failing",
         "with no table named there is nothing to prove",
         lambda estate: setattr(estate, "config", replace(estate.config, main_table=None)),
         summary="not configured"),
    Case("platform-tables-not-configured", "dynamodb.global-platform", "failing",
         "with no tables named there is nothing to prove",
         lambda estate: setattr(estate, "config", replace(estate.config, platform_tables=())),
         summary="not configured"),
    Case("platform-table-not-global", "dynamodb.global-platform", "failing",
         "a table without replicas lives in one region only",
         lambda estate: (create_table(estate, "spaceduck-plain"), setattr(estate, "config", replace(
             estate.config, platform_tables=(*estate.config.platform_tables, "spaceduck-plain")))),
         summary="spaceduck-plain has no replica"),
    Case("legacy-global-table", "dynamodb.global-main", "verified",
         "a version 2017.11.29 global table lists its replicas only in DescribeGlobalTable's ReplicationGroup",
         legacy_global_table),
    Case("legacy-global-table-elsewhere", "dynamodb.global-main", "failing",
         "a 2017.11.29 global table whose ReplicationGroup lacks the secondary region has no replica there",
         lambda estate: legacy_global_table(estate, (PRIMARY, THIRD)), summary="no replica"),
    Case("legacy-replica-creating", "dynamodb.global-main", "failing",
         "a CREATING replica in a 2017.11.29 global table does not serve yet",
         lambda estate: (legacy_global_table(estate), set_replica_status(estate, "spaceduck-legacy", "CREATING")),
         summary="CREATING"),
    Case("strong-consistency-replica", "dynamodb.global-main", "verified",
         "a Multi-Region strong consistency table serves strongly consistent reads from each ACTIVE replica",
         lambda estate: strong_consistency(estate, replica=SECONDARY, witness=THIRD)),
    Case("strong-consistency-witness-only", "dynamodb.global-main", "failing",
         "a witness holds replicated data for quorum but serves no reads or writes",
         lambda estate: strong_consistency(estate, replica=THIRD, witness=SECONDARY), summary="witness"),
    *(replica_status(status) for status in (
        "UPDATING", "CREATING", "DELETING", "INACCESSIBLE_ENCRYPTION_CREDENTIALS", "ARCHIVING", "ARCHIVED",
        "REGION_DISABLED", "CREATION_FAILED",
    )),
]  # fmt: skip


@pytest.mark.parametrize("case", CASES, ids=case_id)
def test_case(corpus: Corpus, case: Case) -> None:
    corpus.check(case)


def test_strong_consistency_is_reported_in_the_facts(corpus: Corpus) -> None:
    case = next(case for case in CASES if case.name == "strong-consistency-replica")
    facts = corpus.run(case)["facts"]
    assert (facts["consistency"], facts["witnesses"]) == ("STRONG", [{"region": THIRD, "status": "ACTIVE"}])
