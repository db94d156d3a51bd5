"""Findings tests run `verify` against the demo estate on moto's HTTP server, into a real SQLite file."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from mission_control.cli import app
from mission_control.demo.estate import demo_config_toml
from tests.conftest import DemoEstate

runner = CliRunner()


@pytest.fixture
def config_file(demo_aws: DemoEstate, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("MC_DATABASE_URL", f"sqlite:///{tmp_path / 'findings.db'}")
    path = tmp_path / "mission-control.toml"
    path.write_text(demo_config_toml(demo_aws.config), encoding="utf-8")
    return path


def invoke(*args: str):
    return runner.invoke(app, list(args))
