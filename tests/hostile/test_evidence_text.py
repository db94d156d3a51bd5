"""Evidence text is judged by the shared text rule before it reaches the database: a NUL, a lone
surrogate or an over-long value is a clear 4xx (form) or exit 2 (CLI), never a 500, and nothing is
stored. Evidence is append-only, so a value let in once would stay for good."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from typer.testing import CliRunner

from mission_control.cli import app as cli
from mission_control.db.database import Database
from mission_control.evidence.models import Attestation, Evidence
from tests.conftest import make_user, page_csrf_token, sign_in

ITEM = "/environments/production/items/cognito.token-sync"
LONG_URL = "https://wiki.example/" + "a" * (2048 - len("https://wiki.example/") + 1)


def stored(database: Database) -> tuple[int, int]:
    with database.read() as session:
        return (
            session.scalar(select(func.count()).select_from(Evidence)) or 0,
            session.scalar(select(func.count()).select_from(Attestation)) or 0,
        )


@pytest.fixture
def editor(client: TestClient, database: Database) -> str:
    """Sign `client` in as an editor; returns the page's CSRF token."""
    make_user(database, "ana", "editor", password="correct horse")
    sign_in(client, "ana")
    return page_csrf_token(client.get("/").text)


@pytest.mark.parametrize(
    ("path", "fields", "message"),
    [
        ("evidence", {"url": "https://wiki.example/a\x00b", "title": "t"}, "evidence link contains a NUL"),
        ("evidence", {"url": "https://wiki.example/", "title": "a\x00b"}, "evidence title contains a NUL"),
        ("attest", {"statement": "Option A\x00 reviewed"}, "statement contains a NUL"),
        ("evidence", {"url": LONG_URL, "title": "t"}, "evidence link is 2049 characters long; the limit is 2048"),
        ("evidence", {"url": "https://wiki.example/", "title": "t" * 257}, "evidence title is 257 characters"),
        ("attest", {"statement": "s" * 10_001}, "statement is 10001 characters"),
    ],
)  # fmt: skip
def test_hostile_evidence_text_in_the_form_is_a_clear_422_and_nothing_is_stored(
    client: TestClient, database: Database, editor: str, path: str, fields: dict[str, str], message: str
) -> None:
    response = client.post(f"{ITEM}/{path}", data={"csrf_token": editor, **fields}, follow_redirects=False)

    assert response.status_code == 422
    assert message in response.text
    assert stored(database) == (0, 0)


def test_a_link_of_2048_characters_is_kept_and_titled_by_its_url(
    client: TestClient, database: Database, editor: str
) -> None:
    url = LONG_URL[:-1]
    response = client.post(
        f"{ITEM}/evidence", data={"csrf_token": editor, "url": url}, follow_redirects=False
    )

    assert response.status_code == 303
    with database.read() as session:
        evidence = session.scalars(select(Evidence)).one()
    assert (evidence.url, evidence.title) == (url, url[:256])


@pytest.fixture
def sqlite_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Database:
    url = f"sqlite:///{tmp_path / 'evidence.db'}"
    monkeypatch.setenv("MC_DATABASE_URL", url)
    assert CliRunner().invoke(cli, ["db", "upgrade"]).exit_code == 0
    return Database(url)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["add-link", "cognito.token-sync", LONG_URL, "--title", "t"], "evidence link is 2049 characters long"),
        (["add-link", "cognito.token-sync", "https://wiki.example/", "--title", "t" * 300], "evidence title is 300"),
        (["add-link", "cognito.token-sync", "https://wiki.example/", "--title", "t", "--actor", "x" * 129], "actor is 129"),
        (["attest", "cognito.token-sync", "--statement", "ok\ud800"], "statement contains a character that is not valid Unicode"),
        (["attest", "cognito.token-sync", "--statement", "ok", "--actor", "a\x00"], "actor contains a NUL"),
    ],
)  # fmt: skip
def test_hostile_evidence_text_on_the_command_line_exits_2_and_records_nothing(
    sqlite_env: Database, args: list[str], message: str
) -> None:
    result = CliRunner().invoke(cli, ["evidence", *args])

    assert result.exit_code == 2, result.output
    assert message in result.stderr and "nothing was recorded" in result.stderr
    assert stored(sqlite_env) == (0, 0)
    sqlite_env.dispose()
