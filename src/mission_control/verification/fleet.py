"""Verifying many environments at once: concurrently, each with its own result, within AWS's budgets.

Every environment gets its own clients, but all of them share one `RoleSessions` (a role is assumed
once per run however many environments use it) and one `Budgets` (a Route53 account shared by fifty
environments still sees five requests a second).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from mission_control.catalog import Catalog
from mission_control.db.database import Database
from mission_control.jobs.verification import verify_and_record
from mission_control.notifications.outbox import Outbox
from mission_control.verification.aws import clients_for
from mission_control.verification.budgets import Budgets
from mission_control.verification.config import EnvironmentConfig
from mission_control.verification.credentials import RoleSessions
from mission_control.verification.runner import VerificationReport

FleetProgress = Callable[[str, str], None]  # (environment, label)


@dataclass(frozen=True)
class FleetReport:
    """One report per environment, in the order asked for, and the fleet's request rates."""

    generated_at: datetime
    reports: tuple[VerificationReport, ...]
    regressed: dict[str, list[str]]
    request_rates: dict[str, dict[str, dict[str, float]]]

    @property
    def summary(self) -> dict[str, int]:
        """How many environments are ready, failing, or only in error; and the item counts summed."""
        totals = {"environments": len(self.reports), "ready": 0, "failing": 0, "error": 0}
        for report in self.reports:
            totals[environment_state(report)] += 1
            for key, count in report.summary.items():
                totals[f"items_{key}"] = totals.get(f"items_{key}", 0) + count
        return totals

    def to_dict(self, catalog: Catalog) -> dict[str, Any]:
        """The JSON of `verify --all`: each element is the single-environment `verify --format json`."""
        return {
            "generated_at": self.generated_at.isoformat(),
            "summary": self.summary,
            "environments": [report.to_dict(catalog) for report in self.reports],
        }


def environment_state(report: VerificationReport) -> str:
    return summary_state(report.summary)


def summary_state(summary: dict[str, int]) -> str:
    """`failing` if any item fails, else `error` if any errs, else `ready`: the exit-code rule per environment."""
    if summary["failing"]:
        return "failing"
    if summary["error"]:
        return "error"
    return "ready"


def fleet_exit_code(states: Sequence[str]) -> int:
    """1 when any environment fails, else 3 when any is in error only, else 0."""
    if "failing" in states:
        return 1
    if "error" in states:
        return 3
    return 0


def verify_fleet(
    configs: Sequence[EnvironmentConfig],
    *,
    database: Database,
    catalog: Catalog,
    concurrency: int,
    budgets: Budgets,
    actor: str,
    roles: RoleSessions | None = None,
    on_progress: FleetProgress | None = None,
    outbox: Outbox | None = None,
    public_url: str = "http://127.0.0.1:8000",
) -> FleetReport:
    """Verify and record every environment in `configs`, at most `concurrency` at a time; with an
    `outbox`, each environment's changes are queued for its notification channels."""
    roles = roles or RoleSessions()
    report_progress = on_progress or (lambda environment, label: None)

    def verify_one(config: EnvironmentConfig) -> tuple[VerificationReport, list[str]]:
        clients = clients_for(config, roles=roles, budgets=budgets)
        return verify_and_record(
            database=database, catalog=catalog, config=config, clients=clients, actor=actor,
            on_progress=lambda label: report_progress(config.name, label), outbox=outbox,
            public_url=public_url,
        )  # fmt: skip

    with ThreadPoolExecutor(max_workers=concurrency, thread_name_prefix="environment") as pool:
        outcomes = list(pool.map(verify_one, configs))
    return FleetReport(
        generated_at=datetime.now(UTC),
        reports=tuple(report for report, _ in outcomes),
        regressed={report.environment: regressed for report, regressed in outcomes if regressed},
        request_rates=budgets.observed(),
    )
