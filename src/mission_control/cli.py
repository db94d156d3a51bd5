"""The `mission-control` command. Thin: it parses arguments and calls services.

Heavy imports (FastAPI, boto3) happen inside commands so `--help` stays fast.
"""

from __future__ import annotations

import sys
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

if TYPE_CHECKING:  # imported lazily below: `--help` must stay fast
    from collections.abc import Callable, Iterator
    from datetime import datetime

    from mission_control.db.database import Database
    from mission_control.progress.checklist import ChecklistView
    from mission_control.settings import Settings
    from mission_control.verification.config import EnvironmentConfig

app = typer.Typer(
    rich_markup_mode=None,  # plain help: importing Rich for it would double `--help` start-up time
    help="Take an AWS platform from one region to two, and prove it got there.",
    no_args_is_help=True,
)
env_app = typer.Typer(help="Environments whose progress is tracked.", no_args_is_help=True)
db_app = typer.Typer(help="The database.", no_args_is_help=True)
user_app = typer.Typer(help="Users and roles.", no_args_is_help=True)
runbook_app = typer.Typer(help="Runbooks generated from the live AWS configuration.", no_args_is_help=True)
evidence_app = typer.Typer(
    help="Evidence documents generated from the live configuration.", no_args_is_help=True
)
token_app = typer.Typer(help="API tokens for scripts.", no_args_is_help=True)
app.add_typer(env_app, name="env")
app.add_typer(db_app, name="db")
app.add_typer(user_app, name="user")
app.add_typer(token_app, name="token")
app.add_typer(runbook_app, name="runbook")
app.add_typer(evidence_app, name="evidence")

EnvOption = Annotated[str, typer.Option("--env", help="Environment name.")]


def _fail(message: str, code: int = 2) -> typer.Exit:
    typer.secho(f"error: {message}", err=True, fg=typer.colors.RED)
    return typer.Exit(code)


def _settings() -> Settings:
    """The settings from the environment; exit 2 naming the variable that is wrong."""
    from mission_control.settings import Settings, SettingsError

    try:
        return Settings.from_env()
    except SettingsError as error:
        raise _fail(str(error)) from error


def _database(environments: tuple[str, ...] = ()) -> Database:
    """The migrated database, with `production` and `environments` present."""
    from mission_control.catalog import load_default_catalog
    from mission_control.db.database import Database
    from mission_control.db.migrate import upgrade
    from mission_control.progress.service import ensure_defaults

    database = Database(_settings().database_url)
    upgrade(database)
    with database.transaction() as session:
        ensure_defaults(session=session, catalog=load_default_catalog(), environments=environments)
    return database


@contextmanager
def _open_database(*, migrate: bool = True) -> Iterator[Database]:
    """The database (migrated, with defaults, unless `migrate` is false), disposed of afterwards."""
    from mission_control.db.database import Database

    database = _database() if migrate else Database(_settings().database_url)
    try:
        yield database
    finally:
        database.dispose()


def _checklist(environment: str) -> ChecklistView:
    """One environment's checklist; exit 2 with the reason if it does not exist."""
    from mission_control.catalog import load_default_catalog
    from mission_control.progress.service import ProgressError, get_checklist

    with _database().read() as session:
        try:
            return get_checklist(
                session=session, catalog=load_default_catalog(), environment_name=environment
            )
        except ProgressError as error:
            raise _fail(str(error)) from error


def _environment_config(path: Path, name: str | None) -> EnvironmentConfig:
    """The named environment's configuration (default: the only one, or production); exit 2 if absent."""
    configs = _configs(path, required=True)
    if name is None:
        name = next(iter(configs)) if len(configs) == 1 else "production"
    if name not in configs:
        raise _fail(f"{path}: no [environments.{name}] table (found: {', '.join(sorted(configs))})")
    return configs[name]


ConfigOption = Annotated[Path, typer.Option("--config", help="Verification configuration (TOML).")]
DEFAULT_CONFIG = Path("mission-control.toml")
VerifyEnvOption = Annotated[
    str | None, typer.Option("--env", help="Environment (default: the only one, or production).")
]
OutputOption = Annotated[Path | None, typer.Option("--output", help="File to write (default: stdout).")]
HostOption = Annotated[str, typer.Option(help="Interface to listen on.")]
PortOption = Annotated[int, typer.Option(help="TCP port.")]


def _configs(path: Path, *, required: bool) -> dict[str, EnvironmentConfig]:
    """The verification configuration at `path`; exit 2 with the problem if it is invalid."""
    from mission_control.verification.config import ConfigError, load_config

    if not path.exists() and not required:
        return {}
    try:
        return load_config(path)
    except ConfigError as error:
        raise _fail(str(error)) from error


def _run_server(app_instance: object, host: str, port: int, workers: int = 1) -> None:
    """Serve `app_instance`, or with several workers an app each worker process builds from the environment."""
    import uvicorn

    typer.echo(f"Mission Control on http://{host}:{port}/", err=True)
    if workers > 1:
        uvicorn.run(
            "mission_control.web.app:create_app", factory=True, workers=workers,
            host=host, port=port, timeout_graceful_shutdown=3, log_level="info",
        )  # fmt: skip
        return
    uvicorn.run(app_instance, host=host, port=port, timeout_graceful_shutdown=3, log_level="info")  # type: ignore[arg-type]


@app.command()
def serve(
    host: HostOption = "127.0.0.1",
    port: PortOption = 8000,
    config: Annotated[
        Path | None, typer.Option("--config", help="Verification configuration (TOML) enabling 'Verify now'.")
    ] = None,
    workers: Annotated[int, typer.Option("--workers", min=1, help="Server processes (use the cores).")] = 1,
) -> None:
    """Run the dashboard (SQLite by default; MC_DATABASE_URL selects PostgreSQL)."""
    import os
    from dataclasses import replace

    from mission_control.catalog import load_default_catalog
    from mission_control.db.database import Database
    from mission_control.web.app import create_app, prepare_database

    settings = _settings()
    config_path = config or settings.config_path
    configs = _configs(config_path, required=True) if config_path else {}
    if workers > 1:  # prepare once here, so the workers find the database ready instead of racing
        if config_path:
            os.environ["MC_CONFIG"] = str(config_path.resolve())
        database = Database(settings.database_url)
        password = prepare_database(database, load_default_catalog(), configs)
        database.dispose()
        if password:
            typer.echo(f"Created the first user: admin / {password}\nThis password is shown once.", err=True)
    single = create_app(replace(settings, config_path=config_path), configs=configs) if workers == 1 else None
    _run_server(single, host, port, workers)


@app.command()
def demo(host: HostOption = "127.0.0.1", port: PortOption = 8000) -> None:
    """Run the dashboard against a built-in sample AWS estate (an embedded moto server): no account needed."""
    import os
    import tempfile

    from mission_control.catalog import load_default_catalog
    from mission_control.db.database import Database
    from mission_control.demo.estate import demo_config_toml, seed_demo_estate
    from mission_control.demo.server import start_moto_server
    from mission_control.settings import Settings
    from mission_control.verification.aws import AwsClients
    from mission_control.verification.jobs import verify_and_record
    from mission_control.web.app import create_app, prepare_database

    workdir = Path(tempfile.mkdtemp(prefix="mission-control-demo-"))
    with start_moto_server() as moto:
        for name in ("AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_SESSION_TOKEN"):
            os.environ.pop(name, None)
        os.environ.update(
            AWS_ENDPOINT_URL=moto.endpoint_url,
            AWS_ACCESS_KEY_ID="testing",
            AWS_SECRET_ACCESS_KEY="testing",
            AWS_DEFAULT_REGION="us-east-1",
        )
        typer.echo(f"Demo AWS estate (moto) at {moto.endpoint_url}; seeding it…", err=True)
        config = seed_demo_estate(moto.endpoint_url)
        config_file = workdir / "mission-control.toml"
        config_file.write_text(demo_config_toml(config), encoding="utf-8")
        settings = Settings(database_url=f"sqlite:///{workdir / 'demo.db'}", config_path=config_file)
        database, catalog = Database(settings.database_url), load_default_catalog()
        password = prepare_database(database, catalog, [config.name])
        report, _ = verify_and_record(
            database=database, catalog=catalog, config=config, clients=AwsClients(), actor="demo"
        )
        summary = report.summary
        typer.echo(
            f"First verification: {summary['verified']} verified, {summary['failing']} failing, "
            f"{summary['error']} error, {summary['manual']} manual.\n"
            f"Sign in as admin / {password}\n"
            f"Demo files (database, configuration) in {workdir}",
            err=True,
        )
        _run_server(
            create_app(settings, database=database, catalog=catalog, configs={config.name: config}),
            host,
            port,
        )


@app.command()
def verify(
    config: ConfigOption = DEFAULT_CONFIG,
    env: VerifyEnvOption = None,
    fmt: Annotated[str, typer.Option("--format", help="table, json, junit or markdown.")] = "table",
    output: OutputOption = None,
    fail_under: Annotated[
        int | None, typer.Option("--fail-under", min=0, max=100, help="Pass when completion is at least PCT.")
    ] = None,
) -> None:
    """Check every provable item against the live AWS account (read-only); the exit code gates pipelines.

    Exit 0 when nothing is failing or in error (with --fail-under: when completion >= PCT), 1 otherwise,
    2 on a configuration or usage error.
    """
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

    from mission_control.catalog import load_default_catalog
    from mission_control.progress.service import get_checklist
    from mission_control.verification import reports
    from mission_control.verification.aws import AwsClients
    from mission_control.verification.jobs import verify_and_record
    from mission_control.verification.runner import count_steps

    renderers = {"json": reports.to_json, "junit": reports.to_junit, "markdown": reports.to_markdown}
    if fmt not in (*renderers, "table"):
        raise _fail(f"unknown format {fmt!r}: choose table, json, junit or markdown")
    environment = _environment_config(config, env)
    env = environment.name
    catalog = load_default_catalog()
    database = _database((env,))
    stderr = Console(stderr=True)
    with Progress(
        TextColumn("[progress.description]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        console=stderr,
        disable=not stderr.is_terminal,
        transient=True,
    ) as progress:
        task = progress.add_task(f"Verifying {env}", total=count_steps(catalog))
        report, regressed = verify_and_record(
            database=database,
            catalog=catalog,
            config=environment,
            clients=AwsClients(),
            actor="cli",
            on_progress=lambda label: progress.update(task, advance=1, description=label),
        )
    if fmt == "table":
        console = Console(file=output.open("w", encoding="utf-8"), width=140) if output else Console()
        console.print(reports.to_table(report, catalog))
        if output:
            console.file.close()
    else:
        text = renderers[fmt](report, catalog)
        if output:
            output.write_text(text, encoding="utf-8")
        else:
            sys.stdout.write(text)
    for item_id in regressed:
        stderr.print(f"[red]regressed:[/red] {item_id} was ticked but now fails its check")
    with database.read() as session:
        percent = get_checklist(session=session, catalog=catalog, environment_name=env).percent
    summary = report.summary
    stderr.print(
        f"{env}: {summary['verified']} verified, {summary['failing']} failing, {summary['error']} error, "
        f"{summary['manual']} manual; completion {percent}%"
    )
    if fail_under is not None:
        raise typer.Exit(0 if percent >= fail_under else 1)
    raise typer.Exit(1 if summary["failing"] or summary["error"] else 0)


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
    from mission_control.verification.aws import AwsClients
    from mission_control.verification.registry import COLLECTORS, load_all

    environment = _environment_config(config, env)
    load_all()
    try:
        text = render(environment, COLLECTORS[collector_name](environment, AwsClients()), datetime.now(UTC))
    except EvidenceError as error:
        raise _fail(f"cannot write it: {error}", code=1) from error
    if output:
        output.write_text(text, encoding="utf-8")
    else:
        sys.stdout.write(text)
    if record_for:
        from mission_control.catalog import load_default_catalog
        from mission_control.evidence.service import add_document

        with _database((environment.name,)).transaction() as session:
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


def _record_evidence(write: Callable[..., object], **fields: Any) -> None:
    """Run one evidence service call in a transaction; a bad input exits 2 with nothing stored."""
    from mission_control.catalog import load_default_catalog
    from mission_control.progress.service import ProgressError

    try:
        with _database().transaction() as session:
            write(session=session, catalog=load_default_catalog(), **fields)
    except ProgressError as error:
        raise _fail(f"{error}; nothing was recorded") from error


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
    from mission_control.progress.service import get_environment
    from mission_control.verification.latest import latest_results

    if fingerprint is None:
        from mission_control.progress.service import ProgressError

        with _database().read() as session:
            try:
                environment_id = get_environment(session=session, name=env).id
            except ProgressError as error:
                raise _fail(f"{error}; nothing was recorded") from error
            result = latest_results(session=session, environment_id=environment_id)
        fingerprint = result[item].facts.get("fingerprint") if item in result else None
    _record_evidence(
        attest, environment_name=env, item_id=item, statement=statement, actor=actor, fingerprint=fingerprint
    )
    bound = f", bound to configuration {fingerprint[:12]}…" if fingerprint else ""
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
        raise _fail(f"{file}: {error.strerror}; nothing was recorded") from error
    _record_evidence(
        add_file, environment_name=env, item_id=item, filename=file.name, content=content, actor=actor
    )
    typer.echo(f"stored {file.name} for {item} in {env}")


@app.command()
def report(
    env: EnvOption = "production",
    fmt: Annotated[str, typer.Option("--format", help="md, html, json or junit.")] = "md",
    output: OutputOption = None,
    config: Annotated[
        Path | None, typer.Option("--config", help="Configuration with rto_seconds / rpo_seconds targets.")
    ] = None,
) -> None:
    """Report an environment: progress, proofs, evidence with age, drills against RTO/RPO targets, burn-up."""
    from mission_control.catalog import load_default_catalog
    from mission_control.progress.service import ProgressError
    from mission_control.report.builder import build_report
    from mission_control.report.render import FORMATS, render

    if fmt not in FORMATS:
        raise _fail(f"unknown format {fmt!r}: choose one of {', '.join(FORMATS)}")
    targets = _configs(config, required=True).get(env) if config else None
    with _database().read() as session:
        try:
            built = build_report(
                session=session, catalog=load_default_catalog(), environment_name=env,
                rto_target=targets.rto_seconds if targets else None,
                rpo_target=targets.rpo_seconds if targets else None,
            )  # fmt: skip
        except ProgressError as error:
            raise _fail(str(error)) from error
    text = render(built, fmt)
    if output:
        output.write_text(text, encoding="utf-8")
    else:
        sys.stdout.write(text)


@app.command("iam-policy")
def iam_policy(
    drills: Annotated[
        bool, typer.Option("--drills", help="The policy drills need (they write) instead.")
    ] = False,
) -> None:
    """Print the least-privilege, read-only IAM policy that `verify` needs (or, with --drills, the drills' own)."""
    import json

    from mission_control.verification.iam import drills_policy, read_only_policy

    typer.echo(json.dumps(drills_policy() if drills else read_only_policy(), indent=2))


@app.command("drill")
def drill_command(
    name: Annotated[str, typer.Argument(help="Which drill, e.g. restore, auth-flow, edge-latency.")],
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
    from mission_control.verification.aws import AwsClients

    load_all()
    if name not in DRILLS:
        raise _fail(f"unknown drill {name!r}: choose one of {', '.join(sorted(DRILLS))}")
    if fmt not in ("table", "json"):
        raise _fail(f"unknown format {fmt!r}: choose table or json")
    chosen = DRILLS[name]
    if chosen.writes and not allow_writes:
        raise _fail(
            f"drill {name} writes to AWS (it creates and then deletes its own resources): rerun with "
            "--allow-writes, using the policy from `mission-control iam-policy --drills`"
        )
    environment = _environment_config(config, env)
    recorder = DrillRecorder(name, environment.name, chosen.item_id)
    record = recorder.run(lambda recording: chosen.body(recording, environment, AwsClients()))
    with _database((environment.name,)).transaction() as session:
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


@app.command()
def status(env: EnvOption = "production") -> None:
    """Print progress per category as a table."""
    from rich.console import Console
    from rich.table import Table

    checklist = _checklist(env)
    table = Table(title=f"{checklist.catalog.title} — {env}")
    table.add_column("Category")
    table.add_column("Done", justify="right")
    table.add_column("Status")
    for category in checklist.categories:
        table.add_row(
            f"{category.category.icon} {category.category.name}",
            f"{category.completed}/{category.total}",
            "✅ complete" if category.complete else "open",
        )
    table.add_section()
    table.add_row("Overall", f"{checklist.completed}/{checklist.total}", f"{checklist.percent}%")
    Console().print(table)


@app.command()
def export(
    env: EnvOption = "production",
    fmt: Annotated[str, typer.Option("--format", help="md, json or csv.")] = "md",
    output: Annotated[Path | None, typer.Option("--output", help="File to write (default: stdout).")] = None,
) -> None:
    """Export an environment's checklist and progress."""
    from mission_control.progress.export import FORMATS, render

    if fmt not in FORMATS:
        raise _fail(f"unknown format {fmt!r}: choose one of {', '.join(FORMATS)}")
    text = render(_checklist(env), fmt)
    if output:
        output.write_text(text, encoding="utf-8")
    else:
        sys.stdout.write(text)


@app.command("import-localstorage")
def import_localstorage(
    file: Annotated[Path, typer.Argument(help="File holding the value of sd_multiregion_checklist.")],
    env: EnvOption = "production",
    actor: Annotated[str, typer.Option(help="Name recorded in the audit trail.")] = "cli",
) -> None:
    """Import the old page's localStorage progress, reporting what matched and what did not."""
    from mission_control.catalog import load_default_catalog
    from mission_control.progress.importer import UnreadableImport, apply_import, parse_localstorage
    from mission_control.progress.service import ProgressError

    catalog = load_default_catalog()
    try:
        plan = parse_localstorage(file.read_bytes(), catalog)
    except OSError as error:
        raise _fail(f"{file}: {error.strerror}; nothing was changed") from error
    except UnreadableImport as error:
        raise _fail(f"{file}: {error}; nothing was changed") from error
    database = _database()
    try:
        with database.transaction() as session:
            apply_import(session=session, catalog=catalog, environment_name=env, plan=plan, actor=actor)
    except ProgressError as error:
        raise _fail(f"{error}; nothing was changed") from error
    for match in plan.matches:
        typer.echo(
            f"matched   {match.key!r} -> {match.item_id} ({'checked' if match.checked else 'unchecked'})"
        )
    for key in plan.unmatched:
        typer.echo(f"unmatched {key!r}")
    typer.echo(
        f"{len(plan.matches)} matched, {len(plan.changed)} changed, {len(plan.unmatched)} unmatched in {env}"
    )


@env_app.command("add")
def env_add(name: Annotated[str, typer.Argument(help="e.g. staging")]) -> None:
    """Create an environment; all its items start open."""
    from mission_control.catalog import load_default_catalog
    from mission_control.progress.service import ProgressError, create_environment

    database = _database()
    try:
        with database.transaction() as session:
            create_environment(session=session, catalog=load_default_catalog(), name=name, actor="cli")
    except ProgressError as error:
        raise _fail(str(error)) from error
    typer.echo(f"created environment {name}")


@env_app.command("list")
def env_list() -> None:
    """List environments."""
    from mission_control.progress.service import list_environments

    with _database().read() as session:
        for environment in list_environments(session=session):
            typer.echo(environment.name)


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Apply database migrations (safe to run repeatedly)."""
    from mission_control.db.migrate import current_revision

    database = _database()
    typer.echo(f"database at revision {current_revision(database)}")


@db_app.command("backup")
def db_backup(file: Annotated[Path, typer.Argument(help="Backup file to write.")]) -> None:
    """Write every table to FILE from one consistent snapshot (safe while the server is running)."""
    from mission_control.db.backup import BackupError, write_backup

    try:
        with _open_database(migrate=False) as database:
            summary = write_backup(database, file)
    except (BackupError, OSError) as error:
        raise _fail(f"backup failed: {error}", code=1) from error
    typer.echo(f"backed up {summary.total} rows at schema revision {summary.revision} to {file}")


@db_app.command("restore")
def db_restore(
    file: Annotated[Path, typer.Argument(help="Backup file written by `db backup`.")],
    force: Annotated[bool, typer.Option("--force", help="Replace the data in a non-empty database.")] = False,
) -> None:
    """Restore FILE into the database, all or nothing; a damaged file or newer schema changes nothing."""
    from mission_control.db.backup import BackupError, restore_backup
    from mission_control.db.migrate import head_revision

    try:
        with _open_database(migrate=False) as database:
            summary = restore_backup(database, file, force=force)
    except BackupError as error:
        raise _fail(f"restore refused: {error}", code=1) from error
    typer.echo(f"restored {summary.total} rows at schema revision {summary.revision} from {file}")
    head = head_revision()
    if summary.revision != head:
        typer.echo(f"the current schema is {head}: run `mission-control db upgrade` to migrate the data")


@user_app.command("logout")
def user_logout(name: Annotated[str, typer.Argument()]) -> None:
    """End every browser session of a user (a lost laptop); their API tokens are separate."""
    from mission_control.identity.service import end_all_sessions, get_user
    from mission_control.progress.service import record_event

    with _open_database() as database, database.transaction() as session:
        user = get_user(session=session, name=name)
        if user is None:
            raise _fail(f"user {name!r} does not exist")
        ended = end_all_sessions(session=session, user=user)
        record_event(
            session=session,
            actor="cli",
            action="logout.everywhere",
            new_value=f"sessions ended for {name}: {ended}",
        )
    typer.echo(f"sessions ended for {name}: {ended}")


@user_app.command("add")
def user_add(
    name: Annotated[str, typer.Argument()],
    role: Annotated[str, typer.Option(help="viewer, editor or admin.")] = "viewer",
    password_stdin: Annotated[
        bool, typer.Option("--password-stdin", help="Read the password from stdin.")
    ] = False,
) -> None:
    """Add a user. Without --password-stdin the user can sign in only with API tokens."""
    from mission_control.identity.service import IdentityError, add_user
    from mission_control.progress.service import record_event

    password = sys.stdin.readline().rstrip("\n") if password_stdin else None
    database = _database()
    try:
        with database.transaction() as session:
            add_user(session=session, name=name, role=role, password=password)
            record_event(session=session, actor="cli", action="user.created", new_value=f"{name} ({role})")
    except IdentityError as error:
        raise _fail(str(error)) from error
    typer.echo(f"added {role} {name}")


@token_app.command("create")
def token_create(
    user: Annotated[str, typer.Option("--user", help="Whose token.")],
    name: Annotated[str, typer.Option("--name", help="A label: what will use it.")],
) -> None:
    """Create an API token; its secret is printed once, alone on the last line."""
    from mission_control.identity.service import IdentityError, create_token, get_user
    from mission_control.progress.service import record_event

    database = _database()
    try:
        with database.transaction() as session:
            owner = get_user(session=session, name=user)
            if owner is None:
                raise IdentityError(f"user {user!r} does not exist")
            secret = create_token(session=session, user=owner, name=name)
            record_event(session=session, actor="cli", action="token.created", new_value=f"{user}: {name}")
    except IdentityError as error:
        raise _fail(str(error)) from error
    typer.echo(f"token {name!r} for {user} (shown once; store it now):", err=True)
    typer.echo(secret)


@token_app.command("list")
def token_list(
    user: Annotated[str | None, typer.Option("--user", help="Only this user's tokens.")] = None,
) -> None:
    """List API tokens with when each was last used (never their secrets)."""
    from rich.console import Console
    from rich.table import Table

    from mission_control.identity.service import list_tokens

    with _open_database() as database, database.read() as session:
        records = list_tokens(session=session, user_name=user)
    table = Table()
    for heading in ("Id", "User", "Name", "Created", "Last used", "Revoked"):
        table.add_column(heading)
    for record in records:
        table.add_row(
            str(record.id),
            record.user,
            record.name,
            f"{record.created_at:%Y-%m-%d %H:%M}",
            f"{record.last_used_at:%Y-%m-%d %H:%M}" if record.last_used_at else "never",
            f"{record.revoked_at:%Y-%m-%d %H:%M}" if record.revoked_at else "",
        )
    Console(width=140).print(table)


@token_app.command("revoke")
def token_revoke(
    token_id: Annotated[int, typer.Argument(metavar="ID", help="The token's id (see token list).")],
) -> None:
    """Revoke an API token: it stops working at once."""
    from mission_control.identity.service import get_token, revoke_token
    from mission_control.progress.service import record_event

    with _open_database() as database, database.transaction() as session:
        record = get_token(session=session, token_id=token_id)
        if record is None:
            raise _fail(f"token {token_id} does not exist (see `mission-control token list`)")
        if record.revoked_at is not None:
            typer.echo(f"token {token_id} ({record.user}: {record.name}) was already revoked")
            return
        revoke_token(session=session, token_id=token_id)
        record_event(
            session=session,
            actor="cli",
            action="token.revoked",
            new_value=f"{record.user}: {record.name} (id {record.id})",
        )
    typer.echo(f"revoked token {token_id} ({record.user}: {record.name})")
