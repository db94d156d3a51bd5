"""Assumed-role credentials: fetched once per role, refreshed by botocore before they expire, memory only.

Base credentials come from boto3's standard chain; every role is assumed with them. Nothing here is
ever written to disk or the database: the cache lives as long as the process (or the fleet run).
"""

from __future__ import annotations

import copy
import threading
from dataclasses import dataclass
from typing import Any

import boto3
import botocore.session
from botocore.credentials import CredentialProvider, RefreshableCredentials
from botocore.exceptions import BotoCoreError, ClientError
from botocore.hooks import HierarchicalEmitter
from botocore.loaders import create_loader

STS_REGION = "us-east-1"
DEFAULT_SESSION_NAME = "mission-control"


@dataclass(frozen=True)
class Role:
    """A role to assume: its ARN, the external id its trust policy may demand, and the session name."""

    arn: str
    external_id: str | None = None
    session_name: str = DEFAULT_SESSION_NAME

    @property
    def account(self) -> str:
        """The 12-digit account the role lives in (the fifth field of its ARN)."""
        return self.arn.split(":")[4]


class AssumeRoleError(Exception):
    """STS refused a role; the message says which role, for which environment, and why."""


class _Assumed(CredentialProvider):
    """Hands botocore one role's refreshable credentials ahead of the standard chain."""

    METHOD = "mission-control-assume-role"

    def __init__(self, credentials: RefreshableCredentials) -> None:
        super().__init__()
        self._credentials = credentials

    def load(self) -> RefreshableCredentials:
        return self._credentials


class RoleSessions:
    """One boto3 session per role, shared by every environment and thread that uses the role.

    Sessions share one model loader, so a hundred accounts do not load a hundred copies of each
    service model.
    """

    def __init__(self, base: boto3.Session | None = None) -> None:
        self._base = base or boto3.Session()
        self._sessions: dict[Role, boto3.Session] = {}
        self._role_locks: dict[Role, threading.Lock] = {}
        self._loader = create_loader()
        # botocore's built-in handlers, registered once and copied into each role's session: registering
        # them was a tenth of a 100-account run's CPU
        self._handlers = HierarchicalEmitter()
        botocore.session.Session(event_hooks=self._handlers)
        self._sts: Any = None
        self._lock = threading.Lock()

    @property
    def base(self) -> boto3.Session:
        return self._base

    def session(self, role: Role, *, environment: str) -> boto3.Session:
        """A session acting as `role`; raises AssumeRoleError naming the role and `environment`."""
        with self._lock:
            lock = self._role_locks.setdefault(role, threading.Lock())
        with lock:  # one AssumeRole per role, while other roles are assumed in parallel
            if role not in self._sessions:
                self._sessions[role] = self._assume(role, environment)
            return self._sessions[role]

    def _sts_client(self) -> Any:
        """One STS client for every role: a client costs milliseconds of CPU to build."""
        with self._lock:
            if self._sts is None:
                self._sts = self._base.client("sts", region_name=self._base.region_name or STS_REGION)
            return self._sts

    def _assume(self, role: Role, environment: str) -> boto3.Session:
        sts = self._sts_client()

        def fetch() -> dict[str, Any]:
            params = {"RoleArn": role.arn, "RoleSessionName": role.session_name}
            if role.external_id:
                params["ExternalId"] = role.external_id
            credentials = sts.assume_role(**params)["Credentials"]
            return {
                "access_key": credentials["AccessKeyId"],
                "secret_key": credentials["SecretAccessKey"],
                "token": credentials["SessionToken"],
                "expiry_time": credentials["Expiration"].isoformat(),
            }

        try:
            metadata = fetch()
        except ClientError as error:
            code = error.response.get("Error", {}).get("Code", "ClientError")
            raise AssumeRoleError(
                f"{code} on sts:AssumeRole for {role.arn} (environment {environment})"
            ) from error
        except BotoCoreError as error:
            raise AssumeRoleError(
                f"{type(error).__name__} on sts:AssumeRole for {role.arn} (environment {environment}): {error}"
            ) from error
        credentials = RefreshableCredentials.create_from_metadata(
            metadata=metadata, refresh_using=fetch, method=_Assumed.METHOD
        )
        core = botocore.session.Session(event_hooks=copy.copy(self._handlers), include_builtin_handlers=False)
        core.register_component("data_loader", self._loader)
        core.get_component("credential_provider").insert_before("env", _Assumed(credentials))
        return boto3.Session(botocore_session=core, region_name=self._base.region_name)
