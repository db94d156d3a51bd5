"""/metrics: readiness in Prometheus format, for a scraper holding a token, read from the shared database."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families

from mission_control.catalog import Catalog
from mission_control.db.database import Database
from mission_control.verification.models import VerificationRun
from mission_control.verification.results import Status
from tests.conftest import bearer, change_item, token_for
from tests.verification.test_stored_runs import record


@pytest.fixture
def scraper(database: Database) -> dict[str, str]:
    return bearer(token_for(database, "prometheus", "viewer"))


def scrape(
    client: TestClient, headers: dict[str, str]
) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    response = client.get("/metrics", headers=headers)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain")
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(response.text)
        for sample in family.samples
    }


def test_metrics_need_a_token(client: TestClient) -> None:
    response = client.get("/metrics", headers={"Accept": "text/plain"})
    assert response.status_code == 401


def test_completion_follows_ticks_per_environment_and_category(
    client: TestClient, database: Database, catalog: Catalog, scraper: dict[str, str]
) -> None:
    before = scrape(client, scraper)
    assert before[("mission_control_completion_ratio", (("environment", "production"),))] == 0.0
    change_item(database, catalog, "dns.failover-ttl", checked=True)
    change_item(database, catalog, "dns.latency-routing", checked=True)
    after = scrape(client, scraper)
    assert after[("mission_control_completion_ratio", (("environment", "production"),))] == 2 / 20
    dns = ("mission_control_category_completion_ratio", (("category", "dns"), ("environment", "production")))
    assert after[dns] == 2 / 4
    done = ("mission_control_items", (("environment", "production"), ("state", "done")))
    assert after[done] == 2


def test_items_by_state_sum_to_the_total_and_count_regressions(
    client: TestClient, database: Database, catalog: Catalog, scraper: dict[str, str]
) -> None:
    change_item(database, catalog, "dns.failover-ttl", checked=True)
    record(database, catalog, {"dns.failover-ttl": Status.FAILING, "dns.latency-routing": Status.VERIFIED})
    samples = scrape(client, scraper)

    def items(state: str) -> float:
        return samples[("mission_control_items", (("environment", "production"), ("state", state)))]

    def probes(result: str) -> float:
        return samples[("mission_control_probe_results", (("environment", "production"), ("result", result)))]

    assert (items("done"), items("regressed"), items("open")) == (1, 1, 18)
    assert probes("verified") == 1
    assert probes("failing") == 1
    assert probes("manual") == 18


def test_last_verification_time_and_duration_come_from_the_last_completed_run(
    client: TestClient, database: Database, catalog: Catalog, scraper: dict[str, str]
) -> None:
    key = ("mission_control_last_verification_timestamp_seconds", (("environment", "production"),))
    assert key not in scrape(client, scraper)
    record(database, catalog, {})
    started = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)
    with database.transaction() as session:
        run = session.query(VerificationRun).one()
        run.started_at, run.finished_at = started, started + timedelta(seconds=42)
        session.add(VerificationRun(environment_id=run.environment_id, state="running", triggered_by="ci"))
    samples = scrape(client, scraper)
    assert samples[key] == (started + timedelta(seconds=42)).timestamp()
    duration = ("mission_control_last_verification_duration_seconds", (("environment", "production"),))
    assert samples[duration] == 42


def test_queue_depth_oldest_wait_and_deliveries_by_status(
    client: TestClient, database: Database, catalog: Catalog, scraper: dict[str, str]
) -> None:
    from mission_control.jobs.models import JobRun
    from mission_control.jobs.runner import queue_verification
    from mission_control.notifications.changes import ChangeSet, ItemChange
    from mission_control.notifications.channels import Channel
    from mission_control.notifications.models import Delivery
    from mission_control.notifications.outbox import Outbox

    empty = scrape(client, scraper)
    assert empty[("mission_control_jobs_queued", ())] == 0
    assert empty[("mission_control_oldest_queued_job_age_seconds", ())] == 0
    with database.transaction() as session:
        job_id = queue_verification(
            session, catalog=catalog, environment="production", actor="ed", trigger="manual"
        )
        session.get(JobRun, job_id).created_at = datetime.now(UTC) - timedelta(minutes=5)
        change = ItemChange("regressed", "dns.failover-ttl", "TTL", None, "regressed", "TTL 300", None, "u")
        [first, _] = Outbox(
            {name: Channel(name, "webhook", ("regressed",), ("*",), {}) for name in ("a", "b")}
        ).queue(session, ChangeSet("production", datetime.now(UTC), (change,), "run 1"))
        session.get(Delivery, first).status = "failed"
    figures = scrape(client, scraper)
    assert figures[("mission_control_jobs_queued", ())] == 1
    assert 299 <= figures[("mission_control_oldest_queued_job_age_seconds", ())] < 400
    by_status = {
        status: figures[("mission_control_notification_deliveries", (("status", status),))]
        for status in ("pending", "sending", "delivered", "failed")
    }
    assert by_status == {"pending": 1, "sending": 0, "delivered": 0, "failed": 1}
