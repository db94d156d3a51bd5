"""Findings for other tools: `verify`/`report --format sarif|ocsf|asff`, and `export-findings`."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from mission_control.cli import common
from mission_control.cli.common import DEFAULT_CONFIG, ConfigOption, VerifyEnvOption

if TYPE_CHECKING:  # imported lazily below: `--help` must stay fast
    from datetime import datetime

    from mission_control.findings.model import FindingsRun
    from mission_control.progress.checklist import ChecklistView
    from mission_control.verification.config import EnvironmentConfig

commands = typer.Typer()


def findings_run(checklist: ChecklistView, config: Path, generated_at: datetime) -> FindingsRun:
    """The checklist's findings, located in `config` (line numbers when the file is readable)."""
    from mission_control.findings.model import findings_run_for_file

    return findings_run_for_file(checklist, config, generated_at)


def render_findings(
    run: FindingsRun, fmt: str, region: str | None, *, environment: EnvironmentConfig | None = None
) -> str:
    """`run` as SARIF, OCSF or ASFF; ASFF asks AWS which account the credentials (the environment's
    role, if it has one) belong to."""
    from mission_control.findings.formats import render
    from mission_control.findings.securityhub import ExportError, caller_account
    from mission_control.verification.aws import AwsClients, clients_for
    from mission_control.verification.credentials import AssumeRoleError

    account = None
    if fmt == "asff":
        if region is None:
            raise common.fail(
                f"--format asff names a region in every finding: pass --config with environment {run.environment}"
            )
        try:
            account = caller_account(clients_for(environment) if environment else AwsClients(), region)
        except (ExportError, AssumeRoleError) as error:
            raise common.fail(str(error)) from error
    return render(run, fmt, account=account)


@commands.command("export-findings")
def export_findings(
    to: Annotated[str, typer.Option("--to", help="Where to send them: securityhub.")],
    config: ConfigOption = DEFAULT_CONFIG,
    env: VerifyEnvOption = None,
    allow_writes: Annotated[
        bool, typer.Option("--allow-writes", help="Let it write findings (BatchImportFindings).")
    ] = False,
) -> None:
    """Import the environment's findings into AWS Security Hub in its primary region, in the account of its
    role (if it has one): updated in place on later runs, archived and resolved when an item recovers.
    Exit 1 when AWS refuses them."""
    from mission_control.catalog import load_default_catalog
    from mission_control.db.base import utcnow
    from mission_control.errors import MissionControlError
    from mission_control.findings.account import AccountError, environment_account
    from mission_control.findings.securityhub import ExportError
    from mission_control.findings.securityhub import export_findings as export
    from mission_control.progress.service import get_checklist
    from mission_control.verification.aws import clients_for
    from mission_control.verification.credentials import AssumeRoleError

    if to != "securityhub":
        raise common.fail(f"unknown destination {to!r}: choose securityhub")
    if not allow_writes:
        raise common.fail(
            "export-findings writes findings to Security Hub: rerun with --allow-writes, using the policy "
            "from `mission-control iam-policy --integrations`; nothing was sent"
        )
    environment = common.environment_config(config, env)
    with common.database((environment.name,)).read() as session:
        try:
            checklist = get_checklist(
                session=session, catalog=load_default_catalog(), environment_name=environment.name
            )
        except MissionControlError as error:
            raise common.fail(str(error)) from error
    run = findings_run(checklist, config, utcnow())
    clients = clients_for(environment)
    try:
        result = export(run, environment_account(environment, clients), clients)
    except (AccountError, ExportError, AssumeRoleError) as error:
        raise common.fail(str(error), code=1) from error
    typer.echo(
        f"Security Hub ({environment.primary_region}): {len(result.created)} created, "
        f"{len(result.updated)} updated, {len(result.resolved)} resolved"
        + (f" ({', '.join(result.resolved)})" if result.resolved else "")
    )
