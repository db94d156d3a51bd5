"""The runner: collect once and concurrently, evaluate every probe, contain every failure to its items."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest
from moto import mock_aws

from mission_control.catalog import Catalog, Category, Item, load_default_catalog
from mission_control.verification import registry
from mission_control.verification.aws import AwsClients
from mission_control.verification.config import EnvironmentConfig
from mission_control.verification.results import ProbeResult, Status, failing, verified
from mission_control.verification.runner import MANUAL_SUMMARY, count_steps, run_verification

CONFIG = EnvironmentConfig(name="staging", primary_region="us-east-1", secondary_region="ap-southeast-1")

Register = Callable[..., None]


def catalog_of(*item_ids: str) -> Catalog:
    items = tuple(
        Item(item_id, f"Title of {item_id}", "Why it matters.", "Low", "testing") for item_id in item_ids
    )
    return Catalog(
        "test-checklist", "Test checklist", "🧪", (Category("testing", "Testing", "🧪", "T", items),)
    )


@pytest.fixture
def register(monkeypatch: pytest.MonkeyPatch) -> Register:
    """Register test probes and collectors for one test only."""
    registry.load_all()  # so the runner's own load_all adds nothing after the test's registrations

    def add(
        item_id: str,
        evaluate: Callable[..., ProbeResult],
        collectors: dict[str, Callable[..., Any]] | None = None,
        uses: tuple[str, ...] = (),
    ) -> None:
        for name, collect in (collectors or {}).items():
            monkeypatch.setitem(registry.COLLECTORS, name, collect)
        names = tuple(collectors or ()) + uses
        monkeypatch.setitem(
            registry.PROBES, item_id, registry.Probe(item_id, ("test:Read",), names, (), evaluate, "fix it")
        )

    return add


def run(catalog: Catalog, on_progress: Callable[[str], None] | None = None) -> dict[str, ProbeResult]:
    report = run_verification(CONFIG, catalog=catalog, clients=AwsClients(), on_progress=on_progress)
    return {result.item_id: result for result in report.results}


def test_default_catalog_gets_one_result_per_item_in_catalog_order() -> None:
    catalog = load_default_catalog()
    with mock_aws():
        report = run_verification(CONFIG, catalog=catalog, clients=AwsClients())
    assert [result.item_id for result in report.results] == [item.id for item in catalog.items]
    manual = {r.item_id for r in report.results if r.status is Status.MANUAL}
    assert {"dns.failover-runbook", "dynamodb.restore-drill"} <= manual
    assert {item.id for item in catalog.items if item.id not in registry.PROBES} <= manual


def test_items_without_a_probe_are_manual_and_ask_for_evidence(register: Register) -> None:
    result = run(catalog_of("test.unprobed"))["test.unprobed"]
    assert (result.status, result.summary, result.facts) == (Status.MANUAL, MANUAL_SUMMARY, {})


def test_a_raising_collector_errors_only_the_items_that_need_it(
    register: Register, caplog: pytest.LogCaptureFixture
) -> None:
    def broken(config: EnvironmentConfig, clients: AwsClients) -> Any:
        raise RuntimeError("endpoint exploded")

    register("test.broken", lambda config, broken: verified("test.broken", "unreachable"), {"broken": broken})
    register(
        "test.fine", lambda config, fine: verified("test.fine", f"saw {fine}"), {"fine": lambda c, a: 42}
    )
    results = run(catalog_of("test.broken", "test.fine"))
    assert results["test.broken"].status is Status.ERROR
    assert results["test.broken"].summary == "collector broken failed: RuntimeError: endpoint exploded"
    assert (results["test.fine"].status, results["test.fine"].summary) == (Status.VERIFIED, "saw 42")
    [logged] = [entry for entry in caplog.records if entry.name == "mission_control.verification.runner"]
    assert logged.getMessage() == f"collector broken failed for {CONFIG.name}" and logged.exc_info


def test_a_raising_probe_errors_only_its_item(register: Register, caplog: pytest.LogCaptureFixture) -> None:
    def buggy(config: EnvironmentConfig, data: dict[str, Any]) -> ProbeResult:
        return verified("test.buggy", data["missing"])

    register("test.buggy", buggy, {"data": lambda c, a: {}})
    register("test.fine", lambda config, data: failing("test.fine", "judged"), uses=("data",))
    results = run(catalog_of("test.buggy", "test.fine"))
    assert results["test.buggy"].status is Status.ERROR
    assert results["test.buggy"].summary == "probe test.buggy failed: KeyError: 'missing'"
    [logged] = [entry for entry in caplog.records if entry.name == "mission_control.verification.runner"]
    assert logged.getMessage() == f"probe test.buggy failed for {CONFIG.name}" and logged.exc_info
    assert results["test.fine"].status is Status.FAILING


def test_an_unregistered_collector_errors_the_items_citing_it(register: Register) -> None:
    register("test.orphan", lambda config, nowhere: verified("test.orphan", "unreachable"), uses=("nowhere",))
    result = run(catalog_of("test.orphan"))["test.orphan"]
    assert (result.status, result.summary) == (
        Status.ERROR,
        "collector nowhere failed: collector 'nowhere' is not registered",
    )


def test_a_collector_shared_by_several_probes_runs_once(register: Register) -> None:
    calls: list[str] = []

    def shared(config: EnvironmentConfig, clients: AwsClients) -> str:
        calls.append(config.name)
        return "snapshot"

    register("test.first", lambda config, shared: verified("test.first", shared), {"shared": shared})
    register("test.second", lambda config, shared: verified("test.second", shared), uses=("shared",))
    results = run(catalog_of("test.first", "test.second"))
    assert calls == ["staging"]
    assert [r.summary for r in results.values()] == ["snapshot", "snapshot"]


def test_collectors_run_concurrently(register: Register) -> None:
    both_running = threading.Barrier(2, timeout=5)

    def waits_for_the_other(config: EnvironmentConfig, clients: AwsClients) -> bool:
        both_running.wait()  # raises BrokenBarrierError after 5 s if the collectors ran one by one
        return True

    register("test.left", lambda config, left: verified("test.left", "ok"), {"left": waits_for_the_other})
    register("test.right", lambda config, right: verified("test.right", "ok"), {"right": waits_for_the_other})
    results = run(catalog_of("test.left", "test.right"))
    assert {r.status for r in results.values()} == {Status.VERIFIED}


def test_on_progress_labels_each_collector_and_probe_and_matches_count_steps(register: Register) -> None:
    register("test.one", lambda config, data: verified("test.one", "ok"), {"data": lambda c, a: None})
    register("test.two", lambda config, data: verified("test.two", "ok"), uses=("data",))
    catalog = catalog_of("test.one", "test.two", "test.unprobed")
    labels: list[str] = []
    run(catalog, on_progress=labels.append)
    assert labels == ["collected data", "probed test.one", "probed test.two"]
    assert count_steps(catalog) == len(labels)


def test_report_summary_counts_each_status_and_to_dict_follows_the_json_contract(register: Register) -> None:
    register(
        "test.good",
        lambda config, data: verified("test.good", "fine", region="us-east-1"),
        {"data": lambda c, a: {}},
    )
    register("test.bad", lambda config, data: failing("test.bad", "broken"), uses=("data",))
    catalog = catalog_of("test.good", "test.bad", "test.unprobed")
    before = datetime.now(UTC)
    report = run_verification(CONFIG, catalog=catalog, clients=AwsClients())
    assert before <= report.generated_at <= datetime.now(UTC)
    assert report.summary == {"total": 3, "verified": 1, "failing": 1, "error": 0, "manual": 1}
    assert list(report.summary) == ["total", "verified", "failing", "error", "manual"]
    document = json.loads(json.dumps(report.to_dict(catalog)))
    assert list(document) == ["environment", "checklist", "generated_at", "summary", "items"]
    assert (document["environment"], document["checklist"]) == ("staging", "test-checklist")
    assert datetime.fromisoformat(document["generated_at"]) == report.generated_at
    assert document["items"][0] == {
        "id": "test.good",
        "title": "Title of test.good",
        "category": "testing",
        "status": "verified",
        "summary": "fine",
        "facts": {"region": "us-east-1"},
    }
    assert [item["status"] for item in document["items"]] == ["verified", "failing", "manual"]


def test_an_empty_run_has_zero_counts() -> None:
    report = run_verification(CONFIG, catalog=catalog_of("test.unprobed"), clients=AwsClients())
    assert report.summary == {"total": 1, "verified": 0, "failing": 0, "error": 0, "manual": 1}
