"""Whose AWS account an environment's findings belong to: its role's, else its credentials' caller's.

ASFF names the account in every finding and Security Hub keeps them there. With a `role_arn` the ARN
says which account (no call); without one, sts:GetCallerIdentity on the environment's credentials
does. IAM never refuses that call (AWS needs no permission for it, even under an explicit Deny), so it
is declared here and left out of every policy.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

from mission_control.errors import MissionControlError
from mission_control.findings.asff import Account
from mission_control.findings.securityhub import ExportError, caller_account
from mission_control.verification.aws import AwsClients
from mission_control.verification.config import EnvironmentConfig
from mission_control.verification.credentials import AssumeRoleError

ACTIONS = ("sts:GetCallerIdentity",)


class AccountError(MissionControlError):
    """AWS would not say which account the environment's credentials belong to."""


def environment_account(config: EnvironmentConfig, clients: AwsClients) -> Account:
    """The account and primary region of `config`'s findings; raises AccountError when AWS will not say."""
    if config.role is not None:
        _, partition, _, _, account_id, _ = config.role.arn.split(":", 5)
        return Account(account_id, config.primary_region, partition)
    try:
        return caller_account(clients, config.primary_region)
    except (ExportError, AssumeRoleError) as error:
        raise AccountError(f"environment {config.name}: {error}") from error


class Accounts:
    """Each environment's account, asked of AWS once per process (a refusal is not kept: asked again)."""

    def __init__(self, clients_factory: Callable[[EnvironmentConfig], AwsClients]) -> None:
        self._clients_factory = clients_factory
        self._known: dict[str, Account] = {}
        self._lock = threading.Lock()

    def of(self, config: EnvironmentConfig) -> Account:
        with self._lock:
            if config.name not in self._known:
                self._known[config.name] = environment_account(config, self._clients_factory(config))
            return self._known[config.name]
