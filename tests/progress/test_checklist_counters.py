"""Counters: N / total, whole percent rounded down, and category completion only when all are done."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from mission_control.catalog import Catalog, Category, Item
from mission_control.evidence.freshness import EvidenceStatus, KindStatus
from mission_control.progress.checklist import CategoryView, ChecklistView, ItemView, build_checklist_view
from mission_control.progress.models import ItemState
from mission_control.verification.results import Status, StoredResult

AT = datetime(2026, 11, 30, 9, 30, tzinfo=UTC)
ITEM = Item("dns.ttl", "Lower the TTL", "", "Low", "dns")


def states(catalog: Catalog, checked_ids: set[str]) -> dict[str, ItemState]:
    return {
        item.id: ItemState(
            item_id=item.id,
            checked=item.id in checked_ids,
            note="",
            version=1 if item.id in checked_ids else 0,
        )
        for item in catalog.items
    }


def test_nothing_done_means_zero_and_no_category_complete(catalog: Catalog) -> None:
    view = build_checklist_view(catalog, "production", states(catalog, set()))
    assert (view.completed, view.total, view.percent) == (0, 20, 0)
    assert [category.complete for category in view.categories] == [False] * 5


def test_partial_category_is_not_complete(catalog: Catalog) -> None:
    view = build_checklist_view(
        catalog, "production", states(catalog, {"dns.latency-routing", "dns.health-checks"})
    )
    dns = view.categories[0]
    assert (dns.completed, dns.total, dns.complete) == (2, 4, False)
    assert view.percent == 10


def test_full_category_is_complete_and_others_are_not(catalog: Catalog) -> None:
    dns_ids = {item.id for item in catalog.categories[0].items}
    view = build_checklist_view(catalog, "production", states(catalog, dns_ids))
    assert [category.complete for category in view.categories] == [True, False, False, False, False]
    assert (view.completed, view.percent) == (4, 20)


def test_everything_done_is_one_hundred_percent(catalog: Catalog) -> None:
    view = build_checklist_view(catalog, "production", states(catalog, {item.id for item in catalog.items}))
    assert (view.completed, view.percent) == (20, 100)
    assert all(category.complete for category in view.categories)


def test_percent_rounds_down(catalog: Catalog) -> None:
    nineteen = {item.id for item in catalog.items[:19]}
    assert build_checklist_view(catalog, "production", states(catalog, nineteen)).percent == 95
    one = {catalog.items[0].id}
    assert build_checklist_view(catalog, "production", states(catalog, one)).percent == 5


def test_percent_rounds_down_where_a_third_of_the_items_make_it_inexact() -> None:
    """With 3 items, 2 done is 66.67%: rounded down to 66, never up to 67."""
    items = tuple(Item(f"three.item-{n}", f"Item {n}", "", "Low", "three") for n in range(3))
    three = Catalog("three", "Three items", "", (Category("three", "Three", "·", "T", items),))
    two_done = {items[0].id, items[1].id}
    assert build_checklist_view(three, "production", states(three, two_done)).percent == 66


def test_a_category_without_items_is_never_complete() -> None:
    empty = CategoryView(Category("empty", "Empty", "·", "E", ()), ())
    assert (empty.completed, empty.total, empty.complete) == (0, 0, False)


def test_missing_state_rows_count_as_open(catalog: Catalog) -> None:
    view = build_checklist_view(catalog, "production", {})
    assert view.completed == 0
    assert view.to_dict()["categories"][0]["items"][0]["version"] == 0


def entry(*, checked: bool = False, probe: Status | None = None, evidence: str | None = None) -> ItemView:
    """One item: ticked or not, with the latest probe's status and its evidence's state, if any."""
    proof = StoredResult(probe, "", {}, AT) if probe else None
    kind = KindStatus("drill", "fresh" if evidence == "complete" else "stale", AT, "")
    status = EvidenceStatus(evidence, 90, (kind,)) if evidence else None
    return ItemView(ITEM, checked, None, None, None, "", 1, proof, status)


def test_each_item_status_is_the_word_its_pill_shows() -> None:
    assert entry(checked=True, evidence="stale").status == "regressed"
    assert entry(probe=Status.FAILING).status == "failing"
    assert entry(probe=Status.ERROR).status == "error"
    assert entry(probe=Status.VERIFIED).status == "verified"
    assert entry(evidence="complete").status == "evidenced"
    assert entry(checked=True).status == "ticked"
    assert entry(evidence="incomplete").status == "needs-evidence"
    assert entry(probe=Status.MANUAL).status == "manual"
    assert entry().status == "open"


def test_complete_evidence_makes_an_item_done_without_a_tick_and_stale_evidence_undoes_a_tick() -> None:
    assert (entry(evidence="complete").done, entry(evidence="complete").checked) == (True, False)
    stale = entry(checked=True, evidence="stale")
    assert (stale.regressed, stale.done) == (True, False)


def test_only_evidence_the_catalog_asks_for_and_that_is_not_complete_is_needed() -> None:
    assert [entry(evidence=state).needs_evidence for state in (None, "complete", "incomplete", "stale")] == [
        False,
        False,
        True,
        True,
    ]


def test_a_category_one_item_short_is_not_complete(catalog: Catalog) -> None:
    three_of_four = {item.id for item in catalog.categories[0].items[:3]}
    dns = build_checklist_view(catalog, "production", states(catalog, three_of_four)).categories[0]
    assert (dns.completed, dns.total, dns.complete) == (3, 4, False)


def test_a_checklist_without_items_is_at_zero_percent() -> None:
    empty = Catalog("empty", "Empty", "", ())
    assert build_checklist_view(empty, "production", {}).percent == 0


def test_the_view_holds_until_the_first_fresh_evidence_expires() -> None:
    """The dashboard's cache keeps a view only until the first fresh evidence in it goes stale."""
    soon, later = AT, AT + timedelta(days=30)
    items = tuple(
        ItemView(
            Item(f"dns.item-{n}", "", "", "Low", "dns"),
            False,
            None,
            None,
            None,
            "",
            0,
            None,
            EvidenceStatus("complete", 90, (KindStatus("drill", "fresh", at, ""),)),
        )
        for n, at in enumerate((later, soon))
    )
    missing = ItemView(ITEM, False, None, None, None, "", 0, None, EvidenceStatus("incomplete", 90, ()))
    category = CategoryView(Category("dns", "DNS", "", "D", ()), (*items, missing))
    view = ChecklistView("production", Catalog("c", "C", "", ()), (category,))
    assert view.valid_until == soon + timedelta(days=90)


def test_evidence_holds_until_its_first_fresh_kind_expires() -> None:
    """A stale or missing kind does not set the expiry; of the fresh ones, the oldest does."""
    kinds = (
        KindStatus("document", "fresh", AT + timedelta(days=5), ""),
        KindStatus("drill", "fresh", AT, ""),
        KindStatus("attestation", "stale", AT - timedelta(days=200), ""),
        KindStatus("attestation", "missing", None, ""),
    )
    assert EvidenceStatus("stale", 90, kinds).fresh_until == AT + timedelta(days=90)
