"""Commands on an environment's progress: `status`, `export`, `import-localstorage`."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from mission_control.cli import common
from mission_control.cli.common import EnvOption, OutputOption

if TYPE_CHECKING:
    from rich.table import Table

commands = typer.Typer()


@commands.command()
def status(
    env: EnvOption = "production",
    all_environments: Annotated[
        bool, typer.Option("--all", help="One line per environment: completion, proofs, regressions.")
    ] = False,
    demo: Annotated[
        bool, typer.Option("--demo", help="Read the demo's database (see `mission-control demo`).")
    ] = False,
) -> None:
    """Print progress per category as a table (with --all: the whole fleet, one line per environment)."""
    import os

    from rich.console import Console
    from rich.table import Table

    if demo:
        from mission_control.demo.workspace import DEFAULT_DATA_DIR, DemoWorkspace

        os.environ["MC_DATABASE_URL"] = DemoWorkspace(DEFAULT_DATA_DIR).database_url
    if all_environments:
        Console().print(_fleet_table())
        return
    checklist = common.checklist(env)
    table = Table(title=f"{checklist.catalog.title} — {env}")
    table.add_column("Category")
    table.add_column("Done", justify="right")
    table.add_column("Status")
    for category in checklist.categories:
        table.add_row(
            f"{_icon(category.category.icon)} {category.category.name}",
            f"{category.completed}/{category.total}",
            "✅ complete" if category.complete else "open",
        )
    table.add_section()
    table.add_row("Overall", f"{checklist.completed}/{checklist.total}", f"{checklist.percent}%")
    Console().print(table)


def _fleet_table() -> Table:
    from rich.markup import escape
    from rich.table import Table

    from mission_control.catalog import load_default_catalog
    from mission_control.verification.fleet_view import summaries

    with common.database().read() as session:
        rows = summaries(session=session, catalog=load_default_catalog())
    table = Table(title=f"Fleet — {len(rows)} environments")
    for column in ("Environment", "Done", "✔ verified", "✖ failing", "⚠ error", "Regressed", "Last verified"):
        table.add_column(column, justify="left" if column in ("Environment", "Last verified") else "right")
    for row in rows:
        counts = row.counts()
        table.add_row(
            escape(row.name) + (" (archived)" if row.archived else ""),
            f"{row.percent}%",
            str(counts["verified"]),
            str(counts["failing"]),
            str(counts["error"]),
            str(row.regressed),
            row.last_verified.strftime("%Y-%m-%d %H:%M UTC") if row.last_verified else "never",
        )
    return table


@commands.command()
def export(
    env: EnvOption = "production",
    fmt: Annotated[str, typer.Option("--format", help="md, json or csv.")] = "md",
    output: OutputOption = None,
) -> None:
    """Export an environment's checklist and progress."""
    from mission_control.progress.export import FORMATS, render

    if fmt not in FORMATS:
        raise common.fail(f"unknown format {fmt!r}: choose one of {', '.join(FORMATS)}")
    common.write_output(render(common.checklist(env), fmt), output)


@commands.command("import-localstorage")
def import_localstorage(
    file: Annotated[Path, typer.Argument(help="File holding the value of sd_multiregion_checklist.")],
    env: EnvOption = "production",
    actor: Annotated[str, typer.Option(help="Name recorded in the audit trail.")] = "cli",
) -> None:
    """Import the old page's localStorage progress, reporting what matched and what did not."""
    from mission_control.catalog import load_default_catalog
    from mission_control.errors import MissionControlError
    from mission_control.progress.importer import UnreadableImport, apply_import, parse_localstorage

    catalog = load_default_catalog()
    try:
        plan = parse_localstorage(file.read_bytes(), catalog)
    except OSError as error:
        raise common.fail(f"{file}: {error.strerror}; nothing was changed") from error
    except UnreadableImport as error:
        raise common.fail(f"{file}: {error}; nothing was changed") from error
    database = common.database()
    try:
        with database.transaction() as session:
            apply_import(session=session, catalog=catalog, environment_name=env, plan=plan, actor=actor)
    except MissionControlError as error:
        raise common.fail(f"{error}; nothing was changed") from error
    for match in plan.matches:
        typer.echo(
            f"matched   {match.key!r} -> {match.item_id} ({'checked' if match.checked else 'unchecked'})"
        )
    for key in plan.unmatched:
        typer.echo(f"unmatched {key!r}")
    typer.echo(
        f"{len(plan.matches)} matched, {len(plan.changed)} changed, {len(plan.unmatched)} unmatched in {env}"
    )


def _icon(icon: str) -> str:
    """The icon in exactly two terminal cells, so the rows align: a symbol that terminals may draw
    narrow ("🗄") gets the emoji presentation selector, and a letter ("λ") a space."""
    import unicodedata

    from rich.cells import cell_len

    if cell_len(icon) == 1 and unicodedata.category(icon[0]) == "So":
        icon += "\ufe0f"
    return icon + " " * max(0, 2 - cell_len(icon))
