"""Configuration names two different, real AWS regions: a typo or a copy-paste fails at load, naming
the key, instead of probing an endpoint that does not exist."""

from __future__ import annotations

import pytest

from mission_control.verification.config import ConfigError, known_regions, parse_config


def table(primary: str, secondary: str) -> str:
    return f'[environments.production]\nprimary_region = "{primary}"\nsecondary_region = "{secondary}"\n'


def test_two_different_known_regions_load() -> None:
    config = parse_config(table("us-east-1", "ap-southeast-1"), source="t.toml")["production"]
    assert config.regions == ("us-east-1", "ap-southeast-1")


def test_the_same_region_twice_is_refused_naming_the_key() -> None:
    with pytest.raises(
        ConfigError, match=r"t\.toml: environments\.production\.secondary_region: must differ"
    ):
        parse_config(table("eu-west-1", "eu-west-1"), source="t.toml")


@pytest.mark.parametrize(
    ("primary", "secondary", "key", "region"),
    [("us-east-7", "eu-west-1", "primary_region", "us-east-7"), ("us-east-1", "eu-wset-1", "secondary_region", "eu-wset-1")],
)  # fmt: skip
def test_an_unknown_region_is_refused_naming_the_key_and_the_region(
    primary: str, secondary: str, key: str, region: str
) -> None:
    with pytest.raises(ConfigError, match=rf"production\.{key}: unknown AWS region '{region}'"):
        parse_config(table(primary, secondary), source="t.toml")


def test_the_known_regions_come_from_botocores_endpoint_data_in_every_partition() -> None:
    assert {"us-east-1", "ap-southeast-1", "cn-north-1", "us-gov-west-1"} <= known_regions()
    assert "" not in known_regions()
