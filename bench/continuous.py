"""Continuous proof at scale, on PostgreSQL with real processes (results in docs/benchmarks.md).

    .venv/bin/python bench/continuous.py schedules [--environments 1000] [--minutes 10] [--workers 2] [--every 1]
    .venv/bin/python bench/continuous.py fanout [--streams 50] [--changes 100]
    .venv/bin/python bench/continuous.py notifications [--changes 100]

- `schedules`: N environments, each verified every `--every` minutes at its own minute and second
  (`--every 1`: `* * * * * S`, a six-hourly schedule accelerated 360 times; `--every 5`:
  `M-59/5 * * * * S`, accelerated 72 times), worked by `--workers` `mission-control worker` processes
  for `--minutes`. The environments name no AWS resources, so a run is the scheduling, queueing and
  recording work itself (start, 20 results, finish), not AWS. Reported: due times that should have
  fired, fires, jobs, missed and doubled runs, queue latency from due time to start (p50/p99/max),
  the tick's cost per environment (the workers' CPU spent ticking over the environments and minutes).
- `fanout`: two `serve` processes (replicas A and B) on one database; `--streams` live-update streams
  on B; `--changes` PATCHes through A, one after another; for each, the time from A's acknowledgement
  until the change event has arrived on every stream of B (p50/p99/max).
- `notifications`: `--changes` item changes in 3 environments, each change a verification whose result
  differs from the one before, into 3 webhook channels (one wanting every environment, two wanting one
  each) received by a local HTTP receiver; 2 workers deliver. Reported: deliveries expected, received,
  duplicates by idempotency key, and the time until the last arrived.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import psycopg
from croniter import croniter
from sqlalchemy import select, text

from mission_control.catalog import load_default_catalog
from mission_control.db.database import Database
from mission_control.identity.service import add_user, create_token, get_user
from mission_control.jobs.models import JobRun, ScheduleFire
from mission_control.web.app import prepare_database

POSTGRES_ADMIN_URL = os.environ.get("MC_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")
REPO = Path(__file__).resolve().parent.parent


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


@contextmanager
def postgres_database() -> Iterator[str]:
    name = f"mc_bench_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True) as connection:
        connection.execute(f'CREATE DATABASE "{name}"')
    try:
        yield f"{POSTGRES_ADMIN_URL.rsplit('/', 1)[0]}/{name}"
    finally:
        with psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True) as connection:
            connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def percentiles(values: list[float]) -> dict[str, float]:
    if not values:
        return {"count": 0}
    ordered = sorted(values)

    def at(fraction: float) -> float:
        return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]

    return {
        "count": len(ordered),
        "p50": round(statistics.median(ordered), 4),
        "p99": round(at(0.99), 4),
        "max": round(ordered[-1], 4),
    }


def free_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def process_env(database_url: str, config: Path, **extra: str) -> dict[str, str]:
    base = {name: value for name, value in os.environ.items() if not name.startswith(("AWS_", "MC_"))}
    return (
        base
        | {
            "MC_DATABASE_URL": database_url,
            "MC_CONFIG": str(config),
            "MC_TICK_SECONDS": "1",
            "AWS_ACCESS_KEY_ID": "bench",
            "AWS_SECRET_ACCESS_KEY": "bench",
            "AWS_DEFAULT_REGION": "us-east-1",
            "AWS_ENDPOINT_URL": "http://127.0.0.1:9",  # nothing listens: no run may reach AWS
            "MC_LOG_LEVEL": "WARNING",
        }
        | extra
    )


def start(command: list[str], env: dict[str, str]) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "mission_control", *command], env=env,
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def stop(processes: list[subprocess.Popen[bytes]]) -> None:
    for process in processes:
        process.terminate()
    for process in processes:
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()


# ---- schedules ---------------------------------------------------------------------------------


def cron_of(n: int, every: int) -> str:
    """Environment n's schedule: second n % 60, and with `every` > 1 its own minute of each `every`."""
    minutes = "*" if every == 1 else f"{(n // 60) % every}-59/{every}"
    return f"{minutes} * * * * {n % 60}"


def bench_schedules(environments: int, minutes: float, workers: int, every: int) -> dict[str, Any]:
    with postgres_database() as url, tempfile.TemporaryDirectory(prefix="mc-bench-") as directory:
        config = Path(directory) / "mission-control.toml"
        names = [f"tenant-{n:04d}" for n in range(environments)]
        config.write_text(
            '[templates.tenant]\nprimary_region = "us-east-1"\nsecondary_region = "eu-west-1"\n\n'
            + "".join(
                f'[environments.{name}]\ntemplate = "tenant"\nverify_schedule = "{cron_of(n, every)}"\n\n'
                for n, name in enumerate(names)
            )
        )
        database = Database(url)
        prepare_database(database, load_default_catalog(), names)
        env = process_env(url, config)
        log(f"{environments} environments; starting {workers} workers for {minutes} min")
        started_at = datetime.now(UTC)
        pool = [start(["worker", "--config", str(config), "--concurrency", "4"], env) for _ in range(workers)]
        time.sleep(minutes * 60)
        ended_at = datetime.now(UTC)
        cpu = sum(cpu_seconds(process.pid) for process in pool)
        stop(pool)
        time.sleep(2)
        with database.read() as session:
            fires = list(
                session.scalars(select(ScheduleFire).where(ScheduleFire.schedule.startswith("verify ")))
            )
            jobs = {job.id: job for job in session.scalars(select(JobRun))}
        database.dispose()
    settle = started_at + timedelta(seconds=15)  # workers starting up
    window_end = ended_at - timedelta(seconds=30)  # runs due at the very end may not have started
    expected = [
        (name, due) for n, name in enumerate(names) for due in _dues(settle, window_end, cron_of(n, every))
    ]
    fired = Counter((fire.schedule.removeprefix("verify "), fire.due_at) for fire in fires)
    missed = [key for key in expected if key not in fired]
    doubled = [key for key, count in fired.items() if count > 1]
    latencies = [
        (jobs[fire.job_run_id].started_at - fire.due_at).total_seconds()
        for fire in fires
        if fire.job_run_id in jobs
        and jobs[fire.job_run_id].started_at
        and settle <= fire.due_at <= window_end
    ]
    skipped = sum(1 for fire in fires if fire.outcome.startswith("skipped"))
    return {
        "environments": environments,
        "minutes": minutes,
        "workers": workers,
        "every_minutes": every,
        "expected_in_window": len(expected),
        "missed": len(missed),
        "doubled": len(doubled),
        "fires": len(fires),
        "skipped_while_running": skipped,
        "jobs_succeeded": sum(1 for job in jobs.values() if job.status == "succeeded"),
        "jobs_failed": sum(1 for job in jobs.values() if job.status == "failed"),
        "queue_latency_seconds": percentiles(latencies),
        "worker_cpu_seconds": round(cpu, 1),
        "worker_cpu_ms_per_run": round(1000 * cpu / max(1, len(jobs)), 2),
    }


def _dues(start: datetime, end: datetime, cron: str) -> Iterator[datetime]:
    due = croniter(cron, start - timedelta(seconds=1)).get_next(datetime)
    while due <= end:
        yield due
        due = croniter(cron, due).get_next(datetime)


# ---- fan-out across replicas -------------------------------------------------------------------


def _token(database: Database, name: str, role: str) -> str:
    with database.transaction() as session:
        if get_user(session=session, name=name) is None:
            add_user(session=session, name=name, role=role, password=None, actor="bench")
        user = get_user(session=session, name=name)
        return create_token(session=session, user=user, name=f"bench {name}", actor="bench")


def _wait_up(url: str) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            time.sleep(0.1)
    raise RuntimeError(f"{url} did not answer")


def bench_fanout(streams: int, changes: int) -> dict[str, Any]:
    with postgres_database() as url, tempfile.TemporaryDirectory(prefix="mc-bench-") as directory:
        config = Path(directory) / "mission-control.toml"
        config.write_text(
            '[environments.production]\nprimary_region = "us-east-1"\nsecondary_region = "eu-west-1"\n'
        )
        database = Database(url)
        prepare_database(database, load_default_catalog(), ["production"])
        token = _token(database, "bench-editor", "editor")
        env = process_env(url, config)
        ports = [free_port(), free_port()]
        servers = [start(["serve", "--port", str(port)], env) for port in ports]
        replica_a, replica_b = (f"http://127.0.0.1:{port}" for port in ports)
        for replica in (replica_a, replica_b):
            _wait_up(replica)
        arrivals: dict[int, list[float]] = {}
        lock = threading.Lock()
        connected = threading.Barrier(streams + 1)

        def listen() -> None:
            headers = {"Authorization": f"Bearer {token}"}
            with (
                httpx.Client(timeout=httpx.Timeout(10, read=None)) as client,
                client.stream(
                    "GET", f"{replica_b}/environments/production/events", headers=headers
                ) as response,
            ):
                connected.wait()
                for line in response.iter_lines():
                    if line.startswith("data: "):
                        event = json.loads(line[6:])
                        if event.get("action") == "note" or event.get("item_id"):
                            with lock:
                                arrivals.setdefault(event["id"], []).append(time.monotonic())

        for _ in range(streams):
            threading.Thread(target=listen, daemon=True).start()
        connected.wait()
        time.sleep(1)
        latencies = []
        with httpx.Client(base_url=replica_a, headers={"Authorization": f"Bearer {token}"}) as client:
            for n in range(changes):
                response = client.patch(
                    "/api/v1/environments/production/items/dns.failover-ttl", json={"note": f"change {n}"}
                )
                acknowledged = time.monotonic()
                response.raise_for_status()
                deadline = acknowledged + 10
                with database.read() as session:
                    newest = session.scalar(text("SELECT max(id) FROM audit_events"))
                while time.monotonic() < deadline:
                    with lock:
                        got = arrivals.get(newest, [])
                        if len(got) >= streams:
                            latencies.append(max(got) - acknowledged)
                            break
                    time.sleep(0.001)
        stop(servers)
        database.dispose()
    return {"streams": streams, "changes": changes, "arrived_everywhere": len(latencies),
            "seconds_from_ack_to_all_streams_on_b": percentiles(latencies)}  # fmt: skip


# ---- notification fan-out ----------------------------------------------------------------------


def bench_notifications(changes: int) -> dict[str, Any]:
    from mission_control.jobs.runner import send_deliveries  # noqa: F401  (imports the job kinds)
    from mission_control.notifications.changes import ChangeSet, ItemChange
    from mission_control.notifications.channels import Channel
    from mission_control.notifications.outbox import Outbox

    received: list[str] = []
    lock = threading.Lock()

    class Receiver(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            self.rfile.read(int(self.headers.get("Content-Length", 0)))
            with lock:
                received.append(f"{self.path} {self.headers['X-Mission-Control-Delivery']}")
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    hook = f"http://127.0.0.1:{server.server_address[1]}"
    environments = ["production", "staging", "tenant-1"]
    channels_toml = "".join(
        f'[notifications.{name}]\nkind = "webhook"\nurl_env = "HOOK_{n}"\nsecret_env = "HOOK_SECRET"\n'
        f'events = ["regressed", "recovered"]\nenvironments = {json.dumps(wanted)}\n\n'
        for n, (name, wanted) in enumerate(
            (("everyone", ["*"]), ("prod", ["production"]), ("tenants", ["tenant-*"]))
        )
    )
    with postgres_database() as url, tempfile.TemporaryDirectory(prefix="mc-bench-") as directory:
        config = Path(directory) / "mission-control.toml"
        config.write_text(
            "".join(
                f'[environments.{name}]\nprimary_region = "us-east-1"\nsecondary_region = "eu-west-1"\n\n'
                for name in environments
            )
            + channels_toml
        )
        database = Database(url)
        prepare_database(database, load_default_catalog(), environments)
        channels = {
            name: Channel(name, "webhook", ("regressed", "recovered"), tuple(wanted), {"url_env": f"HOOK_{n}", "secret_env": "HOOK_SECRET"})
            for n, (name, wanted) in enumerate((("everyone", ["*"]), ("prod", ["production"]), ("tenants", ["tenant-*"])))
        }  # fmt: skip
        expected = 0
        with database.transaction() as session:
            outbox = Outbox(channels)
            for n in range(changes):
                environment = environments[n % 3]
                event = "regressed" if n % 2 == 0 else "recovered"
                change = ItemChange(event, "dns.failover-ttl", "TTL", None, event, f"run {n}", None, "u")
                expected += len(
                    outbox.queue(
                        session, ChangeSet(environment, datetime.now(UTC), (change,), f"bench change {n}")
                    )
                )  # "everyone", and the environment's own channel where it has one
        env = process_env(
            url, config, HOOK_SECRET="bench-secret", **{f"HOOK_{n}": f"{hook}/{n}" for n in range(3)}
        )
        began = time.monotonic()
        workers = [start(["worker", "--config", str(config), "--concurrency", "4"], env) for _ in range(2)]
        deadline = began + 300
        while time.monotonic() < deadline:
            with lock:
                if len(received) >= expected:
                    break
            time.sleep(0.05)
        took = time.monotonic() - began
        time.sleep(5)  # any duplicate would arrive now
        stop(workers)
        database.dispose()
    server.shutdown()
    keys = Counter(received)
    return {"changes": changes, "channels": 3, "deliveries_expected": expected, "received": len(received),
            "duplicates": sum(count - 1 for count in keys.values() if count > 1),
            "seconds_until_all_arrived_from_worker_start": round(took, 2)}  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    schedules = commands.add_parser("schedules")
    schedules.add_argument("--environments", type=int, default=1000)
    schedules.add_argument("--minutes", type=float, default=10)
    schedules.add_argument("--every", type=int, default=1, help="minutes between an environment's runs")
    schedules.add_argument("--workers", type=int, default=2)
    fanout = commands.add_parser("fanout")
    fanout.add_argument("--streams", type=int, default=50)
    fanout.add_argument("--changes", type=int, default=100)
    notifications = commands.add_parser("notifications")
    notifications.add_argument("--changes", type=int, default=100)
    parser.add_argument("--json", type=Path, help="also write the result here")
    arguments = parser.parse_args()
    log(f"load average before: {os.getloadavg()}")
    if arguments.command == "schedules":
        result = bench_schedules(
            arguments.environments, arguments.minutes, arguments.workers, arguments.every
        )
    elif arguments.command == "fanout":
        result = bench_fanout(arguments.streams, arguments.changes)
    else:
        result = bench_notifications(arguments.changes)
    result["load_average_after"] = os.getloadavg()
    print(json.dumps(result, indent=2))
    if arguments.json:
        arguments.json.write_text(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
