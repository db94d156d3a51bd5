"""Commands that produce evidence: `drill`, and the `runbook` and `evidence` sub-commands."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

import typer

from mission_control.cli import common
from mission_control.cli.common import (
    DEFAULT_CONFIG,
    ConfigOption,
    EnvOption,
    OutputOption,
    VerifyEnvOption,
)

if TYPE_CHECKING:  # imported lazily below: `--help` must stay fast
    from collections.abc import Callable
    from datetime import datetime

    from mission_control.verification.config import EnvironmentConfig

T = TypeVar("T")

commands = typer.Typer()
runbook_app = typer.Typer(help="Runbooks generated from the live AWS configuration.", no_args_is_help=True)
evidence_app = typer.Typer(
    help="Evidence documents generated from the live configuration.", no_args_is_help=True
)


@commands.command("drill")
def drill_command(
    name: Annotated[
        str,
        typer.Argument(
            help="Which drill, e.g. restore, auth-flow, edge-latency; `list` lists them; `policy` prints "
            "the IAM policy the drills need, their writes confined to this environment's resources."
        ),
    ],
    config: ConfigOption = DEFAULT_CONFIG,
    env: VerifyEnvOption = None,
    allow_writes: Annotated[
        bool, typer.Option("--allow-writes", help="Let a drill that creates and deletes AWS resources run.")
    ] = False,
    fmt: Annotated[str, typer.Option("--format", help="table or json.")] = "table",
) -> None:
    """Run a drill (game day) and record its timeline, measurements and outcome; exit 1 unless it passed."""
    import json

    from rich.console import Console
    from rich.markup import escape
    from rich.table import Table

    from mission_control.evidence.drills.record import DrillRecorder, Outcome
    from mission_control.evidence.drills.registry import DRILLS, load_all
    from mission_control.evidence.service import record_drill
    from mission_control.verification.aws import clients_for

    load_all()
    if name == "list":
        _list_drills()
        return
    if name == "policy":
        _print_policy(common.environment_config(config, env))
        return
    if name not in DRILLS:
        raise common.fail(f"unknown drill {name!r}: choose one of {', '.join(sorted(DRILLS))}")
    if fmt not in ("table", "json"):
        raise common.fail(f"unknown format {fmt!r}: choose table or json")
    chosen = DRILLS[name]
    if chosen.writes and not allow_writes:
        raise common.fail(
            f"drill {name} writes to AWS (it creates and then deletes its own resources): rerun with "
            "--allow-writes, using the policy from `mission-control drill policy` (this environment's "
            "resources) or `mission-control iam-policy --drills` (any environment's)"
        )
    environment = common.environment_config(config, env)
    recorder = DrillRecorder(name, environment.name, chosen.item_id)
    record = recorder.run(lambda recording: chosen.body(recording, environment, clients_for(environment)))
    with common.database((environment.name,)).transaction() as session:
        record_drill(session=session, environment_name=environment.name, record=record, actor="cli")
    if fmt == "json":
        typer.echo(json.dumps(record.to_dict(), indent=2))
    else:
        table = Table(title=f"drill {name} — {environment.name}: {record.outcome}")
        for column in ("Step", "Seconds", "Result"):
            table.add_column(column)
        for step in record.steps:
            table.add_row(
                escape(step.name), f"{step.seconds}", "ok" if step.ok else escape(f"FAILED: {step.detail}")
            )
        for key, value in record.measurements.items():
            table.add_row(escape(f"measured {key}"), "", escape(str(value)))
        Console().print(table)
    raise typer.Exit(0 if record.outcome is Outcome.PASSED else 1)


def _print_policy(environment: EnvironmentConfig) -> None:
    """The drills' policy for one environment: writes only on its tables, pools and health check."""
    import json

    from mission_control.evidence.errors import EvidenceError
    from mission_control.verification.iam import drills_policy

    try:
        policy = drills_policy(environment)
    except EvidenceError as error:
        raise common.fail(str(error), code=1) from error
    typer.echo(json.dumps(policy, indent=2))


def _list_drills() -> None:
    """Every drill: the item it proves, whether it writes to AWS, and where it can run."""
    from rich.console import Console
    from rich.table import Table

    from mission_control.evidence.drills.registry import DRILLS

    table = Table(title="Drills")
    for column in ("Drill", "Proves item", "Writes to AWS", "Runs"):
        table.add_column(column)
    for drill in sorted(DRILLS.values(), key=lambda drill: drill.name):
        table.add_row(
            drill.name,
            drill.item_id,
            "yes (--allow-writes)" if drill.writes else "no",
            "guided, at a terminal" if drill.guided else "CLI or dashboard",
        )
    Console(width=120).print(table)


def _write_evidence(
    config: Path,
    env: str | None,
    output: Path | None,
    collector_name: str,
    render: Callable[[EnvironmentConfig, Any, datetime], str],
    record_for: str | None = None,
) -> None:
    """Collect one AWS service for the environment, render a document from it, and write it out.

    `render(environment, snapshot, now)` returns the Markdown; exit 1 when the estate cannot support it.
    With `record_for`, the document is also stored as a new version of that item's evidence.
    """
    from datetime import UTC, datetime

    from mission_control.evidence.errors import EvidenceError
    from mission_control.verification.aws import clients_for
    from mission_control.verification.registry import COLLECTORS, load_all

    environment = common.environment_config(config, env)
    load_all()
    try:
        text = render(
            environment, COLLECTORS[collector_name](environment, clients_for(environment)), datetime.now(UTC)
        )
    except EvidenceError as error:
        raise common.fail(f"cannot write it: {error}", code=1) from error
    common.write_output(text, output)
    if record_for:
        from mission_control.catalog import load_default_catalog
        from mission_control.evidence.service import add_document

        with common.database((environment.name,)).transaction() as session:
            add_document(
                session=session, catalog=load_default_catalog(), environment_name=environment.name,
                item_id=record_for, title=text.splitlines()[0].lstrip("# "), markdown=text, actor="cli",
            )  # fmt: skip
        typer.echo(f"recorded as evidence for {record_for} in {environment.name}", err=True)


RecordOption = Annotated[bool, typer.Option("--record", help="Also store it as the item's evidence.")]


@runbook_app.command("dns")
def runbook_dns(
    config: ConfigOption = DEFAULT_CONFIG,
    env: VerifyEnvOption = None,
    output: OutputOption = None,
    record: RecordOption = False,
) -> None:
    """Write the DNS failover runbook (Markdown) from the live Route53 configuration."""
    from mission_control.evidence.runbooks import dns_runbook

    _write_evidence(config, env, output, "route53", dns_runbook, "dns.failover-runbook" if record else None)


@evidence_app.command("geo-restriction")
def evidence_geo_restriction(
    config: ConfigOption = DEFAULT_CONFIG,
    env: VerifyEnvOption = None,
    output: OutputOption = None,
    record: RecordOption = False,
) -> None:
    """Write the geo-restriction review of every distribution, with the live configuration's fingerprint."""
    from mission_control.evidence.geo_restriction import geo_restriction_report

    _write_evidence(
        config, env, output, "cloudfront", lambda *args: geo_restriction_report(*args).markdown,
        "cloudfront.geo-restriction" if record else None,
    )  # fmt: skip


@evidence_app.command("cognito-parity")
def evidence_cognito_parity(
    config: ConfigOption = DEFAULT_CONFIG,
    env: VerifyEnvOption = None,
    output: OutputOption = None,
    record: RecordOption = False,
) -> None:
    """Write every setting in which the backup user pool differs from the primary."""
    from mission_control.evidence.cognito import cognito_parity_document

    _write_evidence(
        config, env, output, "cognito", cognito_parity_document, "cognito.parity" if record else None
    )


@evidence_app.command("token-sync-template")
def evidence_token_sync_template(
    config: ConfigOption = DEFAULT_CONFIG, env: VerifyEnvOption = None, output: OutputOption = None
) -> None:
    """Write the Cognito token-sync strategy template, pre-filled with the live pools, to complete."""
    from mission_control.evidence.cognito import token_sync_template

    _write_evidence(config, env, output, "cognito", token_sync_template)


ItemArgument = Annotated[str, typer.Argument(help="Catalog item id, e.g. cloudfront.geo-restriction.")]
ActorOption = Annotated[str, typer.Option("--actor", help="Name recorded in the audit trail.")]


def _record_evidence(write: Callable[..., T], **fields: Any) -> T:
    """Run one evidence service call in a transaction and return what it recorded; a bad input exits 2
    with nothing stored."""
    from mission_control.catalog import load_default_catalog
    from mission_control.errors import MissionControlError

    try:
        with common.database().transaction() as session:
            return write(session=session, catalog=load_default_catalog(), **fields)
    except MissionControlError as error:
        raise common.fail(f"{error}; nothing was recorded") from error


@evidence_app.command("attest")
def evidence_attest(
    item: ItemArgument,
    statement: Annotated[str, typer.Option("--statement", help="What you vouch for.")],
    env: EnvOption = "production",
    fingerprint: Annotated[
        str | None,
        typer.Option("--fingerprint", help="Bind to this configuration (default: the latest run's, if any)."),
    ] = None,
    actor: ActorOption = "cli",
) -> None:
    """Attest an item; bound to the live configuration's fingerprint, a later change voids it."""
    from mission_control.evidence.service import attest

    attestation = _record_evidence(
        attest, environment_name=env, item_id=item, statement=statement, actor=actor, fingerprint=fingerprint
    )
    bound = f", bound to configuration {attestation.fingerprint[:12]}…" if attestation.fingerprint else ""
    typer.echo(f"attested {item} in {env}{bound}")


@evidence_app.command("add-link")
def evidence_add_link(
    item: ItemArgument,
    url: Annotated[str, typer.Argument(help="http(s) link to the evidence.")],
    title: Annotated[str, typer.Option("--title", help="What it is.")],
    env: EnvOption = "production",
    actor: ActorOption = "cli",
) -> None:
    """Attach a link (a wiki page, a ticket, a recording) as evidence."""
    from mission_control.evidence.service import add_link

    _record_evidence(add_link, environment_name=env, item_id=item, title=title, url=url, actor=actor)
    typer.echo(f"linked {url} to {item} in {env}")


@evidence_app.command("add-file")
def evidence_add_file(
    item: ItemArgument,
    file: Annotated[Path, typer.Argument(help="The file (at most 5 MB).")],
    env: EnvOption = "production",
    actor: ActorOption = "cli",
) -> None:
    """Store a file (e.g. the completed token-sync strategy) as evidence, with its SHA-256."""
    from mission_control.evidence.service import add_file

    try:
        content = file.read_bytes()
    except OSError as error:
        raise common.fail(f"{file}: {error.strerror}; nothing was recorded") from error
    _record_evidence(
        add_file, environment_name=env, item_id=item, filename=file.name, content=content, actor=actor
    )
    typer.echo(f"stored {file.name} for {item} in {env}")


ImportItemOption = Annotated[str, typer.Option("--item", help="The catalog item the run proves.")]
RegionOption = Annotated[
    str | None, typer.Option("--region", help="Region the run lives in (default: the primary region).")
]


@evidence_app.command("import-fis")
def evidence_import_fis(
    experiment_id: Annotated[str, typer.Argument(help="The FIS experiment id, e.g. EXPabc123.")],
    item: ImportItemOption,
    config: ConfigOption = DEFAULT_CONFIG,
    env: VerifyEnvOption = None,
    region: RegionOption = None,
) -> None:
    """Record a finished AWS FIS experiment as a drill of ITEM (read-only: fis:GetExperiment); exit 1 unless
    it completed. Refused, recording nothing, when its actions cannot prove the item."""
    from mission_control.evidence.fis import import_experiment

    environment = common.environment_config(config, env)
    _import_drill(
        environment,
        lambda clients: import_experiment(
            experiment_id,
            item_id=item,
            environment=environment.name,
            region=region or environment.primary_region,
            clients=clients,
        ),
        f"FIS experiment {experiment_id}",
    )


@evidence_app.command("import-region-switch")
def evidence_import_region_switch(
    execution_id: Annotated[str, typer.Argument(help="The Region switch plan execution id.")],
    plan_arn: Annotated[str, typer.Option("--plan-arn", help="The ARN of the plan that was executed.")],
    item: ImportItemOption,
    config: ConfigOption = DEFAULT_CONFIG,
    env: VerifyEnvOption = None,
    region: RegionOption = None,
) -> None:
    """Record a finished ARC Region switch plan execution as a drill of ITEM, its measured recovery time against
    the environment's rto_seconds (read-only: arc-region-switch:GetPlanExecution); exit 1 unless it passed."""
    from mission_control.evidence.region_switch import import_execution

    environment = common.environment_config(config, env)
    _import_drill(
        environment,
        lambda clients: import_execution(
            execution_id,
            plan_arn=plan_arn,
            item_id=item,
            environment=environment.name,
            region=region or environment.primary_region,
            rto_seconds=environment.rto_seconds,
            clients=clients,
        ),
        f"Region switch execution {execution_id}",
    )


def _import_drill(environment: EnvironmentConfig, read: Callable[[Any], Any], what: str) -> None:
    """Read a resilience tool's run, as the environment's role and within its budgets, as a drill record
    and store it; a refusal exits 2 with nothing stored."""
    from mission_control.evidence.drills.record import Outcome
    from mission_control.evidence.errors import EvidenceError
    from mission_control.evidence.service import record_drill
    from mission_control.verification.aws import clients_for
    from mission_control.verification.credentials import AssumeRoleError

    try:
        record = read(clients_for(environment))
    except (EvidenceError, AssumeRoleError) as error:
        raise common.fail(f"{error}; nothing was recorded") from error
    with common.database((environment.name,)).transaction() as session:
        record_drill(session=session, environment_name=environment.name, record=record, actor="cli")
    seconds = record.measurements.get("duration_seconds")
    typer.echo(
        f"recorded {what} as a {record.outcome} drill of {record.item_id} in {environment.name} ({seconds} s)"
    )
    for step in record.steps:
        if not step.ok:
            typer.echo(f"  {step.name}: {step.detail}", err=True)
    raise typer.Exit(0 if record.outcome is Outcome.PASSED else 1)
