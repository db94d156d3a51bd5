"""Cognito evidence: the parity diff as a document, and the token-sync strategy template to attest.

A separate backup pool shares no users or tokens with the primary, so the team must choose and write
down how identities survive a failover (with Cognito's native replication, `cognito.token-sync` is
proven by its probe instead); the template starts from the live pools so the decision is about the
real setup.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from mission_control.escaping import markdown_cell
from mission_control.evidence.errors import EvidenceError
from mission_control.verification.collectors.cognito import CognitoSnapshot, UserPoolSnapshot
from mission_control.verification.config import EnvironmentConfig
from mission_control.verification.probes.cognito import parity
from mission_control.verification.results import Status


def _cell(value: Any) -> str:
    text = value if isinstance(value, str) else json.dumps(value, sort_keys=True)
    return markdown_cell(text)


def cognito_parity_document(
    config: EnvironmentConfig, cognito: CognitoSnapshot, generated_at: datetime
) -> str:
    """Markdown: every setting in which the backup pool differs from the primary."""
    result = parity(config, cognito=cognito)
    if result.status is Status.ERROR or "diff" not in result.facts:
        raise EvidenceError(result.summary)
    diff = result.facts["diff"]
    role = "replica" if "replica_pool" in result.facts else "backup"
    lines = [
        f"# Cognito parity — {config.name}",
        "",
        f"Generated {generated_at:%Y-%m-%d %H:%M UTC} by Mission Control from the live user pools: primary "
        f"`{result.facts['primary_pool']}` ({config.primary_region}), {role} `{result.facts[f'{role}_pool']}` "
        f"({config.secondary_region}).",
        "",
        f"**{result.summary}**",
        "",
    ]
    if diff:
        lines += [f"| Setting | Primary | {role.capitalize()} |", "|---|---|---|"]
        lines += [f"| {_cell(d['field'])} | {_cell(d['primary'])} | {_cell(d['backup'])} |" for d in diff]
        lines.append("")
    return "\n".join(lines)


def token_sync_template(config: EnvironmentConfig, cognito: CognitoSnapshot, generated_at: datetime) -> str:
    """Markdown template of the token-sync strategy, pre-filled with the live pools, for the team to complete."""
    primary, backup = (
        _pool(cognito.primary, "cognito_primary_pool", config),
        _pool(cognito.backup, "cognito_backup_pool", config),
    )
    triggers = sorted(key for key, value in primary.get("LambdaConfig", {}).items() if value)
    users = primary.get("EstimatedNumberOfUsers", "unknown")
    rto = f"{config.rto_seconds} s" if config.rto_seconds is not None else "(set rto_seconds)"
    return "\n".join(
        [
            f"# Cognito token-sync strategy — {config.name}",
            "",
            f"Drafted {generated_at:%Y-%m-%d %H:%M UTC} by Mission Control. Complete every section marked TODO, "
            "and keep it with the team's evidence; review it whenever the pools change.",
            "",
            "## The facts",
            "",
            f"- Primary pool `{primary.get('Id')}` in {config.primary_region}: about {users} users; "
            f"triggers: {', '.join(triggers) or 'none'}.",
            f"- Backup pool `{backup.get('Id')}` in {config.secondary_region}.",
            "- A separate backup pool shares no users, passwords or refresh tokens with the primary: tokens issued "
            "by the primary pool's issuer are not accepted by the backup pool. (Cognito's multi-Region "
            "replication would replicate them; see `cognito_replication`.)",
            f"- Recovery time objective for sign-in: {rto}.",
            "",
            "## Decision (choose one, delete the other)",
            "",
            "- **A. Custom auth backed by a DynamoDB global table**: a migration/custom-auth trigger on the backup "
            "pool checks credentials replicated through the global table, so users sign in without resetting.",
            "- **B. Export and import during failover**: export user records (`ListUsers`) on a schedule and load "
            "them with a Cognito user import job (`CreateUserImportJob`); users must reset their passwords.",
            "",
            "TODO: chosen option, and why.",
            "",
            "## What users experience during failover",
            "",
            "TODO: who must sign in again, which sessions survive, what the support team tells them.",
            "",
            "## Downstream acceptance",
            "",
            f"TODO: list every API and Lambda route that validates tokens, and confirm each accepts the backup pool's "
            f"issuer `https://cognito-idp.{config.secondary_region}.amazonaws.com/{backup.get('Id')}`.",
            "",
            "## How it is tested",
            "",
            "TODO: the drill that proves it (e.g. `mission-control drill auth-flow`) and how often it runs.",
            "",
        ]
    )


def _pool(snapshot: UserPoolSnapshot | None, key: str, config: EnvironmentConfig) -> dict[str, Any]:
    if snapshot is None:
        raise EvidenceError(f"not configured: set {key} in [environments.{config.name}]")
    if isinstance(snapshot.pool, dict):
        return snapshot.pool
    if snapshot.pool is None:
        raise EvidenceError(f"user pool {snapshot.pool_id} not found in {snapshot.region}")
    raise EvidenceError(str(snapshot.pool))
