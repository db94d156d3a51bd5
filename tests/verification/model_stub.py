"""Canned AWS answers for what moto lacks, checked against botocore's service model like Stubber's.

botocore's Stubber answers calls in the order they were queued, but collectors call concurrently;
ModelStub answers by operation and parameters, in any order, from any thread.
"""

from __future__ import annotations

import copy
import json
import threading
from typing import Any

from botocore.awsrequest import AWSResponse
from botocore.validate import validate_parameters


class ModelStub:
    """Answers every call of one real client; an unexpected call raises AssertionError, or with
    `passthrough` goes on to the client's endpoint (moto), so a stub can add only what moto lacks."""

    def __init__(self, client: Any, *, passthrough: bool = False) -> None:
        self._client = client
        self._passthrough = passthrough
        self._answers: dict[tuple[str, str], tuple[int, dict[str, Any]]] = {}
        self._lock = threading.Lock()
        self.calls: list[tuple[str, dict[str, Any]]] = []
        client.meta.events.register_first("before-parameter-build.*.*", self._remember_params)
        client.meta.events.register_first("before-call.*.*", self._answer)

    def add(self, operation: str, params: dict[str, Any], response: dict[str, Any]) -> None:
        """Answer `operation(**params)` with `response`, which must fit the operation's output shape."""
        shape = self._client.meta.service_model.operation_model(operation).output_shape
        if shape is not None:
            validate_parameters(response, shape)
        self._answers[(operation, _key(params))] = (200, response)

    def add_error(self, operation: str, params: dict[str, Any], code: str, status: int = 400) -> None:
        self._answers[(operation, _key(params))] = (status, {"Error": {"Code": code, "Message": code}})

    def count(self, operation: str) -> int:
        return sum(1 for name, _ in self.calls if name == operation)

    def _remember_params(self, model: Any, params: dict[str, Any], context: dict[str, Any], **_: Any) -> None:
        context["model_stub_params"] = copy.deepcopy(params)

    def _answer(
        self, model: Any, context: dict[str, Any], **_: Any
    ) -> tuple[AWSResponse, dict[str, Any]] | None:
        params = context["model_stub_params"]
        with self._lock:
            self.calls.append((model.name, params))
        answer = self._answers.get((model.name, _key(params)))
        if answer is None and self._passthrough:
            return None
        if answer is None:
            raise AssertionError(f"unexpected call {model.name}({params})")
        status, body = answer
        return AWSResponse("https://stub.invalid", status, {}, None), copy.deepcopy(body)


def _key(params: dict[str, Any]) -> str:
    return json.dumps(params, sort_keys=True, default=str)
