"""The CLI's errors: one line (plus a --debug hint when unexpected), exit 2, and databases disposed."""

from __future__ import annotations

import subprocess
import sys

import psycopg
import pytest
from sqlalchemy.exc import ArgumentError
from typer.testing import CliRunner

from mission_control.cli import app

runner = CliRunner()


def test_an_unexpected_error_is_one_line_and_a_hint_to_use_debug(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MC_DATABASE_URL", "nonsense")
    result = runner.invoke(app, ["status"])
    assert result.exit_code == 2
    assert result.stderr.splitlines() == [
        "error: ArgumentError: Could not parse SQLAlchemy URL from given URL string",
        "hint: run `mission-control --debug status ...` to see the traceback",
    ]


def test_debug_lets_the_traceback_through(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MC_DATABASE_URL", "nonsense")
    result = runner.invoke(app, ["--debug", "status"])
    assert isinstance(result.exception, ArgumentError)


def test_a_bad_setting_is_one_line_naming_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MC_LOG_FORMAT", "xml")
    result = runner.invoke(app, ["status"])
    assert (result.exit_code, result.stderr) == (2, "error: MC_LOG_FORMAT='xml' is not one of text, json\n")


def test_the_demo_without_moto_says_how_to_install_it() -> None:
    """A production install has no moto: `sys.modules["moto"] = None` makes this process one."""
    script = 'import sys; sys.modules["moto"] = None; from mission_control.cli import app; app(["demo"])'
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    assert result.returncode == 2
    assert result.stderr == (
        "error: the demo runs an embedded moto server, which this install lacks: "
        "pip install 'mission-control[demo]' (`make run` does)\n"
    )


@pytest.mark.postgres
def test_every_command_disposes_of_its_database(
    postgres_server: str, empty_postgres_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MC_DATABASE_URL", empty_postgres_url)
    for args in (["env", "add", "staging"], ["status", "--env", "staging"], ["env", "add", "staging"]):
        runner.invoke(app, args)
    with psycopg.connect(postgres_server) as admin:
        [(connections,)] = admin.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = %s",
            (empty_postgres_url.rsplit("/", 1)[1],),
        ).fetchall()
    assert connections == 0
