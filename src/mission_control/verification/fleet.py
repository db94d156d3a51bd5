"""Verifying many environments at once: concurrently, each with its own result, within AWS's budgets.

Every environment gets its own clients, but all of them share one `RoleSessions` (a role is assumed
once per run however many environments use it) and one `Budgets` (a Route53 account shared by fifty
environments still sees five requests a second).

Building clients and parsing answers costs about a quarter of a second of CPU per environment, and one
Python process uses one core however many threads it runs. A large fleet is therefore split across
processes, one per core: environments that share any account stay in one process, so every account's
budget is still kept by a single set of token buckets.
"""

from __future__ import annotations

import multiprocessing
import os
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ProcessPoolExecutor, ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from mission_control.catalog import Catalog
from mission_control.db.database import Database
from mission_control.jobs.verification import verify_and_record
from mission_control.notifications.outbox import Outbox
from mission_control.verification.aws import BASE_ACCOUNT, clients_for
from mission_control.verification.budgets import Budgets, Rates
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


ENVIRONMENTS_PER_PROCESS = 20  # a spawned process costs about 1 s of CPU to start, an environment 0.3 s


def default_processes(environments: int) -> int:
    """One process per core, but only as many as the fleet keeps busy (`ENVIRONMENTS_PER_PROCESS` each)."""
    return max(1, min(os.cpu_count() or 1, environments // ENVIRONMENTS_PER_PROCESS))


Outcome = tuple[VerificationReport, list[str]]  # an environment's report and its newly regressed items


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
    processes: int = 1,
) -> FleetReport:
    """Verify and record every environment in `configs`, at most `concurrency` at a time; with an
    `outbox`, each environment's changes are queued for its notification channels.

    With `processes` above 1, the account groups (see `partition`) are spread over that many processes:
    this one and spawned ones, each with its own roles and buckets at `budgets`' rates; `concurrency`
    is then shared out between them.
    """
    parts = partition(configs, processes)
    if len(parts) == 1:
        outcomes = _verify_here(
            configs, database=database, catalog=catalog, concurrency=concurrency, budgets=budgets,
            actor=actor, roles=roles or RoleSessions(), on_progress=on_progress, outbox=outbox,
            public_url=public_url,
        )  # fmt: skip
        return _report(outcomes, budgets.observed())
    per_process = max(1, concurrency // len(parts))
    context = multiprocessing.get_context("spawn")  # forking a process that runs threads can deadlock
    progress: Any = context.Queue()
    relay = threading.Thread(target=_relay_progress, args=(progress, on_progress), daemon=True)
    relay.start()
    try:
        with ProcessPoolExecutor(
            max_workers=len(parts) - 1, mp_context=context, initializer=_report_progress_to,
            initargs=(progress,),
        ) as pool:  # fmt: skip
            shares = [
                _Part(
                    configs=tuple(configs[index] for index in part),
                    database_url=database.url.render_as_string(hide_password=False),
                    catalog=catalog,
                    concurrency=per_process,
                    rates=budgets.rates,
                    actor=actor,
                    channels=dict(outbox.channels) if outbox else None,
                    templates=dict(outbox.templates) if outbox else {},
                    public_url=public_url,
                )
                for part in parts[1:]
            ]
            spawned: list[Future[_PartResult]] = [pool.submit(_verify_part, share) for share in shares]
            local = _verify_here(
                [configs[index] for index in parts[0]], database=database, catalog=catalog,
                concurrency=per_process, budgets=budgets, actor=actor, roles=roles or RoleSessions(),
                on_progress=on_progress, outbox=outbox, public_url=public_url,
            )  # fmt: skip
            results = [future.result() for future in spawned]
    finally:
        progress.put(None)
        relay.join()
    by_index = dict(zip(parts[0], local, strict=True))
    rates = budgets.observed()
    for part, result in zip(parts[1:], results, strict=True):
        by_index.update(zip(part, result.outcomes, strict=True))
        rates.update(result.request_rates)  # accounts never span parts, so nothing is overwritten
        if outbox is not None:
            outbox.queued.extend(result.queued)
    return _report([by_index[index] for index in range(len(configs))], rates)


def accounts_of(config: EnvironmentConfig) -> set[str]:
    """The accounts an environment's calls go to: its own (or the standard chain's) and its services'."""
    own = config.role.account if config.role else BASE_ACCOUNT
    return {own, *(role.account for role in config.account_roles.values())}


def partition(configs: Sequence[EnvironmentConfig], processes: int) -> list[list[int]]:
    """Indexes of `configs` in at most `processes` parts, each a union of whole account groups
    (environments linked by any shared account), largest groups first onto the emptiest part."""
    parent = list(range(len(configs)))

    def root(index: int) -> int:
        while parent[index] != index:
            parent[index] = parent[parent[index]]
            index = parent[index]
        return index

    first_user: dict[str, int] = {}
    for index, config in enumerate(configs):
        for account in accounts_of(config):
            other = first_user.setdefault(account, index)
            parent[root(index)] = root(other)
    groups: dict[int, list[int]] = {}
    for index in range(len(configs)):
        groups.setdefault(root(index), []).append(index)
    parts: list[list[int]] = [[] for _ in range(max(1, min(processes, len(groups))))]
    for group in sorted(groups.values(), key=len, reverse=True):
        min(parts, key=len).extend(group)
    return [sorted(part) for part in parts]


def _verify_here(
    configs: Sequence[EnvironmentConfig],
    *,
    database: Database,
    catalog: Catalog,
    concurrency: int,
    budgets: Budgets,
    actor: str,
    roles: RoleSessions,
    on_progress: FleetProgress | None,
    outbox: Outbox | None,
    public_url: str,
) -> list[Outcome]:
    """The environments verified by threads of this process, in order."""
    report_progress = on_progress or (lambda environment, label: None)

    def verify_one(config: EnvironmentConfig) -> Outcome:
        clients = clients_for(config, roles=roles, budgets=budgets)
        return verify_and_record(
            database=database, catalog=catalog, config=config, clients=clients, actor=actor,
            on_progress=lambda label: report_progress(config.name, label), outbox=outbox,
            public_url=public_url,
        )  # fmt: skip

    with ThreadPoolExecutor(max_workers=concurrency, thread_name_prefix="environment") as pool:
        return list(pool.map(verify_one, configs))


def _report(
    outcomes: Sequence[Outcome], request_rates: dict[str, dict[str, dict[str, float]]]
) -> FleetReport:
    return FleetReport(
        generated_at=datetime.now(UTC),
        reports=tuple(report for report, _ in outcomes),
        regressed={report.environment: regressed for report, regressed in outcomes if regressed},
        request_rates=request_rates,
    )


@dataclass(frozen=True)
class _Part:
    """What a spawned process needs to verify its share of the fleet (everything here pickles)."""

    configs: tuple[EnvironmentConfig, ...]
    database_url: str
    catalog: Catalog
    concurrency: int
    rates: Rates
    actor: str
    channels: dict[str, Any] | None
    templates: dict[str, str | None]
    public_url: str


@dataclass(frozen=True)
class _PartResult:
    outcomes: list[Outcome]
    request_rates: dict[str, dict[str, dict[str, float]]]
    queued: list[int]


_progress_queue: Any = None  # in a spawned process: where its progress goes to the parent


def _report_progress_to(queue: Any) -> None:
    global _progress_queue
    _progress_queue = queue


def _relay_progress(queue: Any, on_progress: FleetProgress | None) -> None:
    """In the parent: hand the spawned processes' progress to `on_progress` until told to stop."""
    while (message := queue.get()) is not None:
        if on_progress is not None:
            on_progress(*message)


def _verify_part(part: _Part) -> _PartResult:
    """In a spawned process: verify `part` with roles and buckets of its own, and record it."""
    from mission_control import logs
    from mission_control.settings import Settings

    logs.configure(Settings.from_env())
    database = Database(part.database_url)
    budgets = Budgets(part.rates)
    outbox = Outbox(part.channels, part.templates) if part.channels is not None else None
    try:
        outcomes = _verify_here(
            part.configs, database=database, catalog=part.catalog, concurrency=part.concurrency,
            budgets=budgets, actor=part.actor, roles=RoleSessions(),
            on_progress=lambda environment, label: _progress_queue.put((environment, label)),
            outbox=outbox, public_url=part.public_url,
        )  # fmt: skip
    finally:
        database.dispose()
    return _PartResult(outcomes, budgets.observed(), outbox.queued if outbox else [])
