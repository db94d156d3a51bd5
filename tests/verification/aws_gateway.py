"""A moto server on 127.0.0.1 behind a gateway that logs every request and can refuse chosen roles.

The log is taken at the server, not by the code under test, so it measures what actually arrived:
(arrival time, account, API family). `refused_roles` makes STS answer AccessDenied for those role
ARNs, as AWS does when a role's trust policy does not name the caller. Every secret STS hands out is
noted in `issued_secrets`; with `credential_lifetime` set, AssumeRole's credentials expire that long
after they are issued (moto's last an hour or more).
"""

from __future__ import annotations

import io
import re
import threading
import time
import urllib.parse
import urllib.request
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from moto.iam.models import get_account_id_from
from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app
from werkzeug.serving import make_server

from mission_control.demo.moto_extensions import AwsParityLayer
from mission_control.demo.server import _QuietRequestHandler
from mission_control.verification.budgets import family_of

_CREDENTIAL = re.compile(r"Credential=([^/]+)/\d{8}/[^/]+/([^/]+)/aws4_request")
_HEALTH_CHECK_STATUS = re.compile(r"/healthcheck/[^/]+/status$")
_DENIED = (
    '<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><Error><Type>Sender</Type>'
    "<Code>AccessDenied</Code><Message>User is not authorized to perform: sts:AssumeRole</Message>"
    "</Error><RequestId>denied</RequestId></ErrorResponse>"
)


@dataclass
class Gateway:
    endpoint_url: str
    refused_roles: set[str] = field(default_factory=set)
    requests: list[tuple[float, str, str]] = field(default_factory=list)  # (arrival, account, family)
    issued_secrets: list[str] = field(default_factory=list)  # every SecretAccessKey and SessionToken
    credential_lifetime: timedelta | None = None

    def busiest_second(self) -> dict[tuple[str, str], int]:
        """Per (account, family): the most requests that arrived within any one second."""
        arrivals: dict[tuple[str, str], list[float]] = defaultdict(list)
        for moment, account, family in self.requests:
            arrivals[(account, family)].append(moment)
        busiest = {}
        for key, times in arrivals.items():
            times.sort()
            start, most = 0, 0
            for end, moment in enumerate(times):
                while moment - times[start] >= 1.0:
                    start += 1
                most = max(most, end - start + 1)
            busiest[key] = most
        return busiest


def _operation(environ: dict[str, Any], body: bytes, service: str) -> str:
    target = environ.get("HTTP_X_AMZ_TARGET", "")
    if target:
        return target.rpartition(".")[2]
    form = urllib.parse.parse_qs(environ.get("QUERY_STRING", "")) | urllib.parse.parse_qs(body.decode())
    if "Action" in form:
        return form["Action"][0]
    if service == "route53" and _HEALTH_CHECK_STATUS.search(environ.get("PATH_INFO", "")):
        return "GetHealthCheckStatus"
    return environ.get("PATH_INFO", "")


def _layer(gateway: Gateway, app: Callable[..., Iterable[bytes]]) -> Callable[..., Iterable[bytes]]:
    lock = threading.Lock()

    def serve(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        arrived = time.monotonic()
        body = environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
        environ["wsgi.input"] = io.BytesIO(body)
        credential = _CREDENTIAL.search(environ.get("HTTP_AUTHORIZATION", ""))
        if credential:
            access_key, service = credential.groups()
            operation = _operation(environ, body, service)
            with lock:
                gateway.requests.append(
                    (arrived, get_account_id_from(access_key), family_of(service, operation))
                )
            if operation == "AssumeRole":
                role = urllib.parse.parse_qs(body.decode()).get("RoleArn", [""])[0]
                if role in gateway.refused_roles:
                    start_response("403 Forbidden", [("Content-Type", "text/xml")])
                    return [_DENIED.encode()]
                return _issue_credentials(gateway, app, environ, start_response)
        return app(environ, start_response)

    return serve


def _issue_credentials(
    gateway: Gateway,
    app: Callable[..., Iterable[bytes]],
    environ: dict[str, Any],
    start_response: Callable[..., Any],
) -> Iterable[bytes]:
    """moto's AssumeRole answer, its secrets noted and its expiry moved to `credential_lifetime` from now."""
    answered: list[Any] = []
    text = b"".join(
        app(environ, lambda status, headers, exc_info=None: answered.extend((status, headers)))
    ).decode()
    if gateway.credential_lifetime is not None:
        expiry = (datetime.now(UTC) + gateway.credential_lifetime).strftime("%Y-%m-%dT%H:%M:%SZ")
        text = re.sub(r"<Expiration>[^<]*</Expiration>", f"<Expiration>{expiry}</Expiration>", text)
    gateway.issued_secrets.extend(re.findall(r"<(?:SecretAccessKey|SessionToken)>([^<]+)</", text))
    body = text.encode()
    status, headers = answered
    start_response(
        status,
        [(k, v) for k, v in headers if k.lower() != "content-length"] + [("Content-Length", str(len(body)))],
    )
    return [body]


@contextmanager
def aws_gateway(*, fresh: bool = True) -> Iterator[Gateway]:
    """A fresh moto estate (backends reset) served on a free port of 127.0.0.1 for the block; with
    `fresh` False, the process's moto estate as it is (e.g. a demo estate another server serves)."""
    gateway = Gateway(endpoint_url="")
    app = _layer(gateway, AwsParityLayer(DomainDispatcherApplication(create_backend_app)))
    server = make_server("127.0.0.1", 0, app, threaded=True, request_handler=_QuietRequestHandler)
    gateway.endpoint_url = f"http://127.0.0.1:{server.server_port}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        if fresh:
            reset = urllib.request.Request(f"{gateway.endpoint_url}/moto-api/reset", method="POST")
            with urllib.request.urlopen(reset, timeout=10):
                pass
            gateway.requests.clear()
        yield gateway
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
