"""One finding per checklist item: its verdict, why, and which configuration key it depends on."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from pathlib import Path
from typing import Any

from mission_control.catalog import Item
from mission_control.progress.checklist import ChecklistView, ItemView
from mission_control.verification import registry
from mission_control.verification.results import Status


class Verdict(StrEnum):
    PASSED = "passed"  # done: verified, evidence complete, or ticked and not contradicted
    FAILED = "failed"  # the live check fails, or the item regressed
    ERROR = "error"  # the check could not be made (a permission, an API error)
    OPEN = "open"  # not done and nothing says why: a manual item still waiting for evidence


@dataclass(frozen=True)
class ConfigLocation:
    """Where a key of one environment is in the configuration file: its line, or its table's when it is
    unset (None when the file or the table cannot be read)."""

    path: str
    key: str  # e.g. environments.production.hosted_zone
    line: int | None


@dataclass(frozen=True)
class Finding:
    item: Item
    environment: str
    verdict: Verdict
    regressed: bool
    summary: str
    observed_at: datetime
    locations: tuple[ConfigLocation, ...]
    facts: dict[str, Any] = field(default_factory=dict)
    proof: Status | None = None  # the latest probe result's status; None before any run

    @property
    def evidence_lapsed(self) -> bool:
        """Regressed although its probe does not fail: the evidence behind the tick went stale."""
        return self.regressed and self.proof is not Status.FAILING

    @property
    def probed(self) -> bool:
        return self.item.id in registry.PROBES


@dataclass(frozen=True)
class FindingsRun:
    """The findings of one environment, and what a format needs to say who produced them."""

    checklist_id: str
    checklist_title: str
    environment: str
    generated_at: datetime
    findings: tuple[Finding, ...]


def findings_run_for_file(checklist: ChecklistView, config_path: Path, generated_at: datetime) -> FindingsRun:
    """The checklist's findings, located in the configuration file (with line numbers when readable)."""
    try:
        text: str | None = config_path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        text = None
    return findings_run(checklist, config_path=config_path, config_text=text, generated_at=generated_at)


def findings_run(
    checklist: ChecklistView, *, config_path: Path, config_text: str | None, generated_at: datetime
) -> FindingsRun:
    """The findings of `checklist`; `config_text` (the file's content, if readable) gives line numbers."""
    registry.load_all()
    findings = tuple(
        _finding(entry, checklist.environment, config_path, config_text, generated_at)
        for entry in checklist.items
    )
    return FindingsRun(
        checklist.catalog.id, checklist.catalog.title, checklist.environment, generated_at, findings
    )


def _finding(
    entry: ItemView, environment: str, path: Path, text: str | None, generated_at: datetime
) -> Finding:
    probe = registry.PROBES.get(entry.item.id)
    keys = probe.config_keys if probe else ()
    table_line = config_line(text, environment, None)
    locations = tuple(
        ConfigLocation(
            path.as_posix(),
            f"environments.{environment}.{key}",
            config_line(text, environment, key) or table_line,
        )
        for key in keys
    ) or (ConfigLocation(path.as_posix(), f"environments.{environment}", table_line),)
    verification = entry.verification
    return Finding(
        item=entry.item,
        environment=environment,
        verdict=verdict_of(entry),
        regressed=entry.regressed,
        summary=_summary(entry),
        observed_at=verification.verified_at if verification else generated_at,
        locations=locations,
        facts=verification.facts if verification else {},
        proof=entry.verification_status,
    )


def verdict_of(entry: ItemView) -> Verdict:
    """One word for an item, the same in every format and in the scorecard."""
    if entry.regressed or entry.verification_status is Status.FAILING:
        return Verdict.FAILED
    if entry.verification_status is Status.ERROR:
        return Verdict.ERROR
    return Verdict.PASSED if entry.done else Verdict.OPEN


def _summary(entry: ItemView) -> str:
    parts = []
    if entry.verification and entry.verification.status is not Status.MANUAL:
        parts.append(entry.verification.summary)
    if entry.evidence:
        parts.append(f"evidence {entry.evidence.state}")
    if entry.regressed:
        parts.append("regressed: ticked, but its proof no longer holds")
    if not parts:
        parts.append("done (ticked)" if entry.done else "open: no proof yet")
    return "; ".join(parts)


def config_line(text: str | None, environment: str, key: str | None) -> int | None:
    """The 1-based line setting `key` in `[environments.<environment>]` (or the table's own line)."""
    if text is None:
        return None
    name = re.escape(environment)
    table = re.compile(rf'^\s*\[\s*environments\s*\.\s*("{name}"|{name})\s*\]')
    subtable = re.compile(
        rf'^\s*\[\s*environments\s*\.\s*("{name}"|{name})\s*\.\s*"?{re.escape(key or "")}"?\s*\]'
    )
    assignment = re.compile(rf'^\s*"?{re.escape(key or "")}"?\s*=')
    inside = False
    for number, line in enumerate(text.splitlines(), start=1):
        if key and subtable.match(line):
            return number
        if table.match(line):
            if key is None:
                return number
            inside = True
        elif line.lstrip().startswith("["):
            inside = False
        elif inside and assignment.match(line):
            return number
    return None
