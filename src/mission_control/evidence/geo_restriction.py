"""The geo-restriction review: what each distribution blocks, in a report bound to a fingerprint.

An attestation ("this policy is intentional") is only worth the configuration it was made about, so
the report carries a fingerprint of the live restrictions: when they change, the fingerprint does, and
an attestation made against the old one no longer holds.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from mission_control.evidence.errors import EvidenceError
from mission_control.verification.aws import AwsError
from mission_control.verification.collectors.cloudfront import CloudFrontSnapshot
from mission_control.verification.config import EnvironmentConfig

# Where each AWS region's data centres are (ISO 3166-1 alpha-2): a geo block on that country may cut the
# region's own users off from the secondary region's traffic.
REGION_COUNTRIES = {
    "us-east-1": "US", "us-east-2": "US", "us-west-1": "US", "us-west-2": "US", "ca-central-1": "CA",
    "sa-east-1": "BR", "eu-west-1": "IE", "eu-west-2": "GB", "eu-west-3": "FR", "eu-central-1": "DE",
    "eu-central-2": "CH", "eu-north-1": "SE", "eu-south-1": "IT", "eu-south-2": "ES", "me-south-1": "BH",
    "me-central-1": "AE", "il-central-1": "IL", "af-south-1": "ZA", "ap-east-1": "HK", "ap-south-1": "IN",
    "ap-south-2": "IN", "ap-southeast-1": "SG", "ap-southeast-2": "AU", "ap-southeast-3": "ID",
    "ap-southeast-4": "AU", "ap-northeast-1": "JP", "ap-northeast-2": "KR", "ap-northeast-3": "JP",
}  # fmt: skip


@dataclass(frozen=True)
class GeoRestrictionReport:
    restrictions: dict[str, dict[str, Any]]  # distribution id → {"type", "locations"}
    fingerprint: str
    warnings: tuple[str, ...]
    markdown: str


def restriction_fingerprint(restrictions: dict[str, dict[str, Any]]) -> str:
    """SHA-256 of the restrictions in a canonical form: order of ids and locations does not matter."""
    canonical = json.dumps(
        {id_: {"type": r["type"], "locations": sorted(r["locations"])} for id_, r in restrictions.items()},
        sort_keys=True,
    )
    return hashlib.sha256(canonical.encode()).hexdigest()


def live_restrictions(config: EnvironmentConfig, cloudfront: CloudFrontSnapshot) -> dict[str, dict[str, Any]]:
    """Each configured distribution's geo restriction; EvidenceError if any cannot be read."""
    if not config.distributions:
        raise EvidenceError(f"not configured: set distributions in [environments.{config.name}]")
    restrictions = {}
    for distribution_id in dict.fromkeys(config.distributions):
        distribution = cloudfront.distributions.get(distribution_id)
        if isinstance(distribution, AwsError):
            raise EvidenceError(str(distribution))
        if distribution is None:
            raise EvidenceError(f"distribution {distribution_id} not found")
        geo = distribution.get("Restrictions", {}).get("GeoRestriction", {})
        restrictions[distribution_id] = {
            "type": geo.get("RestrictionType", "none"),
            "locations": sorted(geo.get("Items", [])),
        }
    return restrictions


def geo_restriction_report(
    config: EnvironmentConfig, cloudfront: CloudFrontSnapshot, generated_at: datetime
) -> GeoRestrictionReport:
    restrictions = live_restrictions(config, cloudfront)
    warnings = tuple(_warnings(config, restrictions))
    fingerprint = restriction_fingerprint(restrictions)
    lines = [
        f"# CloudFront geo-restriction review — {config.name}",
        "",
        f"Generated {generated_at:%Y-%m-%d %H:%M UTC} by Mission Control from the live configuration.",
        f"Configuration fingerprint: `{fingerprint}`",
        "",
        "| Distribution | Restriction | Locations |",
        "|---|---|---|",
    ]
    for distribution_id, restriction in restrictions.items():
        locations = ", ".join(restriction["locations"]) or "—"
        lines.append(f"| {distribution_id} | {_describe(restriction['type'])} | {locations} |")
    lines += ["", "## Multi-region impact", ""]
    lines += [f"- ⚠ {warning}" for warning in warnings] or [
        f"- No distribution blocks the home countries of {config.primary_region} or {config.secondary_region}."
    ]
    lines += [
        "",
        "## Attestation",
        "",
        "Review the policy above; if it is intentional and compatible with the multi-region plan, attest it.",
        "The attestation holds only while the live configuration keeps this fingerprint.",
        "",
    ]
    return GeoRestrictionReport(restrictions, fingerprint, warnings, "\n".join(lines))


def _describe(restriction_type: str) -> str:
    return {"none": "none (served everywhere)", "whitelist": "allow only", "blacklist": "block"}.get(
        restriction_type, restriction_type
    )


def _warnings(config: EnvironmentConfig, restrictions: dict[str, dict[str, Any]]) -> list[str]:
    warnings = []
    for region in config.regions:
        country = REGION_COUNTRIES.get(region)
        if country is None:
            warnings.append(f"{region}: unknown home country; check its users are not blocked")
            continue
        for distribution_id, restriction in restrictions.items():
            blocked = (restriction["type"] == "blacklist" and country in restriction["locations"]) or (
                restriction["type"] == "whitelist" and country not in restriction["locations"]
            )
            if blocked:
                warnings.append(f"{distribution_id} blocks {country}, the home of {region}")
    return warnings
