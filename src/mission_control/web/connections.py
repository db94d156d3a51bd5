"""Connection bounds uvicorn lacks: a deadline for request headers, and a cap that answers at once.

uvicorn times out a keep-alive connection only after a response, so a client that connects and
sends nothing, or half a request, holds a file handle for good: a few hundred of them exhausted the
process's handles. And its concurrency limit answers 503 only once a request's headers are in,
which a half-sent request never completes. This protocol (uvicorn's httptools one, extended) closes
a connection whose headers are not complete within `header_timeout` seconds with a 408, and turns a
connection over the cap away with a 503 as soon as it is accepted.
"""

from __future__ import annotations

import asyncio
from functools import partial
from typing import Any

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

KEEP_ALIVE_SECONDS = 5  # an idle connection between requests is closed after this
RETRY_AFTER_SECONDS = 5


class BoundedHttpProtocol(HttpToolsProtocol):
    """HTTP/1.1 with a header deadline and an immediate 503 over the connection cap."""

    def __init__(self, *args: Any, header_timeout: float, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.header_timeout = header_timeout
        self._header_deadline: asyncio.TimerHandle | None = None
        self._turned_away = False

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        limit = self.limit_concurrency
        if limit is not None and len(self.connections) >= limit:  # the test uvicorn applies per request
            self._turned_away = True
            self._answer_and_close(
                "503 Service Unavailable",
                f"server busy: it serves at most {limit} connections at once; retry in a few seconds",
                [f"Retry-After: {RETRY_AFTER_SECONDS}"],
            )
            return
        self._start_header_deadline()

    def data_received(self, data: bytes) -> None:
        if not self._turned_away:  # a turned-away client was answered; what it sends is not read
            super().data_received(data)

    def on_message_begin(self) -> None:
        super().on_message_begin()
        if self._header_deadline is None:  # the next request on a kept-alive connection
            self._start_header_deadline()

    def on_headers_complete(self) -> None:
        self._stop_header_deadline()
        super().on_headers_complete()

    def connection_lost(self, exc: Exception | None) -> None:
        self._stop_header_deadline()
        super().connection_lost(exc)

    def _start_header_deadline(self) -> None:
        self._header_deadline = self.loop.call_later(self.header_timeout, self._headers_too_slow)

    def _stop_header_deadline(self) -> None:
        if self._header_deadline is not None:
            self._header_deadline.cancel()
            self._header_deadline = None

    def _headers_too_slow(self) -> None:
        self._header_deadline = None
        if not self.transport.is_closing():
            self._answer_and_close(
                "408 Request Timeout", f"request headers not received within {self.header_timeout:g} s", []
            )

    def _answer_and_close(self, status: str, message: str, headers: list[str]) -> None:
        body = message.encode("utf-8") + b"\n"
        head = [
            f"HTTP/1.1 {status}",
            "Content-Type: text/plain; charset=utf-8",
            f"Content-Length: {len(body)}",
        ]
        lines = [*head, *headers, "Connection: close", "", ""]
        self.transport.write("\r\n".join(lines).encode("ascii") + body)
        self.transport.close()


def server_options(*, max_connections: int, header_timeout: float) -> dict[str, Any]:
    """uvicorn.run keyword arguments for the bounds (picklable, so `--workers` processes get them)."""
    return {
        "http": partial(BoundedHttpProtocol, header_timeout=header_timeout),
        "limit_concurrency": max_connections,
        "timeout_keep_alive": KEEP_ALIVE_SECONDS,
    }
