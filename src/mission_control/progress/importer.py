"""Import the progress the old page kept in localStorage under `sd_multiregion_checklist`.

Nobody recorded that value's shape, so we accept every plausible one and say exactly what matched:
a list of checked titles, ids or 0-based indexes; an object mapping titles, ids or indexes to
booleans; either of those wrapped once in an object (e.g. {"checked": [...]}) or JSON-encoded in a
string; and a DevTools dump of localStorage holding the key itself.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.orm import Session

from mission_control.catalog import Catalog
from mission_control.errors import MissionControlError
from mission_control.progress.service import get_environment, item_states, record_event, update_item

STORAGE_KEY = "sd_multiregion_checklist"
MAX_IMPORT_BYTES = 1_000_000


class UnreadableImport(MissionControlError):
    """The file cannot be read as any accepted shape; nothing was changed."""


@dataclass(frozen=True)
class Match:
    key: str  # the key as it appeared in the file
    item_id: str
    checked: bool


@dataclass
class ImportPlan:
    matches: list[Match] = field(default_factory=list)
    unmatched: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)  # item ids whose state the import changed


def parse_localstorage(raw: bytes | str, catalog: Catalog) -> ImportPlan:
    """Read the stored value and match its entries to catalog items; raise UnreadableImport if unreadable."""
    if isinstance(raw, bytes):
        if len(raw) > MAX_IMPORT_BYTES:
            raise UnreadableImport(f"file is {len(raw)} bytes; the limit is {MAX_IMPORT_BYTES}")
        try:
            raw = raw.decode("utf-8-sig")
        except UnicodeDecodeError as error:
            raise UnreadableImport(
                f"file is not UTF-8 text ({error.reason} at byte {error.start})"
            ) from error
    value = _decode(raw.lstrip("\ufeff"))
    entries = _entries(value)
    plan = ImportPlan()
    lookup = _lookup(catalog)
    for key, checked in entries:
        if not _is_text(key):
            raise UnreadableImport(f"entry {key!r} holds an unpaired surrogate, so it is not text")
        item_id = lookup.get(_normalise(key))
        if item_id is None:
            plan.unmatched.append(key)
        else:
            plan.matches.append(Match(key, item_id, checked))
    return plan


def _decode(text: str) -> Any:
    value = _json(text, "not valid JSON")
    for _ in range(3):  # localStorage values are strings: unwrap JSON that was encoded again
        if isinstance(value, dict) and STORAGE_KEY in value:
            value = value[STORAGE_KEY]
        elif isinstance(value, str):
            value = _json(value, "the stored string is not JSON")
        else:
            break
    return value


def _json(text: str, problem: str) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError as error:
        raise UnreadableImport(
            f"{problem}: {error.msg} at line {error.lineno} column {error.colno}"
        ) from error
    except ValueError as error:  # e.g. an integer longer than Python's 4,300-digit conversion limit
        raise UnreadableImport(f"{problem}: {error}") from error
    except RecursionError as error:
        raise UnreadableImport(f"{problem}: nested too deeply") from error


def _is_text(key: str) -> bool:
    """False for strings holding a lone surrogate (JSON allows "\\ud800"; UTF-8 cannot store it)."""
    try:
        key.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _entries(value: Any) -> list[tuple[str, bool]]:
    if isinstance(value, dict) and len(value) == 1:
        (inner,) = value.values()
        if isinstance(inner, list | dict):
            value = inner
    if isinstance(value, list):
        entries = []
        for entry in value:
            if isinstance(entry, bool) or not isinstance(entry, str | int):
                raise UnreadableImport(
                    f"a list must hold titles, ids or indexes; found {json.dumps(entry)[:80]}"
                )
            entries.append((str(entry), True))
        return entries
    if isinstance(value, dict):
        entries = []
        for key, flag in value.items():
            if not isinstance(flag, bool | int) or (not isinstance(flag, bool) and flag not in (0, 1)):
                raise UnreadableImport(
                    f"entry {key!r} must map to true or false, not {json.dumps(flag)[:80]}"
                )
            entries.append((key, bool(flag)))
        return entries
    raise UnreadableImport(
        f"expected a list or an object of checked items, found {type(value).__name__}: {json.dumps(value)[:80]}"
    )


def _normalise(key: str) -> str:
    return " ".join(key.split()).casefold()


def _lookup(catalog: Catalog) -> dict[str, str]:
    lookup: dict[str, str] = {}
    for index, item in enumerate(catalog.items):
        lookup[str(index)] = item.id
        lookup[_normalise(item.id)] = item.id
        lookup[_normalise(item.title)] = item.id
    return lookup


def apply_import(
    *, session: Session, catalog: Catalog, environment_name: str, plan: ImportPlan, actor: str
) -> ImportPlan:
    """Set each matched item's checked state; items the file does not mention stay as they are."""
    environment = get_environment(session=session, name=environment_name)
    checked_before = {
        item_id: state.checked
        for item_id, state in item_states(session=session, environment=environment).items()
    }
    for match in plan.matches:
        update_item(
            session=session,
            catalog=catalog,
            environment_name=environment_name,
            item_id=match.item_id,
            actor=actor,
            checked=match.checked,
        )
        if checked_before.get(match.item_id) != match.checked and match.item_id not in plan.changed:
            plan.changed.append(match.item_id)
    record_event(
        session=session,
        actor=actor,
        action="import.localstorage",
        new_value=f"{environment_name}: {len(plan.matches)} matched, {len(plan.unmatched)} unmatched",
    )
    return plan
