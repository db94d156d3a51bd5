"""The evidence commands: attach, attest, and every bad input refused with nothing recorded."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from mission_control.cli import app

runner = CliRunner()


@pytest.fixture
def database_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("MC_DATABASE_URL", f"sqlite:///{tmp_path / 'evidence.db'}")
    return tmp_path


def evidence_of(item_id: str) -> dict:
    exported = json.loads(runner.invoke(app, ["export", "--format", "json"]).stdout)
    return next(i for c in exported["categories"] for i in c["items"] if i["id"] == item_id)["evidence"]


def test_a_file_and_an_attestation_complete_the_token_sync_item(database_file: Path) -> None:
    strategy = database_file / "strategy.md"
    strategy.write_text("# Option A\n", encoding="utf-8")
    assert runner.invoke(app, ["evidence", "add-file", "cognito.token-sync", str(strategy)]).exit_code == 0
    result = runner.invoke(
        app, ["evidence", "attest", "cognito.token-sync", "--statement", "Option A, reviewed"]
    )
    assert result.exit_code == 0 and "attested cognito.token-sync in production" in result.stdout
    assert evidence_of("cognito.token-sync")["state"] == "complete"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["evidence", "attest", "cognito.token-sync", "--statement", "  "], "needs a statement"),
        (["evidence", "attest", "cognito.token-sync", "--statement", "ok", "--env", "nowhere"], "environment 'nowhere' does not exist"),
        (["evidence", "attest", "dns.nope", "--statement", "ok"], "item 'dns.nope' is not in"),
        (["evidence", "attest", "cognito.token-sync", "--statement", "ok", "--fingerprint", "xyz"], "64 hexadecimal"),
        (["evidence", "add-link", "dns.failover-runbook", "javascript:alert(1)", "--title", "x"], "must be an http(s) URL"),
        (["evidence", "add-file", "cognito.token-sync", "/nonexistent/strategy.md"], "No such file"),
        (["drill", "moonwalk"], "unknown drill 'moonwalk'"),
    ],
)  # fmt: skip
def test_bad_evidence_input_exits_2_and_records_nothing(
    database_file: Path, args: list[str], message: str
) -> None:
    result = runner.invoke(app, args)
    assert result.exit_code == 2
    assert message in result.stderr
    assert evidence_of("cognito.token-sync")["state"] == "incomplete"
    assert evidence_of("dns.failover-runbook")["kinds"][0]["state"] == "missing"
