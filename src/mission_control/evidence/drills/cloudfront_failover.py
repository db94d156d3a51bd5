"""Drill cloudfront-failover: a guided origin-failover test, with each step timed.

The drill checks what it can itself: both origins answer their health URL (`origin_health_urls`, the
primary's first) before the test, the primary really stops answering once the operator has taken it
down, and both answer again at the end. What only a person can see (CloudFront serving from the
secondary origin, then from the primary again) the operator confirms by pressing Enter, or types what
went wrong. Confirmations are lines read from standard input, so a game day can also be scripted by
piping them in; with no line to read the drill fails: it needs an interactive terminal.
Prompts go to standard error, so `--format json` keeps standard output clean.
"""

from __future__ import annotations

import sys
import time

import httpx

from mission_control.evidence.drills.record import DrillFailed, DrillRecorder
from mission_control.evidence.drills.registry import drill
from mission_control.verification.aws import AwsClients
from mission_control.verification.config import EnvironmentConfig

REQUEST_TIMEOUT_SECONDS = 10.0
CONFIRMATIONS = {"", "y", "yes", "ok", "done"}


@drill("cloudfront-failover", item_id="cloudfront.failover-test", writes=False, guided=True)
def cloudfront_failover(recorder: DrillRecorder, config: EnvironmentConfig, clients: AwsClients) -> None:
    with recorder.step("precondition: both origins answer their health URL"):
        if len(config.origin_health_urls) < 2:
            raise DrillFailed(
                f"not configured: set origin_health_urls in [environments.{config.name}] to the primary "
                "origin's health URL, then the secondary's"
            )
        problems = [problem for url in config.origin_health_urls if (problem := origin_problem(url))]
        if problems:
            raise DrillFailed("; ".join(problems))
    primary = config.origin_health_urls[0]
    outage_restored = False

    def check_primary_is_back() -> None:
        if not outage_restored and (problem := origin_problem(primary)):
            raise DrillFailed(f"the primary origin is still down ({problem}): restore it now")

    with recorder.step("simulate the primary origin's outage"):
        recorder.on_cleanup("check the primary origin is back", check_primary_is_back)
        _confirm(
            f"Take the primary origin down (stop it, or make it answer 503) so that {primary} fails. "
            "Press Enter once it is down"
        )
        if origin_problem(primary) is None:
            raise DrillFailed(f"{primary} still answers: the outage is not in effect")
    outage_began = time.monotonic()
    with recorder.step("confirm CloudFront serves from the secondary origin"):
        _confirm(
            "Request the site through CloudFront (its distribution's domain) and check the answer comes "
            "from the secondary origin. Press Enter if it does, or type what you saw"
        )
        recorder.measure("failover_confirmed_after_seconds", round(time.monotonic() - outage_began, 1))
    with recorder.step("restore the primary origin"):
        _confirm("Bring the primary origin back. Press Enter once it is up")
    with recorder.step("check both origins answer again"):
        problems = [problem for url in config.origin_health_urls if (problem := origin_problem(url))]
        if problems:
            raise DrillFailed("; ".join(problems))
        outage_restored = True
        recorder.measure("outage_seconds", round(time.monotonic() - outage_began, 1))
    with recorder.step("confirm CloudFront serves from the primary origin again"):
        _confirm(
            "Request the site through CloudFront again and check the answer comes from the primary origin. "
            "Press Enter if it does, or type what you saw"
        )


def origin_problem(url: str) -> str | None:
    """Why `url` does not answer with a 2xx, or None when it does."""
    try:
        response = httpx.get(url, timeout=REQUEST_TIMEOUT_SECONDS)
    except (httpx.HTTPError, httpx.InvalidURL) as error:
        return f"{url} does not answer ({type(error).__name__}: {error})"
    if not response.is_success:
        return f"{url} answered HTTP {response.status_code}"
    return None


def _confirm(prompt: str) -> None:
    """Read the operator's confirmation: an empty line or yes confirms, anything else is what went wrong."""
    sys.stderr.write(f"\n{prompt}: ")
    sys.stderr.flush()
    line = sys.stdin.readline()
    if not line:
        raise DrillFailed(
            "this guided drill needs an interactive terminal (or one confirmation line per step on "
            "standard input), and standard input has ended"
        )
    answer = line.strip()
    if answer.lower() not in CONFIRMATIONS:
        raise DrillFailed(f"the operator reported: {answer}")
