"""The fleet on screen: /fleet rows × items with status by symbol, filters, pages; API summaries."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient

from mission_control.catalog import Catalog
from mission_control.db.database import Database
from mission_control.progress.service import create_environment, update_item
from mission_control.verification.models import DiscoveredAccount
from mission_control.verification.results import ProbeResult, Status
from mission_control.verification.runner import VerificationReport
from mission_control.verification.service import finish_run, start_run
from tests.conftest import bearer, token_for


def seed_fleet(database: Database, catalog: Catalog, count: int) -> None:
    """`count` tenants; tenant-000 ticked dns.failover-ttl and now fails it (a regression); odd ones in OU b."""
    from datetime import UTC, datetime

    with database.transaction() as session:
        for number in range(count):
            name = f"tenant-{number:03d}"
            environment = create_environment(session=session, catalog=catalog, name=name, actor="test")
            session.add(
                DiscoveredAccount(
                    environment_id=environment.id, account_id=f"{number:012d}", account_name=name,
                    role_arn=f"arn:aws:iam::{number:012d}:role/r", template="tenant",
                    organizational_unit="ou-b" if number % 2 else "ou-a", tags={"tier": "gold" if number < 3 else "std"},
                )
            )  # fmt: skip
        update_item(
            session=session, catalog=catalog, environment_name="tenant-000", item_id="dns.failover-ttl",
            actor="ana", checked=True,
        )  # fmt: skip
    with database.transaction() as session:
        run_id = start_run(session=session, environment_name="tenant-000", actor="test")
        results = tuple(
            ProbeResult(item.id, Status.FAILING if item.id == "dns.failover-ttl" else Status.VERIFIED, "s")
            for item in catalog.items
        )
        report = VerificationReport("tenant-000", catalog.id, datetime.now(UTC), results)
        finish_run(session=session, run_id=run_id, report=report)


def viewer(database: Database) -> dict[str, str]:
    return bearer(token_for(database, "vic", "viewer"))


def test_fleet_page_shows_each_cell_by_symbol_and_links_it_to_the_item(
    client: TestClient, database: Database, catalog: Catalog
) -> None:
    seed_fleet(database, catalog, 3)
    page = client.get("/fleet?sort=regressed", headers=viewer(database)).text
    rows = re.findall(r"<tr(?: class=\"archived\")?>\s*<th scope=\"row\"><a href=\"/\?env=([^\"]+)\"", page)
    assert rows[0] == "tenant-000"
    cell = re.search(
        r'<a class="cell" data-status="failing" href="/\?env=tenant-000#item-dns.failover-ttl"[^>]*>([^<]+)',
        page,
    )
    assert cell and cell.group(1) == "✖"
    assert 'data-status="unverified" href="/?env=tenant-001#item-dns.failover-ttl"' in page
    assert len(re.findall(r'<a class="cell"', page)) == 4 * len(catalog.items)  # and production


def test_fleet_filters_by_regressions_ou_and_tag(
    client: TestClient, database: Database, catalog: Catalog
) -> None:
    seed_fleet(database, catalog, 6)
    headers = viewer(database)

    def names(query: str) -> list[str]:
        return re.findall(
            r'<th scope="row"><a href="/\?env=([^"]+)"', client.get(f"/fleet?{query}", headers=headers).text
        )

    assert names("regressed=true") == ["tenant-000"]
    assert names("ou=ou-b") == ["tenant-001", "tenant-003", "tenant-005"]
    assert names("tag=tier%3Dgold&template=tenant") == ["tenant-000", "tenant-001", "tenant-002"]
    assert names("template=other") == []


def test_fleet_pages_fifty_rows_at_a_time(client: TestClient, database: Database, catalog: Catalog) -> None:
    seed_fleet(database, catalog, 60)
    headers = viewer(database)
    first = client.get("/fleet", headers=headers).text
    assert first.count('<th scope="row">') == 50 and "page 1 of 2" in first
    second = client.get("/fleet?page=2", headers=headers).text
    assert second.count('<th scope="row">') == 11  # 60 tenants and production


def test_bad_fleet_query_is_rejected(client: TestClient, database: Database) -> None:
    assert client.get("/fleet?sort=colour", headers=viewer(database)).status_code == 422
    assert client.get("/fleet?page=0", headers=viewer(database)).status_code == 422


def test_environments_api_returns_a_summary_per_environment(
    client: TestClient, database: Database, catalog: Catalog
) -> None:
    seed_fleet(database, catalog, 2)
    body = {row["name"]: row for row in client.get("/api/v1/environments", headers=viewer(database)).json()}
    tenant = body["tenant-000"]
    assert (tenant["completed"], tenant["regressed"], tenant["template"], tenant["organizational_unit"]) == (
        1, 1, "tenant", "ou-a",
    )  # fmt: skip
    assert tenant["statuses"]["failing"] == 1 and tenant["last_verified"]
    assert body["production"]["last_verified"] is None and body["production"]["template"] is None


def test_fleet_sorts_by_template_and_ou_with_the_unassigned_last(
    client: TestClient, database: Database, catalog: Catalog
) -> None:
    seed_fleet(database, catalog, 4)
    with database.transaction() as session:
        row = session.query(DiscoveredAccount).filter_by(account_id=f"{2:012d}").one()
        row.template = "edge"
    headers = viewer(database)

    def names(query: str) -> list[str]:
        return re.findall(
            r'<th scope="row"><a href="/\?env=([^"]+)"', client.get(f"/fleet?{query}", headers=headers).text
        )

    assert names("sort=template") == ["tenant-002", "tenant-000", "tenant-001", "tenant-003", "production"]
    assert names("sort=ou") == ["tenant-000", "tenant-002", "tenant-001", "tenant-003", "production"]
    assert "<option selected>template</option>" in client.get("/fleet?sort=template", headers=headers).text
