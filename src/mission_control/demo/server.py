"""The demo's embedded AWS: a moto server on localhost, in a thread of this process."""

from __future__ import annotations

import urllib.request
from types import TracebackType

from moto.moto_server.werkzeug_app import DomainDispatcherApplication, MotoRequestHandler, create_backend_app
from moto.server import ThreadedMotoServer
from werkzeug.serving import make_server

from mission_control.demo.moto_extensions import AwsParityLayer


class _QuietRequestHandler(MotoRequestHandler):
    """Keep the dashboard's terminal readable: no access-log line per AWS call (errors still log)."""

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        pass


class _ExtendedMotoServer(ThreadedMotoServer):
    """moto's threaded server with `AwsParityLayer` in front, reporting a failed bind instead of hanging."""

    startup_error: OSError | None = None

    def _server_entry(self) -> None:
        try:
            self._server = make_server(
                self._ip_address,
                self._port,
                AwsParityLayer(DomainDispatcherApplication(create_backend_app)),
                threaded=True,
                request_handler=_QuietRequestHandler,
            )
        except OSError as error:
            self.startup_error = error
            self._server_ready_event.set()
            return
        self._server_ready_event.set()
        self._server.serve_forever()


class MotoServer:
    """A running moto server; `stop()` it, or use it as a context manager."""

    def __init__(self, server: _ExtendedMotoServer) -> None:
        self._server = server
        host, port = server.get_host_and_port()
        self.endpoint_url = f"http://{host}:{port}"

    def stop(self) -> None:
        """Stop serving, join the server thread and close the listening socket."""
        self._server.stop()
        if self._server._server is not None:
            self._server._server.server_close()

    def __enter__(self) -> MotoServer:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self.stop()


def start_moto_server(port: int = 0) -> MotoServer:
    """Serve moto on 127.0.0.1 (`port` 0 picks a free one), starting from an empty estate.

    moto's backends are process-global, so the server resets them: every start is a fresh account.
    Raises OSError when the port cannot be bound.
    """
    server = _ExtendedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    if server.startup_error is not None:
        server._thread.join()  # type: ignore[union-attr]
        raise server.startup_error
    running = MotoServer(server)
    try:
        reset = urllib.request.Request(f"{running.endpoint_url}/moto-api/reset", method="POST")
        with urllib.request.urlopen(reset, timeout=10):
            pass
    except OSError:
        running.stop()
        raise
    return running
