"""Environments discovered from AWS Organizations: one per ACTIVE account, kept in step, never deleted.

The walk reads only (`DISCOVERY_ACTIONS`, printed by `iam-policy --discovery`). An account that leaves
the organization or stops being ACTIVE is archived: its environment and history stay. Running the
same discovery twice changes nothing the second time.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError
from sqlalchemy import select
from sqlalchemy.orm import Session

from mission_control.catalog import Catalog
from mission_control.db.base import utcnow
from mission_control.progress.models import Environment
from mission_control.progress.service import create_environment
from mission_control.text import is_environment_name
from mission_control.verification.aws import describe_error
from mission_control.verification.models import DiscoveredAccount

DISCOVERY_ACTIONS = (
    "organizations:ListRoots",
    "organizations:ListOrganizationalUnitsForParent",
    "organizations:ListAccountsForParent",
    "organizations:ListAccounts",
    "organizations:ListTagsForResource",
)


@dataclass(frozen=True)
class Account:
    """An account as the walk found it: where it sits and its tags."""

    id: str
    name: str
    status: str
    organizational_unit: str
    tags: dict[str, str] = field(default_factory=dict)


@dataclass
class Plan:
    """What a discovery does (or, with --dry-run, would do): environment names per outcome."""

    added: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    suspended: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)  # "name: why"


def walk(client: Any, *, parents: Iterable[str] = ()) -> list[Account]:
    """Every account under `parents` (default: the roots), through nested OUs, every page read."""
    queue = list(parents) or [root["Id"] for root in _pages(client, "list_roots", "Roots")]
    accounts = []
    while queue:
        parent = queue.pop(0)
        for account in _pages(client, "list_accounts_for_parent", "Accounts", ParentId=parent):
            accounts.append(Account(account["Id"], account["Name"], account["Status"], parent))
        queue.extend(
            unit["Id"]
            for unit in _pages(
                client, "list_organizational_units_for_parent", "OrganizationalUnits", ParentId=parent
            )
        )
    return accounts


def member_ids(client: Any) -> set[str]:
    """Every ACTIVE account of the organization, wherever it sits."""
    return {
        account["Id"]
        for account in _pages(client, "list_accounts", "Accounts")
        if account["Status"] == "ACTIVE"
    }


def with_tags(client: Any, accounts: list[Account]) -> list[Account]:
    """`accounts` with their tags read (only needed when discovery filters on tags)."""
    tagged = []
    for account in accounts:
        tags = _pages(client, "list_tags_for_resource", "Tags", ResourceId=account.id)
        tagged.append(replace(account, tags={tag["Key"]: tag["Value"] for tag in tags}))
    return tagged


def environment_name(account: Account) -> str:
    """The account's name as an environment name, or `account-<id>` when it cannot be one."""
    slug = re.sub(r"[^a-z0-9]+", "-", account.name.lower()).strip("-")
    return slug if is_environment_name(slug) else f"account-{account.id}"


def reconcile(
    *,
    session: Session,
    catalog: Catalog,
    accounts: list[Account],
    members: set[str],
    role_name: str,
    template: str,
    tags: dict[str, str],
    configured: set[str],
    apply: bool,
) -> Plan:
    """Bring the stored environments in step with `accounts`; with `apply` false, only plan."""
    plan = Plan()
    known = {row.account_id: row for row in session.scalars(select(DiscoveredAccount))}
    names = set(session.scalars(select(Environment.name)))
    for account in accounts:
        name = environment_name(account)
        if account.status != "ACTIVE":
            if account.id in known:
                continue  # reported as suspended below
            plan.skipped.append(f"{name}: account {account.id} is {account.status}")
            continue
        if any(account.tags.get(key) != value for key, value in tags.items()):
            plan.skipped.append(f"{name}: account {account.id} lacks tag(s) {_tags(tags)}")
            continue
        if name in configured:
            plan.skipped.append(f"{name}: defined in the configuration file, which wins")
            continue
        wanted = {
            "role_arn": f"arn:aws:iam::{account.id}:role/{role_name}",
            "template": template,
            "organizational_unit": account.organizational_unit,
            "tags": account.tags,
            "account_name": account.name,
        }
        row = known.get(account.id)
        if row is None:
            if name in names:
                plan.skipped.append(
                    f"{name}: an environment of that name exists and is not account {account.id}"
                )
                continue
            plan.added.append(name)
            if apply:
                environment = create_environment(
                    session=session, catalog=catalog, name=name, actor="discovery"
                )
                session.add(DiscoveredAccount(environment_id=environment.id, account_id=account.id, **wanted))
            continue
        if row.archived_at is not None or any(getattr(row, key) != value for key, value in wanted.items()):
            plan.changed.append(name)
            if apply:
                row.archived_at = None
                for key, value in wanted.items():
                    setattr(row, key, value)
    for account_id, row in known.items():
        if row.archived_at is None and account_id not in members:
            name = session.get(Environment, row.environment_id).name
            plan.suspended.append(name)
            if apply:
                row.archived_at = utcnow()
    return plan


def discovered(*, session: Session) -> dict[str, DiscoveredAccount]:
    """Every discovered environment by name, archived ones included."""
    rows = session.execute(select(Environment.name, DiscoveredAccount).join(DiscoveredAccount))
    return {name: row for name, row in rows}


def _tags(tags: dict[str, str]) -> str:
    return ", ".join(f"{key}={value}" for key, value in tags.items())


class DiscoveryError(Exception):
    """Organizations refused a read; the message names the action and what it was reading."""


def _pages(client: Any, operation: str, key: str, **params: Any) -> list[dict[str, Any]]:
    try:
        return [item for page in client.get_paginator(operation).paginate(**params) for item in page[key]]
    except (ClientError, BotoCoreError) as error:
        action = f"organizations:{client.meta.method_to_api_mapping[operation]}"
        target = params.get("ParentId") or params.get("ResourceId") or "the organization"
        raise DiscoveryError(f"{describe_error(error, action, target, 'us-east-1')}") from error
