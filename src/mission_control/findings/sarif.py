"""SARIF 2.1.0 for code scanning: one rule per probe, one result per failing, regressed or error item.

A result cites its item's probe and points at the configuration key the probe depends on, so GitHub
shows it on that line of the TOML file. An item no probe decides (it is done by its evidence) fails
only by regressing: ticked, but the evidence behind it went stale. Those results, and those of a
probed item whose probe passes while its evidence lapsed, cite the one `evidence.stale` rule; the
item is in the message and `properties.item`. Passed and open items are no result.
"""

from __future__ import annotations

import hashlib
import json
import re
from typing import Any

from mission_control import __version__
from mission_control.catalog import Item
from mission_control.findings.model import ConfigLocation, Finding, FindingsRun, Verdict
from mission_control.verification import registry
from mission_control.verification.registry import Probe

SCHEMA_URI = "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
EVIDENCE_RULE = "evidence.stale"
# Where a rule's reasoning is written down, in Mission Control's own files (no site is published, so
# rules name the file and section rather than a helpUri that would point nowhere).
PROBES_DOC = "docs/probes.md"
EVIDENCE_DOC = 'README.md, section "Evidence for what no probe can prove"'
_LEVELS = {Verdict.FAILED: "error", Verdict.ERROR: "warning"}


def to_sarif(run: FindingsRun) -> str:
    """The run as one SARIF log: the rules of its checklist's probes and the evidence rule, its results."""
    registry.load_all()
    items = {finding.item.id: finding.item for finding in run.findings}
    probes = sorted(
        (probe for probe in registry.PROBES.values() if probe.item_id in items), key=lambda p: p.item_id
    )
    rules = [*(_probe_rule(probe, items[probe.item_id]) for probe in probes), _evidence_rule()]
    index = {rule["id"]: number for number, rule in enumerate(rules)}
    results = [_result(finding, index) for finding in run.findings if finding.verdict in _LEVELS]
    document = {
        "$schema": SCHEMA_URI,
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "Mission Control",
                        "version": __version__,
                        "rules": rules,
                    }
                },
                "automationDetails": {"id": f"{run.checklist_id}/{run.environment}/"},
                "invocations": [{"executionSuccessful": True, "endTimeUtc": run.generated_at.isoformat()}],
                "results": results,
            }
        ],
    }
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


def rule_id(finding: Finding) -> str:
    """The probe's rule, unless no probe decides the item or its evidence lapsed under a passing probe."""
    return EVIDENCE_RULE if not finding.probed or finding.evidence_lapsed else finding.item.id


def _probe_rule(probe: Probe, item: Item) -> dict[str, Any]:
    return {
        "id": probe.item_id,
        "name": "".join(part.capitalize() for part in re.split(r"[.-]", probe.item_id)),
        "shortDescription": {"text": item.title},
        "fullDescription": {"text": item.description},
        "help": {
            "text": probe.fix,
            "markdown": f"{probe.fix}\n\nWhat the probe reads and the AWS rules it applies: Mission Control's "
            f"`{PROBES_DOC}`, section `{probe.item_id}`.",
        },
        "defaultConfiguration": {"level": "error"},
        "properties": {
            "category": item.category,
            "configKeys": list(probe.config_keys),
            "tags": ["multi-region-readiness", item.category, "probe"],
        },
    }


def _evidence_rule() -> dict[str, Any]:
    fix = (
        "Record fresh evidence for the item the result names, as its catalog entry requires: its "
        "drill, a document (mission-control evidence add-file, or a generated runbook) or a new "
        "attestation (mission-control evidence attest)."
    )
    return {
        "id": EVIDENCE_RULE,
        "name": "EvidenceStale",
        "shortDescription": {"text": "Ticked, but the evidence behind it went stale"},
        "fullDescription": {
            "text": "An item done by its evidence (a document, a drill, an attestation) counts only while "
            "the evidence is fresh: older than the catalog's validity, a failed latest drill, or an "
            "attestation whose configuration has changed since make it stale, and its tick regressed."
        },
        "help": {
            "text": fix,
            "markdown": f"{fix}\n\nEvidence and how long it stays valid: Mission Control's {EVIDENCE_DOC}.",
        },
        "defaultConfiguration": {"level": "error"},
        "properties": {"tags": ["multi-region-readiness", "evidence"]},
    }


def _result(finding: Finding, index: dict[str, int]) -> dict[str, Any]:
    rule = rule_id(finding)
    return {
        "ruleId": rule,
        "ruleIndex": index[rule],
        "level": _LEVELS[finding.verdict],
        "message": {"text": f"{finding.item.title} ({finding.item.id}): {finding.summary}"},
        "locations": [_location(location) for location in finding.locations],
        "partialFingerprints": {
            "missionControlItem/v1": hashlib.sha256(
                f"{finding.environment}/{finding.item.id}".encode()
            ).hexdigest()
        },
        "properties": {
            "item": finding.item.id,
            "environment": finding.environment,
            "verdict": finding.verdict.value,
            "regressed": finding.regressed,
            "observedAt": finding.observed_at.isoformat(),
        },
    }


def _location(location: ConfigLocation) -> dict[str, Any]:
    physical: dict[str, Any] = {"artifactLocation": {"uri": location.path}}
    if location.line:
        physical["region"] = {"startLine": location.line}
    return {
        "physicalLocation": physical,
        "logicalLocations": [{"fullyQualifiedName": location.key, "kind": "member"}],
    }
