"""The demo's own HTTP endpoints on 127.0.0.1: what the edge-latency drill times and the origin
health URLs the CloudFront failover game day watches, so every drill has something real to reach.

An origin can be taken down and brought back (`POST /origins/NAME/outage`, `DELETE` the same),
as the failover game day asks an operator to do.
"""

from __future__ import annotations

import threading
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType

ORIGINS = ("beak-use1", "beak-apse1")  # the app distribution's origin group, primary first
HEALTH_PATH = "/beak/system/status"


class _Handler(BaseHTTPRequestHandler):
    server: _EndpointServer

    def log_message(self, format: str, *args: object) -> None:
        """Quiet: the demo's terminal shows the dashboard's log only."""

    def do_GET(self) -> None:
        if self.path.startswith("/edge/"):
            self._answer(HTTPStatus.OK, "ok from the demo edge\n")
            return
        origin = self._origin(HEALTH_PATH)
        if origin is None:
            self._answer(HTTPStatus.NOT_FOUND, "no such demo endpoint\n")
        elif origin in self.server.down:
            self._answer(HTTPStatus.SERVICE_UNAVAILABLE, f"{origin} is down (a simulated outage)\n")
        else:
            self._answer(HTTPStatus.OK, f"{origin} is healthy\n")

    def do_POST(self) -> None:
        self._set_outage(down=True)

    def do_DELETE(self) -> None:
        self._set_outage(down=False)

    def _set_outage(self, *, down: bool) -> None:
        origin = self._origin("/outage")
        if origin is None:
            self._answer(HTTPStatus.NOT_FOUND, "no such demo origin\n")
            return
        (self.server.down.add if down else self.server.down.discard)(origin)
        self._answer(HTTPStatus.OK, f"{origin} is {'down' if down else 'up'}\n")

    def _origin(self, suffix: str) -> str | None:
        for origin in ORIGINS:
            if self.path == f"/origins/{origin}{suffix}":
                return origin
        return None

    def _answer(self, status: HTTPStatus, text: str) -> None:
        body = text.encode()
        self.send_response(status)
        self.send_header("Content-Type", "text/plain; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


class _EndpointServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.down: set[str] = set()


class DemoEndpoints:
    """The running endpoints; `stop()` them, or use them as a context manager."""

    def __init__(self) -> None:
        self._server = _EndpointServer()
        host, port = self._server.server_address[:2]
        self.base_url = f"http://{host}:{port}"
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name="demo-endpoints",
            daemon=True,
        )
        self._thread.start()

    @property
    def edge_latency_urls(self) -> tuple[str, ...]:
        return (f"{self.base_url}/edge/beak/system/status", f"{self.base_url}/edge/assets/app.js")

    @property
    def origin_health_urls(self) -> tuple[str, ...]:
        return tuple(f"{self.base_url}/origins/{origin}{HEALTH_PATH}" for origin in ORIGINS)

    def outage_url(self, origin: str = ORIGINS[0]) -> str:
        return f"{self.base_url}/origins/{origin}/outage"

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join()

    def __enter__(self) -> DemoEndpoints:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self.stop()
