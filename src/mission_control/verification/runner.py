"""One verification run: every needed collector once, concurrently, then every probe on the snapshots.

A failure is contained to the items it affects: a collector or probe that raises turns only its items
into `error`, so a run always completes with one result per catalog item. An environment whose role
STS refuses has every probed item in `error`, naming the role; the rest of a fleet runs on.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from mission_control.catalog import Catalog, Item
from mission_control.verification import registry
from mission_control.verification.aws import AwsClients
from mission_control.verification.config import EnvironmentConfig
from mission_control.verification.credentials import AssumeRoleError
from mission_control.verification.results import ProbeResult, Status, errored

logger = logging.getLogger(__name__)

MANUAL_SUMMARY = "No read-only AWS API proves this; attach evidence"

ProgressCallback = Callable[[str], None]


@dataclass(frozen=True)
class CollectorFailure:
    """A collector that raised instead of returning a snapshot; its probes report this, not run."""

    collector: str
    reason: str


@dataclass(frozen=True)
class VerificationReport:
    """The results of one run, one per catalog item and in catalog order."""

    environment: str
    checklist: str
    generated_at: datetime
    results: tuple[ProbeResult, ...]

    @property
    def summary(self) -> dict[str, int]:
        counts = {status.value: 0 for status in Status}
        for result in self.results:
            counts[result.status.value] += 1
        return {"total": len(self.results), **counts}

    def to_dict(self, catalog: Catalog) -> dict[str, Any]:
        """The JSON contract of `mission-control verify --format json`; `catalog` is the one that was run."""
        catalog_items = {item.id: item for item in catalog.items}
        items = [
            {
                "id": result.item_id,
                "title": catalog_items[result.item_id].title,
                "category": catalog_items[result.item_id].category,
                "status": result.status.value,
                "summary": result.summary,
                "facts": result.facts,
            }
            for result in self.results
        ]
        return {
            "environment": self.environment,
            "checklist": self.checklist,
            "generated_at": self.generated_at.isoformat(),
            "summary": self.summary,
            "items": items,
        }


def count_steps(catalog: Catalog) -> int:
    """How many times `run_verification` will call `on_progress`: the total for a progress bar."""
    registry.load_all()
    probed = _probed_items(catalog.items)
    return len(_needed_collectors(probed)) + len(probed)


def run_verification(
    config: EnvironmentConfig,
    *,
    catalog: Catalog,
    clients: AwsClients,
    on_progress: ProgressCallback | None = None,
) -> VerificationReport:
    """Verify `config`'s environment against `catalog`; never raises for AWS or probe failures."""
    registry.load_all()
    report_progress = on_progress or (lambda label: None)
    probed = _probed_items(catalog.items)
    refused = clients.assume_error()
    if refused:
        snapshots: dict[str, Any] = {}
        for name in _needed_collectors(probed):
            report_progress(f"collected {name}")
    else:
        snapshots = _collect(_needed_collectors(probed), config, clients, report_progress)
    results = []
    for item in catalog.items:
        if item.id in probed:
            results.append(
                errored(item.id, refused) if refused else _evaluate(probed[item.id], config, snapshots)
            )
            report_progress(f"probed {item.id}")
        else:
            results.append(ProbeResult(item.id, Status.MANUAL, MANUAL_SUMMARY))
    return VerificationReport(
        environment=config.name,
        checklist=catalog.id,
        generated_at=datetime.now(UTC),
        results=tuple(results),
    )


def _probed_items(items: Iterable[Item]) -> dict[str, registry.Probe]:
    return {item.id: registry.PROBES[item.id] for item in items if item.id in registry.PROBES}


def _needed_collectors(probed: dict[str, registry.Probe]) -> list[str]:
    return sorted({name for probe in probed.values() for name in probe.collectors})


def _collect(
    names: list[str], config: EnvironmentConfig, clients: AwsClients, report_progress: ProgressCallback
) -> dict[str, Any]:
    snapshots: dict[str, Any] = {}
    runnable = [name for name in names if name in registry.COLLECTORS]
    for name in names:
        if name not in registry.COLLECTORS:
            snapshots[name] = CollectorFailure(name, f"collector {name!r} is not registered")
            report_progress(f"collected {name}")
    if not runnable:
        return snapshots
    with ThreadPoolExecutor(max_workers=len(runnable), thread_name_prefix="collector") as pool:
        futures = {pool.submit(registry.COLLECTORS[name], config, clients): name for name in runnable}
        for future in as_completed(futures):
            name = futures[future]
            try:
                snapshots[name] = future.result()
            except AssumeRoleError as error:  # the role of this collector's account was refused
                snapshots[name] = CollectorFailure(name, str(error))
            except Exception as error:  # contained: only this collector's items become `error`
                logger.exception("collector %s failed for %s", name, config.name)
                snapshots[name] = CollectorFailure(name, f"{type(error).__name__}: {error}")
            report_progress(f"collected {name}")
    return snapshots


def _evaluate(probe: registry.Probe, config: EnvironmentConfig, snapshots: dict[str, Any]) -> ProbeResult:
    inputs = {name: snapshots[name] for name in probe.collectors}
    failures = [snapshot for snapshot in inputs.values() if isinstance(snapshot, CollectorFailure)]
    if failures:
        reasons = "; ".join(f"collector {f.collector} failed: {f.reason}" for f in failures)
        return errored(probe.item_id, reasons)
    try:
        return probe.evaluate(config, **inputs)
    except Exception as error:  # contained: a probe bug is this item's error, not the run's
        logger.exception("probe %s failed for %s", probe.item_id, config.name)
        return errored(probe.item_id, f"probe {probe.item_id} failed: {type(error).__name__}: {error}")
