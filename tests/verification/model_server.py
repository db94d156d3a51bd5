"""Canned AWS answers over HTTP on 127.0.0.1 for a service moto lacks, checked against botocore's model.

ModelStub answers inside one client; a command under test builds its own clients, so this answers
them where they connect (point `AWS_ENDPOINT_URL_<SERVICE>` at `endpoint_url`). Answers belong to an
account, the caller's as moto's STS issued its access key, so a test can put a resource in the
account of an assumed role. It speaks the JSON protocol (what botocore resolves arc-region-switch to);
a call nobody answered gets a non-retryable `UnexpectedCall` and is kept in `unexpected`.
"""

from __future__ import annotations

import copy
import json
import re
import threading
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any

import botocore.session
from botocore.validate import validate_parameters
from moto.iam.models import get_account_id_from
from werkzeug.serving import make_server

from mission_control.demo.server import _QuietRequestHandler

DEFAULT_ACCOUNT = "123456789012"  # the account of credentials moto did not issue (e.g. "testing")
_CREDENTIAL = re.compile(r"Credential=([^/]+)/")


class ModelServer:
    def __init__(self, service: str) -> None:
        self._model = botocore.session.get_session().get_service_model(service)
        assert self._model.resolved_protocol == "json", self._model.resolved_protocol
        self._answers: dict[tuple[str, str, str], tuple[int, dict[str, Any]]] = {}
        self.calls: list[tuple[str, str, dict[str, Any]]] = []  # (account, operation, params)
        self.unexpected: list[tuple[str, str, dict[str, Any]]] = []
        self.endpoint_url = ""

    def add(
        self,
        operation: str,
        params: dict[str, Any],
        response: dict[str, Any],
        *,
        account: str = DEFAULT_ACCOUNT,
    ) -> None:
        """Answer `operation(**params)` from `account` with `response`, which must fit the output shape."""
        operation_model = self._model.operation_model(operation)
        validate_parameters(params, operation_model.input_shape)
        validate_parameters(response, operation_model.output_shape)
        self._answers[(account, operation, _key(params))] = (200, copy.deepcopy(response))

    def add_error(
        self, operation: str, params: dict[str, Any], code: str, *, account: str = DEFAULT_ACCOUNT
    ) -> None:
        self._answers[(account, operation, _key(params))] = (400, {"__type": code, "message": code})

    def _serve(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        body = environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
        operation = environ.get("HTTP_X_AMZ_TARGET", "").rpartition(".")[2]
        params = json.loads(body or b"{}")
        credential = _CREDENTIAL.search(environ.get("HTTP_AUTHORIZATION", ""))
        account = get_account_id_from(credential.group(1)) if credential else DEFAULT_ACCOUNT
        self.calls.append((account, operation, params))
        status, answer = self._answers.get((account, operation, _key(params)), (0, {}))
        if not status:
            self.unexpected.append((account, operation, params))
            status, answer = 400, {"__type": "UnexpectedCall", "message": f"{operation} from {account}"}
        start_response(
            f"{status} {'OK' if status == 200 else 'Bad Request'}",
            [("Content-Type", "application/x-amz-json-1.0")],
        )
        return [json.dumps(answer, default=_epoch).encode()]


@contextmanager
def model_server(service: str) -> Iterator[ModelServer]:
    """A ModelServer for `service` on a free port of 127.0.0.1 for the block."""
    answering = ModelServer(service)
    server = make_server(
        "127.0.0.1", 0, answering._serve, threaded=True, request_handler=_QuietRequestHandler
    )
    answering.endpoint_url = f"http://127.0.0.1:{server.server_port}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield answering
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def _key(params: dict[str, Any]) -> str:
    return json.dumps(params, sort_keys=True, default=str)


def _epoch(value: Any) -> float:
    """The JSON protocol's timestamps: seconds since the epoch."""
    if isinstance(value, datetime):
        return value.timestamp()
    raise TypeError(f"cannot serialise {value!r}")
