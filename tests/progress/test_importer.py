"""Importing the old page's localStorage value: every plausible shape, exact reporting, no harm."""

from __future__ import annotations

import json

import pytest

from mission_control.catalog import Catalog
from mission_control.db.database import Database
from mission_control.progress import service
from mission_control.progress.importer import (
    MAX_IMPORT_BYTES,
    UnreadableImport,
    apply_import,
    parse_localstorage,
)

LATENCY = "Enable Route53 latency-based routing"


def matched_ids(raw: str, catalog: Catalog) -> list[tuple[str, bool]]:
    return [(m.item_id, m.checked) for m in parse_localstorage(raw, catalog).matches]


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (json.dumps([LATENCY]), [("dns.latency-routing", True)]),
        (json.dumps(["dns.health-checks", "cognito.parity"]), [("dns.health-checks", True), ("cognito.parity", True)]),
        (json.dumps([0, 19]), [("dns.latency-routing", True), ("cognito.auth-flow-test", True)]),
        (json.dumps(["2"]), [("dns.failover-ttl", True)]),
        (json.dumps({LATENCY: True, "dns.failover-ttl": False}), [("dns.latency-routing", True), ("dns.failover-ttl", False)]),
        (json.dumps({"4": True, "5": 1, "6": 0}), [("dynamodb.global-main", True), ("dynamodb.global-platform", True), ("dynamodb.pitr-backup-copy", False)]),
        (json.dumps({"checked": [LATENCY]}), [("dns.latency-routing", True)]),
        (json.dumps(json.dumps([LATENCY])), [("dns.latency-routing", True)]),
        (json.dumps({"sd_multiregion_checklist": json.dumps({"edge.iam-role": True})}), [("edge.iam-role", True)]),
        (json.dumps(["  enable ROUTE53 latency-based   routing "]), [("dns.latency-routing", True)]),
        ("\ufeff" + json.dumps([LATENCY]), [("dns.latency-routing", True)]),
        ("[]", []),
    ],
)  # fmt: skip
def test_plausible_shapes_are_understood(
    catalog: Catalog, raw: str, expected: list[tuple[str, bool]]
) -> None:
    assert matched_ids(raw, catalog) == expected


def test_unmatched_entries_are_reported_exactly(catalog: Catalog) -> None:
    plan = parse_localstorage(json.dumps([LATENCY, "Deploy to Mars", 20, "dns.nope"]), catalog)
    assert [m.item_id for m in plan.matches] == ["dns.latency-routing"]
    assert plan.unmatched == ["Deploy to Mars", "20", "dns.nope"]


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (b"not json at all", "not valid JSON"),
        (b"\xff\xfe\xfa", "not UTF-8"),
        (b"42", "expected a list or an object"),
        (b"null", "expected a list or an object"),
        (b'[{"nested": true}]', "a list must hold titles, ids or indexes"),
        (b"[true]", "a list must hold titles, ids or indexes"),
        (b'{"dns.failover-ttl": "yes"}', "must map to true or false"),
        (b'"[unclosed"', "the stored string is not JSON"),
        (b" " * (MAX_IMPORT_BYTES + 1), "the limit is"),
    ],
)
def test_unreadable_input_is_a_clear_error(catalog: Catalog, raw: bytes, message: str) -> None:
    with pytest.raises(UnreadableImport, match=message):
        parse_localstorage(raw, catalog)


def test_apply_sets_matched_items_leaves_others_and_reports_changes(
    database: Database, catalog: Catalog
) -> None:
    with database.transaction() as session:
        service.update_item(
            session=session, catalog=catalog, environment_name="production", item_id="cognito.parity",
            actor="ana", checked=True,
        )  # fmt: skip
    plan = parse_localstorage(
        json.dumps({LATENCY: True, "dns.failover-ttl": False, "cognito.parity": True}), catalog
    )
    with database.transaction() as session:
        apply_import(
            session=session, catalog=catalog, environment_name="production", plan=plan, actor="importer"
        )
    assert plan.changed == ["dns.latency-routing"]
    with database.read() as session:
        view = service.get_checklist(session=session, catalog=catalog, environment_name="production")
        checked = {item.item.id for item in view.items if item.checked}
        history = service.item_history(
            session=session, catalog=catalog, environment_name="production", item_id="dns.latency-routing"
        )
    assert checked == {"dns.latency-routing", "cognito.parity"}
    assert [(e.actor, e.action) for e in history] == [("importer", "checked")]


def test_import_into_unknown_environment_changes_nothing(database: Database, catalog: Catalog) -> None:
    plan = parse_localstorage(json.dumps([LATENCY]), catalog)
    with pytest.raises(service.NotFound), database.transaction() as session:
        apply_import(
            session=session, catalog=catalog, environment_name="nowhere", plan=plan, actor="importer"
        )
    with database.read() as session:
        assert (
            service.get_checklist(session=session, catalog=catalog, environment_name="production").completed
            == 0
        )
