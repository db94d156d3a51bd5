"""Commands that check the live AWS account and report on it: `verify`, `report`, `iam-policy`."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from mission_control.cli import common
from mission_control.cli.common import (
    DEFAULT_CONFIG,
    ConfigOption,
    OutputOption,
)

if TYPE_CHECKING:
    from rich.console import Console

    from mission_control.catalog import Catalog
    from mission_control.db.database import Database
    from mission_control.notifications.channels import Channel
    from mission_control.report.builder import EnvironmentReport
    from mission_control.verification.config import EnvironmentConfig

commands = typer.Typer()


FleetEnvOption = Annotated[
    list[str] | None,
    typer.Option("--env", help="Environment; repeat for several (default: the only one, or production)."),
]


def readiness_exit_code(summary: dict[str, int]) -> int:
    """0 ready, 1 when an item fails, 3 when none fails but some could not be checked (error)."""
    from mission_control.verification.fleet import fleet_exit_code, summary_state

    return fleet_exit_code([summary_state(summary)])


@commands.command()
def verify(
    config: ConfigOption = DEFAULT_CONFIG,
    env: FleetEnvOption = None,
    all_environments: Annotated[
        bool, typer.Option("--all", help="Every environment in the configuration.")
    ] = False,
    template: Annotated[
        str | None, typer.Option("--template", help="Every environment made from this template.")
    ] = None,
    concurrency: Annotated[
        int, typer.Option("--concurrency", min=1, max=64, help="Environments in flight.")
    ] = 8,
    processes: Annotated[
        int | None,
        typer.Option(
            "--processes",
            min=1,
            max=64,
            help="Processes sharing the fleet (default: one per core, for fleets of 20 environments "
            "a core and more); environments that share an account stay in one.",
        ),
    ] = None,
    route53_rate: Annotated[
        float, typer.Option("--route53-rate", min=0.1, max=10, help="Route53 requests/s per account.")
    ] = 5.0,
    fmt: Annotated[
        str, typer.Option("--format", help="table, json, junit, markdown, sarif, ocsf or asff.")
    ] = "table",
    output: OutputOption = None,
    fail_under: Annotated[
        int | None, typer.Option("--fail-under", min=0, max=100, help="Pass when completion is at least PCT.")
    ] = None,
) -> None:
    """Check every provable item against the live AWS accounts (read-only); the exit code gates pipelines.

    Several environments (--all, repeated --env, --template) run concurrently within per-account API
    budgets. Exit 0 when nothing is failing or in error (with --fail-under: when every completion >= PCT),
    1 when something fails, 3 when the only problems are errors, 2 on a configuration or usage error.
    """
    from rich.console import Console

    from mission_control.catalog import load_default_catalog
    from mission_control.cli.findings import findings_run, render_findings
    from mission_control.findings.formats import FORMATS as FINDINGS_FORMATS
    from mission_control.notifications.outbox import Outbox
    from mission_control.verification import fleet_reports, reports
    from mission_control.verification.budgets import Budgets, Rates
    from mission_control.verification.fleet import (
        default_processes,
        fleet_exit_code,
        summary_state,
        verify_fleet,
    )

    if fmt not in (*fleet_reports.RENDERERS, "table", *FINDINGS_FORMATS):
        raise common.fail(f"unknown format {fmt!r}: choose table, json, junit, markdown, sarif, ocsf or asff")
    environments = _chosen(config, env or [], all_environments=all_environments, template=template)
    if fmt in FINDINGS_FORMATS and len(environments) > 1:
        raise common.fail(
            f"--format {fmt} describes one environment: verify the fleet as json, junit or markdown"
        )
    catalog = load_default_catalog()
    database = common.database(tuple(environment.name for environment in environments))
    stderr = Console(stderr=True)
    channels = _channels(config)
    outbox = Outbox(channels, {environment.name: environment.template for environment in environments})
    with _progress(stderr, environments, catalog) as on_progress:
        fleet = verify_fleet(
            environments, database=database, catalog=catalog, concurrency=concurrency,
            budgets=Budgets(Rates(route53=route53_rate)), actor="cli", on_progress=on_progress,
            outbox=outbox, public_url=common.settings().public_url,
            processes=processes or default_processes(len(environments)),
        )  # fmt: skip
    _send(database, channels, outbox.queued, stderr)
    single = len(fleet.reports) == 1
    if fmt in FINDINGS_FORMATS:
        from mission_control.progress.service import get_checklist

        with database.read() as session:
            checklist = get_checklist(session=session, catalog=catalog, environment_name=environments[0].name)
        run = findings_run(checklist, config, fleet.reports[0].generated_at)
        common.write_output(
            render_findings(run, fmt, environments[0].primary_region, environment=environments[0]), output
        )
    elif fmt == "table":
        console = Console(file=output.open("w", encoding="utf-8"), width=140) if output else Console()
        table = (
            reports.to_table(fleet.reports[0], catalog) if single else fleet_reports.to_table(fleet, catalog)
        )
        console.print(table)
        if output:
            console.file.close()
    elif single:
        single_renderers = {
            "json": reports.to_json,
            "junit": reports.to_junit,
            "markdown": reports.to_markdown,
        }
        common.write_output(single_renderers[fmt](fleet.reports[0], catalog), output)
    else:
        common.write_output(fleet_reports.RENDERERS[fmt](fleet, catalog), output)
    for name, regressed in fleet.regressed.items():
        for item_id in regressed:
            where = item_id if single else f"{name}: {item_id}"
            stderr.print(f"[red]regressed:[/red] {where} was ticked but now fails its check")
    percents = _completions(database, catalog, [report.environment for report in fleet.reports])
    for report in fleet.reports:
        summary = report.summary
        stderr.print(
            f"{report.environment}: {summary['verified']} verified, {summary['failing']} failing, "
            f"{summary['error']} error, {summary['manual']} manual; completion {percents[report.environment]}%"
        )
    if fail_under is not None:
        raise typer.Exit(0 if all(percent >= fail_under for percent in percents.values()) else 1)
    raise typer.Exit(fleet_exit_code([summary_state(report.summary) for report in fleet.reports]))


def _chosen(
    path: Path, names: list[str], *, all_environments: bool, template: str | None
) -> list[EnvironmentConfig]:
    """The environments a verify names: --all, --template, repeated --env, or the single default."""
    if sum((all_environments, template is not None, bool(names))) > 1:
        raise common.fail("choose one of --all, --template or --env")
    if not all_environments and template is None and not names:
        return [common.environment_config(path, None)]
    found = _discovered(path) | common.configs(path, required=True)
    if all_environments:
        return list(found.values())
    if template is not None:
        chosen = [config for config in found.values() if config.template == template]
        if not chosen:
            raise common.fail(f"{path}: no environment has template = {template!r}")
        return chosen
    missing = [name for name in names if name not in found]
    if missing:
        raise common.fail(f"{path}: no [environments.{missing[0]}] table (found: {', '.join(sorted(found))})")
    return [found[name] for name in dict.fromkeys(names)]


def _channels(path: Path) -> dict[str, Channel]:
    """The configuration's notification channels (the file was read and checked already)."""
    from mission_control.notifications.channels import load_channels

    return load_channels(path)


def _send(database: Database, channels: dict[str, Channel], delivery_ids: list[int], stderr: Console) -> None:
    """Send the run's notifications now; one that fails waits for a server's or worker's retry."""
    import os

    from mission_control.notifications.models import DELIVERED
    from mission_control.notifications.outbox import send

    for delivery_id in delivery_ids:
        status = send(database=database, channels=channels, delivery_id=delivery_id, environ=os.environ)
        if status != DELIVERED:
            stderr.print(
                f"[yellow]notification {delivery_id} not delivered yet[/yellow]: retried by `serve` or a worker"
            )


def _discovered(path: Path) -> dict[str, EnvironmentConfig]:
    """Environments discovered from AWS Organizations and not archived; the file's own win over them."""
    from mission_control.verification.config import ConfigError, from_template, load_templates
    from mission_control.verification.discovery import discovered

    with common.database().read() as session:
        rows = {name: row for name, row in discovered(session=session).items() if row.archived_at is None}
    if not rows:
        return {}
    try:
        templates = load_templates(path)
        return {
            name: from_template(
                name, templates=templates, template=row.template, role_arn=row.role_arn, source=str(path)
            )
            for name, row in rows.items()
        }
    except ConfigError as error:
        raise common.fail(f"discovered environments: {error}") from error


@contextmanager
def _progress(
    stderr: Console, environments: list[EnvironmentConfig], catalog: Catalog
) -> Iterator[Callable[[str, str], None]]:
    """One Rich progress bar per environment on a terminal; nothing when stderr is not one."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

    from mission_control.verification.runner import count_steps

    with Progress(
        TextColumn("[progress.description]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        console=stderr,
        disable=not stderr.is_terminal,
        transient=True,
    ) as progress:
        total = count_steps(catalog)
        tasks = {config.name: progress.add_task(config.name, total=total) for config in environments}
        yield lambda name, label: progress.update(tasks[name], advance=1, description=f"{name}: {label}")


def _completions(database: Database, catalog: Catalog, names: list[str]) -> dict[str, int]:
    from mission_control.progress.service import get_checklist

    with database.read() as session:
        return {
            name: get_checklist(session=session, catalog=catalog, environment_name=name).percent
            for name in names
        }


@commands.command()
def report(
    env: Annotated[str | None, typer.Option("--env", help="Environment name (default: production).")] = None,
    all_environments: Annotated[
        bool, typer.Option("--all", help="Every environment (archived ones left out): a fleet report.")
    ] = False,
    template: Annotated[
        str | None, typer.Option("--template", help="Every environment made from this template.")
    ] = None,
    fmt: Annotated[str, typer.Option("--format", help="md, html, json, junit, sarif, ocsf or asff.")] = "md",
    output: OutputOption = None,
    config: Annotated[
        Path | None,
        typer.Option(
            "--config",
            help="Configuration: RTO/RPO targets, the region ASFF names, the lines SARIF points at.",
        ),
    ] = None,
) -> None:
    """Report an environment: progress, proofs, evidence with age, drills against RTO/RPO targets, burn-up.

    With --all or --template, a fleet report: a table of the environments, then each one's own report.
    """
    from mission_control.catalog import load_default_catalog
    from mission_control.errors import MissionControlError
    from mission_control.findings.formats import FORMATS as FINDINGS_FORMATS
    from mission_control.report.builder import build_report
    from mission_control.report.render import FORMATS, render

    if fmt not in (*FORMATS, *FINDINGS_FORMATS):
        raise common.fail(f"unknown format {fmt!r}: choose one of {', '.join((*FORMATS, *FINDINGS_FORMATS))}")
    if sum((all_environments, template is not None, env is not None)) > 1:
        raise common.fail("choose one of --all, --template or --env")
    catalog = load_default_catalog()
    if all_environments or template is not None:
        common.write_output(_fleet_report(catalog, fmt, config, template), output)
        return
    name = env or "production"
    targets = common.configs(config, required=True).get(name) if config else None
    with common.database().read() as session:
        try:
            built = build_report(
                session=session, catalog=catalog, environment_name=name,
                rto_target=targets.rto_seconds if targets else None,
                rpo_target=targets.rpo_seconds if targets else None,
            )  # fmt: skip
        except MissionControlError as error:
            raise common.fail(str(error)) from error
    text = (
        _findings(built, fmt, config or DEFAULT_CONFIG, targets)
        if fmt in FINDINGS_FORMATS
        else render(built, fmt)
    )
    common.write_output(text, output)


def _fleet_report(catalog: Catalog, fmt: str, config: Path | None, template: str | None) -> str:
    """The fleet report of every environment (`template` None) or of those made from `template`."""
    from mission_control.errors import MissionControlError
    from mission_control.findings.formats import FORMATS as FINDINGS_FORMATS
    from mission_control.findings.formats import combine
    from mission_control.progress.service import list_environments
    from mission_control.report.fleet import build_fleet_report, render_fleet
    from mission_control.verification.config import ConfigError, load_templates
    from mission_control.verification.discovery import discovered

    path = config or DEFAULT_CONFIG
    configured = _discovered(path) | common.configs(path, required=template is not None)
    with common.database().read() as session:
        rows = discovered(session=session)
        archived = {name for name, row in rows.items() if row.archived_at is not None}
        names = [e.name for e in list_environments(session=session) if e.name not in archived]
    if template is not None:
        try:
            known = set(load_templates(path)) | {row.template for row in rows.values()}
        except ConfigError as error:
            raise common.fail(str(error)) from error
        if template not in known:
            raise common.fail(
                f"{path}: no [templates.{template}] table, and no discovered environment uses it "
                f"(found: {', '.join(sorted(known)) or 'none'})"
            )
        names = [name for name in names if name in configured and configured[name].template == template]
    if not names:
        which = f"made from template {template!r}" if template else "that is not archived"
        raise common.fail(f"no environment {which}: nothing to report")
    with common.database().read() as session:
        try:
            fleet = build_fleet_report(session=session, catalog=catalog, names=names, targets=configured)
        except MissionControlError as error:
            raise common.fail(str(error)) from error
    if fmt in FINDINGS_FORMATS:
        return combine(
            [
                _findings(report, fmt, path, configured.get(report.checklist.environment))
                for report in fleet.reports
            ],
            fmt,
        )
    return render_fleet(fleet, fmt)


def _findings(built: EnvironmentReport, fmt: str, config: Path, targets: EnvironmentConfig | None) -> str:
    """One environment's findings as SARIF, OCSF or ASFF; ASFF names the account its role acts in."""
    from mission_control.cli.findings import findings_run, render_findings

    run = findings_run(built.checklist, config, built.generated_at)
    return render_findings(run, fmt, targets.primary_region if targets else None, environment=targets)


@commands.command("iam-policy")
def iam_policy(
    drills: Annotated[
        bool, typer.Option("--drills", help="The policy drills need (they write) instead.")
    ] = False,
    integrations: Annotated[
        bool,
        typer.Option(
            "--integrations",
            help="The policy of export-findings (it writes) and the FIS/Region switch imports.",
        ),
    ] = False,
    discovery: Annotated[
        bool, typer.Option("--discovery", help="The Organizations reads `env discover` needs instead.")
    ] = False,
    trust: Annotated[
        bool, typer.Option("--trust", help="The member-account role's trust policy (needs --principal).")
    ] = False,
    principal: Annotated[
        str | None, typer.Option("--principal", help="ARN allowed to assume the read-only role.")
    ] = None,
    external_id: Annotated[
        str | None, typer.Option("--external-id", help="External id the role's trust policy demands.")
    ] = None,
    fmt: Annotated[
        str, typer.Option("--format", help="json, or cloudformation (a StackSet-ready role template).")
    ] = "json",
) -> None:
    """Print the least-privilege, read-only IAM policy that `verify` needs (or, with --drills, the drills' own;
    with --integrations, the integrations'). --trust prints the member-account role's trust policy;
    --format cloudformation a template creating that role with the read-only policy, ready for a StackSet."""
    import json

    from mission_control.verification.iam import (
        cloudformation_template,
        discovery_policy,
        drills_policy,
        integrations_policy,
        read_only_policy,
        trust_policy,
    )

    if fmt not in ("json", "cloudformation"):
        raise common.fail(f"unknown format {fmt!r}: choose json or cloudformation")
    if sum((drills, integrations, discovery, trust, fmt == "cloudformation")) > 1:
        raise common.fail(
            "choose one of --drills, --integrations, --discovery, --trust and --format cloudformation"
        )
    if fmt == "cloudformation":
        document = cloudformation_template(principal, external_id)
    elif trust:
        if not principal:
            raise common.fail("--trust needs --principal ARN (who may assume the role)")
        document = trust_policy(principal, external_id)
    elif discovery:
        document = discovery_policy()
    else:
        document = (
            drills_policy() if drills else integrations_policy() if integrations else read_only_policy()
        )
    typer.echo(json.dumps(document, indent=2))
