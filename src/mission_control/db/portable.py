"""Column values as JSON and back, for the backup file: each value is checked against its column.

SQLite stores whatever it is given, so a restore cannot lean on the engine to refuse "abc" in an
integer column or an over-long name: the check here holds on both engines, and its message names the
line, the table and the column.
"""

from __future__ import annotations

import base64
import binascii
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import JSON, Boolean, Column, DateTime, Integer, LargeBinary, Numeric, String, Table


class ValueProblem(ValueError):
    """A backed-up value its column cannot hold; the message says which and why."""


def encode(value: Any) -> Any:
    """A database value as JSON: datetimes as ISO 8601 in UTC, binary as base64."""
    if isinstance(value, datetime):  # stored as UTC on both engines; SQLite returns it naive
        return (value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)).isoformat()
    if isinstance(value, bytes | bytearray | memoryview):
        return base64.b64encode(bytes(value)).decode("ascii")
    return value


def decode_row(table: Table, row: dict[str, Any]) -> dict[str, Any]:
    """The row as database values; ValueProblem when a column is unknown or a value does not fit."""
    decoded = {}
    for key, value in row.items():
        column = table.columns.get(key)
        if column is None:
            raise ValueProblem(f"column {table.name}.{key} is not in this schema")
        decoded[key] = _decode(column, value)
    return decoded


def _decode(column: Column[Any], value: Any) -> Any:
    where = f"{column.table.name}.{column.name}"
    if value is None:
        if not column.nullable:
            raise ValueProblem(f"{where} may not be empty (null)")
        return None
    kind = column.type
    if isinstance(kind, Boolean):
        if not isinstance(value, bool):
            raise ValueProblem(f"{where} must be true or false, not {_shown(value)}")
    elif isinstance(kind, Integer):
        if isinstance(value, bool) or not isinstance(value, int):
            raise ValueProblem(f"{where} must be an integer, not {_shown(value)}")
    elif isinstance(kind, Numeric):
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ValueProblem(f"{where} must be a number, not {_shown(value)}")
    elif isinstance(kind, DateTime):
        return _datetime(where, value)
    elif isinstance(kind, LargeBinary):
        return _binary(where, value)
    elif isinstance(kind, JSON):
        return value
    elif isinstance(kind, String):
        if not isinstance(value, str):
            raise ValueProblem(f"{where} must be text, not {_shown(value)}")
        if kind.length is not None and len(value) > kind.length:
            raise ValueProblem(f"{where} holds at most {kind.length} characters, not {len(value)}")
        if "\x00" in value:
            raise ValueProblem(f"{where} contains a NUL character")
    else:
        raise ValueProblem(f"{where} has a type backups do not carry ({kind})")
    return value


def _datetime(where: str, value: Any) -> datetime:
    if not isinstance(value, str):
        raise ValueProblem(f"{where} must be an ISO 8601 date and time, not {_shown(value)}")
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise ValueProblem(f"{where} must be an ISO 8601 date and time, not {_shown(value)}") from None
    if parsed.tzinfo is None:
        raise ValueProblem(f"{where} must name its time zone (UTC), not {_shown(value)}")
    return parsed.astimezone(UTC)


def _binary(where: str, value: Any) -> bytes:
    if not isinstance(value, str):
        raise ValueProblem(f"{where} must be base64 text, not {_shown(value)}")
    try:
        return base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        raise ValueProblem(f"{where} is not valid base64") from None


def _shown(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."
