"""load_catalog under hostile input: a Catalog or a CatalogError with a message, never anything else.

Valid catalogs are generated as data, written as YAML and must load back equal; each kind of
damage to a valid catalog must be rejected with a message naming the problem.
"""

from __future__ import annotations

import re
import tempfile
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

from mission_control.catalog import (
    EFFORTS,
    EVIDENCE_KINDS,
    Catalog,
    CatalogError,
    Category,
    EvidenceRequirement,
    Item,
    load_catalog,
)
from tests.hostile.profiles import PARSERS

ID_RULE = r"[a-z0-9][a-z0-9-]*(\.[a-z0-9][a-z0-9-]*)*"  # the documented id rule, restated
_SEGMENT = st.builds(str.__add__, st.sampled_from("abcxyz0189"), st.text("abcxyz0189-", max_size=6))
ID = st.lists(_SEGMENT, min_size=1, max_size=3).map(".".join)
TEXT = st.text(min_size=1, max_size=40).filter(lambda text: text.strip())
SCALARS = st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20)
KEYS = st.none() | st.booleans() | st.integers() | st.text(max_size=20)
YAML_VALUES = st.recursive(
    SCALARS,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(KEYS, children, max_size=4),
    max_leaves=20,
)
# Tags PyYAML's safe loader knows, applied to scalars they may not fit: the constructor's own errors.
TAGGED_SCALARS = st.builds(
    "id: !!{} {}".format,
    st.sampled_from(["int", "float", "bool", "null", "timestamp", "binary", "str", "set", "omap", "pairs", "seq", "map", "merge", "python/object"]),
    st.sampled_from(["", "x", "abc", "2020-13-45", "0000-01-01", "1e999", "[1, 2]", "{a: 1}", "'%%%'", "0x_", "-", "~", "12:30:00", "2001-12-14t21:59:43.10-99:99"]),
)  # fmt: skip


@st.composite
def catalog_documents(draw: st.DrawFn) -> dict[str, Any]:
    """A valid catalog as the plain data a YAML file holds; ids are unique across the catalog."""
    category_count = draw(st.integers(1, 3))
    item_counts = draw(st.lists(st.integers(1, 3), min_size=category_count, max_size=category_count))
    ids = draw(st.lists(ID, min_size=1 + category_count + sum(item_counts), unique=True))
    catalog_id, ids = ids[0], iter(ids[1:])
    categories = []
    for count in item_counts:
        category = {"id": next(ids), "name": draw(TEXT), "icon": draw(TEXT), "tag": draw(TEXT)}
        category["items"] = [
            {"id": next(ids), "title": draw(TEXT), "description": draw(TEXT), "effort": draw(st.sampled_from(EFFORTS))}
            | draw(st.just({}) | st.builds(lambda requires, days: {"evidence": {"requires": requires, "valid_days": days}}, st.lists(st.sampled_from(EVIDENCE_KINDS), min_size=1, max_size=4), st.integers(1, 10_000)))
            for _ in range(count)
        ]  # fmt: skip
        categories.append(category)
    document: dict[str, Any] = {"id": catalog_id, "title": draw(TEXT), "categories": categories}
    if draw(st.booleans()):
        document["icon"] = draw(TEXT)
    return document


def expected_catalog(document: dict[str, Any]) -> Catalog:
    return Catalog(
        document["id"],
        document["title"],
        document.get("icon", ""),
        tuple(
            Category(
                category["id"],
                category["name"],
                category["icon"],
                category["tag"],
                tuple(
                    Item(
                        item["id"],
                        item["title"],
                        item["description"],
                        item["effort"],
                        category["id"],
                        EvidenceRequirement(
                            tuple(dict.fromkeys(item["evidence"]["requires"])), item["evidence"]["valid_days"]
                        )
                        if "evidence" in item
                        else None,
                    )
                    for item in category["items"]
                ),
            )
            for category in document["categories"]
        ),
    )


def load_text(text: str | bytes) -> Catalog:
    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / "catalog.yaml"
        if isinstance(text, bytes):
            path.write_bytes(text)
        else:
            path.write_text(text, encoding="utf-8")
        return load_catalog(path)


def load_or_error(text: str | bytes) -> Catalog | CatalogError:
    """The parser's only two documented outcomes; any other exception fails the test."""
    try:
        return load_text(text)
    except CatalogError as error:
        assert str(error).strip(), "a CatalogError must carry a message"
        assert "catalog.yaml" in str(error), f"the message must name the file: {error}"
        return error


@PARSERS
@given(catalog_documents())
def test_generated_valid_catalogs_load_back_equal(document: dict[str, Any]) -> None:
    assert load_text(yaml.safe_dump(document)) == expected_catalog(document)


@PARSERS
@given(st.binary(max_size=300))
def test_arbitrary_bytes_load_or_raise_catalog_error(raw: bytes) -> None:
    load_or_error(raw)


@PARSERS
@given(st.text(max_size=300).filter(lambda text: "\x00" not in text) | TAGGED_SCALARS)
def test_arbitrary_text_loads_or_raises_catalog_error(text: str) -> None:
    load_or_error(text)


@PARSERS
@given(YAML_VALUES)
def test_arbitrary_yaml_documents_load_or_raise_catalog_error(value: Any) -> None:
    assert isinstance(load_or_error(yaml.safe_dump(value)), CatalogError)


ITEM_FIELDS = {"id", "title", "description", "effort", "evidence"}
DAMAGE = (
    "drop",
    "wrong-type",
    "blank",
    "bad-effort",
    "unknown-field",
    "duplicate-id",
    "bad-id",
    "empty-list",
)


@PARSERS
@given(catalog_documents(), st.sampled_from(DAMAGE), st.data())
def test_each_kind_of_damage_is_rejected_with_a_message_naming_it(
    document: dict[str, Any], damage: str, data: st.DataObject
) -> None:
    category = data.draw(st.sampled_from(document["categories"]))
    item = data.draw(st.sampled_from(category["items"]))
    level, required = data.draw(
        st.sampled_from(
            [(document, ("id", "title")), (category, ("id", "name", "icon", "tag")), (item, ("id", "title", "description", "effort"))]
        )
    )  # fmt: skip
    key = data.draw(st.sampled_from(required))
    if damage == "drop":
        del level[key]
        expected = f"{key!r} must be a non-empty string"
    elif damage == "wrong-type":
        level[key] = data.draw(
            st.integers() | st.lists(st.integers(), max_size=2) | st.none() | st.booleans()
        )
        expected = f"{key!r} must be a non-empty string"
    elif damage == "blank":
        level[key] = data.draw(st.text(" \t\n\r\u3000", max_size=3))
        expected = f"{key!r} must be a non-empty string"
    elif damage == "bad-effort":
        item["effort"] = data.draw(TEXT.filter(lambda text: text not in EFFORTS))
        expected = "effort must be one of Low, Medium, High"
    elif damage == "unknown-field":
        item[data.draw(KEYS.filter(lambda k: k not in ITEM_FIELDS))] = data.draw(SCALARS)
        expected = "unknown field"
    elif damage == "duplicate-id":
        others = [c["id"] for c in document["categories"]] + [
            i["id"] for c in document["categories"] for i in c["items"] if i is not item
        ]
        item["id"] = data.draw(st.sampled_from(others))
        expected = "duplicate"
    elif damage == "bad-id":
        level["id"] = data.draw(TEXT.filter(lambda text: not re.fullmatch(ID_RULE, text)))
        expected = "must be lowercase words joined by '-' and '.'"
    else:
        if data.draw(st.booleans()):
            document["categories"] = []
        else:
            category["items"] = []
        expected = "must be a non-empty list"
    error = load_or_error(yaml.safe_dump(document, allow_unicode=True))
    assert isinstance(error, CatalogError)
    assert expected in str(error)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[" * 1_500, "nested too deeply"),
        ("id: " + "[" * 1_500 + "]" * 1_500, "nested too deeply"),
        ("id: 2020-13-45", "a value could not be read (ValueError: month must be in 1..12)"),
        ("id: !!int abc", "(ValueError: invalid literal for int()"),
        ("id: !!bool x", "(KeyError: 'x')"),
        ("id: !!int", "(IndexError: string index out of range)"),
        ("id: !!timestamp x", "(AttributeError:"),
        ("id: a\ntitle: t\ncategories:\n- {id: c, name: n, icon: i, tag: t, items: [{id: x, title: t, description: d, effort: Low, 1: 2, z: 3}]}", "unknown field 'z'"),
        ('id: "a\\n"\ntitle: t\ncategories:\n- {id: c, name: n, icon: i, tag: t, items: [{id: x, title: t, description: d, effort: Low}]}', "id 'a\\n' must be lowercase"),
    ],
)  # fmt: skip
def test_found_by_fuzzing_now_rejected_with_a_message(text: str, message: str) -> None:
    """Before the fix these raised RecursionError, ValueError, KeyError, IndexError, AttributeError or
    TypeError (sorting mixed-type unknown keys), and an id with a trailing newline was accepted."""
    with pytest.raises(CatalogError) as raised:
        load_text(text)
    assert message in str(raised.value)
