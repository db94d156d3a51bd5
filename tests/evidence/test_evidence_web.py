"""Evidence through the dashboard: attach files and links, attest, download safely, see the trail."""

from __future__ import annotations

from fastapi.testclient import TestClient

from mission_control.db.database import Database
from tests.conftest import make_user, page_csrf_token, sign_in

HISTORY = "/environments/production/items/cognito.token-sync/history"


def signed_in(client: TestClient, database: Database) -> str:
    make_user(database, "ana", "editor", password="correct horse")
    sign_in(client, "ana")
    return page_csrf_token(client.get("/").text)


def attach(client: TestClient, token: str, **fields: object):
    files = fields.pop("files", None)
    return client.post(
        "/environments/production/items/cognito.token-sync/evidence",
        data={"csrf_token": token, **fields},
        files=files,
        follow_redirects=False,
    )


def test_an_uploaded_file_is_listed_and_downloads_as_an_attachment(
    client: TestClient, database: Database
) -> None:
    token = signed_in(client, database)
    response = attach(
        client, token, title="Strategy", files={"file": ("strategy.md", b"# Option A\n", "text/markdown")}
    )
    assert response.status_code == 303
    history = client.get(HISTORY).text
    assert "Strategy" in history and "11 bytes" in history
    href = history.split('href="/environments/production/evidence/', 1)[1].split('"', 1)[0]
    download = client.get(f"/environments/production/evidence/{href}")
    assert download.content == b"# Option A\n"
    assert download.headers["content-type"].startswith("text/plain")
    assert download.headers["content-disposition"] == 'attachment; filename="strategy.md"'


def test_a_hostile_upload_is_stored_opaque_and_never_rendered(client: TestClient, database: Database) -> None:
    token = signed_in(client, database)
    payload = b"<html><script>alert(document.cookie)</script></html>"
    attach(client, token, files={"file": ("../../evil.html", payload, "text/html")})
    history = client.get(HISTORY).text
    href = history.split('href="/environments/production/evidence/', 1)[1].split('"', 1)[0]
    download = client.get(f"/environments/production/evidence/{href}")
    assert download.headers["content-type"] == "application/octet-stream"
    assert download.headers["content-disposition"] == 'attachment; filename="evil.html"'
    assert "sandbox" in download.headers["content-security-policy"]


def test_an_oversized_upload_is_refused_and_nothing_is_stored(client: TestClient, database: Database) -> None:
    token = signed_in(client, database)
    response = attach(
        client, token, files={"file": ("big.pdf", b"%PDF-" + b"x" * 5_000_000, "application/pdf")}
    )
    assert response.status_code == 422 and "the limit is 5000000" in response.text
    assert "<h2>Evidence</h2>" not in client.get(HISTORY).text


def test_a_document_and_an_attestation_complete_the_token_sync_item_and_a_link_does_not(
    client: TestClient, database: Database
) -> None:
    token = signed_in(client, database)
    assert (
        attach(client, token, title="Strategy doc", url="https://wiki.example/token-sync").status_code == 303
    )
    assert attach(client, token, url="javascript:alert(1)").status_code == 422
    response = client.post(
        "/environments/production/items/cognito.token-sync/attest",
        data={"csrf_token": token, "statement": "Option A, reviewed by the IAM team"},
        follow_redirects=False,
    )
    assert response.status_code == 303

    def item() -> str:
        return client.get("/").text.split('id="item-cognito.token-sync"', 1)[1].split("</li>", 1)[0]

    assert "📎 Evidence complete" not in item()  # a link is not the completed strategy
    strategy = ("strategy.md", b"# Option A\n", "text/markdown")
    assert attach(client, token, title="Strategy", files={"file": strategy}).status_code == 303
    assert "📎 Evidence complete" in item()
    history = client.get(HISTORY).text
    assert 'href="https://wiki.example/token-sync" rel="noopener noreferrer"' in history
    assert "Option A, reviewed by the IAM team" in history


def test_evidence_of_another_environment_or_unknown_id_is_not_found(
    client: TestClient, database: Database
) -> None:
    signed_in(client, database)
    assert client.get("/environments/production/evidence/999").status_code == 404
    assert client.get("/environments/production/evidence/99999999999999999999").status_code in (404, 422)
