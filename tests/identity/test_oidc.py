"""The pure parts of single sign-on: settings, role mapping, user names, the sealed pending login,
and the ID token algorithms that are never accepted."""

from __future__ import annotations

import re
import time

import pytest
from joserfc import jwt
from joserfc.jwk import OctKey

from mission_control.identity.oidc import (
    PendingLogin,
    SsoError,
    claim_values,
    map_role,
    user_name,
    verify_id_token,
)
from mission_control.identity.service import _NAME_PATTERN
from mission_control.settings import OidcSettings, Settings, SettingsError, parse_role_map
from tests.conftest import REPO
from tests.identity.conftest import CLIENT_ID, CLIENT_SECRET, oidc_settings
from tests.identity.provider import rsa_key

ROLE_MAP = parse_role_map("platform-admins=admin,sre=editor,readers=viewer")
OIDC_ENV = {
    "MC_OIDC_ISSUER": "https://login.example.com/realms/platform",
    "MC_OIDC_CLIENT_ID": "mission-control",
    "MC_OIDC_CLIENT_SECRET": "s3cret",
    "MC_OIDC_ROLE_MAP": "platform-admins=admin, sre=editor ,*=viewer",
}


@pytest.fixture
def oidc_env(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    for name in (*OIDC_ENV, "MC_OIDC_ROLE_CLAIM", "MC_OIDC_SCOPES", "MC_OIDC_REDIRECT_URL"):
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


def test_sso_is_off_without_an_issuer(oidc_env: pytest.MonkeyPatch) -> None:
    oidc_env.setenv("MC_DATABASE_URL", "sqlite:///x.db")
    assert Settings.from_env().oidc is None


def test_sso_settings_come_from_the_environment(oidc_env: pytest.MonkeyPatch) -> None:
    for name, value in OIDC_ENV.items():
        oidc_env.setenv(name, value)
    oidc_env.setenv("MC_OIDC_REDIRECT_URL", "https://mc.example.com/login/sso/callback")
    assert OidcSettings.from_env() == OidcSettings(
        issuer="https://login.example.com/realms/platform",
        client_id="mission-control",
        client_secret="s3cret",
        role_map=(("platform-admins", "admin"), ("sre", "editor"), ("*", "viewer")),
        role_claim="groups",
        scopes="openid profile email",
        redirect_url="https://mc.example.com/login/sso/callback",
    )
    oidc_env.setenv("MC_OIDC_ROLE_CLAIM", "roles")
    oidc_env.setenv("MC_OIDC_SCOPES", "openid groups")
    settings = OidcSettings.from_env()
    assert settings is not None and (settings.role_claim, settings.scopes) == ("roles", "openid groups")


@pytest.mark.parametrize("missing", ["MC_OIDC_CLIENT_ID", "MC_OIDC_CLIENT_SECRET", "MC_OIDC_ROLE_MAP"])
def test_an_incomplete_sso_configuration_names_what_is_missing(
    oidc_env: pytest.MonkeyPatch, missing: str
) -> None:
    for name, value in OIDC_ENV.items():
        if name != missing:
            oidc_env.setenv(name, value)
    with pytest.raises(SettingsError, match=f"MC_OIDC_ISSUER is set, so {missing} must be set too"):
        OidcSettings.from_env()


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("sre", "entry 'sre' is not VALUE=ROLE"),
        ("sre=root", "entry 'sre=root' is not VALUE=ROLE with ROLE one of viewer, editor, admin"),
        ("=admin", "entry '=admin'"),
        (" , ", "maps nothing"),
    ],
)
def test_a_malformed_role_map_is_refused(text: str, problem: str) -> None:
    with pytest.raises(SettingsError, match=problem):
        parse_role_map(text)


def test_a_role_map_value_may_contain_equals_signs() -> None:
    assert parse_role_map("team=sre=editor") == (("team=sre", "editor"),)


@pytest.mark.parametrize(
    ("values", "role_map", "role"),
    [
        (("sre", "platform-admins"), ROLE_MAP, "admin"),  # the highest mapped role wins
        (("readers", "sre"), ROLE_MAP, "editor"),
        (("readers",), ROLE_MAP, "viewer"),
        (("contractors",), ROLE_MAP, None),
        ((), ROLE_MAP, None),
        (("contractors",), (*ROLE_MAP, ("*", "viewer")), "viewer"),
        ((), (("*", "editor"),), "editor"),
        (("sre",), (("*", "admin"), ("sre", "viewer")), "viewer"),  # a named match beats the default
    ],
)
def test_claims_map_to_a_role(
    values: tuple[str, ...], role_map: tuple[tuple[str, str], ...], role: str | None
) -> None:
    assert map_role(values, role_map) == role


@pytest.mark.parametrize(
    ("claim", "values"),
    [
        (["sre", 7, "readers"], ("sre", "readers")),
        ("sre", ("sre",)),
        (None, ()),
        ([], ()),
        ({"sre": True}, ()),
    ],
)
def test_a_role_claim_is_read_as_strings(claim: object, values: tuple[str, ...]) -> None:
    assert claim_values(claim) == values


@pytest.mark.parametrize(
    ("claims", "name"),
    [
        ({"preferred_username": "ada", "email": "ada@example.com"}, "ada"),
        ({"preferred_username": "Ada Lovelace"}, "Ada-Lovelace"),
        ({"preferred_username": "José"}, "Jose"),
        ({"preferred_username": "__svc.ada"}, "svc.ada"),
        ({"preferred_username": "x" * 300}, "x" * 128),
        (
            {"preferred_username": "!!!", "email": "ada@example.com", "email_verified": True},
            "ada@example.com",
        ),
        ({"email": "ada@example.com", "email_verified": True}, "ada@example.com"),
        ({"preferred_username": 42, "email": "ada@example.com", "email_verified": True}, "ada@example.com"),
    ],
)
def test_a_user_name_fits_the_local_rules(claims: dict[str, object], name: str) -> None:
    assert user_name(claims) == name
    assert _NAME_PATTERN.match(name)


@pytest.mark.parametrize(
    "claims",
    [
        {},
        {"preferred_username": "…"},
        {"email": "ada@example.com", "email_verified": False},
        {"email": "ada@example.com"},  # no email_verified claim: the provider did not say it checked
        {"email": "ada@example.com", "email_verified": "true"},  # a string is not the JSON true
    ],
    ids=["nothing", "unusable-name", "email-unverified", "email-verified-missing", "email-verified-string"],
)
def test_no_usable_name_is_refused(claims: dict[str, object]) -> None:
    with pytest.raises(SsoError, match="cannot name this account"):
        user_name(claims)


def pending(started_at: int) -> PendingLogin:
    return PendingLogin(state="s", nonce="n", code_verifier="v", next_path="/history", started_at=started_at)


def test_a_pending_login_survives_the_round_trip() -> None:
    config, now = oidc_settings("https://login.example.com"), int(time.time())
    assert PendingLogin.unseal(pending(now).seal(config), config=config, now=now + 599) == pending(now)


def test_a_pending_login_from_another_deployment_is_refused() -> None:
    now = int(time.time())
    sealed = pending(now).seal(oidc_settings("https://login.example.com"))
    other = OidcSettings(**vars(oidc_settings("https://login.example.com")) | {"client_secret": "another"})
    with pytest.raises(SsoError, match="No single sign-on was in progress"):
        PendingLogin.unseal(sealed, config=other, now=now)


@pytest.mark.parametrize(
    "spoil",
    [
        lambda sealed: sealed.replace(sealed[3], "A" if sealed[3] != "A" else "B", 1),  # altered payload
        lambda sealed: sealed.split(".")[0],  # no MAC
        lambda _: "",
        lambda _: "not.base64!",
    ],
    ids=["altered", "unsigned", "empty", "garbage"],
)
def test_an_altered_pending_login_is_refused(spoil) -> None:
    config, now = oidc_settings("https://login.example.com"), int(time.time())
    with pytest.raises(SsoError) as refused:
        PendingLogin.unseal(spoil(pending(now).seal(config)), config=config, now=now)
    assert refused.value.status == 400


@pytest.mark.parametrize("age", [601, -120])
def test_a_stale_or_future_pending_login_is_refused(age: int) -> None:
    config, now = oidc_settings("https://login.example.com"), int(time.time())
    with pytest.raises(SsoError, match="took longer than 10 minutes"):
        PendingLogin.unseal(pending(now - age).seal(config), config=config, now=now)


def id_token_claims(**changes: object) -> dict[str, object]:
    now = int(time.time())
    claims = {"iss": "https://login.example.com", "aud": CLIENT_ID, "sub": "u1", "iat": now, "exp": now + 60}
    return claims | {"nonce": "n"} | changes


def verify(token: str, jwks: dict[str, object]) -> dict[str, object]:
    return verify_id_token(
        token,
        config=oidc_settings("https://login.example.com"),
        jwks=jwks,
        algorithms=("RS256",),
        nonce="n",
        now=int(time.time()),
    )


def test_a_good_id_token_is_accepted() -> None:
    key = rsa_key("k1")
    token = jwt.encode({"alg": "RS256", "kid": "k1"}, id_token_claims(), key)
    assert verify(token, {"keys": [key.as_dict(private=False)]})["sub"] == "u1"


def test_an_hmac_id_token_keyed_with_the_client_secret_is_refused() -> None:
    """HS256 would let anyone holding the client secret mint identities; only provider keys count."""
    secret = OctKey.import_key(CLIENT_SECRET.encode())
    token = jwt.encode({"alg": "HS256"}, id_token_claims(), secret)
    with pytest.raises(SsoError, match="could not be read"):
        verify(token, {"keys": [rsa_key("k1").as_dict(private=False)]})


def test_an_unsigned_id_token_is_refused() -> None:
    _, payload, _ = jwt.encode({"alg": "RS256", "kid": "k1"}, id_token_claims(), rsa_key("k1")).split(".")
    unsigned = "eyJhbGciOiJub25lIn0." + payload + "."  # {"alg":"none"}
    with pytest.raises(SsoError, match="could not be read"):
        verify(unsigned, {"keys": [rsa_key("k1").as_dict(private=False)]})


def test_several_audiences_need_this_application_as_authorized_party() -> None:
    key = rsa_key("k1")
    jwks = {"keys": [key.as_dict(private=False)]}
    shared = jwt.encode({"alg": "RS256", "kid": "k1"}, id_token_claims(aud=[CLIENT_ID, "other-app"]), key)
    with pytest.raises(SsoError, match="several audiences"):
        verify(shared, jwks)
    authorized = jwt.encode(
        {"alg": "RS256", "kid": "k1"}, id_token_claims(aud=[CLIENT_ID, "other-app"], azp=CLIENT_ID), key
    )
    assert verify(authorized, jwks)["azp"] == CLIENT_ID


def test_every_sso_setting_is_documented() -> None:
    source = (REPO / "src/mission_control/settings.py").read_text(encoding="utf-8")
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    variables = set(re.findall(r"MC_OIDC_[A-Z_]+", source))
    assert len(variables) == 7
    assert sorted(name for name in variables if f"`{name}`" not in readme) == []
