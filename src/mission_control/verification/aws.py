"""boto3 plumbing shared by collectors: one client per (service, region), errors as values."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from mission_control.verification.budgets import Budgets, RequestLog
from mission_control.verification.credentials import AssumeRoleError, Role, RoleSessions

if TYPE_CHECKING:
    from mission_control.verification.config import EnvironmentConfig

CLIENT_CONFIG = Config(
    retries={"mode": "adaptive", "max_attempts": 8},
    connect_timeout=5,
    read_timeout=20,
    max_pool_connections=32,
)


@dataclass(frozen=True)
class AwsError:
    """An AWS call that failed, phrased so an operator knows which permission or resource to fix."""

    action: str  # IAM action, e.g. "dynamodb:DescribeContinuousBackups"
    resource: str
    region: str
    code: str
    message: str = ""

    def __str__(self) -> str:
        return f"{self.code} on {self.action} for {self.resource} in {self.region}"


ACCOUNT_KEYS = {
    "route53": "route53",
    "cloudfront": "cloudfront",
    "lambda": "lambda",
    "iam": "iam",
    "dynamodb": "dynamodb",
    "backup": "backup",
    "cognito-idp": "cognito",
}  # boto3 service name -> its key in an environment's `accounts` table
BASE_ACCOUNT = "base"  # how budgets name the account behind the standard credential chain


class AwsClients:
    """Builds clients lazily, one per (service, region); safe to share between collector threads.

    Without roles every client uses the standard chain (boto3 honours AWS_PROFILE, AWS_REGION and
    AWS_ENDPOINT_URL itself). With `role`, clients act as that role; `accounts` sends a service's
    calls to the role of another account (e.g. Route53 in a shared network account). Every client is
    paced by `budgets` (a fleet's, shared; or its own), and `requests` logs what this environment sent.
    """

    def __init__(
        self,
        session: boto3.Session | None = None,
        *,
        environment: str = "",
        role: Role | None = None,
        accounts: dict[str, Role] | None = None,
        roles: RoleSessions | None = None,
        budgets: Budgets | None = None,
    ) -> None:
        self._roles = roles or RoleSessions(session)
        self._environment = environment
        self._role = role
        self._accounts = accounts or {}
        self._budgets = budgets or Budgets()
        self.requests = RequestLog()
        self._clients: dict[tuple[str, str], Any] = {}
        self._lock = threading.Lock()

    def assume_error(self) -> str | None:
        """Why the environment's own role cannot be assumed, or None when it can (or there is none)."""
        try:
            self._session_for(self._role)
        except AssumeRoleError as error:
            return str(error)
        return None

    def get(self, service: str, region: str) -> Any:
        """The client for `service` in `region`; raises AssumeRoleError when its role is refused."""
        key = (service, region)
        with self._lock:
            if key not in self._clients:
                role = self._accounts.get(ACCOUNT_KEYS.get(service, ""), self._role)
                client = self._session_for(role).client(service, region_name=region, config=CLIENT_CONFIG)
                self._budgets.attach(client, role.account if role else BASE_ACCOUNT, log=self.requests)
                self._clients[key] = client
            return self._clients[key]

    def _session_for(self, role: Role | None) -> boto3.Session:
        if role is None:
            return self._roles.base
        return self._roles.session(role, environment=self._environment)


def clients_for(
    config: EnvironmentConfig, *, roles: RoleSessions | None = None, budgets: Budgets | None = None
) -> AwsClients:
    """The clients for one environment: its role, its other accounts' roles, the run's shared budgets
    (without them, budgets of its own)."""
    return AwsClients(
        environment=config.name, role=config.role, accounts=config.account_roles, roles=roles, budgets=budgets
    )


def _as_error(error: Exception, action: str, resource: str, region: str) -> AwsError:
    if isinstance(error, ClientError):
        details = error.response.get("Error", {})
        return AwsError(
            action, resource, region, details.get("Code", "ClientError"), details.get("Message", "")
        )
    return AwsError(action, resource, region, type(error).__name__, str(error))


def describe_error(error: Exception, action: str, resource: str, region: str) -> str:
    """`error` as an operator reads it: "AccessDenied on organizations:ListRoots for the organization"."""
    return str(_as_error(error, action, resource, region))


def call(client: Any, operation: str, *, action: str, resource: str, region: str, **params: Any) -> Any:
    """Call `operation`; return its response, or an AwsError naming `action` and `resource`."""
    try:
        return getattr(client, operation)(**params)
    except (ClientError, BotoCoreError) as error:
        return _as_error(error, action, resource, region)


def paginate(
    client: Any, operation: str, result_key: str, *, action: str, resource: str, region: str, **params: Any
) -> list[Any] | AwsError:
    """All pages of `operation` flattened on `result_key`, or the AwsError that stopped it."""
    try:
        items: list[Any] = []
        for page in client.get_paginator(operation).paginate(**params):
            items.extend(page.get(result_key, []))
        return items
    except (ClientError, BotoCoreError) as error:
        return _as_error(error, action, resource, region)
