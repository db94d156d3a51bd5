"""Templates share keys between environments; role keys and the accounts table are validated."""

from __future__ import annotations

import pytest

from mission_control.verification.config import ConfigError, parse_config
from mission_control.verification.credentials import Role

TENANT_TEMPLATE = """
[templates.tenant]
primary_region = "us-east-1"
secondary_region = "ap-southeast-1"
main_table = "spaceduck-main"
max_failover_ttl = 30
accounts = { route53 = "arn:aws:iam::999999999999:role/mission-control-read" }
"""


def parse(text: str) -> dict:
    return parse_config(text, source="fleet.toml")


def test_an_environment_takes_its_templates_keys_and_overrides_only_what_differs() -> None:
    configs = parse(
        TENANT_TEMPLATE
        + """
[environments.tenant-17]
template = "tenant"
role_arn = "arn:aws:iam::333333333333:role/mission-control-read"
external_id = "tenant-17-secret-id"
max_failover_ttl = 60
"""
    )
    tenant = configs["tenant-17"]
    assert (tenant.primary_region, tenant.main_table, tenant.template) == (
        "us-east-1",
        "spaceduck-main",
        "tenant",
    )
    assert tenant.max_failover_ttl == 60
    assert tenant.role == Role(
        "arn:aws:iam::333333333333:role/mission-control-read", "tenant-17-secret-id", "mission-control"
    )
    assert tenant.account_roles["route53"].account == "999999999999"
    assert tenant.account_roles["route53"].external_id == "tenant-17-secret-id"


def test_an_environment_without_a_template_is_unchanged() -> None:
    configs = parse(
        TENANT_TEMPLATE
        + '[environments.solo]\nprimary_region = "eu-west-1"\nsecondary_region = "eu-central-1"\n'
    )
    assert (
        configs["solo"].main_table is None and configs["solo"].role is None and configs["solo"].accounts == {}
    )


@pytest.mark.parametrize(
    ("environment", "message"),
    [
        (
            'template = "tenants"',
            "fleet.toml: environments.t1.template: no [templates.tenants] table (found: tenant)",
        ),
        (
            "template = 3",
            "fleet.toml: environments.t1.template: expected the name of a [templates.NAME] table",
        ),
        (
            'template = "tenant"\nrole_arn = "tenant-17"',
            "fleet.toml: environments.t1.role_arn: expected an IAM role ARN",
        ),
        (
            'template = "tenant"\naccounts = { dns = "arn:aws:iam::999999999999:role/r" }',
            "fleet.toml: environments.t1.accounts: expected services among route53, cloudfront, lambda, iam, dynamodb, backup, cognito, got 'dns'",
        ),
        (
            'template = "tenant"\naccounts = { route53 = "999999999999" }',
            "fleet.toml: environments.t1.accounts.route53: expected an IAM role ARN",
        ),
        (
            'template = "tenant"\nsession_name = "a b"',
            "fleet.toml: environments.t1.session_name: expected 2 to 64",
        ),
        (
            'template = "tenant"\nmax_failover_ttl = "soon"',
            "fleet.toml: environments.t1.max_failover_ttl: expected",
        ),
    ],
)
def test_errors_name_the_environment_and_the_key(environment: str, message: str) -> None:
    with pytest.raises(ConfigError) as raised:
        parse(TENANT_TEMPLATE + f"[environments.t1]\n{environment}\n")
    assert str(raised.value).startswith(message)


def test_a_bad_template_value_names_the_template_and_the_key() -> None:
    with pytest.raises(
        ConfigError, match=r"^fleet.toml: templates.tenant.main_table: expected a non-empty string"
    ):
        parse('[templates.tenant]\nmain_table = ""\n[environments.t1]\ntemplate = "tenant"\n')


def test_a_required_key_missing_from_both_names_the_template() -> None:
    with pytest.raises(ConfigError) as raised:
        parse('[templates.thin]\nprimary_region = "us-east-1"\n[environments.t1]\ntemplate = "thin"\n')
    assert str(raised.value) == (
        "fleet.toml: environments.t1: missing required key 'secondary_region' (nor in [templates.thin])"
    )


def test_a_template_cannot_name_another_template() -> None:
    with pytest.raises(ConfigError, match=r"templates\.a: a template cannot itself name a template"):
        parse('[templates.a]\ntemplate = "b"\n[templates.b]\n[environments.t1]\ntemplate = "a"\n')


def test_templates_alone_are_not_a_configuration() -> None:
    with pytest.raises(ConfigError, match=r"no \[environments.NAME\] table found"):
        parse(TENANT_TEMPLATE)


def test_an_environments_accounts_add_to_its_templates_service_by_service() -> None:
    configs = parse(
        TENANT_TEMPLATE
        + """
[environments.tenant-17]
template = "tenant"
accounts = { cognito = "arn:aws:iam::444444444444:role/mission-control-read" }

[environments.tenant-18]
template = "tenant"
accounts = { route53 = "arn:aws:iam::888888888888:role/mission-control-read" }
"""
    )
    assert configs["tenant-17"].accounts == {
        "route53": "arn:aws:iam::999999999999:role/mission-control-read",
        "cognito": "arn:aws:iam::444444444444:role/mission-control-read",
    }
    assert configs["tenant-18"].accounts == {"route53": "arn:aws:iam::888888888888:role/mission-control-read"}
