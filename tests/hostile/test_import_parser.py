"""parse_localstorage under hostile input: a plan or UnreadableImport with a message, never anything
else; generated valid payloads in every accepted shape match exactly the items they name."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from mission_control.catalog import load_default_catalog
from mission_control.progress.importer import STORAGE_KEY, UnreadableImport, parse_localstorage
from tests.hostile.profiles import PARSERS

CATALOG = load_default_catalog()
ITEMS = CATALOG.items
# JSON strings may carry any code point, lone surrogates included ("\ud800" is valid JSON).
ANY_TEXT = st.text(st.characters(codec=None), max_size=20)
JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | ANY_TEXT,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(ANY_TEXT, children, max_size=4),
    max_leaves=15,
)


def _normalised(text: str) -> str:
    return " ".join(text.split()).casefold()


KNOWN_KEYS = {_normalised(item.id) for item in ITEMS} | {_normalised(item.title) for item in ITEMS}
KNOWN_KEYS |= {str(index) for index in range(len(ITEMS))}


def parse_or_error(raw: bytes | str) -> Any:
    """The parser's only two documented outcomes; any other exception fails the test."""
    try:
        plan = parse_localstorage(raw, CATALOG)
    except UnreadableImport as error:
        assert str(error).strip(), "UnreadableImport must carry a message"
        return error
    for key in plan.unmatched + [match.key for match in plan.matches]:
        key.encode("utf-8")  # every reported key can be shown on a page and stored
    return plan


@PARSERS
@given(st.binary(max_size=500))
def test_arbitrary_bytes_parse_or_raise_unreadable_import(raw: bytes) -> None:
    parse_or_error(raw)


@PARSERS
@given(JSON_VALUES, st.integers(0, 3), st.booleans())
def test_arbitrary_json_parses_or_raises_unreadable_import(value: Any, encodings: int, bom: bool) -> None:
    text = json.dumps(value)
    for _ in range(encodings):
        text = json.dumps(text)
    parse_or_error((("\ufeff" if bom else "") + text).encode("utf-8"))


def reference(item_index: int, how: str, spaces: str) -> str | int:
    """How the old page might have named an item: its title (any case and spacing), id or index."""
    item = ITEMS[item_index]
    if how == "title":
        return spaces + spaces.join(item.title.upper().split()) + spaces
    return {"id": item.id, "index": item_index, "index-text": str(item_index)}[how]


@st.composite
def valid_payloads(draw: st.DrawFn) -> tuple[str, list[tuple[str, bool]], list[str]]:
    """A payload in one accepted shape; returns (text, expected matches, expected unmatched keys)."""
    chosen = draw(st.lists(st.integers(0, len(ITEMS) - 1), unique=True, max_size=len(ITEMS)))
    hows = st.sampled_from(["title", "id", "index", "index-text"])
    spaces = st.sampled_from([" ", "  ", "\t", "\n "])
    refs = [reference(index, draw(hows), draw(spaces)) for index in chosen]
    strangers = draw(
        st.lists(st.text(max_size=15).filter(lambda k: _normalised(k) not in KNOWN_KEYS), max_size=3)
    )
    shape = draw(st.sampled_from(["list", "object", "object-01"]))
    if shape == "list":
        flags = [True] * len(refs)
        value: Any = refs + strangers
    else:
        flags = draw(st.lists(st.booleans(), min_size=len(refs), max_size=len(refs)))
        keys = [str(ref) for ref in refs] + strangers
        assume(len(set(keys)) == len(keys))
        stranger_flags = draw(st.lists(st.booleans(), min_size=len(strangers), max_size=len(strangers)))
        raw_flags = flags + stranger_flags
        value = dict(zip(keys, [int(f) if shape == "object-01" else f for f in raw_flags], strict=True))
    if draw(st.booleans()) and not (isinstance(value, dict) and len(value) == 1):
        value = {"checked": value}
    text = json.dumps(value, ensure_ascii=draw(st.booleans()))
    wrapping = draw(st.sampled_from(["plain", "encoded", "encoded-twice", "devtools"]))
    if wrapping in ("encoded", "encoded-twice"):
        text = json.dumps(text)
    if wrapping == "encoded-twice":
        text = json.dumps(text)
    if wrapping == "devtools":
        text = json.dumps({STORAGE_KEY: text})
    expected = [(ITEMS[index].id, flag) for index, flag in zip(chosen, flags, strict=True)]
    return text, expected, strangers


@PARSERS
@given(valid_payloads(), st.booleans())
def test_valid_payloads_match_exactly_the_items_they_name(
    payload: tuple[str, list[tuple[str, bool]], list[str]], as_bytes: bool
) -> None:
    text, expected, strangers = payload
    plan = parse_localstorage(text.encode("utf-8") if as_bytes else text, CATALOG)
    assert [(match.item_id, match.checked) for match in plan.matches] == expected
    assert plan.unmatched == strangers


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (b"[" * 100_000, "not valid JSON: nested too deeply"),
        (b"[" + b"1" * 5_000 + b"]", "not valid JSON: Exceeds the limit (4300 digits)"),
        (b'{"a": ' + b"1" * 5_000 + b"}", "Exceeds the limit (4300 digits)"),
        (json.dumps("[" * 100_000).encode(), "the stored string is not JSON: nested too deeply"),
        (b'["\\ud800"]', "entry '\\ud800' holds an unpaired surrogate"),
    ],
)
def test_found_by_fuzzing_now_unreadable_with_a_message(raw: bytes, message: str) -> None:
    """Before the fix: RecursionError and ValueError escaped the parser, and a lone surrogate was
    accepted as a key (the import page then failed with a 500 trying to show it)."""
    with pytest.raises(UnreadableImport) as raised:
        parse_localstorage(raw, CATALOG)
    assert message in str(raised.value)
