"""The README documents every command, configuration key and probe: a new one fails this test."""

from __future__ import annotations

from dataclasses import fields
from pathlib import Path

import typer.main

from mission_control.cli import app
from mission_control.verification.config import EnvironmentConfig
from mission_control.verification.registry import PROBES, load_all

README = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")


def command_paths() -> list[str]:
    root = typer.main.get_command(app)
    paths = []
    for name, command in root.commands.items():
        subcommands = getattr(command, "commands", None)
        paths += [f"{name} {sub}" for sub in subcommands] if subcommands else [name]
    return paths


def test_every_command_is_in_the_readme() -> None:
    missing = [path for path in command_paths() if f"mission-control {path}" not in README]
    assert missing == []


def test_every_configuration_key_is_in_the_readme() -> None:
    keys = [field.name for field in fields(EnvironmentConfig) if field.name != "name"]
    assert [key for key in keys if f"\n{key} = " not in README] == []


def test_every_probe_is_described_in_the_readme() -> None:
    load_all()
    assert PROBES
    assert [item_id for item_id in PROBES if f"| `{item_id}` |" not in README] == []


def test_every_probe_has_a_section_in_docs_probes() -> None:
    load_all()
    probes_doc = (Path(__file__).resolve().parent.parent / "docs" / "probes.md").read_text(encoding="utf-8")
    headings = [line for line in probes_doc.splitlines() if line.startswith("## ")]
    assert [item_id for item_id in PROBES if not any(f"`{item_id}`" in line for line in headings)] == []


def test_every_setting_is_in_the_readme() -> None:
    """Each MC_* variable the settings read is documented (a new knob fails until it is)."""
    import re

    source = (Path(__file__).resolve().parent.parent / "src/mission_control/settings.py").read_text()
    variables = sorted(set(re.findall(r'"(MC_[A-Z_]+)"', source)))
    assert variables
    assert [name for name in variables if f"`{name}" not in README] == []
