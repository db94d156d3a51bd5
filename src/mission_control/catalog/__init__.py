"""Checklists as data: YAML files validated into immutable Catalog objects."""

from mission_control.catalog.loader import (
    DEFAULT_CATALOG_PATH,
    EFFORTS,
    EVIDENCE_KINDS,
    Catalog,
    CatalogError,
    Category,
    EvidenceRequirement,
    Item,
    load_catalog,
    load_default_catalog,
)

__all__ = [
    "DEFAULT_CATALOG_PATH",
    "EFFORTS",
    "EVIDENCE_KINDS",
    "Catalog",
    "CatalogError",
    "Category",
    "EvidenceRequirement",
    "Item",
    "load_catalog",
    "load_default_catalog",
]
