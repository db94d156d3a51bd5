"""The guided cloudfront-failover drill against two real origin servers on 127.0.0.1.

A scripted operator stands in for the person at the terminal: each confirmation line it gives first
does what the operator would have done (take the primary origin down, bring it back).
"""

from __future__ import annotations

import json
import sys
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from typer.testing import CliRunner

from mission_control.cli import app
from mission_control.evidence.drills.record import DrillRecord, DrillRecorder, Outcome
from mission_control.evidence.drills.registry import DRILLS, load_all
from mission_control.verification.aws import AwsClients
from mission_control.verification.config import EnvironmentConfig
from tests.conftest import free_port


class _OriginServer(ThreadingHTTPServer):
    healthy = True


class _Health(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        assert isinstance(self.server, _OriginServer)
        self.send_response(200 if self.server.healthy else 503)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: object) -> None:
        pass


@dataclass
class Origin:
    server: _OriginServer

    @property
    def health_url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/beak/system/status"

    def go_down(self) -> None:
        self.server.healthy = False

    def come_back(self) -> None:
        self.server.healthy = True


@pytest.fixture
def origins() -> Iterator[tuple[Origin, Origin]]:
    servers = [_OriginServer(("127.0.0.1", 0), _Health) for _ in range(2)]
    threads = [threading.Thread(target=server.serve_forever, daemon=True) for server in servers]
    for thread in threads:
        thread.start()
    yield Origin(servers[0]), Origin(servers[1])
    for server, thread in zip(servers, threads, strict=True):
        server.shutdown()
        server.server_close()
        thread.join()


class ScriptedOperator:
    """Standard input whose every line is preceded by the operator's action."""

    def __init__(self, *script: tuple[Callable[[], None] | None, str]) -> None:
        self._script = list(script)

    def readline(self) -> str:
        if not self._script:
            return ""
        action, line = self._script.pop(0)
        if action is not None:
            action()
        return f"{line}\n"


def config_for(*urls: str) -> EnvironmentConfig:
    return EnvironmentConfig("production", "us-east-1", "ap-southeast-1", origin_health_urls=urls)


def run_with(
    operator: ScriptedOperator, config: EnvironmentConfig, monkeypatch: pytest.MonkeyPatch
) -> DrillRecord:
    monkeypatch.setattr(sys, "stdin", operator)
    load_all()
    recorder = DrillRecorder("cloudfront-failover", config.name, "cloudfront.failover-test")
    return recorder.run(lambda recording: DRILLS["cloudfront-failover"].body(recording, config, AwsClients()))


def test_the_guided_failover_passes_with_each_step_timed(
    origins: tuple[Origin, Origin], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    primary, secondary = origins
    operator = ScriptedOperator((primary.go_down, ""), (None, "yes"), (primary.come_back, ""), (None, "y"))
    record = run_with(operator, config_for(primary.health_url, secondary.health_url), monkeypatch)
    assert record.outcome is Outcome.PASSED
    assert [(step.name, step.ok) for step in record.steps] == [
        ("precondition: both origins answer their health URL", True),
        ("simulate the primary origin's outage", True),
        ("confirm CloudFront serves from the secondary origin", True),
        ("restore the primary origin", True),
        ("check both origins answer again", True),
        ("confirm CloudFront serves from the primary origin again", True),
        ("clean up: check the primary origin is back", True),
    ]
    assert all(step.seconds is not None and step.finished_at is not None for step in record.steps)
    assert set(record.measurements) == {"failover_confirmed_after_seconds", "outage_seconds"}
    assert (
        0 <= record.measurements["failover_confirmed_after_seconds"] <= record.measurements["outage_seconds"]
    )
    prompts = capsys.readouterr()
    assert prompts.out == ""
    assert prompts.err.count("Press Enter") == 4


def test_without_a_terminal_or_piped_confirmations_the_drill_fails_clearly(
    origins: tuple[Origin, Origin], tmp_path: Path
) -> None:
    primary, secondary = origins
    path = tmp_path / "mission-control.toml"
    path.write_text(
        "[environments.production]\n"
        'primary_region = "us-east-1"\nsecondary_region = "ap-southeast-1"\n'
        f'origin_health_urls = ["{primary.health_url}", "{secondary.health_url}"]\n',
        encoding="utf-8",
    )
    result = CliRunner().invoke(
        app, ["drill", "cloudfront-failover", "--config", str(path), "--format", "json"], input=""
    )
    assert result.exit_code == 1
    record = json.loads(result.stdout)
    outage = record["steps"][1]
    assert outage["name"] == "simulate the primary origin's outage"
    assert outage["detail"].startswith("this guided drill needs an interactive terminal")
    assert "Take the primary origin down" in result.stderr


def test_a_down_origin_fails_the_precondition_before_any_prompt(
    origins: tuple[Origin, Origin], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    primary, secondary = origins
    secondary.go_down()
    record = run_with(ScriptedOperator(), config_for(primary.health_url, secondary.health_url), monkeypatch)
    assert record.outcome is Outcome.FAILED
    assert [step.name for step in record.steps] == ["precondition: both origins answer their health URL"]
    assert record.steps[0].detail == f"{secondary.health_url} answered HTTP 503"
    assert capsys.readouterr().err == ""


def test_an_outage_that_is_not_in_effect_fails_the_drill(
    origins: tuple[Origin, Origin], monkeypatch: pytest.MonkeyPatch
) -> None:
    primary, secondary = origins
    record = run_with(
        ScriptedOperator((None, "")), config_for(primary.health_url, secondary.health_url), monkeypatch
    )
    assert record.outcome is Outcome.FAILED
    assert record.steps[1].detail == f"{primary.health_url} still answers: the outage is not in effect"


def test_a_reported_problem_fails_the_drill_and_a_down_primary_is_flagged_at_cleanup(
    origins: tuple[Origin, Origin], monkeypatch: pytest.MonkeyPatch
) -> None:
    primary, secondary = origins
    operator = ScriptedOperator((primary.go_down, ""), (None, "CloudFront answered 502"))
    record = run_with(operator, config_for(primary.health_url, secondary.health_url), monkeypatch)
    assert record.outcome is Outcome.FAILED
    confirm, cleanup = record.steps[-2:]
    assert confirm.detail == "the operator reported: CloudFront answered 502"
    assert cleanup.name == "clean up: check the primary origin is back"
    assert cleanup.detail == (
        f"the primary origin is still down ({primary.health_url} answered HTTP 503): restore it now"
    )


def test_a_primary_that_does_not_come_back_fails_the_recovery_check(
    origins: tuple[Origin, Origin], monkeypatch: pytest.MonkeyPatch
) -> None:
    primary, secondary = origins
    operator = ScriptedOperator((primary.go_down, ""), (None, ""), (None, ""))
    record = run_with(operator, config_for(primary.health_url, secondary.health_url), monkeypatch)
    assert record.outcome is Outcome.FAILED
    recovery = next(step for step in record.steps if step.name == "check both origins answer again")
    assert recovery.detail == f"{primary.health_url} answered HTTP 503"


def test_an_unreachable_origin_is_named_in_the_precondition(
    origins: tuple[Origin, Origin], monkeypatch: pytest.MonkeyPatch
) -> None:
    primary, _ = origins
    missing = f"http://127.0.0.1:{free_port()}/health"
    record = run_with(ScriptedOperator(), config_for(primary.health_url, missing), monkeypatch)
    assert record.steps[0].detail.startswith(f"{missing} does not answer (ConnectError: ")


@pytest.mark.parametrize("urls", [(), ("http://127.0.0.1:9/only-one",)])
def test_fewer_than_two_origins_is_a_configuration_problem(
    urls: tuple[str, ...], monkeypatch: pytest.MonkeyPatch
) -> None:
    record = run_with(ScriptedOperator(), config_for(*urls), monkeypatch)
    assert record.outcome is Outcome.FAILED
    assert record.steps[0].detail.startswith(
        "not configured: set origin_health_urls in [environments.production]"
    )


def test_the_drill_is_guided_proves_its_item_and_needs_no_aws_permissions() -> None:
    load_all()
    chosen = DRILLS["cloudfront-failover"]
    assert (chosen.item_id, chosen.guided, chosen.writes, chosen.actions) == (
        "cloudfront.failover-test",
        True,
        False,
        (),
    )
