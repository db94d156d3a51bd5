"""One logging configuration from Settings, and the check that no planted secret reaches a log."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from mission_control.logs import configure
from mission_control.settings import Settings, SettingsError
from tests.conftest import REPO
from tests.secrets_in_logs import leaks, plant


@pytest.fixture
def root_logger() -> Iterator[logging.Logger]:
    """The root logger, given back with its handlers and levels as they were."""
    root, ours = logging.getLogger(), logging.getLogger("mission_control")
    handlers, levels = root.handlers[:], (root.level, ours.level)
    yield root
    root.handlers[:] = handlers
    root.setLevel(levels[0])
    ours.setLevel(levels[1])


def test_json_logs_are_one_object_per_line_with_the_traceback(
    root_logger: logging.Logger, capsys: pytest.CaptureFixture[str]
) -> None:
    configure(Settings(database_url="sqlite://", log_level="WARNING", log_format="json"))
    logger = logging.getLogger("mission_control.example")
    logger.info("below the level")
    try:
        {}["missing"]
    except KeyError:
        logger.exception("collector %s failed", "route53")
    [line] = capsys.readouterr().err.splitlines()
    entry = json.loads(line)
    assert (entry["level"], entry["logger"], entry["message"]) == (
        "ERROR",
        "mission_control.example",
        "collector route53 failed",
    )
    assert entry["traceback"].endswith("KeyError: 'missing'")


def test_text_logs_name_level_and_logger(
    root_logger: logging.Logger, capsys: pytest.CaptureFixture[str]
) -> None:
    configure(Settings(database_url="sqlite://"))
    logging.getLogger("mission_control.example").info("verification of production started")
    assert (
        capsys.readouterr()
        .err.rstrip()
        .endswith("INFO mission_control.example: verification of production started")
    )


@pytest.mark.parametrize(
    ("variable", "value", "message"),
    [
        ("MC_LOG_LEVEL", "loud", "MC_LOG_LEVEL='LOUD' is not one of DEBUG, INFO, WARNING, ERROR"),
        ("MC_LOG_FORMAT", "xml", "MC_LOG_FORMAT='xml' is not one of text, json"),
    ],
)
def test_an_unknown_log_setting_is_refused_naming_the_variable(
    monkeypatch: pytest.MonkeyPatch, variable: str, value: str, message: str
) -> None:
    monkeypatch.setenv(variable, value)
    with pytest.raises(SettingsError, match=message):
        Settings.from_env()


def test_log_settings_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MC_LOG_LEVEL", "debug")
    monkeypatch.setenv("MC_LOG_FORMAT", "JSON")
    settings = Settings.from_env()
    assert (settings.log_level, settings.log_format) == ("DEBUG", "json")


def test_the_secret_check_finds_a_planted_secret_anywhere_in_a_record() -> None:
    secret = plant("planted-but-never-logged-0f3a")
    texts = ["mission_control.identity sign-in failed for ana", f"Traceback ... ValueError: {secret}!"]
    assert leaks(texts, {secret}) == [(secret, texts[1])]
    assert leaks(texts[:1], {secret}) == []


LEAKING_TEST = """
import logging
from tests.secrets_in_logs import plant

def test_leaks_on_a_worker():
    logging.getLogger("mission_control.example").warning("password was %s", plant("hunter2-planted-on-a-worker"))
"""


@pytest.mark.parametrize("workers", [[], ["-n", "2"]], ids=["one-process", "xdist-workers"])
def test_a_run_fails_when_a_test_logs_a_planted_secret(tmp_path: Path, workers: list[str]) -> None:
    """The check holds under pytest-xdist too, where each worker's logs live in its own process."""
    (tmp_path / "test_leak.py").write_text(LEAKING_TEST)
    finished = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "tests.secrets_in_logs",
         *workers, str(tmp_path / "test_leak.py")],
        cwd=tmp_path, env=os.environ | {"PYTHONPATH": str(REPO)}, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert "1 passed" in finished.stdout
    assert "SECRET IN LOG: hunt… in: mission_control.example password was hunter2" in finished.stdout
    assert finished.returncode == pytest.ExitCode.TESTS_FAILED
