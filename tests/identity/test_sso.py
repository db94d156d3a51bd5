"""Single sign-on end to end: the app (TestClient or a real server) against a local OIDC provider
over real HTTP, on SQLite and PostgreSQL. The callback's code exchange really calls the provider."""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from mission_control.db.database import Database
from mission_control.identity.models import User
from mission_control.progress.models import AuditEvent
from mission_control.settings import OidcSettings
from tests.conftest import ServerProcess, bearer, free_port, make_user, sign_in, token_for
from tests.identity.conftest import (
    CLIENT_ID,
    ROLE_MAP,
    at_provider,
    oidc_settings,
    sso_sign_in,
)
from tests.identity.provider import LocalProvider, rsa_key


def audit(database: Database, action: str) -> list[tuple[str, str | None]]:
    with database.read() as session:
        events = session.scalars(
            select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)
        )
        return [(event.actor, event.new_value) for event in events]


def anonymous_failures(database: Database) -> list[tuple[int, str]]:
    """Failed SSO sign-ins nobody was vouched for: counted in one event per hour, with the latest reason."""
    found = []
    for actor, value in audit(database, "login.sso.failed"):
        assert actor == "anonymous"
        match = re.fullmatch(r"(\d+) since \d\d:00 UTC; latest: (.*)", value or "")
        assert match, value
        found.append((int(match[1]), match[2]))
    return found


def users(database: Database) -> dict[str, tuple[int, str, str | None]]:
    with database.read() as session:
        return {user.name: (user.id, user.role, user.password_hash) for user in session.scalars(select(User))}


def assert_refused(response: httpx.Response, status: int, message: str) -> None:
    assert response.status_code == status, response.text
    assert "Single sign-on failed" in response.text
    assert message in response.text
    assert "Traceback" not in response.text
    assert "mc_session" not in response.headers.get("set-cookie", "")


def test_login_page_offers_sso_only_when_configured(client: TestClient, sso_client: TestClient) -> None:
    assert "Sign in with SSO" not in client.get("/login").text
    assert client.get("/login/sso").status_code == 404
    assert '<a class="sso" href="/login/sso?next=/history">' in sso_client.get("/login?next=/history").text


def test_the_authorization_request_uses_pkce_state_and_nonce(
    sso_client: TestClient, provider: LocalProvider
) -> None:
    start = sso_client.get("/login/sso", follow_redirects=False)
    query = parse_qs(urlsplit(start.headers["location"]).query)
    assert start.headers["location"].startswith(f"{provider.issuer}/authorize?")
    assert query["client_id"] == [CLIENT_ID]
    assert query["redirect_uri"] == ["http://testserver/login/sso/callback"]
    assert query["code_challenge_method"] == ["S256"]
    assert set(query) >= {"state", "nonce", "code_challenge"}
    assert "openid" in query["scope"][0].split()
    pending_cookie = start.headers["set-cookie"]
    assert (
        "HttpOnly" in pending_cookie
        and "Path=/login/sso" in pending_cookie
        and "Max-Age=600" in pending_cookie
    )
    assert query["nonce"][0] not in pending_cookie  # sealed, not readable as plain text in the cookie


@pytest.mark.parametrize(
    ("groups", "role"),
    [(["sre", "platform-admins"], "admin"), (["sre"], "editor"), (["readers", "unrelated"], "viewer")],
)
def test_sso_signs_in_with_the_mapped_role(
    sso_client: TestClient, provider: LocalProvider, database: Database, groups: list[str], role: str
) -> None:
    provider.account["groups"] = groups
    response = sso_sign_in(sso_client, next_path="/history")
    assert response.status_code == 303, response.text
    assert response.headers["location"] == "/history"
    assert sso_client.get("/api/v1/me").json() == {"name": "ada", "role": role}
    assert users(database)["ada"][1:] == (role, None)  # an SSO user has no password
    assert audit(database, "login.sso") == [("ada", f"{role} from groups: {', '.join(groups)}")]
    assert sso_client.cookies.get("mc_sso") is None  # the pending login is spent


def test_an_unmapped_group_is_refused(
    sso_client: TestClient, provider: LocalProvider, database: Database
) -> None:
    provider.account["groups"] = ["contractors"]
    response = sso_sign_in(sso_client)
    assert_refused(response, 403, "none of their &#39;groups&#39; values (contractors) is mapped")
    assert "ada" not in users(database)
    assert audit(database, "login.sso.failed") == [("ada", "no role mapped for groups: contractors")]
    assert sso_client.get("/api/v1/me").status_code == 401


def test_no_role_claim_at_all_is_refused(
    sso_client: TestClient, provider: LocalProvider, database: Database
) -> None:
    del provider.account["groups"]
    assert_refused(sso_sign_in(sso_client), 403, "values (none) is mapped")
    assert "ada" not in users(database)


def test_the_default_role_applies_when_configured(
    sso_client_for: Callable[[OidcSettings], TestClient], provider: LocalProvider
) -> None:
    client = sso_client_for(oidc_settings(provider.issuer, ROLE_MAP + ",*=viewer"))
    provider.account["groups"] = ["contractors"]
    assert sso_sign_in(client).status_code == 303
    assert client.get("/api/v1/me").json() == {"name": "ada", "role": "viewer"}


def test_a_custom_role_claim_is_read(
    sso_client_for: Callable[[OidcSettings], TestClient], provider: LocalProvider
) -> None:
    settings = oidc_settings(provider.issuer, "mission-control-admin=admin")
    client = sso_client_for(OidcSettings(**vars(settings) | {"role_claim": "roles"}))
    provider.account |= {"roles": "mission-control-admin", "groups": []}
    assert sso_sign_in(client).status_code == 303
    assert client.get("/api/v1/me").json() == {"name": "ada", "role": "admin"}


@pytest.mark.parametrize(
    ("spoil", "message", "reason"),
    [
        (
            {"signing_key": rsa_key("provider-key-1")},
            "signature does not match the provider&#39;s published keys",
            "signature does not match",
        ),
        (
            {"signing_key": rsa_key("rogue-key")},
            "signed with a key the provider does not publish",
            "does not publish",
        ),
        ({"id_token_changes": {"aud": "another-app"}}, "issued for another application", "audience"),
        ({"id_token_changes": {"iss": "http://127.0.0.1:1"}}, "issued by another issuer", "another issuer"),
        (
            {"id_token_changes": {"iat": int(time.time()) - 7200, "exp": int(time.time()) - 3600}},
            "the ID token has expired",
            "expired",
        ),
        ({"id_token_changes": {"nonce": None}}, "has no &#39;nonce&#39; claim", "no 'nonce' claim"),
        ({"id_token_changes": {"nonce": "someone-elses"}}, "nonce mismatch", "nonce mismatch"),
        ({"id_token_changes": {"sub": None}}, "has no &#39;sub&#39; claim", "no 'sub' claim"),
    ],
    ids=[
        "bad-signature",
        "unknown-key",
        "wrong-audience",
        "wrong-issuer",
        "expired",
        "no-nonce",
        "wrong-nonce",
        "no-sub",
    ],
)
def test_a_bad_id_token_is_refused(
    sso_client: TestClient,
    provider: LocalProvider,
    database: Database,
    spoil: dict[str, object],
    message: str,
    reason: str,
) -> None:
    for name, value in spoil.items():
        setattr(provider, name, value)
    assert_refused(sso_client.get(at_provider(sso_client).headers["location"]), 401, message)
    assert users(database).keys() == {"admin"}
    [(count, logged_reason)] = anonymous_failures(database)
    assert count == 1 and reason in logged_reason
    assert sso_client.get("/api/v1/me").status_code == 401


def test_a_state_mismatch_is_refused(
    sso_client: TestClient, provider: LocalProvider, database: Database
) -> None:
    callback = at_provider(sso_client).headers["location"]
    forged = callback.replace("state=", "state=x", 1)
    assert_refused(sso_client.get(forged), 400, "state mismatch")
    assert anonymous_failures(database) == [(1, "state mismatch")]
    assert provider.issued_id_tokens == []  # refused before the code was ever exchanged


def test_a_callback_without_a_login_started_in_this_browser_is_refused(
    sso_client: TestClient, provider: LocalProvider, database: Database
) -> None:
    """Login CSRF: an attacker's own callback link opened in someone else's browser."""
    callback = at_provider(sso_client).headers["location"]
    sso_client.cookies.clear()
    assert_refused(sso_client.get(callback), 400, "No single sign-on was in progress in this browser")
    assert provider.issued_id_tokens == []
    assert anonymous_failures(database) == [(1, "no pending login (missing, altered or expired)")]


def test_a_replayed_id_token_is_refused(
    sso_client: TestClient, provider: LocalProvider, database: Database
) -> None:
    assert sso_sign_in(sso_client).status_code == 303
    sso_client.cookies.clear()
    provider.replay_id_token = provider.issued_id_tokens[0]  # valid signature, still fresh, old nonce
    assert_refused(sso_sign_in(sso_client), 401, "nonce mismatch")
    assert sso_client.get("/api/v1/me").status_code == 401


def test_a_replayed_callback_is_refused(sso_client: TestClient, provider: LocalProvider) -> None:
    answer = at_provider(sso_client)
    pending = sso_client.cookies.get("mc_sso")
    assert sso_client.get(answer.headers["location"], follow_redirects=False).status_code == 303
    sso_client.cookies.clear()
    assert_refused(sso_client.get(answer.headers["location"]), 400, "No single sign-on was in progress")
    sso_client.cookies.set("mc_sso", pending or "", path="/login/sso")  # even with the spent cookie
    assert_refused(sso_client.get(answer.headers["location"]), 400, "invalid_grant: unknown or used code")


def test_the_providers_refusal_is_shown(
    sso_client: TestClient, provider: LocalProvider, database: Database
) -> None:
    provider.authorize_error = "access_denied"
    assert_refused(sso_sign_in(sso_client), 400, "did not sign you in (The user cancelled the sign-in)")
    assert anonymous_failures(database) == [(1, "provider answered access_denied")]


def test_an_unreachable_provider_is_explained(
    sso_client_for: Callable[[OidcSettings], TestClient], database: Database
) -> None:
    client = sso_client_for(oidc_settings(f"http://127.0.0.1:{free_port()}"))
    assert_refused(client.get("/login/sso"), 502, "discovery document could not be reached (ConnectionError)")
    assert anonymous_failures(database) == [
        (1, "provider failed: its discovery document could not be reached (ConnectionError)")
    ]


def test_a_provider_going_down_mid_login_is_explained(
    sso_client: TestClient, provider: LocalProvider
) -> None:
    callback = at_provider(sso_client).headers["location"]
    provider.stop()
    assert_refused(sso_client.get(callback), 502, "Try again later, or sign in with a local account")


def test_a_discovery_document_for_another_issuer_is_refused(
    sso_client_for: Callable[[OidcSettings], TestClient], provider: LocalProvider
) -> None:
    client = sso_client_for(oidc_settings(provider.issuer + "/"))
    assert_refused(client.get("/login/sso"), 502, "names issuer")


def test_a_local_user_keeps_working_and_is_not_taken_over(
    sso_client: TestClient, provider: LocalProvider, database: Database
) -> None:
    make_user(database, "ada", "viewer", password="correct horse")
    provider.account["groups"] = ["platform-admins"]
    assert sso_sign_in(sso_client).status_code == 303
    assert sso_client.get("/api/v1/me").json() == {"name": "ada-2", "role": "admin"}
    assert users(database)["ada"][1] == "viewer"
    sso_client.cookies.clear()
    sign_in(sso_client, "ada")
    assert sso_client.get("/api/v1/me").json() == {"name": "ada", "role": "viewer"}


def test_a_token_only_account_is_not_taken_over(
    sso_client: TestClient, provider: LocalProvider, database: Database
) -> None:
    """A service account without a password is still a local account, not an SSO one."""
    token = token_for(database, "ci-bot", "viewer")
    provider.account = {"sub": "person-1", "preferred_username": "ci-bot", "groups": ["platform-admins"]}
    assert sso_sign_in(sso_client).status_code == 303
    assert sso_client.get("/api/v1/me").json() == {"name": "ci-bot-2", "role": "admin"}
    assert users(database)["ci-bot"][1] == "viewer"
    assert httpx_me(sso_client, token) == {"name": "ci-bot", "role": "viewer"}


def httpx_me(client: TestClient, token: str) -> dict[str, str]:
    client.cookies.clear()
    return client.get("/api/v1/me", headers=bearer(token)).json()


@pytest.mark.parametrize(
    ("first", "second", "names"),
    [("josé", "jose", ["jose", "jose-2"]), ("jose smith", "jose/smith", ["jose-smith", "jose-smith-2"])],
    ids=["accents", "punctuation"],
)
def test_people_whose_names_clean_up_alike_get_their_own_users(
    sso_client: TestClient,
    provider: LocalProvider,
    database: Database,
    first: str,
    second: str,
    names: list[str],
) -> None:
    """Bound by (issuer, subject): each person keeps their own user and role at every sign-in."""
    people = [
        {"sub": "A", "preferred_username": first, "groups": ["platform-admins"]},
        {"sub": "B", "preferred_username": second, "groups": ["readers"]},
    ]
    for person in [*people, *people]:
        provider.account = person
        sso_client.cookies.clear()
        assert sso_sign_in(sso_client).status_code == 303
    assert [(name, *users(database)[name][1:]) for name in names] == [
        (names[0], "admin", None),
        (names[1], "viewer", None),
    ]
    with database.read() as session:
        bound = {(user.sso_issuer, user.sso_subject): user.name for user in session.scalars(select(User))}
    assert bound == {
        (None, None): "admin",
        (provider.issuer, "A"): names[0],
        (provider.issuer, "B"): names[1],
    }
    assert [actor for actor, _ in audit(database, "login.sso")] == [*names, *names]


def test_a_renamed_person_keeps_their_user(
    sso_client: TestClient, provider: LocalProvider, database: Database
) -> None:
    assert sso_sign_in(sso_client).status_code == 303
    provider.account["preferred_username"] = "ada.lovelace"
    sso_client.cookies.clear()
    assert sso_sign_in(sso_client).status_code == 303
    assert sso_client.get("/api/v1/me").json() == {"name": "ada", "role": "editor"}
    assert "ada.lovelace" not in users(database)


def test_the_user_is_created_once_and_follows_the_provider(
    sso_client: TestClient, provider: LocalProvider, database: Database
) -> None:
    assert sso_sign_in(sso_client).status_code == 303
    user_id, role, _ = users(database)["ada"]
    assert role == "editor"
    sso_client.cookies.clear()
    provider.account["groups"] = ["platform-admins"]
    assert sso_sign_in(sso_client).status_code == 303
    assert users(database)["ada"] == (user_id, "admin", None)
    assert list(users(database)) == ["admin", "ada"]
    assert audit(database, "user.created") == [
        ("mission-control", "admin (admin)"),
        ("ada", "ada (editor) via SSO"),
    ]
    assert audit(database, "user.updated") == [("ada", "editor → admin via SSO")]
    assert [actor for actor, _ in audit(database, "login.sso")] == ["ada", "ada"]


def test_a_name_is_made_fit_for_mission_control(sso_client: TestClient, provider: LocalProvider) -> None:
    provider.account = {
        "sub": "user-42",
        "email": "José Núñez@example.com",
        "email_verified": True,
        "groups": ["sre"],
    }
    assert sso_sign_in(sso_client).status_code == 303
    assert sso_client.get("/api/v1/me").json() == {"name": "Jose-Nunez@example.com", "role": "editor"}


def test_a_real_server_configured_from_the_environment_signs_in_through_the_provider(
    provider: LocalProvider, sso_server: ServerProcess
) -> None:
    provider.account["groups"] = ["platform-admins"]
    with httpx.Client(base_url=sso_server.url, follow_redirects=True) as browser:
        assert "Sign in with SSO" in browser.get("/login").text
        landed = browser.get("/login/sso", params={"next": "/"})
        assert landed.status_code == 200 and landed.url == f"{sso_server.url}/"
        assert [str(hop.url).split("?")[0] for hop in landed.history] == [
            f"{sso_server.url}/login/sso",
            f"{provider.issuer}/authorize",
            f"{sso_server.url}/login/sso/callback",
        ]
        assert browser.get("/api/v1/me").json() == {"name": "ada", "role": "admin"}
