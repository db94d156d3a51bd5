"""parse_config/load_config under hostile input: configs or a ConfigError naming the file, never
another exception. Generated configs round-trip through demo_config_toml (the demo's writer)."""

from __future__ import annotations

import dataclasses
import tempfile
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mission_control.demo.estate import demo_config_toml
from mission_control.verification.config import (
    ACCOUNT_SERVICES,
    CHOICE_KEYS,
    ConfigError,
    EnvironmentConfig,
    known_regions,
    load_config,
    parse_config,
)
from tests.hostile.profiles import PARSERS

SOURCE = "hostile.toml"
ENVIRONMENT_NAME = st.from_regex(r"[a-z0-9][a-z0-9-]{0,20}", fullmatch=True)
# Every character UTF-8 can encode, controls and non-BMP ones included.
TEXT = st.text(st.characters(codec="utf-8"), min_size=1, max_size=20)
STRINGS = st.lists(TEXT, max_size=4).map(tuple)
COUNT = st.integers(0, 2**63 - 1)  # TOML integers are 64-bit


KINDS = {
    "str": "string",
    "int": "integer",
    "bool": "boolean",
    "tuple[str, ...]": "list",
    "dict[str, str]": "map",
}


def kind_of(config_field: dataclasses.Field) -> str:
    """The value kind a key takes, read from EnvironmentConfig's annotation (new keys join in)."""
    if config_field.name in CHOICE_KEYS:
        return "choice"
    return KINDS[str(config_field.type).removesuffix(" | None")]


def valid_values(config_field: dataclasses.Field) -> st.SearchStrategy:
    if config_field.name in CHOICE_KEYS:
        return st.sampled_from(CHOICE_KEYS[config_field.name])
    return VALID[kind_of(config_field)]


KEY_KINDS = {f.name: kind_of(f) for f in dataclasses.fields(EnvironmentConfig) if f.name != "name"}
VALID = {
    "string": TEXT,
    "integer": COUNT,
    "boolean": st.booleans(),
    "list": STRINGS,
    "map": st.dictionaries(TEXT, TEXT, max_size=3),
}
CRON = st.sampled_from(["17 */6 * * *", "0 3 * * 1-5", "*/5 * * * *", "30 2 1 * *", "* * * * * */10"])
ROLE_ARN = st.from_regex(r"arn:aws:iam::[0-9]{12}:role/[A-Za-z0-9+=,.@_/-]{1,40}", fullmatch=True)
SHAPED = {  # keys whose values have a shape of their own; `template` needs a [templates.NAME] table
    "role_arn": ROLE_ARN | st.none(),
    "session_name": st.from_regex(r"[A-Za-z0-9+=,.@_-]{2,64}", fullmatch=True),
    "accounts": st.dictionaries(st.sampled_from(ACCOUNT_SERVICES), ROLE_ARN, max_size=3),
    "template": st.none(),
    "verify_schedule": CRON | st.none(),
    "drill_schedule": CRON | st.none(),
}


def environment_configs() -> st.SearchStrategy[EnvironmentConfig]:
    """Every key with a valid value of its kind, or None where the key is optional."""
    values = {
        f.name: valid_values(f) | st.none() if str(f.type).endswith("| None") else valid_values(f)
        for f in dataclasses.fields(EnvironmentConfig)
        if f.name != "name"
    } | SHAPED
    regions = st.lists(st.sampled_from(sorted(known_regions())), min_size=2, max_size=2, unique=True)
    return regions.flatmap(
        lambda pair: st.builds(
            EnvironmentConfig,
            name=ENVIRONMENT_NAME,
            **values | {"primary_region": st.just(pair[0]), "secondary_region": st.just(pair[1])},
        )
    )


def parse_or_error(text: str) -> dict[str, EnvironmentConfig] | ConfigError:
    """The parser's only two documented outcomes; any other exception fails the test."""
    try:
        return parse_config(text, source=SOURCE)
    except ConfigError as error:
        assert str(error).startswith(f"{SOURCE}: "), f"the message must name the file: {error}"
        return error


@PARSERS
@given(st.lists(environment_configs(), min_size=1, max_size=3, unique_by=lambda config: config.name))
def test_generated_configs_round_trip_through_demo_config_toml(configs: list[EnvironmentConfig]) -> None:
    text = "\n".join(demo_config_toml(config) for config in configs)
    assert parse_config(text, source=SOURCE) == {config.name: config for config in configs}


@PARSERS
@given(st.text(max_size=300))
def test_arbitrary_text_parses_or_raises_config_error(text: str) -> None:
    parse_or_error(text)


# TOML-shaped noise: real and unknown keys, right and wrong value types, broken syntax.
KEYS = st.sampled_from(
    [f.name for f in dataclasses.fields(EnvironmentConfig)]
    + ["name", "environments", "", '"quoted key"', "a.b", "1"]
)
VALUES = st.sampled_from(
    ['"us-east-1"', '""', "0", "-1", "60", "1.5", "true", "1979-05-27", "07:32:00", "[]", '[""]', '["a", 1]',
     '["/beak"]', "{}", '{ "us-east-1" = "a" }', '{ a = "" }', "{ a = 1 }", "inf", "nan", "0x10", "[[1]]",
     '"\\ud800"', "'literal'", '"""multi\nline"""', "9" * 30, "[", "{ a = "]
)  # fmt: skip
HEADERS = st.sampled_from(
    ["[environments.production]", "[environments.staging]", "[environments]", "[other]",
     '[environments."we ird"]', "[[environments]]", "[environments.production.nested]", "[environments.]"]
)  # fmt: skip
LINES = st.one_of(HEADERS, st.builds("{} = {}".format, KEYS, VALUES), st.text(max_size=10))


@PARSERS
@given(st.lists(LINES, max_size=12))
def test_toml_shaped_noise_parses_or_raises_config_error(lines: list[str]) -> None:
    result = parse_or_error("\n".join(lines))
    if not isinstance(result, ConfigError):
        assert result and all(isinstance(config, EnvironmentConfig) for config in result.values())


WRONG_VALUES = {
    "string": ["1", "true", "[]", "{}", '""', "1979-05-27", "1.5"],
    "integer": ['"60"', "-1", "true", "1.0", "[60]", "{}"],
    "boolean": ['"true"', "1", "0", "[]", "{}", '"yes"'],
    "list": ['"a"', "[1]", '[""]', "{}", "true", '["a", []]'],
    "map": ["[]", '"a"', "{ a = 1 }", '{ a = "" }', "{ a = [] }"],
    "choice": ['"replicas"', '""', "1", "true", "[]"],
}


@PARSERS
@given(st.sampled_from(sorted(KEY_KINDS)), st.data())
def test_a_wrong_type_is_rejected_naming_the_key(key: str, data: st.DataObject) -> None:
    value = data.draw(st.sampled_from(WRONG_VALUES[KEY_KINDS[key]]))
    table = {"primary_region": '"us-east-1"', "secondary_region": '"eu-west-1"'} | {key: value}
    text = "[environments.prod]\n" + "\n".join(f"{k} = {v}" for k, v in table.items())
    error = parse_or_error(text)
    assert isinstance(error, ConfigError)
    assert f"environments.prod.{key}: expected" in str(error)


@PARSERS
@given(st.text(min_size=1, max_size=20).filter(lambda key: key not in KEY_KINDS))
def test_an_unknown_key_is_rejected_naming_it(key: str) -> None:
    text = f'[environments.prod]\nprimary_region = "us-east-1"\nsecondary_region = "eu-west-1"\n"{_escaped(key)}" = 1\n'
    error = parse_or_error(text)
    assert isinstance(error, ConfigError)
    assert f"unknown key {key!r}" in str(error)


def _escaped(text: str) -> str:
    return "".join(c if c.isprintable() and c not in '"\\' else f"\\U{ord(c):08x}" for c in text)


@PARSERS
@given(st.binary(max_size=300))
def test_arbitrary_files_load_or_raise_config_error(raw: bytes) -> None:
    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / "mission-control.toml"
        path.write_bytes(raw)
        try:
            load_config(path)
        except ConfigError as error:
            assert str(error).startswith(f"{path}: ")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("a = " + "[" * 1_500 + "]" * 1_500, "not valid TOML: nested too deeply"),
        ("a = " + "{b = " * 1_500 + "1" + "}" * 1_500, "not valid TOML: nested too deeply"),
    ],
)
def test_found_by_fuzzing_deep_nesting_is_a_config_error(text: str, message: str) -> None:
    """Before the fix: RecursionError from tomllib."""
    with pytest.raises(ConfigError, match=message):
        parse_config(text, source=SOURCE)


def test_found_by_fuzzing_a_file_that_is_not_utf8_is_a_config_error(tmp_path: Path) -> None:
    """Before the fix: UnicodeDecodeError escaped load_config (and `serve --config` showed a traceback)."""
    path = tmp_path / "mission-control.toml"
    path.write_bytes(b'[environments.prod]\nprimary_region = "\xff"\n')
    with pytest.raises(ConfigError, match="not UTF-8 text: invalid start byte at byte 38"):
        load_config(path)
