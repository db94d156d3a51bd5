"""Send findings to Security Hub: a write, so it runs only with --allow-writes and its own IAM policy.

Every item is imported under its stable Id, so a later run updates the findings instead of adding
more. A finding that was active and now passes is archived by the import itself (RecordState) and
resolved with BatchUpdateFindings, since BatchImportFindings may not change the workflow it has.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from mission_control.findings.asff import Account, asff_findings, finding_id
from mission_control.findings.model import FindingsRun, Verdict
from mission_control.verification.aws import AwsClients, AwsError, call, paginate

ACTIONS = ("securityhub:BatchImportFindings", "securityhub:GetFindings", "securityhub:BatchUpdateFindings")
_BATCH = 100  # BatchImportFindings takes at most 100 findings per call


class ExportError(Exception):
    """Security Hub refused the export; the message names the action, the region and the reason."""


@dataclass(frozen=True)
class ExportResult:
    created: tuple[str, ...]  # item ids with no finding before
    updated: tuple[str, ...]
    resolved: tuple[str, ...]  # active before, passing now: archived and resolved


def caller_account(clients: AwsClients, region: str) -> Account:
    """The account the credentials belong to (sts:GetCallerIdentity needs no permission)."""
    identity = call(
        clients.get("sts", region),
        "get_caller_identity",
        action="sts:GetCallerIdentity",
        resource="the caller",
        region=region,
    )
    if isinstance(identity, AwsError):
        raise ExportError(f"cannot tell which AWS account to report for: {identity}")
    return Account(identity["Account"], region, identity["Arn"].split(":")[1])


def export_findings(run: FindingsRun, account: Account, clients: AwsClients) -> ExportResult:
    """Import every finding of `run` into the account's Security Hub; raise ExportError on any refusal."""
    client = clients.get("securityhub", account.region)
    existing = _existing(client, run, account)
    findings = asff_findings(
        run, account, created={key: value["CreatedAt"] for key, value in existing.items()}
    )
    for start in range(0, len(findings), _BATCH):
        answer = _checked(
            call(
                client,
                "batch_import_findings",
                action="securityhub:BatchImportFindings",
                resource=f"{len(findings[start : start + _BATCH])} findings",
                region=account.region,
                Findings=findings[start : start + _BATCH],
            )
        )
        if answer["FailedCount"]:
            reasons = "; ".join(
                f"{failure['Id']}: {failure['ErrorCode']} {failure['ErrorMessage']}"
                for failure in answer["FailedFindings"]
            )
            raise ExportError(
                f"Security Hub in {account.region} rejected {answer['FailedCount']} findings: {reasons}"
            )
    ids = {finding.item.id: finding_id(account, run.environment, finding.item.id) for finding in run.findings}
    resolved = tuple(
        finding.item.id
        for finding in run.findings
        if finding.verdict is Verdict.PASSED
        and existing.get(ids[finding.item.id], {}).get("RecordState") == "ACTIVE"
    )
    if resolved:
        _resolve(client, account, [ids[item_id] for item_id in resolved])
    return ExportResult(
        created=tuple(item for item, key in ids.items() if key not in existing),
        updated=tuple(item for item, key in ids.items() if key in existing),
        resolved=resolved,
    )


def _existing(client: Any, run: FindingsRun, account: Account) -> dict[str, dict[str, Any]]:
    """This environment's findings already in Security Hub, by Id."""
    ours = {finding_id(account, run.environment, finding.item.id) for finding in run.findings}
    found = _checked(
        paginate(
            client,
            "get_findings",
            "Findings",
            action="securityhub:GetFindings",
            resource=f"findings of {run.environment}",
            region=account.region,
            Filters={
                "ProductArn": [{"Value": account.product_arn, "Comparison": "EQUALS"}],
                "ProductFields": [
                    {"Key": "missioncontrol/environment", "Value": run.environment, "Comparison": "EQUALS"}
                ],
            },
        )
    )
    return {finding["Id"]: finding for finding in found if finding["Id"] in ours}


def _resolve(client: Any, account: Account, ids: list[str]) -> None:
    answer = _checked(
        call(
            client,
            "batch_update_findings",
            action="securityhub:BatchUpdateFindings",
            resource=f"{len(ids)} recovered findings",
            region=account.region,
            FindingIdentifiers=[{"Id": key, "ProductArn": account.product_arn} for key in ids],
            Workflow={"Status": "RESOLVED"},
            Note={"Text": "Mission Control: the item passes again", "UpdatedBy": "mission-control"},
        )
    )
    if answer.get("UnprocessedFindings"):
        reasons = "; ".join(
            f"{entry['FindingIdentifier']['Id']}: {entry['ErrorCode']} {entry['ErrorMessage']}"
            for entry in answer["UnprocessedFindings"]
        )
        raise ExportError(f"Security Hub in {account.region} did not resolve: {reasons}")


def _checked(answer: Any) -> Any:
    if isinstance(answer, AwsError):
        message = f": {answer.message}" if answer.message else ""
        raise ExportError(f"{answer}{message}")
    return answer
