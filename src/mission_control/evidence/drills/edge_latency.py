"""Drill edge-latency: how fast the edge answers, cold and warm, against the environment's thresholds.

Each URL gets `edge_latency_requests` GETs on one fresh connection. The first pays for DNS, TCP, TLS
and, at the edge, a possible Lambda@Edge cold start, so it is measured apart as the cold latency; the
others reuse the connection and give p50, p95 and max. A URL that answers 400 or above, or not at
all, fails: its latencies would measure an error page or nothing. Redirects are not followed.
"""

from __future__ import annotations

import math
import time

import httpx

from mission_control.evidence.drills.record import DrillFailed, DrillRecorder
from mission_control.evidence.drills.registry import drill
from mission_control.verification.aws import AwsClients
from mission_control.verification.config import EnvironmentConfig

REQUEST_TIMEOUT_SECONDS = 10.0


@drill("edge-latency", item_id="edge.latency", writes=False)
def edge_latency(recorder: DrillRecorder, config: EnvironmentConfig, clients: AwsClients) -> None:
    with recorder.step("check the configuration"):
        if not config.edge_latency_urls:
            raise DrillFailed(f"not configured: set edge_latency_urls in [environments.{config.name}]")
        if config.edge_latency_requests < 2:
            raise DrillFailed(
                f"edge_latency_requests is {config.edge_latency_requests}: set it to at least 2 "
                "(the first request is the cold one, the others give the percentiles)"
            )
    failing = []
    for url in config.edge_latency_urls:
        try:
            with recorder.step(f"measure {url}"):
                latencies = _timed_requests(url, config.edge_latency_requests)
                summary = latency_summary(latencies)
                recorder.measure(url, summary)
                _check_thresholds(url, summary, config)
        except DrillFailed:
            failing.append(url)
    if failing:
        raise DrillFailed(
            f"{len(failing)} of {len(config.edge_latency_urls)} URLs failed: {', '.join(failing)}"
        )


def _timed_requests(url: str, count: int) -> list[float]:
    """Milliseconds each of `count` GETs took, on one connection; DrillFailed at the first failed one."""
    latencies: list[float] = []
    with httpx.Client(timeout=REQUEST_TIMEOUT_SECONDS) as client:
        for number in range(1, count + 1):
            started = time.perf_counter()
            try:
                response = client.get(url)
            except (httpx.HTTPError, httpx.InvalidURL) as error:
                raise DrillFailed(f"{url}: request {number} of {count}: {_no_answer(error)}") from error
            latencies.append((time.perf_counter() - started) * 1000)
            if response.status_code >= 400:
                raise DrillFailed(f"{url}: request {number} of {count} answered HTTP {response.status_code}")
    return latencies


def latency_summary(latencies: list[float]) -> dict[str, float | int]:
    """The first latency as `cold_ms`; nearest-rank p50/p95 and the max of the rest (at least one)."""
    cold, warm = latencies[0], sorted(latencies[1:])
    return {
        "requests": len(latencies),
        "cold_ms": round(cold, 1),
        "p50_ms": round(_percentile(warm, 50), 1),
        "p95_ms": round(_percentile(warm, 95), 1),
        "max_ms": round(warm[-1], 1),
    }


def _percentile(ordered: list[float], percent: int) -> float:
    return ordered[max(math.ceil(percent / 100 * len(ordered)) - 1, 0)]


def _check_thresholds(url: str, summary: dict[str, float | int], config: EnvironmentConfig) -> None:
    over = [
        f"{label} {summary[key]} ms is over {setting} = {limit}"
        for label, key, setting, limit in (
            ("cold", "cold_ms", "edge_latency_cold_ms", config.edge_latency_cold_ms),
            ("p95", "p95_ms", "edge_latency_p95_ms", config.edge_latency_p95_ms),
        )
        if summary[key] > limit
    ]
    if over:
        raise DrillFailed(f"{url}: {'; '.join(over)}")


def _no_answer(error: Exception) -> str:
    if isinstance(error, httpx.TimeoutException):
        return f"no answer within {REQUEST_TIMEOUT_SECONDS:g} s ({type(error).__name__})"
    if isinstance(error, httpx.ConnectError):
        return f"cannot connect ({error})"
    return f"no answer ({type(error).__name__}: {error})"
