"""The `mission-control` command, run in-process on a real SQLite file."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from alembic.script import ScriptDirectory
from typer.testing import CliRunner

from mission_control.cli import app
from mission_control.db.database import Database
from mission_control.db.migrate import alembic_config
from mission_control.identity.service import find_token

runner = CliRunner()


@pytest.fixture
def database_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    monkeypatch.setenv("MC_DATABASE_URL", url)
    return url


def run(*args: str, stdin: str | None = None):
    return runner.invoke(app, list(args), input=stdin)


def test_user_add_and_token_create_print_only_the_token_last(database_file: str) -> None:
    assert (
        run(
            "user", "add", "ci-bot", "--role", "editor", "--password-stdin", stdin="long enough password\n"
        ).exit_code
        == 0
    )
    result = run("token", "create", "--user", "ci-bot", "--name", "pipeline")
    assert result.exit_code == 0
    token = result.stdout.strip().splitlines()[-1]
    assert token.startswith("mc_") and " " not in token
    database = Database(database_file)
    with database.read() as session:
        found = find_token(session=session, secret=token)
        assert found is not None and found[1].name == "ci-bot"
    database.dispose()


@pytest.mark.parametrize(
    ("args", "stdin", "message"),
    [
        (("user", "add", "x", "--role", "god"), None, "unknown role 'god'"),
        (("user", "add", "x", "--role", "editor", "--password-stdin"), "short\n", "password too short"),
        (("user", "add", "bad name"), None, "invalid user name"),
        (("token", "create", "--user", "ghost", "--name", "n"), None, "user 'ghost' does not exist"),
        (("env", "add", "Bad Env"), None, "invalid environment name"),
        (("status", "--env", "nowhere"), None, "environment 'nowhere' does not exist"),
        (("export", "--format", "pdf"), None, "unknown format 'pdf'"),
    ],
)
def test_bad_input_exits_2_with_a_message(
    database_file: str, args: tuple[str, ...], stdin: str | None, message: str
) -> None:
    result = run(*args, stdin=stdin)
    assert result.exit_code == 2
    assert message in result.stderr


def test_duplicate_user_is_refused(database_file: str) -> None:
    assert run("user", "add", "ana").exit_code == 0
    result = run("user", "add", "ana")
    assert result.exit_code == 2 and "already exists" in result.stderr


def test_env_add_then_status_shows_a_table(database_file: str) -> None:
    assert run("env", "add", "staging").exit_code == 0
    assert run("env", "list").stdout.splitlines() == ["production\tdatabase", "staging\tdatabase"]
    result = run("status", "--env", "staging")
    assert result.exit_code == 0
    assert "DNS — Route53" in result.stdout and "0/4" in result.stdout and "0/20" in result.stdout


def test_import_localstorage_reports_and_applies(database_file: str, tmp_path: Path) -> None:
    stored = tmp_path / "stored.json"
    stored.write_text(
        json.dumps({"Enable Route53 latency-based routing": True, "Fly": True}), encoding="utf-8"
    )
    result = run("import-localstorage", str(stored), "--env", "production")
    assert result.exit_code == 0
    assert (
        "matched   'Enable Route53 latency-based routing' -> dns.latency-routing (checked)" in result.stdout
    )
    assert "unmatched 'Fly'" in result.stdout
    assert "1 matched, 1 changed, 1 unmatched in production" in result.stdout
    exported = json.loads(run("export", "--format", "json").stdout)
    assert exported["completed"] == 1


def test_import_of_unreadable_file_exits_2_and_changes_nothing(database_file: str, tmp_path: Path) -> None:
    stored = tmp_path / "stored.json"
    stored.write_text(json.dumps(["dns.failover-ttl"]), encoding="utf-8")
    run("import-localstorage", str(stored))
    stored.write_text("{broken", encoding="utf-8")
    result = run("import-localstorage", str(stored))
    assert result.exit_code == 2 and "nothing was changed" in result.stderr
    assert run("import-localstorage", str(tmp_path / "missing.json")).exit_code == 2
    assert json.loads(run("export", "--format", "json").stdout)["completed"] == 1


def test_export_formats(database_file: str, tmp_path: Path) -> None:
    stored = tmp_path / "stored.json"
    stored.write_text(json.dumps(["dns.failover-ttl"]), encoding="utf-8")
    run("import-localstorage", str(stored))
    markdown = run("export", "--format", "md").stdout
    assert "**1 / 20 complete** · overall completion 5%" in markdown
    assert "| ☑ | Validate DNS TTL is ≤60s for failover records | Low |" in markdown
    csv_text = run("export", "--format", "csv").stdout.splitlines()
    assert csv_text[0].startswith("environment,id,category,title")
    assert len(csv_text) == 21
    out = tmp_path / "export.json"
    assert run("export", "--format", "json", "--output", str(out)).exit_code == 0
    assert json.loads(out.read_text(encoding="utf-8"))["total"] == 20


def test_db_upgrade_reports_the_head_revision(database_file: str) -> None:
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    result = run("db", "upgrade")
    assert result.exit_code == 0 and f"database at revision {head}" in result.stdout


def test_status_all_prints_one_line_per_environment(database_file: str) -> None:
    assert run("env", "add", "staging").exit_code == 0
    result = run("status", "--all")
    assert result.exit_code == 0
    lines = [line for line in result.stdout.splitlines() if "production" in line or "staging" in line]
    assert len(lines) == 2 and all("never" in line and "0%" in line for line in lines)


def test_status_rows_align_whatever_width_each_category_icon_has(database_file: str) -> None:
    from rich.cells import cell_len

    rows = [line for line in run("status").stdout.splitlines() if line.startswith("│")]
    assert len(rows) == 6  # five categories and the overall line
    widths = {cell_len(row.split("│")[1]) for row in rows}
    assert widths == {cell_len(rows[-1].split("│")[1])}, rows
    assert "🗄️ DynamoDB" in run("status").stdout  # drawn two cells wide by every terminal
    assert "λ  Lambda@Edge" in run("status").stdout


def test_drill_list_names_every_drill_its_item_and_whether_it_writes(database_file: str) -> None:
    result = run("drill", "list")
    assert result.exit_code == 0
    for name, item_id, writes in (
        ("restore", "dynamodb.restore-drill", "yes (--allow-writes)"),
        ("auth-flow", "cognito.auth-flow-test", "yes (--allow-writes)"),
        ("dns-cutover", "dns.failover-runbook", "yes (--allow-writes)"),
        ("edge-latency", "edge.latency", "no"),
        ("cloudfront-failover", "cloudfront.failover-test", "no"),
    ):
        assert re.search(rf"│ {name} +│ {re.escape(item_id)} +│ {re.escape(writes)} ", result.stdout), (
            result.stdout
        )
    assert "guided, at a terminal" in result.stdout
