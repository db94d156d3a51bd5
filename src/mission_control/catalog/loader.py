"""Load and validate a checklist YAML file.

Teams will add their own checklists, so every rejection names the file, the item and the problem.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import yaml

from mission_control.errors import MissionControlError

DEFAULT_CATALOG_PATH = Path(__file__).with_name("multi-region-readiness.yaml")
EFFORTS = ("Low", "Medium", "High")
EVIDENCE_KINDS = ("document", "drill", "attestation")
_ID_PATTERN = re.compile(r"[a-z0-9][a-z0-9-]*(\.[a-z0-9][a-z0-9-]*)*")


class CatalogError(MissionControlError):
    """A malformed catalog; the message says where and what."""


@dataclass(frozen=True)
class EvidenceRequirement:
    """What completes an item no probe can prove, and for how long: each kind must be present and fresh."""

    requires: tuple[str, ...]  # of EVIDENCE_KINDS
    valid_days: int


@dataclass(frozen=True)
class Item:
    id: str
    title: str
    description: str
    effort: str
    category: str  # the owning category's id
    evidence: EvidenceRequirement | None = None


@dataclass(frozen=True)
class Category:
    id: str
    name: str
    icon: str
    tag: str
    items: tuple[Item, ...]


@dataclass(frozen=True)
class Catalog:
    id: str
    title: str
    icon: str
    categories: tuple[Category, ...]

    @property
    def items(self) -> tuple[Item, ...]:
        return tuple(item for category in self.categories for item in category.items)

    def item(self, item_id: str) -> Item | None:
        return next((item for item in self.items if item.id == item_id), None)

    def category(self, category_id: str) -> Category | None:
        return next((c for c in self.categories if c.id == category_id), None)


@cache
def load_default_catalog() -> Catalog:
    return load_catalog(DEFAULT_CATALOG_PATH)


def load_catalog(path: Path) -> Catalog:
    """Parse `path`; raise CatalogError naming the file, the item and the problem."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise CatalogError(f"{path}: cannot read catalog: {error}") from error
    try:
        document = yaml.safe_load(text)
    except yaml.YAMLError as error:
        raise CatalogError(f"{path}: not valid YAML: {error}") from error
    except RecursionError as error:
        raise CatalogError(f"{path}: not valid YAML: nested too deeply") from error
    # PyYAML's constructors raise bare KeyError, ValueError... on values like `!!bool x` or 2020-13-45
    except Exception as error:
        raise CatalogError(
            f"{path}: not valid YAML: a value could not be read ({type(error).__name__}: {error})"
        ) from error
    return _catalog(document, str(path))


def _catalog(document: Any, source: str) -> Catalog:
    if not isinstance(document, dict):
        raise CatalogError(f"{source}: the catalog must be a mapping with id, title and categories")
    catalog_id = _text(document, "id", source)
    _check_id(catalog_id, source)
    categories_data = document.get("categories")
    if not isinstance(categories_data, list) or not categories_data:
        raise CatalogError(f"{source}: 'categories' must be a non-empty list")
    categories = tuple(_category(entry, source, n) for n, entry in enumerate(categories_data, 1))
    seen: set[str] = set()
    for category in categories:
        if category.id in seen:
            raise CatalogError(f"{source}: category {category.id!r}: duplicate category id")
        seen.add(category.id)
    for item in (item for category in categories for item in category.items):
        if item.id in seen:
            raise CatalogError(f"{source}: item {item.id!r}: duplicate id")
        seen.add(item.id)
    return Catalog(catalog_id, _text(document, "title", source), str(document.get("icon", "")), categories)


def _category(entry: Any, source: str, position: int) -> Category:
    where = f"{source}: category #{position}"
    if not isinstance(entry, dict):
        raise CatalogError(f"{where}: must be a mapping")
    category_id = _text(entry, "id", where)
    _check_id(category_id, where)
    where = f"{source}: category {category_id!r}"
    items_data = entry.get("items")
    if not isinstance(items_data, list) or not items_data:
        raise CatalogError(f"{where}: 'items' must be a non-empty list")
    items = tuple(_item(data, category_id, where, n) for n, data in enumerate(items_data, 1))
    return Category(
        category_id,
        _text(entry, "name", where),
        _text(entry, "icon", where),
        _text(entry, "tag", where),
        items,
    )


def _item(entry: Any, category_id: str, category_where: str, position: int) -> Item:
    where = f"{category_where}, item #{position}"
    if not isinstance(entry, dict):
        raise CatalogError(f"{where}: must be a mapping")
    item_id = _text(entry, "id", where)
    where = f"{category_where}, item {item_id!r}"
    _check_id(item_id, where)
    unknown = set(entry) - {"id", "title", "description", "effort", "evidence"}
    if unknown:
        raise CatalogError(f"{where}: unknown field {sorted(unknown, key=repr)[0]!r}")
    effort = _text(entry, "effort", where)
    if effort not in EFFORTS:
        raise CatalogError(f"{where}: effort must be one of {', '.join(EFFORTS)}, not {effort!r}")
    return Item(
        item_id,
        _text(entry, "title", where),
        _text(entry, "description", where),
        effort,
        category_id,
        _evidence(entry.get("evidence"), where),
    )


def _evidence(value: Any, where: str) -> EvidenceRequirement | None:
    if value is None:
        return None
    shape = f"{where}: 'evidence' must be {{requires: [{', '.join(EVIDENCE_KINDS)}], valid_days: N}}"
    if not isinstance(value, dict) or set(value) != {"requires", "valid_days"}:
        raise CatalogError(shape)
    requires, valid_days = value["requires"], value["valid_days"]
    if not isinstance(requires, list) or not requires or any(kind not in EVIDENCE_KINDS for kind in requires):
        raise CatalogError(shape)
    if isinstance(valid_days, bool) or not isinstance(valid_days, int) or valid_days < 1:
        raise CatalogError(f"{where}: evidence valid_days must be a whole number of days, at least 1")
    return EvidenceRequirement(tuple(dict.fromkeys(requires)), valid_days)


def _text(mapping: dict[str, Any], key: str, where: str) -> str:
    value = mapping.get(key)
    if not isinstance(value, str) or not value.strip():
        raise CatalogError(f"{where}: {key!r} must be a non-empty string")
    return value


def _check_id(value: str, where: str) -> None:
    if not _ID_PATTERN.fullmatch(value):
        raise CatalogError(f"{where}: id {value!r} must be lowercase words joined by '-' and '.'")
