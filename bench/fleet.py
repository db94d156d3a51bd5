"""Benchmark `mission-control verify --all` over 100 accounts on one local moto server, beside Prowler.

Each account (reached by assuming `arn:aws:iam::ACCOUNT:role/MissionControlReadOnly`; moto keys
resources by the assumed role's account) holds a small estate: 5 DynamoDB tables (the main one
replicated), 2 CloudFront distributions, 1 Route53 zone with 2 latency records, 2 Cognito pools.
Measured, with `verify --all` as a subprocess: wall time, its own peak RSS (see harness.py), API calls per
account and by operation (with moto's error answers), and the busiest second per account and API
family twice: in the send log each run stores (what the token buckets control) and at moto's door.
Then, in the same run, Prowler's documented multi-account way over the first `--prowler-accounts`:
one `prowler aws -R ROLE_ARN` process per account, 3 in parallel, on the checks that overlap verify's.
Finally it renders `/fleet` with 500 environments and times it.

    .venv/bin/python bench/fleet.py --json /tmp/fleet.json        # 100 accounts, Prowler over 10
    .venv/bin/python bench/fleet.py --accounts 10 --skip-prowler  # a quick smoke run
    .venv/bin/python bench/fleet.py --skip-prowler --warm-up --processes 1 2 --repeat 2   # side by side
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter, defaultdict
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import boto3
from harness import (  # bench/ is the script's directory, so first on sys.path
    FAKE_CREDENTIALS,
    OVERLAPPING_CHECKS,
    PRIMARY_REGION,
    SECONDARY_REGION,
    Request,
    RequestLog,
    available_checks,
    child_env,
    ensure_prowler,
    log,
    log_requests,
    prowler_command,
    prowler_findings,
    run_measured,
)

from mission_control.demo.server import start_moto_server
from mission_control.verification.budgets import Rates, busiest_second, family_of

ROLE = "MissionControlReadOnly"


def account_ids(count: int) -> list[str]:
    return [f"{100000000000 + number:012d}" for number in range(count)]


def seed_account(endpoint_url: str, account: str) -> dict[str, Any]:
    """The small estate of one tenant account; returns the keys its configuration needs."""
    sts = boto3.client(
        "sts", endpoint_url=endpoint_url, region_name=PRIMARY_REGION, **_lower(FAKE_CREDENTIALS)
    )
    credentials = sts.assume_role(RoleArn=f"arn:aws:iam::{account}:role/{ROLE}", RoleSessionName="seed")[
        "Credentials"
    ]
    session = boto3.Session(
        aws_access_key_id=credentials["AccessKeyId"],
        aws_secret_access_key=credentials["SecretAccessKey"],
        aws_session_token=credentials["SessionToken"],
        region_name=PRIMARY_REGION,
    )
    dynamodb = session.client("dynamodb", endpoint_url=endpoint_url)
    for index in range(5):
        name = f"t{account}-table-{index}"
        dynamodb.create_table(
            TableName=name,
            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
            StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"},
        )
        if index == 0:
            dynamodb.update_table(
                TableName=name, ReplicaUpdates=[{"Create": {"RegionName": SECONDARY_REGION}}]
            )
    route53 = session.client("route53", endpoint_url=endpoint_url)
    zone = route53.create_hosted_zone(Name="tenant.example.", CallerReference=account)["HostedZone"]["Id"]
    changes = [
        {"Action": "CREATE", "ResourceRecordSet": latency_record(region)}
        for region in (PRIMARY_REGION, SECONDARY_REGION)
    ]
    route53.change_resource_record_sets(HostedZoneId=zone, ChangeBatch={"Changes": changes})
    pools = [
        session.client("cognito-idp", endpoint_url=endpoint_url, region_name=region).create_user_pool(
            PoolName="users"
        )["UserPool"]["Id"]
        for region in (PRIMARY_REGION, SECONDARY_REGION)
    ]
    cloudfront = session.client("cloudfront", endpoint_url=endpoint_url)
    distributions = []
    for index in range(2):
        distribution = cloudfront.create_distribution(
            DistributionConfig={
                "CallerReference": f"{account}-{index}", "Comment": "", "Enabled": True,
                "Origins": {"Quantity": 1, "Items": [{
                    "Id": "origin", "DomainName": "origin.tenant.example",
                    "CustomOriginConfig": {"HTTPPort": 80, "HTTPSPort": 443, "OriginProtocolPolicy": "https-only"},
                }]},
                "DefaultCacheBehavior": {
                    "TargetOriginId": "origin", "ViewerProtocolPolicy": "redirect-to-https",
                    "ForwardedValues": {"QueryString": False, "Cookies": {"Forward": "none"}},
                    "MinTTL": 0, "DefaultTTL": 60, "MaxTTL": 300,
                },
            }
        )  # fmt: skip
        distributions.append(distribution["Distribution"]["Id"])
    return {"distributions": distributions, "cognito_primary_pool": pools[0], "cognito_backup_pool": pools[1]}


def latency_record(region: str) -> dict[str, Any]:
    return {
        "Name": "api.tenant.example.",
        "Type": "CNAME",
        "SetIdentifier": region,
        "Region": region,
        "TTL": 60,
        "ResourceRecords": [{"Value": f"{region}.api.tenant.example"}],
    }


def _lower(credentials: dict[str, str]) -> dict[str, str]:
    return {key.lower(): value for key, value in credentials.items()}


def write_config(path: Path, estates: dict[str, dict[str, Any]]) -> None:
    tables = ", ".join(f'"t{{account}}-table-{index}"' for index in range(5))
    environments = "".join(
        f'\n[environments.tenant-{number:03d}]\ntemplate = "tenant"\nrole_arn = "arn:aws:iam::{account}:role/{ROLE}"\n'
        f'main_table = "t{account}-table-0"\nplatform_tables = [{tables.format(account=account)}]\n'
        f"distributions = {json.dumps(keys['distributions'])}\n"
        f'cognito_primary_pool = "{keys["cognito_primary_pool"]}"\ncognito_backup_pool = "{keys["cognito_backup_pool"]}"\n'
        for number, (account, keys) in enumerate(estates.items())
    )
    path.write_text(
        '[templates.tenant]\nprimary_region = "us-east-1"\nsecondary_region = "ap-southeast-1"\n'
        'hosted_zone = "tenant.example"\napi_domain = "api.tenant.example"\n' + environments,
        encoding="utf-8",
    )


def time_fleet_page(environments: int) -> list[float]:
    """Render /fleet with `environments` environments (one verified run each) five times; seconds each."""
    from dataclasses import replace
    from datetime import UTC, datetime

    from fastapi.testclient import TestClient

    from mission_control.catalog import load_default_catalog
    from mission_control.db.database import Database
    from mission_control.db.migrate import upgrade
    from mission_control.identity.service import add_user, create_token, get_user
    from mission_control.progress.service import create_environment
    from mission_control.settings import Settings
    from mission_control.verification.results import ProbeResult, Status
    from mission_control.verification.runner import VerificationReport
    from mission_control.verification.service import finish_run, start_run
    from mission_control.web.app import create_app

    catalog = load_default_catalog()
    with tempfile.TemporaryDirectory() as directory:
        url = f"sqlite:///{directory}/fleet.db"
        database = Database(url)
        upgrade(database)
        with database.transaction() as session:
            add_user(session=session, name="bench", role="viewer", password=None, actor="bench")
            for number in range(environments):
                create_environment(
                    session=session, catalog=catalog, name=f"tenant-{number:03d}", actor="bench"
                )
        for number in range(environments):
            with database.transaction() as session:
                run_id = start_run(session=session, environment_name=f"tenant-{number:03d}", actor="bench")
                statuses = (Status.VERIFIED, Status.FAILING, Status.ERROR, Status.MANUAL)
                results = tuple(
                    ProbeResult(item.id, statuses[(i + number) % 4], "s")
                    for i, item in enumerate(catalog.items)
                )
                finish_run(
                    session=session, run_id=run_id,
                    report=VerificationReport(f"tenant-{number:03d}", catalog.id, datetime.now(UTC), results),
                )  # fmt: skip
        with database.transaction() as session:
            user = get_user(session=session, name="bench")
            token = create_token(session=session, user=user, name="bench", actor="bench")
        app = create_app(replace(Settings.from_env(), database_url=url), database=database)
        with TestClient(app, headers={"Authorization": f"Bearer {token}"}) as client:
            timings = []
            for page in (1, 2, 5, 10, 1):
                started = time.perf_counter()
                response = client.get(f"/fleet?page={page}&sort=completion")
                timings.append(time.perf_counter() - started)
                assert response.status_code == 200, response.text[:300]
        database.dispose()
        return timings


def machine_load() -> dict[str, Any]:
    """The 1-minute load average and the processes using the most CPU right now (the machine is shared)."""
    top = subprocess.run(
        ["ps", "-eo", "pcpu,etime,comm", "--sort=-pcpu"], capture_output=True, text=True, check=False
    ).stdout.splitlines()[1:6]
    return {"loadavg_1min": os.getloadavg()[0], "busiest_processes": [" ".join(line.split()) for line in top]}


def stored_rates(database: Path) -> dict[str, dict[str, dict[str, float]]]:
    """Each environment's stored request rates: its own send log, per account and family."""
    with sqlite3.connect(database) as connection:
        rows = connection.execute(
            "SELECT environments.name, verification_runs.request_rates FROM verification_runs "
            "JOIN environments ON environments.id = verification_runs.environment_id"
        ).fetchall()
    return {name: json.loads(rates) for name, rates in rows if rates}


def allowed_per_second(family: str) -> int | None:
    """The most requests a family's token bucket lets through in any one-second window."""
    bucket = Rates().for_family(family)
    return None if bucket is None else math.ceil(bucket.capacity + bucket.rate) - 1


def busiest_at_moto(requests: list[Request]) -> dict[tuple[str, str], int]:
    by_key: dict[tuple[str, str], list[float]] = defaultdict(list)
    for request in requests:
        by_key[(request.account, family_of(request.service, request.operation))].append(request.arrived)
    return {key: busiest_second(sorted(times)) for key, times in by_key.items()}


def verify_fleet(
    moto_url: str,
    requests: RequestLog,
    accounts: list[str],
    config: Path,
    workdir: Path,
    concurrency: int,
    processes: int | None,
    profile: Path | None,
) -> dict[str, Any]:
    """`verify --all` as a subprocess (under py-spy, writing collapsed stacks to `profile`, if given), and
    what moto and the stored runs saw of it."""
    label = f"run-{time.monotonic_ns()}"
    database = workdir / f"{label}.db"
    output = workdir / f"{label}.json"
    command = [
        str(Path(sys.executable).with_name("mission-control")), "verify", "--all", "--config", str(config),
        "--format", "json", "--output", str(output), "--concurrency", str(concurrency),
        *(["--processes", str(processes)] if processes else []),
    ]  # fmt: skip
    if profile is not None:
        py_spy = os.environ.get("BENCH_PY_SPY", "py-spy")
        # --gil: only samples holding the interpreter lock, i.e. where verify's Python spends CPU
        spy = [py_spy, "record", "--gil", "--format", "raw", "--rate", "100", "--output", str(profile), "--"]
        command = [*spy, *command]
    first = len(requests.snapshot())
    load_before = machine_load()
    log(f"verify --all over {len(accounts)} accounts, concurrency {concurrency}")
    measured = run_measured(
        command,
        env=child_env(moto_url, MC_DATABASE_URL=f"sqlite:///{database}"),
        requests=requests,
        timeout=900,
        cwd=workdir,
    )
    log(f"verify --all: exit {measured.exit_code} in {measured.wall_seconds:.1f} s")
    served = requests.snapshot()[first:]
    per_account = Counter(request.account for request in served)
    errors = Counter(f"{r.service}.{r.operation} {r.status}" for r in served if r.status >= 400)
    calls = [per_account[account] for account in accounts]
    at_moto = busiest_at_moto(served)
    stored = stored_rates(database)
    sent: dict[str, int] = defaultdict(int)
    for rates in stored.values():
        for families in rates.values():
            for family, figures in families.items():
                sent[family] = max(sent[family], int(figures["max_per_second"]))
    moto: dict[str, int] = defaultdict(int)
    for (_, family), most in at_moto.items():
        moto[family] = max(moto[family], most)
    fleet = json.loads(output.read_text()) if output.exists() else {}
    return {
        "command": " ".join(command[1:]),
        "exit_code": measured.exit_code,
        "wall_seconds": round(measured.wall_seconds, 2),
        "peak_rss_mib": round(measured.peak_rss_mib, 1),
        "peak_tree_rss_mib": round(measured.peak_tree_rss_mib, 1),
        "cpu_seconds": round(measured.cpu_seconds, 2),
        "moto_cpu_seconds": round(measured.moto_cpu_seconds, 2),
        "machine_before": load_before,
        "machine_after": machine_load(),
        "summary": fleet.get("summary"),
        "requests": len(served),
        "calls_per_account": {"median": statistics.median(calls), "min": min(calls), "max": max(calls)},
        "calls_by_operation": dict(Counter(f"{r.service}.{r.operation}" for r in served).most_common()),
        "error_answers": dict(errors.most_common()),
        "busiest_second_by_family": {
            family: {
                "sent (stored send logs)": sent.get(family),
                "at moto": moto.get(family),
                "bucket allows": allowed_per_second(family),
            }
            for family in sorted({*sent, *moto})
        },
        "runs_storing_rates": len(stored),
        "output_tail": measured.output_tail if measured.exit_code not in (0, 1, 3) else "",
    }


def prowler_side_by_side(
    moto_url: str, requests: RequestLog, accounts: list[str], workdir: Path, parallel: int
) -> dict[str, Any]:
    """Prowler's multi-account loop: one `prowler aws -R ROLE_ARN` per account, `parallel` at a time."""
    prowler, version = ensure_prowler()
    if prowler is None:
        log(version)
        return {"error": version}
    known = available_checks(prowler, child_env(moto_url, HOME=str(workdir)))
    checks = [check for check in OVERLAPPING_CHECKS if check in known]

    def scan(account: str) -> dict[str, Any]:
        home = workdir / f"prowler-{account}"
        home.mkdir()
        command = prowler_command(
            prowler, checks, home / "output", "-R", f"arn:aws:iam::{account}:role/{ROLE}"
        )
        measured = run_measured(
            command, env=child_env(moto_url, HOME=str(home)), requests=requests, timeout=1800, cwd=home
        )
        log(f"prowler {account}: exit {measured.exit_code} in {measured.wall_seconds:.1f} s")
        return {
            "account": account,
            "exit_code": measured.exit_code,
            "wall_seconds": round(measured.wall_seconds, 2),
            "peak_rss_mib": round(measured.peak_rss_mib, 1),
            "peak_tree_rss_mib": round(measured.peak_tree_rss_mib, 1),
            "cpu_seconds": round(measured.cpu_seconds, 2),
            "findings": dict(sorted(prowler_findings(home / "output").items())),
            "output_tail": measured.output_tail if measured.exit_code else "",
        }

    first = len(requests.snapshot())
    load_before = machine_load()
    log(f"{version}: {len(accounts)} accounts, {parallel} in parallel, checks {', '.join(checks)}")
    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=parallel) as pool:
        runs = list(pool.map(scan, accounts))
    wall = time.perf_counter() - started
    served = requests.snapshot()[first:]
    return {
        "version": version,
        "command": " ".join(
            prowler_command(Path("prowler"), checks, Path("OUT"), "-R", "arn:aws:iam::ACCOUNT:role/" + ROLE)
        ),
        "parallel": parallel,
        "accounts": len(accounts),
        "wall_seconds": round(wall, 2),
        "wall_seconds_per_account": round(wall / len(accounts), 2),
        "machine_before": load_before,
        "machine_after": machine_load(),
        "requests": len(served),
        "requests_per_account": round(len(served) / len(accounts), 1),
        "error_answers": dict(
            Counter(f"{r.service}.{r.operation} {r.status}" for r in served if r.status >= 400).most_common(
                10
            )
        ),
        "checks_missing_in_this_version": [check for check in OVERLAPPING_CHECKS if check not in known],
        "runs": runs,
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--accounts", type=int, default=100)
    parser.add_argument(
        "--concurrency", type=int, nargs="+", default=[8], help="several values: each with each --processes"
    )
    parser.add_argument(
        "--processes", type=int, nargs="+", default=[None],
        help="verify's --processes; several values run one after the other (default: verify's own)",
    )  # fmt: skip
    parser.add_argument("--prowler-accounts", type=int, default=10)
    parser.add_argument(
        "--prowler-parallel", type=int, default=3, help="Prowler's documented loop runs 3 at once"
    )
    parser.add_argument("--skip-prowler", action="store_true")
    parser.add_argument(
        "--warm-up", action="store_true", help="first an untimed verify, so moto's backends exist"
    )
    parser.add_argument(
        "--repeat", type=int, default=1, help="run the --concurrency × --processes set this often"
    )
    parser.add_argument("--page-environments", type=int, default=500)
    parser.add_argument("--json", type=Path, help="also write the results here")
    parser.add_argument(
        "--profile", type=Path, help="run verify --all under py-spy (BENCH_PY_SPY), collapsed stacks here"
    )
    arguments = parser.parse_args()
    os.environ.update(FAKE_CREDENTIALS, AWS_DEFAULT_REGION=PRIMARY_REGION)
    accounts = account_ids(arguments.accounts)
    results: dict[str, Any] = {"machine_at_start": machine_load()}
    with start_moto_server() as moto, tempfile.TemporaryDirectory() as directory:
        workdir = Path(directory)
        started = time.perf_counter()
        with ThreadPoolExecutor(max_workers=8) as pool:
            seeded = pool.map(lambda account: seed_account(moto.endpoint_url, account), accounts)
            estates = dict(zip(accounts, seeded, strict=True))
        results["seed_seconds"] = round(time.perf_counter() - started, 1)
        log(f"seeded {len(accounts)} accounts in {results['seed_seconds']} s")
        config = workdir / "mission-control.toml"
        write_config(config, estates)
        requests = log_requests(moto)
        if (
            arguments.warm_up
        ):  # moto builds each account's and region's backends on first use: not verify's cost
            log("warm-up run (not reported)")
            verify_fleet(moto.endpoint_url, requests, accounts, config, workdir, 8, 1, None)
        for repeat in range(arguments.repeat):  # side by side, on the same estate, one after the other
            for concurrency in arguments.concurrency:
                for processes in arguments.processes:
                    key = f"verify --concurrency {concurrency}" + (
                        f" --processes {processes}" if processes else ""
                    )
                    results[key + (f" (repeat {repeat + 1})" if repeat else "")] = verify_fleet(
                        moto.endpoint_url, requests, accounts, config, workdir, concurrency, processes,
                        arguments.profile,
                    )  # fmt: skip
        if not arguments.skip_prowler:
            prowler = prowler_side_by_side(
                moto.endpoint_url,
                requests,
                accounts[: arguments.prowler_accounts],
                workdir,
                arguments.prowler_parallel,
            )
            results["prowler"] = prowler
            if "wall_seconds_per_account" in prowler:
                fastest = min(run["wall_seconds"] for key, run in results.items() if key.startswith("verify"))
                verify_per_account = fastest / len(accounts)
                results["per_account"] = {
                    "verify_wall_seconds": round(verify_per_account, 3),
                    "prowler_wall_seconds": prowler["wall_seconds_per_account"],
                    "ratio prowler / verify": round(
                        prowler["wall_seconds_per_account"] / verify_per_account, 1
                    ),
                }
    timings = time_fleet_page(arguments.page_environments)
    results["fleet_page_ms"] = {
        "environments": arguments.page_environments,
        "pages 1, 2, 5, 10, 1": [round(t * 1000) for t in timings],
    }
    text = json.dumps(results, indent=2)
    print(text)
    if arguments.json:
        arguments.json.write_text(text + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
