"""Benchmark `mission-control verify` on a synthetic 1,000-table estate, side by side with Prowler.

The estate lives on the demo's moto server (its parity layer adds the DynamoDB replicas, backup
selections and CloudFront fields moto lacks): the demo estate, scaled up to 1,000 platform tables
replicated to a second region, 50 distributions, 200 latency records with health checks and the
demo's two Cognito pools. Measured:

- `mission-control verify --format json` as a subprocess: wall time and peak RSS (wait4's ru_maxrss);
- API calls by service.operation, twice: a botocore `before-call` hook on an in-process
  `run_verification`, and a counter in front of moto that also sees the subprocesses' requests;
- Prowler (`pip install prowler` into a throw-away virtualenv, never a project dependency) running its
  PITR check alone and its overlapping checks, with the same counter, wall time and peak RSS.

Every AWS request goes to the moto server on 127.0.0.1: the child processes also get a dead loopback
proxy (NO_PROXY for 127.0.0.1), so an SDK that ignored AWS_ENDPOINT_URL would fail instead of leaving
the machine.

    .venv/bin/python bench/verify.py                  # the full run: 14 min on a loaded 2-core machine, mostly Prowler
    .venv/bin/python bench/verify.py --tables 100 --runs 1 --skip-prowler   # a quick smoke run
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import boto3
from harness import (  # bench/ is the script's directory, so first on sys.path
    FAKE_CREDENTIALS,
    OVERLAPPING_CHECKS,
    PITR_CHECK,
    PROWLER_VENV,
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

from mission_control.catalog import load_default_catalog
from mission_control.demo.estate import (
    PRIMARY_REGION,
    REGIONAL_ENDPOINTS,
    SECONDARY_REGION,
    demo_config_toml,
    seed_demo_estate,
)
from mission_control.demo.server import start_moto_server
from mission_control.verification.aws import AwsClients
from mission_control.verification.config import EnvironmentConfig
from mission_control.verification.runner import run_verification

SEED_WORKERS = 8

# ---- the synthetic estate ---------------------------------------------------------------------


@dataclass(frozen=True)
class Estate:
    config: EnvironmentConfig
    tables: int
    replicated: int
    with_pitr: int
    distributions: int
    latency_records: int
    health_checks: int


def _in_parallel(label: str, function: Callable[[Any], Any], items: Iterable[Any]) -> list[Any]:
    items = list(items)
    started = time.perf_counter()
    done = 0
    results = []
    with ThreadPoolExecutor(max_workers=SEED_WORKERS, thread_name_prefix="seed") as pool:
        for result in pool.map(function, items):
            results.append(result)
            done += 1
            if done % 250 == 0 or done == len(items):
                log(f"  {label}: {done}/{len(items)} ({time.perf_counter() - started:.1f} s)")
    return results


def seed_estate(endpoint_url: str, *, tables: int, distributions: int, services: int) -> Estate:
    """The demo estate scaled up: `tables` platform tables, `distributions` distributions and
    `services` x 2 latency records (each with a health check) in the demo's zone."""
    base = seed_demo_estate(endpoint_url)
    session = boto3.Session(region_name=PRIMARY_REGION, **_lower(FAKE_CREDENTIALS))

    def client(service: str, region: str = PRIMARY_REGION) -> Any:
        return session.client(service, region_name=region, endpoint_url=endpoint_url)

    dynamodb = client("dynamodb")
    extra_tables = [f"bench-table-{index:04d}" for index in range(tables - len(base.platform_tables))]
    # Defects a real estate has: every 20th table is not replicated, every 25th has PITR off.
    unreplicated = set(extra_tables[::20])
    without_pitr = set(extra_tables[::25])

    def create_table(name: str) -> None:
        dynamodb.create_table(
            TableName=name,
            BillingMode="PAY_PER_REQUEST",
            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        )
        if name not in without_pitr:
            dynamodb.update_continuous_backups(
                TableName=name, PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": True}
            )
        if name not in unreplicated:
            dynamodb.update_table(
                TableName=name, ReplicaUpdates=[{"Create": {"RegionName": SECONDARY_REGION}}]
            )

    _in_parallel("tables", create_table, extra_tables)
    _seed_backup_plan(client)
    new_distributions = _seed_distributions(client, distributions - len(base.distributions))
    records = _seed_latency_records(client, services - 1)
    config = replace(
        base,
        platform_tables=(*base.platform_tables, *extra_tables),
        distributions=(*base.distributions, *new_distributions),
    )
    return Estate(
        config=config,
        tables=len(config.platform_tables),
        replicated=3 + len(extra_tables) - len(unreplicated),  # the demo replicates 3 of its 5
        with_pitr=4 + len(extra_tables) - len(without_pitr),  # and has PITR on 4
        distributions=len(config.distributions),
        latency_records=2 + records,
        health_checks=2 + records,
    )


def _lower(credentials: dict[str, str]) -> dict[str, str]:
    return {key.lower(): value for key, value in credentials.items()}


def _seed_backup_plan(client: Callable[..., Any]) -> None:
    """A daily plan selecting every bench table by wildcard, copied to the secondary region."""
    role_arn = client("iam").get_role(RoleName="spaceduck-backup")["Role"]["Arn"]
    vault_arn = client("backup", SECONDARY_REGION).describe_backup_vault(BackupVaultName="spaceduck-dr")[
        "BackupVaultArn"
    ]
    plan_id = client("backup").create_backup_plan(
        BackupPlan={
            "BackupPlanName": "bench-tables-daily",
            "Rules": [
                {
                    "RuleName": "daily",
                    "TargetBackupVaultName": "spaceduck-primary",
                    "ScheduleExpression": "cron(0 5 * * ? *)",
                    "CopyActions": [{"DestinationBackupVaultArn": vault_arn}],
                }
            ],
        }
    )["BackupPlanId"]
    client("backup").create_backup_selection(
        BackupPlanId=plan_id,
        BackupSelection={
            "SelectionName": "bench-tables",
            "IamRoleArn": role_arn,
            "Resources": [f"arn:aws:dynamodb:{PRIMARY_REGION}:*:table/bench-table-*"],
        },
    )


def _seed_distributions(client: Callable[..., Any], count: int) -> list[str]:
    """`count` distributions failing over between the regional endpoints, with both edge functions."""
    awslambda = client("lambda")
    edge = {}
    for event, name in (("viewer-request", "beak-edge-auth"), ("origin-request", "beak-edge-redirects")):
        versions = awslambda.list_versions_by_function(FunctionName=name)["Versions"]
        edge[event] = next(v["FunctionArn"] for v in versions if v["Version"] != "$LATEST")
    cloudfront = client("cloudfront")

    def origin(origin_id: str, domain: str) -> dict[str, Any]:
        return {
            "Id": origin_id,
            "DomainName": domain,
            "CustomOriginConfig": {"HTTPPort": 80, "HTTPSPort": 443, "OriginProtocolPolicy": "https-only"},
        }

    def create(index: int) -> str:
        return cloudfront.create_distribution(
            DistributionConfig={
                "CallerReference": f"bench-{index}",
                "Comment": f"bench distribution {index}",
                "Enabled": True,
                "Origins": {
                    "Quantity": 2,
                    "Items": [
                        origin("use1", REGIONAL_ENDPOINTS[PRIMARY_REGION]),
                        origin("apse1", REGIONAL_ENDPOINTS[SECONDARY_REGION]),
                    ],
                },
                "OriginGroups": {
                    "Quantity": 1,
                    "Items": [
                        {
                            "Id": "failover",
                            "FailoverCriteria": {
                                "StatusCodes": {"Quantity": 4, "Items": [500, 502, 503, 504]}
                            },
                            "Members": {
                                "Quantity": 2,
                                "Items": [{"OriginId": "use1"}, {"OriginId": "apse1"}],
                            },
                        }
                    ],
                },
                "DefaultCacheBehavior": {
                    "TargetOriginId": "failover",
                    "ViewerProtocolPolicy": "redirect-to-https",
                    "ForwardedValues": {"QueryString": True, "Cookies": {"Forward": "none"}},
                    "MinTTL": 0,
                    "DefaultTTL": 0,
                    "MaxTTL": 60,
                    "LambdaFunctionAssociations": {
                        "Quantity": 2,
                        "Items": [
                            {"EventType": event, "LambdaFunctionARN": arn, "IncludeBody": False}
                            for event, arn in edge.items()
                        ],
                    },
                },
            }
        )["Distribution"]["Id"]

    return _in_parallel("distributions", create, range(count))


def _seed_latency_records(client: Callable[..., Any], services: int) -> int:
    """`services` more API names, each with a latency record per region and a health check on each."""
    route53 = client("route53")
    zone_id = route53.list_hosted_zones_by_name(DNSName="spaceduck.example.")["HostedZones"][0]["Id"]
    targets = [(index, region) for index in range(services) for region in (PRIMARY_REGION, SECONDARY_REGION)]

    def health_check(target: tuple[int, str]) -> dict[str, Any]:
        index, region = target
        endpoint = f"svc{index:03d}-{region}.api.spaceduck.example"
        check_id = route53.create_health_check(
            CallerReference=f"bench-{index}-{region}",
            HealthCheckConfig={
                "Type": "HTTPS",
                "FullyQualifiedDomainName": endpoint,
                "ResourcePath": "/beak/system/status",
                "Port": 443,
                "RequestInterval": 30,
                "FailureThreshold": 3,
            },
        )["HealthCheck"]["Id"]
        return {
            "Action": "CREATE",
            "ResourceRecordSet": {
                "Name": f"svc{index:03d}.api.spaceduck.example",
                "Type": "CNAME",
                "TTL": 60,
                "SetIdentifier": f"svc{index:03d}-{region}",
                "Region": region,
                "HealthCheckId": check_id,
                "ResourceRecords": [{"Value": endpoint}],
            },
        }

    changes = _in_parallel("health checks", health_check, targets)
    route53.change_resource_record_sets(HostedZoneId=zone_id, ChangeBatch={"Changes": changes})
    return len(changes)


# ---- measuring --------------------------------------------------------------------------------


def in_process_calls(config: EnvironmentConfig) -> tuple[Counter[str], float]:
    """API calls of one in-process run, counted by botocore's `before-call` event, and its wall time."""
    session = boto3.Session(region_name=PRIMARY_REGION, **_lower(FAKE_CREDENTIALS))
    calls: Counter[str] = Counter()
    lock = threading.Lock()

    def count(model: Any, **_: Any) -> None:
        with lock:
            calls[f"{model.service_model.service_name}.{model.name}"] += 1

    session.events.register("before-call", count)
    started = time.perf_counter()
    run_verification(config, catalog=load_default_catalog(), clients=AwsClients(session))
    return calls, time.perf_counter() - started


def calls_per_resource(calls: Counter[str], estate: Estate) -> dict[str, dict[str, Any]]:
    """Calls grouped by the resource type they are spent on, and per resource."""
    groups = {
        "dynamodb table": (("dynamodb.", "backup.", "s3."), estate.tables),
        "cloudfront distribution": (("cloudfront.",), estate.distributions),
        "route53 latency record": (("route53.",), estate.latency_records),
        "cognito user pool": (("cognito-idp.",), 2),
        "lambda@edge function": (("lambda.", "iam."), 2),
    }
    grouped = {}
    for label, (prefixes, resources) in groups.items():
        total = sum(n for key, n in calls.items() if key.startswith(prefixes))
        grouped[label] = {"calls": total, "resources": resources, "per_resource": round(total / resources, 3)}
    return grouped


def run_prowler(
    prowler: Path, checks: list[str], *, endpoint_url: str, requests: RequestLog, workdir: Path, label: str
) -> dict[str, Any]:
    output_dir = workdir / f"prowler-{label}"
    command = prowler_command(prowler, checks, output_dir)
    log(f"prowler {label}: {' '.join(command[1:])}")
    measured = run_measured(
        command,
        env=child_env(endpoint_url, HOME=str(workdir)),
        requests=requests,
        timeout=900,
        cwd=workdir,
    )
    log(f"prowler {label}: exit {measured.exit_code} in {measured.wall_seconds:.1f} s")
    return {
        "command": " ".join(command),
        "exit_code": measured.exit_code,
        "wall_seconds": round(measured.wall_seconds, 2),
        "peak_rss_mib": round(measured.peak_rss_mib, 1),
        "cpu_seconds": round(measured.cpu_seconds, 2),
        "moto_cpu_seconds": round(measured.moto_cpu_seconds, 2),
        "loadavg_1min_after": os.getloadavg()[0],
        "requests": dict(sorted(measured.requests.items())),
        "requests_total": sum(measured.requests.values()),
        "findings": dict(sorted(prowler_findings(output_dir).items())),
        "output_tail": measured.output_tail if measured.exit_code else "",
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--tables", type=int, default=1000)
    parser.add_argument("--distributions", type=int, default=50)
    parser.add_argument("--latency-records", type=int, default=200, help="even: one per region per name")
    parser.add_argument("--runs", type=int, default=3, help="subprocess runs of verify (median reported)")
    parser.add_argument("--skip-prowler", action="store_true")
    parser.add_argument("--json", type=Path, help="also write the results here")
    args = parser.parse_args()

    workdir = Path(tempfile.mkdtemp(prefix="mc-bench-verify-"))
    results: dict[str, Any] = {}
    bench_started = time.perf_counter()
    with start_moto_server() as moto:
        requests = log_requests(moto)
        log(f"moto at {moto.endpoint_url}; seeding {args.tables} tables, {args.distributions} distributions")
        started = time.perf_counter()
        estate = seed_estate(
            moto.endpoint_url,
            tables=args.tables,
            distributions=args.distributions,
            services=args.latency_records // 2,
        )
        results["estate"] = {
            "tables": estate.tables,
            "replicated_to_secondary": estate.replicated,
            "with_pitr": estate.with_pitr,
            "distributions": estate.distributions,
            "latency_records": estate.latency_records,
            "health_checks": estate.health_checks,
            "cognito_pools": 2,
            "seed_seconds": round(time.perf_counter() - started, 1),
        }
        log(f"seeded in {results['estate']['seed_seconds']} s: {results['estate']}")
        config_file = workdir / "mission-control.toml"
        config_file.write_text(demo_config_toml(estate.config), encoding="utf-8")

        os.environ.update(FAKE_CREDENTIALS, AWS_ENDPOINT_URL=moto.endpoint_url)
        for name in ("AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_SESSION_TOKEN"):
            os.environ.pop(name, None)
        before = requests.counts()
        calls, in_process_wall = in_process_calls(estate.config)
        served = requests.counts() - before
        results["in_process"] = {
            "wall_seconds": round(in_process_wall, 2),
            "api_calls": dict(sorted(calls.items())),
            "api_calls_total": sum(calls.values()),
            "http_requests_seen_by_moto": sum(served.values()),
            "per_resource": calls_per_resource(calls, estate),
        }
        log(f"in-process run: {sum(calls.values())} API calls in {in_process_wall:.1f} s")

        mission_control = str(Path(sys.executable).with_name("mission-control"))
        runs = []
        for run in range(args.runs):
            output = workdir / f"verify-{run}.json"
            command = [mission_control, "verify", "--config", str(config_file), "--format", "json", "--output", str(output)]  # fmt: skip
            measured = run_measured(
                command,
                env=child_env(moto.endpoint_url, MC_DATABASE_URL=f"sqlite:///{workdir / f'verify-{run}.db'}"),
                requests=requests,
                timeout=600,
                cwd=workdir,
            )
            report = json.loads(output.read_text()) if output.exists() else {}
            runs.append(
                {
                    "exit_code": measured.exit_code,
                    "wall_seconds": round(measured.wall_seconds, 2),
                    "peak_rss_mib": round(measured.peak_rss_mib, 1),
                    "cpu_seconds": round(measured.cpu_seconds, 2),
                    "moto_cpu_seconds": round(measured.moto_cpu_seconds, 2),
                    "loadavg_1min_after": os.getloadavg()[0],
                    "requests_total": sum(measured.requests.values()),
                    "summary": report.get("summary"),
                }
            )
            log(f"verify run {run + 1}/{args.runs}: {runs[-1]}")
            if not report:
                log(measured.output_tail)
        results["verify"] = {
            "command": f"MC_DATABASE_URL=sqlite:///… mission-control verify --config {config_file} --format json",
            "runs": runs,
            "median_wall_seconds": round(statistics.median(r["wall_seconds"] for r in runs), 2),
            "max_peak_rss_mib": max(r["peak_rss_mib"] for r in runs),
            "items": {
                item["id"]: [item["status"], item["summary"][:160]]
                for item in json.loads((workdir / "verify-0.json").read_text())["items"]
            }
            if (workdir / "verify-0.json").exists()
            else {},
        }

        if args.skip_prowler:
            results["prowler"] = {"skipped": "--skip-prowler"}
        else:
            prowler, version = ensure_prowler()
            if prowler is None:
                results["prowler"] = {"error": version}
                log(version)
            else:
                known = available_checks(prowler, child_env(moto.endpoint_url, HOME=str(workdir)))
                overlapping = [check for check in OVERLAPPING_CHECKS if check in known]
                results["prowler"] = {
                    "version": version,
                    "venv": str(PROWLER_VENV),
                    "overlapping_checks_missing_in_this_version": [c for c in OVERLAPPING_CHECKS if c not in known],
                    "pitr_only": run_prowler(
                        prowler, [PITR_CHECK], endpoint_url=moto.endpoint_url, requests=requests, workdir=workdir, label="pitr"
                    ),
                    "overlapping": run_prowler(
                        prowler, overlapping, endpoint_url=moto.endpoint_url, requests=requests, workdir=workdir, label="overlapping"
                    ),
                }  # fmt: skip
                pitr = results["prowler"]["pitr_only"]
                results["ratios"] = {
                    "prowler_pitr_wall / verify_wall": round(
                        pitr["wall_seconds"] / results["verify"]["median_wall_seconds"], 2
                    ),
                    "prowler_pitr_requests_per_table": round(pitr["requests_total"] / estate.tables, 2),
                }
    results["bench_seconds"] = round(time.perf_counter() - bench_started, 1)
    text = json.dumps(results, indent=2)
    print(text)
    if args.json:
        args.json.write_text(text + "\n", encoding="utf-8")
    shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
