"""Counters: N / total, whole percent rounded down, and category completion only when all are done."""

from __future__ import annotations

from mission_control.catalog import Catalog, Category
from mission_control.progress.checklist import CategoryView, build_checklist_view
from mission_control.progress.models import ItemState


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


def test_a_category_without_items_is_never_complete() -> None:
    empty = CategoryView(Category("empty", "Empty", "·", "E", ()), ())
    assert (empty.completed, empty.total, empty.complete) == (0, 0, False)


def test_missing_state_rows_count_as_open(catalog: Catalog) -> None:
    view = build_checklist_view(catalog, "production", {})
    assert view.completed == 0
    assert view.to_dict()["categories"][0]["items"][0]["version"] == 0
