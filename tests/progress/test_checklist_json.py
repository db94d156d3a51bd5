"""The checklist's JSON (API, exports): every field of a category, an item, its proof and its evidence."""

from __future__ import annotations

from datetime import UTC, datetime

from mission_control.catalog import Catalog, Category, EvidenceRequirement, Item
from mission_control.evidence.freshness import EvidenceStatus, KindStatus
from mission_control.progress.checklist import build_checklist_view
from mission_control.progress.models import ItemState
from mission_control.verification.results import Status, StoredResult

AT = datetime(2026, 11, 30, 9, 30, tzinfo=UTC)
PROBED = Item("dns.ttl", "Lower the TTL", "TTL at most 60 s.", "Low", "dns")
DRILLED = Item(
    "dns.drill", "Run a drill", "Fail over once.", "High", "dns", EvidenceRequirement(("drill",), 90)
)
CATALOG = Catalog("json", "JSON", "◎", (Category("dns", "DNS", "🌐", "D", (PROBED, DRILLED)),))


def test_the_checklist_json_carries_every_field_of_each_item_and_category() -> None:
    states = {
        PROBED.id: ItemState(
            item_id=PROBED.id, checked=True, checked_by="ana", checked_at=AT, owner="sre", note="n", version=3
        )
    }
    proof = StoredResult(Status.FAILING, "TTL 300 s", {"ttl": 300}, AT)
    drill = KindStatus("drill", "stale", AT, "older than 90 days")
    evidence = EvidenceStatus("stale", 90, (drill,))
    view = build_checklist_view(CATALOG, "production", states, {PROBED.id: proof}, {DRILLED.id: evidence})
    assert view.to_dict() == {
        "environment": "production",
        "checklist": "json",
        "total": 2,
        "completed": 0,
        "percent": 0,
        "categories": [
            {
                "id": "dns",
                "name": "DNS",
                "icon": "🌐",
                "complete": False,
                "completed": 0,
                "total": 2,
                "items": [
                    {
                        "id": "dns.ttl",
                        "title": "Lower the TTL",
                        "description": "TTL at most 60 s.",
                        "category": "dns",
                        "effort": "Low",
                        "checked": True,
                        "checked_by": "ana",
                        "checked_at": "2026-11-30T09:30:00+00:00",
                        "owner": "sre",
                        "note": "n",
                        "version": 3,
                        "done": False,
                        "regressed": True,
                        "status": "regressed",
                        "verification": {
                            "status": "failing",
                            "summary": "TTL 300 s",
                            "facts": {"ttl": 300},
                            "verified_at": "2026-11-30T09:30:00+00:00",
                        },
                        "evidence": None,
                    },
                    {
                        "id": "dns.drill",
                        "title": "Run a drill",
                        "description": "Fail over once.",
                        "category": "dns",
                        "effort": "High",
                        "checked": False,
                        "checked_by": None,
                        "checked_at": None,
                        "owner": None,
                        "note": "",
                        "version": 0,
                        "done": False,
                        "regressed": False,
                        "status": "needs-evidence",
                        "verification": None,
                        "evidence": {
                            "state": "stale",
                            "valid_days": 90,
                            "kinds": [
                                {
                                    "kind": "drill",
                                    "state": "stale",
                                    "at": "2026-11-30T09:30:00+00:00",
                                    "detail": "older than 90 days",
                                }
                            ],
                        },
                    },
                ],
            }
        ],
    }


def test_an_item_without_a_state_row_still_shows_its_proof_and_counts_when_verified() -> None:
    """An item the catalog gained after the environment was made has no state row yet; a probe that
    verifies it must still be shown and make it done."""
    verified = StoredResult(Status.VERIFIED, "TTL 60 s", {"ttl": 60}, AT)
    view = build_checklist_view(CATALOG, "production", {}, {PROBED.id: verified})
    probed = view.to_dict()["categories"][0]["items"][0]
    assert (probed["checked"], probed["version"], probed["status"], probed["done"]) == (
        False,
        0,
        "verified",
        True,
    )
    assert probed["verification"] == {
        "status": "verified",
        "summary": "TTL 60 s",
        "facts": {"ttl": 60},
        "verified_at": "2026-11-30T09:30:00+00:00",
    }
    assert (view.completed, view.percent) == (1, 50)


def test_a_ticked_item_shows_its_evidence_and_missing_kinds_have_no_time() -> None:
    """The evidence of an item with a state row reaches its JSON; a kind with no record has `at: null`."""
    states = {DRILLED.id: ItemState(item_id=DRILLED.id, checked=True, note="", version=1)}
    missing = KindStatus("drill", "missing", None, "no drill recorded yet")
    view = build_checklist_view(
        CATALOG, "production", states, {}, {DRILLED.id: EvidenceStatus("incomplete", 90, (missing,))}
    )
    drilled = view.to_dict()["categories"][0]["items"][1]
    assert (drilled["checked"], drilled["status"], drilled["done"]) == (True, "ticked", True)
    assert drilled["evidence"] == {
        "state": "incomplete",
        "valid_days": 90,
        "kinds": [{"kind": "drill", "state": "missing", "at": None, "detail": "no drill recorded yet"}],
    }
