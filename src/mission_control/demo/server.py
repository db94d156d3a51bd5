"""The demo's embedded AWS: a moto server on localhost, in a thread of this process."""

from __future__ import annotations

import socket
import urllib.request
from types import TracebackType

from moto.moto_server.werkzeug_app import DomainDispatcherApplication, MotoRequestHandler, create_backend_app
from moto.server import ThreadedMotoServer
from werkzeug.serving import make_server

from mission_control.demo.moto_extensions import AwsParityLayer, CognitoReplicaLayer


class _QuietRequestHandler(MotoRequestHandler):
    """Keep the dashboard's terminal readable: no access-log line per AWS call (errors still log)."""

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        pass


class _ExtendedMotoServer(ThreadedMotoServer):
    """moto's threaded server with `AwsParityLayer` in front, on a socket bound before the thread starts.

    Binding here makes a busy port an OSError for the caller; werkzeug would `sys.exit` in the thread
    and leave `start()` waiting forever.
    """

    def __init__(self, port: int) -> None:
        super().__init__(ip_address="127.0.0.1", port=port, verbose=False)
        self._listener = socket.create_server((self._ip_address, port))

    def _server_entry(self) -> None:
        try:
            self._server = make_server(
                self._ip_address,
                self._port,
                AwsParityLayer(CognitoReplicaLayer(DomainDispatcherApplication(create_backend_app))),
                threaded=True,
                request_handler=_QuietRequestHandler,
                fd=self._listener.fileno(),
            )
        finally:
            self._listener.close()  # werkzeug serves on its own duplicate of the descriptor
            self._server_ready_event.set()
        self._server.serve_forever(poll_interval=0.05)  # stop() waits at most this long

    def stop(self) -> None:
        super().stop()
        if self._server is not None:
            self._server.server_close()


class MotoServer:
    """A running moto server; `stop()` it, or use it as a context manager."""

    def __init__(self, server: _ExtendedMotoServer) -> None:
        self._server = server
        host, port = server.get_host_and_port()
        self.endpoint_url = f"http://{host}:{port}"

    def stop(self) -> None:
        """Stop serving, join the server thread and close the listening socket."""
        self._server.stop()

    def __enter__(self) -> MotoServer:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self.stop()


def start_moto_server(port: int = 0) -> MotoServer:
    """Serve moto on 127.0.0.1 (`port` 0 picks a free one), starting from an empty estate.

    moto's backends are process-global, so the server resets them: every start is a fresh account,
    and two servers in one process would share (and reset) one estate. Raises OSError when the port
    cannot be bound.
    """
    server = _ExtendedMotoServer(port)
    server.start()
    running = MotoServer(server)
    try:
        reset = urllib.request.Request(f"{running.endpoint_url}/moto-api/reset", method="POST")
        with urllib.request.urlopen(reset, timeout=10):
            pass
    except OSError:
        running.stop()
        raise
    return running
