"""Idle and half-sent connections cannot exhaust the real server's file handles.

`mission-control serve` runs as its own process with a 256-handle limit, a cap of 100 connections
and a 2 s header deadline; the test holds 300 raw sockets open against it, half of them silent and
half stopped in the middle of their request headers.
"""

from __future__ import annotations

import resource
import socket
import time
from collections.abc import Iterator

import pytest

from tests.conftest import ServerProcess, free_port

HANDLES = 256
MAX_CONNECTIONS = 100
HEADER_TIMEOUT = 2
HOSTILE_CONNECTIONS = 300
FULL_REQUEST = b"GET /login HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
HALF_REQUEST = b"GET /login HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: "


@pytest.fixture
def bounded_server(sqlite_url: str) -> Iterator[ServerProcess]:
    """Only SQLite: connections are the HTTP server's business, the same on both engines."""
    options = ("--max-connections", str(MAX_CONNECTIONS), "--header-timeout", str(HEADER_TIMEOUT))
    running = ServerProcess(sqlite_url, free_port(), options=options)
    running.start()
    assert running.process is not None
    resource.prlimit(running.process.pid, resource.RLIMIT_NOFILE, (HANDLES, HANDLES))
    yield running
    running.stop()


def answer(connection: socket.socket, *, within: float) -> bytes:
    """Everything the server sends until it closes the connection; b"" if it never answers."""
    connection.settimeout(within)
    received = b""
    try:
        while chunk := connection.recv(65536):
            received += chunk
    except ConnectionResetError:
        pass  # the server closed after answering; what it sent first was read
    except TimeoutError:
        return b""
    return received


def ask(port: int, *, within: float = 15) -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=within) as connection:
        connection.sendall(FULL_REQUEST)
        return answer(connection, within=within)


def status(response: bytes) -> int | None:
    return int(response.split(b" ", 2)[1]) if response.startswith(b"HTTP/1.1 ") else None


def test_300_idle_and_half_sent_connections_do_not_exhaust_a_256_handle_server(
    bounded_server: ServerProcess,
) -> None:
    hostile = []
    for index in range(HOSTILE_CONNECTIONS):
        connection = socket.create_connection(("127.0.0.1", bounded_server.port), timeout=10)
        if index % 2:
            connection.sendall(HALF_REQUEST)
        hostile.append(connection)
    try:
        newcomer = ask(bounded_server.port)
        assert status(newcomer) in (200, 503), newcomer[:200]
        if status(newcomer) == 503:
            assert b"server busy: it serves at most 100 connections at once" in newcomer

        deadline = time.monotonic() + 30
        answers = [answer(connection, within=max(0.1, deadline - time.monotonic())) for connection in hostile]
    finally:
        for connection in hostile:
            connection.close()

    statuses = [status(response) for response in answers]
    assert statuses.count(None) == 0, "some connections were never answered nor closed"
    assert statuses.count(408) < MAX_CONNECTIONS  # held up to the cap, then timed out
    assert statuses.count(503) > HOSTILE_CONNECTIONS - MAX_CONNECTIONS  # over the cap: answered at once
    assert set(statuses) == {408, 503}
    assert b"request headers not received within 2 s" in answers[statuses.index(408)]
    assert b"Retry-After: 5" in answers[statuses.index(503)]
    assert status(ask(bounded_server.port)) == 200  # the hostile ones are gone: full service again
