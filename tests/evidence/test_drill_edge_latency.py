"""Drill edge-latency against a real HTTP server on 127.0.0.1: fast, slow, broken and absent URLs."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from typer.testing import CliRunner

from mission_control.cli import app
from mission_control.evidence.drills.edge_latency import latency_summary
from tests.conftest import free_port

SLOW_SECONDS = 0.15


class _Edge(BaseHTTPRequestHandler):
    """/fast answers at once, /slow after SLOW_SECONDS (the server's own delay), /broken with 503."""

    def do_GET(self) -> None:
        if self.path == "/slow":
            time.sleep(SLOW_SECONDS)
        status = 503 if self.path == "/broken" else 200
        body = b"ok"
        self.send_response(status)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def edge() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Edge)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()
    thread.join()


def run_drill(tmp_path: Path, *settings: str) -> tuple[int, dict]:
    config = tmp_path / "mission-control.toml"
    config.write_text(
        "[environments.production]\n"
        'primary_region = "us-east-1"\nsecondary_region = "ap-southeast-1"\n' + "\n".join(settings) + "\n",
        encoding="utf-8",
    )
    result = CliRunner().invoke(
        app, ["drill", "edge-latency", "--config", str(config), "--format", "json"], catch_exceptions=False
    )
    return result.exit_code, json.loads(result.stdout)


def test_fast_urls_pass_with_cold_and_warm_latencies_measured(edge: str, tmp_path: Path) -> None:
    exit_code, record = run_drill(
        tmp_path, f'edge_latency_urls = ["{edge}/fast", "{edge}/fast?again"]', "edge_latency_requests = 5"
    )
    assert (exit_code, record["outcome"]) == (0, "passed")
    assert [step["name"] for step in record["steps"]] == [
        "check the configuration",
        f"measure {edge}/fast",
        f"measure {edge}/fast?again",
    ]
    summary = record["measurements"][f"{edge}/fast"]
    assert summary["requests"] == 5
    assert set(summary) == {"requests", "cold_ms", "p50_ms", "p95_ms", "max_ms"}
    assert 0 < summary["p50_ms"] <= summary["p95_ms"] <= summary["max_ms"] < 1000


def test_a_slow_url_fails_naming_the_threshold_it_exceeded(edge: str, tmp_path: Path) -> None:
    exit_code, record = run_drill(
        tmp_path,
        f'edge_latency_urls = ["{edge}/fast", "{edge}/slow"]',
        "edge_latency_requests = 3",
        f"edge_latency_p95_ms = {int(SLOW_SECONDS * 1000) - 50}",
        "edge_latency_cold_ms = 5000",
    )
    assert (exit_code, record["outcome"]) == (1, "failed")
    fast, slow = record["steps"][1:]
    assert fast["ok"] is True
    assert slow["ok"] is False
    assert slow["detail"].startswith(f"{edge}/slow: p95 ")
    assert "is over edge_latency_p95_ms = 100" in slow["detail"]
    assert "cold" not in slow["detail"]
    assert record["measurements"][f"{edge}/slow"]["p95_ms"] >= SLOW_SECONDS * 1000


def test_a_slow_first_request_fails_the_cold_threshold(edge: str, tmp_path: Path) -> None:
    exit_code, record = run_drill(
        tmp_path,
        f'edge_latency_urls = ["{edge}/slow"]',
        "edge_latency_requests = 2",
        "edge_latency_cold_ms = 100",
    )
    assert exit_code == 1
    assert "cold " in record["steps"][1]["detail"]
    assert "is over edge_latency_cold_ms = 100" in record["steps"][1]["detail"]


def test_a_url_answering_5xx_fails_the_drill(edge: str, tmp_path: Path) -> None:
    exit_code, record = run_drill(
        tmp_path, f'edge_latency_urls = ["{edge}/broken"]', "edge_latency_requests = 3"
    )
    assert (exit_code, record["outcome"]) == (1, "failed")
    assert record["steps"][1]["detail"] == f"{edge}/broken: request 1 of 3 answered HTTP 503"
    assert record["measurements"] == {}


def test_an_unreachable_url_fails_saying_it_cannot_connect(edge: str, tmp_path: Path) -> None:
    closed = f"http://127.0.0.1:{free_port()}/"
    exit_code, record = run_drill(tmp_path, f'edge_latency_urls = ["{closed}", "{edge}/fast"]')
    assert (exit_code, record["outcome"]) == (1, "failed")
    unreachable, reachable = record["steps"][1:]
    assert unreachable["detail"].startswith(f"{closed}: request 1 of 20: cannot connect (")
    assert reachable["ok"] is True, "one failing URL does not stop the others being measured"


def test_without_urls_the_drill_fails_saying_what_to_configure(tmp_path: Path) -> None:
    exit_code, record = run_drill(tmp_path)
    assert exit_code == 1
    assert (
        record["steps"][0]["detail"] == "not configured: set edge_latency_urls in [environments.production]"
    )


def test_a_single_request_is_refused_since_it_leaves_no_warm_latencies(edge: str, tmp_path: Path) -> None:
    exit_code, record = run_drill(
        tmp_path, f'edge_latency_urls = ["{edge}/fast"]', "edge_latency_requests = 1"
    )
    assert exit_code == 1
    assert record["steps"][0]["detail"].startswith("edge_latency_requests is 1: set it to at least 2")


def test_the_summary_keeps_the_cold_request_out_of_the_percentiles() -> None:
    summary = latency_summary([900.0, *[float(ms) for ms in range(1, 21)]])
    assert summary == {"requests": 21, "cold_ms": 900.0, "p50_ms": 10.0, "p95_ms": 19.0, "max_ms": 20.0}


def test_the_drill_needs_no_aws_permissions() -> None:
    from mission_control.evidence.drills.registry import DRILLS, load_all

    load_all()
    assert DRILLS["edge-latency"].actions == ()
    assert DRILLS["edge-latency"].writes is False
    assert DRILLS["edge-latency"].guided is False, "the dashboard may start it"
