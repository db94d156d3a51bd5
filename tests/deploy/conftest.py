"""A deployment as docs/deploy.md describes it, on this machine: web replicas and workers as real
processes on one PostgreSQL database, AWS (moto) behind a proxy the test can hold, and real receivers."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from sqlalchemy import text

from mission_control.db.database import Database
from tests.conftest import keep


@dataclass
class HoldingProxy:
    """Forwards every request to `target`; once held, requests after the next `passing` wait (an
    AWS stall in the middle of a run) until released."""

    target: str
    url: str = ""
    flowing: threading.Event = field(default_factory=threading.Event)
    passing: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def hold(self, *, after: int = 0) -> None:
        with self.lock:
            self.passing = after
            self.flowing.clear()

    def release(self) -> None:
        self.flowing.set()

    def admit(self) -> None:
        with self.lock:
            if self.passing > 0:
                self.passing -= 1
                return
        self.flowing.wait(timeout=120)


@pytest.fixture(scope="module")
def holding_proxy(demo_estate) -> Iterator[HoldingProxy]:  # type: ignore[no-untyped-def]
    proxy = HoldingProxy(demo_estate.server.endpoint_url)
    proxy.release()

    class Forward(BaseHTTPRequestHandler):
        def _forward(self) -> None:
            proxy.admit()
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            request = urllib.request.Request(
                proxy.target + self.path, data=body or None, method=self.command,
                headers={k: v for k, v in self.headers.items() if k.lower() not in ("host", "content-length")},
            )  # fmt: skip
            try:
                with urllib.request.urlopen(request, timeout=60) as answer:
                    status, headers, payload = answer.status, answer.getheaders(), answer.read()
            except urllib.error.HTTPError as refused:
                status, headers, payload = refused.code, refused.headers.items(), refused.read()
            self.send_response(status)
            for key, value in headers:
                if key.lower() not in ("transfer-encoding", "connection", "content-length"):
                    self.send_header(key, value)
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = _forward

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Forward)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    proxy.url = f"http://127.0.0.1:{server.server_address[1]}"
    yield proxy
    proxy.release()
    server.shutdown()
    server.server_close()


@dataclass
class WorkerProcess:
    """`mission-control worker` as a real process."""

    env: dict[str, str]
    config: Path
    process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "mission_control", "worker", "--config", str(self.config), "--concurrency", "2"],
            env=self.env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
        )  # fmt: skip

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    def kill(self) -> None:
        assert self.process is not None
        self.process.kill()
        self.process.wait(timeout=15)

    def stop(self) -> None:
        if self.process is None:
            return
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        if self.process.stderr:
            keep(self.process.stderr.read().decode(errors="replace"))
            self.process.stderr.close()


def wait_for_workers(database: Database, count: int, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while True:
        with database.read() as session:
            seen = session.scalar(text("SELECT count(*) FROM procrastinate_workers"))
        if seen >= count:
            return
        assert time.monotonic() < deadline, f"{seen} of {count} workers registered"
        time.sleep(0.2)


def process_env(database_url: str, config: Path, aws_endpoint: str, **extra: str) -> dict[str, str]:
    """What every process of the deployment is started with (the same file, the same database)."""
    base = {name: value for name, value in os.environ.items() if not name.startswith(("AWS_", "MC_"))}
    return (
        base
        | {
            "MC_DATABASE_URL": database_url,
            "MC_CONFIG": str(config),
            "MC_TICK_SECONDS": "1",
            "MC_WORKER_STALLED_SECONDS": "10",  # a loaded machine delays beats: never a false stall
            "AWS_ENDPOINT_URL": aws_endpoint,
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_DEFAULT_REGION": "us-east-1",
        }
        | extra
    )


class EventStream:
    """A browser's live-update stream of one environment, read in a thread: the events it got."""

    def __init__(self, url: str, token: str) -> None:
        import json

        import httpx

        self.events: list[tuple[str, dict[str, object]]] = []
        self._stop = threading.Event()

        def read() -> None:
            headers = {"Authorization": f"Bearer {token}"}
            with (
                httpx.Client(timeout=httpx.Timeout(5, read=None)) as client,
                client.stream("GET", url, headers=headers) as response,
            ):
                kind = ""
                for line in response.iter_lines():
                    if self._stop.is_set():
                        return
                    if line.startswith("event: "):
                        kind = line[7:]
                    elif line.startswith("data: "):
                        self.events.append((kind, json.loads(line[6:])))

        self._thread = threading.Thread(target=read, daemon=True)
        self._thread.start()

    def progress(self, action: str) -> list[dict[str, object]]:
        return [
            data for kind, data in list(self.events) if kind == "progress" and data.get("action") == action
        ]

    def close(self) -> None:
        self._stop.set()
