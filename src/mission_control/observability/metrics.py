"""Readiness as Prometheus metrics, read from the database at each scrape.

Every replica answers the same figures (they come from the shared database, not process memory), so
a scrape of any one of them is the fleet's truth; alert rules can fire on a completion that drops
or a regressed count that rises without anyone opening the dashboard.
"""

from __future__ import annotations

from collections.abc import Iterator

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from mission_control.catalog import Catalog
from mission_control.db.base import utcnow
from mission_control.db.database import Database
from mission_control.jobs.service import queued_summary
from mission_control.notifications.models import DELIVERY_STATUSES
from mission_control.notifications.outbox import delivery_counts
from mission_control.progress.checklist import ChecklistView, ItemView
from mission_control.progress.service import checklist_of, list_environments
from mission_control.verification.service import RunSummary, latest_completed_runs

ITEM_STATES = ("done", "regressed", "open")
PROBE_RESULTS = ("verified", "failing", "error", "manual", "none")


def item_state(item: ItemView) -> str:
    """Exactly one of ITEM_STATES, so the states of an environment's items sum to its total."""
    if item.done:
        return "done"
    return "regressed" if item.regressed else "open"


class ReadinessCollector(Collector):
    """Reads every environment's checklist and last completed verification in one read transaction."""

    def __init__(self, database: Database, catalog: Catalog) -> None:
        self._database = database
        self._catalog = catalog

    def collect(self) -> Iterator[Metric]:
        with self._database.read() as session:
            environments = list_environments(session=session)
            checklists = [
                checklist_of(session=session, catalog=self._catalog, environment=environment)
                for environment in environments
            ]
            runs = latest_completed_runs(session=session)
            queued, oldest_age = queued_summary(session=session, now=utcnow())
            deliveries = delivery_counts(session=session)
        last_runs = {environment.name: runs.get(environment.id) for environment in environments}
        yield from _completion(checklists)
        yield from _items(checklists)
        yield from _verification(last_runs)
        yield from _work(queued, oldest_age, deliveries)


def _completion(checklists: list[ChecklistView]) -> Iterator[Metric]:
    overall = GaugeMetricFamily(
        "mission_control_completion_ratio", "Done items over all items (0 to 1).", labels=["environment"]
    )
    by_category = GaugeMetricFamily(
        "mission_control_category_completion_ratio",
        "Done items over the category's items (0 to 1).",
        labels=["environment", "category"],
    )
    for checklist in checklists:
        overall.add_metric([checklist.environment], _ratio(checklist.completed, checklist.total))
        for category in checklist.categories:
            by_category.add_metric(
                [checklist.environment, category.category.id], _ratio(category.completed, category.total)
            )
    yield overall
    yield by_category


def _items(checklists: list[ChecklistView]) -> Iterator[Metric]:
    states = GaugeMetricFamily(
        "mission_control_items",
        "Items by state: done, regressed (ticked but its proof fails or went stale) or open.",
        labels=["environment", "state"],
    )
    probes = GaugeMetricFamily(
        "mission_control_probe_results",
        "Items by their latest live-check result (none: never checked).",
        labels=["environment", "result"],
    )
    for checklist in checklists:
        counted_states = dict.fromkeys(ITEM_STATES, 0)
        counted_results = dict.fromkeys(PROBE_RESULTS, 0)
        for item in checklist.items:
            counted_states[item_state(item)] += 1
            result = item.verification_status.value if item.verification_status else "none"
            counted_results[result] += 1
        for state, count in counted_states.items():
            states.add_metric([checklist.environment, state], count)
        for result, count in counted_results.items():
            probes.add_metric([checklist.environment, result], count)
    yield states
    yield probes


def _verification(last_runs: dict[str, RunSummary | None]) -> Iterator[Metric]:
    finished = GaugeMetricFamily(
        "mission_control_last_verification_timestamp_seconds",
        "When the last completed verification finished (Unix time); absent when never verified.",
        labels=["environment"],
    )
    duration = GaugeMetricFamily(
        "mission_control_last_verification_duration_seconds",
        "How long the last completed verification took.",
        labels=["environment"],
    )
    for environment, run in last_runs.items():
        if run is None or run.finished_at is None:
            continue
        finished.add_metric([environment], run.finished_at.timestamp())
        duration.add_metric([environment], (run.finished_at - run.started_at).total_seconds())
    yield finished
    yield duration


def _work(queued: int, oldest_age: float, deliveries: dict[str, int]) -> Iterator[Metric]:
    depth = GaugeMetricFamily("mission_control_jobs_queued", "Jobs waiting to start (any runner).")
    depth.add_metric([], queued)
    age = GaugeMetricFamily(
        "mission_control_oldest_queued_job_age_seconds",
        "How long the oldest waiting job has waited (0: none).",
    )
    age.add_metric([], oldest_age)
    by_status = GaugeMetricFamily(
        "mission_control_notification_deliveries",
        "Notification deliveries by status (failed: gave up after 24 hours of retries).",
        labels=["status"],
    )
    for status in DELIVERY_STATUSES:
        by_status.add_metric([status], deliveries.get(status, 0))
    yield depth
    yield age
    yield by_status


def _ratio(part: int, whole: int) -> float:
    return part / whole if whole else 0.0


def metrics_registry(database: Database, catalog: Catalog) -> CollectorRegistry:
    """A registry of this app's own: tests and several apps in one process never share figures."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(ReadinessCollector(database, catalog))
    return registry


def exposition(registry: CollectorRegistry) -> bytes:
    return generate_latest(registry)
