"""The shipped catalog is the seed page, exactly; malformed catalogs are rejected precisely."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from mission_control.catalog import CatalogError, load_catalog, load_default_catalog

SEED = Path(__file__).resolve().parents[1] / "data" / "seed-multi-region-readiness.txt"
SHARED_SEED = Path(__file__).resolve().parents[3] / "shared" / "seed" / "multi-region-readiness.txt"
TAG_LINE = re.compile(r"^(DNS|DynamoDB|CloudFront|Lambda@Edge|Cognito)(Low|Medium|High) effort$")
STABLE_IDS = [
    "dns.latency-routing", "dns.health-checks", "dns.failover-ttl", "dns.failover-runbook",
    "dynamodb.global-main", "dynamodb.global-platform", "dynamodb.pitr-backup-copy", "dynamodb.restore-drill",
    "cloudfront.origin-failover", "cloudfront.geo-restriction", "cloudfront.cache-ttls", "cloudfront.failover-test",
    "edge.auth-handler", "edge.redirects", "edge.iam-role", "edge.latency",
    "cognito.backup-pool", "cognito.token-sync", "cognito.parity", "cognito.auth-flow-test",
]  # fmt: skip


def seed_items(path: Path) -> list[tuple[str, str, str, str]]:
    """(title, description, tag, effort) for each item, read from the captured page text."""
    lines = path.read_text(encoding="utf-8").splitlines()
    return [
        (lines[i - 2], lines[i - 1], match.group(1), match.group(2))
        for i, line in enumerate(lines)
        if (match := TAG_LINE.match(line))
    ]


def test_vendored_seed_is_the_shared_seed() -> None:
    if not SHARED_SEED.exists():
        pytest.skip("shared/ is not beside this checkout")
    assert SEED.read_bytes() == SHARED_SEED.read_bytes()


def test_every_item_text_and_effort_equals_the_seed_in_the_seed_order() -> None:
    catalog = load_default_catalog()
    expected = seed_items(SEED)
    assert len(expected) == 20
    actual = [
        (item.title, item.description, catalog.category(item.category).tag, item.effort)
        for item in catalog.items
    ]
    assert actual == expected


def test_item_ids_are_the_stable_public_ids() -> None:
    assert [item.id for item in load_default_catalog().items] == STABLE_IDS


def test_categories_have_the_seed_names_and_icons() -> None:
    catalog = load_default_catalog()
    assert catalog.title == "Multi-Region Readiness"
    assert catalog.icon == "🌍"
    assert [(c.icon, c.name) for c in catalog.categories] == [
        ("🌐", "DNS — Route53"),
        ("🗄", "DynamoDB"),
        ("☁️", "CloudFront"),
        ("λ", "Lambda@Edge"),
        ("🔐", "Cognito"),
    ]
    text = SEED.read_text(encoding="utf-8")
    for category in catalog.categories:
        assert f"{category.icon} {category.name}" in text
        assert len(category.items) == 4


GOOD_ITEM = "      - {id: a.one, title: One, description: First, effort: Low}\n"
HEADER = (
    "id: custom\ntitle: Custom\ncategories:\n  - id: a\n    name: A\n    icon: A\n    tag: A\n    items:\n"
)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("id: [unclosed", "not valid YAML"),
        ("- just a list", "must be a mapping"),
        ("id: custom\ntitle: Custom\ncategories: []\n", "'categories' must be a non-empty list"),
        (HEADER + "      - {id: a.one, title: One, description: First, effort: Huge}\n", "item 'a.one': effort must be one of Low, Medium, High, not 'Huge'"),
        (HEADER + "      - {id: a.one, description: First, effort: Low}\n", "item 'a.one': 'title' must be a non-empty string"),
        (HEADER + "      - {id: a.one, title: '  ', description: First, effort: Low}\n", "item 'a.one': 'title' must be a non-empty string"),
        (HEADER + GOOD_ITEM + GOOD_ITEM, "item 'a.one': duplicate id"),
        (HEADER + "      - {id: a.one, title: One, description: First, effort: Low, colour: red}\n", "item 'a.one': unknown field 'colour'"),
        (HEADER + "      - {id: 'Bad Id', title: One, description: First, effort: Low}\n", "id 'Bad Id' must be lowercase"),
        (HEADER + "      - {title: One, description: First, effort: Low}\n", "item #1: 'id' must be a non-empty string"),
        (HEADER.replace("    items:\n", "    items: []\n"), "category 'a': 'items' must be a non-empty list"),
    ],
)  # fmt: skip
def test_malformed_catalog_is_rejected_naming_file_item_and_problem(
    tmp_path: Path, text: str, expected: str
) -> None:
    path = tmp_path / "team-checklist.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(CatalogError) as raised:
        load_catalog(path)
    assert str(path) in str(raised.value)
    assert expected in str(raised.value)


def test_unreadable_catalog_file_is_a_catalog_error(tmp_path: Path) -> None:
    path = tmp_path / "binary.yaml"
    path.write_bytes(b"\xff\xfe\x00garbage")
    with pytest.raises(CatalogError, match=r"binary\.yaml: cannot read catalog"):
        load_catalog(path)


def test_a_valid_custom_catalog_loads(tmp_path: Path) -> None:
    path = tmp_path / "team.yaml"
    path.write_text(HEADER + GOOD_ITEM, encoding="utf-8")
    catalog = load_catalog(path)
    assert [item.id for item in catalog.items] == ["a.one"]
    assert catalog.item("a.one").category == "a"
