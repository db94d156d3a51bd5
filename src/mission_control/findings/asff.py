"""ASFF (AWS Security Finding Format) for Security Hub: one finding per item, with a stable Id.

The same Id on every run makes Security Hub update a finding instead of adding one; a passing item's
finding is ARCHIVED, so an item that recovers leaves the active list by itself.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from mission_control.findings.model import Finding, FindingsRun, Verdict

SCHEMA_VERSION = "2018-10-08"
FINDING_TYPE = "Software and Configuration Checks/Industry and Regulatory Standards/Multi-Region Readiness"
_COMPLIANCE = {
    Verdict.PASSED: "PASSED",
    Verdict.FAILED: "FAILED",
    Verdict.ERROR: "NOT_AVAILABLE",  # the check could not be performed
    Verdict.OPEN: "WARNING",  # information (evidence) is missing
}
_SEVERITY = {
    Verdict.PASSED: "INFORMATIONAL",
    Verdict.FAILED: "MEDIUM",
    Verdict.ERROR: "LOW",
    Verdict.OPEN: "LOW",
}


@dataclass(frozen=True)
class Account:
    """Whose Security Hub receives the findings: ASFF names the account and the region in every finding."""

    account_id: str
    region: str
    partition: str = "aws"

    @property
    def product_arn(self) -> str:
        """The account's default product: findings an account imports about itself."""
        return f"arn:{self.partition}:securityhub:{self.region}:{self.account_id}:product/{self.account_id}/default"


def finding_id(account: Account, environment: str, item_id: str) -> str:
    """Stable across runs: Security Hub updates the finding with this Id instead of adding one."""
    return f"{account.region}/{account.account_id}/mission-control/{environment}/{item_id}"


def asff_findings(
    run: FindingsRun, account: Account, *, created: dict[str, str] | None = None
) -> list[dict[str, Any]]:
    """The run's findings in ASFF; `created` keeps each existing finding's CreatedAt (by Id)."""
    return [_finding(run, finding, account, (created or {})) for finding in run.findings]


def to_asff(run: FindingsRun, account: Account) -> str:
    """The document BatchImportFindings takes: {"Findings": [...]}."""
    return json.dumps({"Findings": asff_findings(run, account)}, indent=2, ensure_ascii=False) + "\n"


def _finding(run: FindingsRun, finding: Finding, account: Account, created: dict[str, str]) -> dict[str, Any]:
    item = finding.item
    identifier = finding_id(account, finding.environment, item.id)
    updated = _timestamp(run.generated_at)
    label = "HIGH" if finding.regressed else _SEVERITY[finding.verdict]
    return {
        "SchemaVersion": SCHEMA_VERSION,
        "Id": identifier,
        "ProductArn": account.product_arn,
        "ProductName": "Mission Control",
        "CompanyName": "Mission Control",
        "GeneratorId": f"mission-control/{run.checklist_id}/{item.id}",
        "AwsAccountId": account.account_id,
        "Region": account.region,
        "Types": [FINDING_TYPE],
        "CreatedAt": created.get(identifier, _timestamp(finding.observed_at)),
        "UpdatedAt": updated,
        "Severity": {"Label": label, "Original": finding.verdict.value},
        "Title": item.title[:256],
        "Description": f"{finding.summary} — {item.description}"[:1024],
        "Remediation": {"Recommendation": {"Text": _recommendation(finding)[:512]}},
        "ProductFields": {
            "missioncontrol/environment": finding.environment,
            "missioncontrol/item": item.id,
            "missioncontrol/verdict": finding.verdict.value,
            "missioncontrol/regressed": str(finding.regressed).lower(),
        },
        "Resources": [
            {
                "Type": "Other",
                "Id": f"mission-control:{finding.environment}:{item.id}",
                "Partition": account.partition,
                "Region": account.region,
                "Details": {"Other": {location.key: location.path for location in finding.locations}},
            }
        ],
        "Compliance": {
            "Status": _COMPLIANCE[finding.verdict],
            "RelatedRequirements": [f"{run.checklist_id} {item.id}"],
        },
        "RecordState": "ARCHIVED" if finding.verdict is Verdict.PASSED else "ACTIVE",
    }


def _recommendation(finding: Finding) -> str:
    if finding.probed:
        return f"Check the AWS resources named by {', '.join(location.key for location in finding.locations)}"
    return f"Record fresh evidence: mission-control evidence / drill for {finding.item.id}"


def _timestamp(moment: datetime) -> str:
    """ISO 8601 in UTC with a Z, the form Security Hub documents for its date fields."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"
