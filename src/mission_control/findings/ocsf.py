"""OCSF Compliance Findings (class 2003) through py-ocsf-models, the models Prowler exports with."""

from __future__ import annotations

import json

from py_ocsf_models.events.findings.activity_id import ActivityID
from py_ocsf_models.events.findings.compliance_finding import ComplianceFinding
from py_ocsf_models.events.findings.compliance_finding_type_id import ComplianceFindingTypeID
from py_ocsf_models.events.findings.severity_id import SeverityID
from py_ocsf_models.objects.check import Check
from py_ocsf_models.objects.compliance import Compliance
from py_ocsf_models.objects.compliance_status import StatusID as ComplianceStatusID
from py_ocsf_models.objects.finding_info import FindingInformation
from py_ocsf_models.objects.metadata import Metadata
from py_ocsf_models.objects.product import Product
from py_ocsf_models.objects.resource_details import ResourceDetails

from mission_control import __version__
from mission_control.findings.model import Finding, FindingsRun, Verdict

# An error is a check that yielded no result; an open manual item is one missing its evidence.
_COMPLIANCE = {
    Verdict.PASSED: ComplianceStatusID.Pass,
    Verdict.FAILED: ComplianceStatusID.Fail,
    Verdict.ERROR: ComplianceStatusID.Unknown,
    Verdict.OPEN: ComplianceStatusID.Warning,
}
_SEVERITY = {
    Verdict.PASSED: SeverityID.Informational,
    Verdict.FAILED: SeverityID.Medium,
    Verdict.ERROR: SeverityID.Low,
    Verdict.OPEN: SeverityID.Low,
}


def compliance_findings(run: FindingsRun) -> list[ComplianceFinding]:
    return [_finding(run, finding) for finding in run.findings]


def to_ocsf(run: FindingsRun) -> str:
    """A JSON array of Compliance Findings, one per item, as Prowler writes its OCSF output."""
    documents = [finding.model_dump(mode="json", exclude_none=True) for finding in compliance_findings(run)]
    return json.dumps(documents, indent=2, ensure_ascii=False) + "\n"


def _finding(run: FindingsRun, finding: Finding) -> ComplianceFinding:
    item = finding.item
    status = _COMPLIANCE[finding.verdict]
    severity = SeverityID.High if finding.regressed else _SEVERITY[finding.verdict]
    return ComplianceFinding(
        activity_id=ActivityID.Create,
        activity_name=ActivityID.Create.name,
        type_uid=ComplianceFindingTypeID.Create,
        type_name=f"Compliance Finding: {ActivityID.Create.name}",
        time=int(finding.observed_at.timestamp()),
        time_dt=finding.observed_at,
        severity_id=severity,
        severity=severity.name,
        status_code=finding.verdict.value.upper(),
        status_detail=finding.summary,
        message=f"{item.title}: {finding.summary}",
        metadata=Metadata(
            product=Product(name="Mission Control", vendor_name="Mission Control", version=__version__),
            event_code=item.id,
            labels=[run.checklist_id, item.category],
        ),
        finding_info=FindingInformation(
            uid=f"mission-control/{finding.environment}/{item.id}",
            title=item.title,
            desc=item.description,
            types=[run.checklist_title],
            created_time=int(finding.observed_at.timestamp()),
            created_time_dt=finding.observed_at,
        ),
        compliance=Compliance(
            standards=[run.checklist_title],
            requirements=[item.id],
            control=item.title,
            status_id=status,
            checks=[Check(uid=item.id, name=item.title, status=status.name, status_id=status)],
        ),
        resources=[
            ResourceDetails(
                type="Mission Control environment",
                uid=f"{finding.environment}/{item.id}",
                name=finding.environment,
                data={"config_keys": [location.key for location in finding.locations]},
            )
        ],
        unmapped={"regressed": finding.regressed, "facts": finding.facts},
    )
