"""boto3 plumbing shared by collectors: one client per (service, region), errors as values."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

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


class AwsClients:
    """Builds clients lazily from one boto3 session; safe to share between collector threads.

    boto3 honours AWS_PROFILE, AWS_REGION and AWS_ENDPOINT_URL itself, so nothing here reads them.
    """

    def __init__(self, session: boto3.Session | None = None) -> None:
        self._session = session or boto3.Session()
        self._clients: dict[tuple[str, str], Any] = {}
        self._lock = threading.Lock()

    def get(self, service: str, region: str) -> Any:
        key = (service, region)
        with self._lock:
            if key not in self._clients:
                self._clients[key] = self._session.client(service, region_name=region, config=CLIENT_CONFIG)
            return self._clients[key]


def _as_error(error: Exception, action: str, resource: str, region: str) -> AwsError:
    if isinstance(error, ClientError):
        details = error.response.get("Error", {})
        return AwsError(
            action, resource, region, details.get("Code", "ClientError"), details.get("Message", "")
        )
    return AwsError(action, resource, region, type(error).__name__, str(error))


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
