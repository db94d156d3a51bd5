"""Load on the dashboard: 50 users reading and ticking, on SQLite and on PostgreSQL, over loopback.

For each engine a real `mission-control serve` process is started on a fresh database (a temporary
SQLite file; a PostgreSQL database created for the run and dropped after). Then:

1. load: `--users` concurrent users, each with its own API token and keep-alive connection, loop for
   `--seconds`: GET / (the dashboard HTML), GET the checklist API, or PATCH an item (tick or untick it
   and set a note unique to that write), with `--think` seconds (mean, uniform ±50%) between requests;
   `--think 0` is a closed loop that finds the server's capacity. Users are warmed up (untimed) and,
   when they think, arrive spread over the first think time. Reported per request kind: requests/s,
   p50, p99, max and errors.
2. consistency: every acknowledged PATCH (200) must be in the item's audit history exactly once (its
   note is unique), and each item's final note and tick must be its newest audit events' values.
3. live updates: `--streams` SSE streams on /environments/production/events; `--ticks` PATCHes one
   after another; for each, the time from the PATCH's acknowledgement (and from its sending) until its
   `change` event has arrived on every stream.

    .venv/bin/python bench/web.py                         # both engines, paced and closed loop
    .venv/bin/python bench/web.py --engines sqlite --think 1 --seconds 10   # a quick run
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import os
import random
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter, defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import psycopg

from mission_control.catalog import load_default_catalog
from mission_control.db.database import Database
from mission_control.identity.service import add_user, create_token, get_user
from mission_control.web.app import prepare_database

POSTGRES_ADMIN_URL = os.environ.get("MC_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")
ENVIRONMENT = "production"
READ_SHARE = {"dashboard": 0.45, "checklist_api": 0.35}  # the rest are PATCHes


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


# ---- databases and the server process ---------------------------------------------------------


@contextmanager
def sqlite_database() -> Iterator[str]:
    with tempfile.TemporaryDirectory(prefix="mc-bench-web-") as directory:
        yield f"sqlite:///{Path(directory) / 'mission-control.db'}"


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


def prepare(database_url: str, users: int) -> list[str]:
    """Migrate the database and give each simulated user an editor account and an API token."""
    database = Database(database_url)
    try:
        prepare_database(database, load_default_catalog())
        tokens = []
        with database.transaction() as session:
            for index in range(users + 1):  # the last one ticks for the SSE measurement
                name = f"bench-user-{index:03d}"
                user = get_user(session=session, name=name) or add_user(
                    session=session, name=name, role="editor", password=None, actor="bench"
                )
                tokens.append(create_token(session=session, user=user, name="bench", actor="bench"))
        return tokens
    finally:
        database.dispose()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@dataclass
class Server:
    """`mission-control serve` as a real process; `stop()` returns its peak RSS in MiB."""

    database_url: str
    workers: int = 1
    port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        env = {k: v for k, v in os.environ.items() if k != "MC_CONFIG"} | {
            "MC_DATABASE_URL": self.database_url
        }
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "mission_control",
                "serve",
                "--port",
                str(self.port),
                "--workers",
                str(self.workers),
            ],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"server exited with {self.process.returncode}")
            try:
                if httpx.get(f"{self.url}/login", timeout=1).status_code == 200:
                    return
            except httpx.TransportError:
                time.sleep(0.1)
        raise RuntimeError("server did not answer within 30 s")

    def cpu_seconds(self) -> float:
        """User + system CPU time the server and its worker processes have used so far (from /proc)."""
        assert self.process is not None
        ticks = 0
        for stat in Path("/proc").glob("[0-9]*/stat"):
            try:
                fields = stat.read_text().rsplit(")", 1)[1].split()
            except OSError:  # the process ended while we looked
                continue
            if int(stat.parent.name) == self.process.pid or int(fields[1]) == self.process.pid:
                ticks += int(fields[11]) + int(fields[12])
        return ticks / os.sysconf("SC_CLK_TCK")

    def stop(self) -> float:
        assert self.process is not None
        self.process.terminate()
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            pid, status, usage = os.wait4(self.process.pid, os.WNOHANG)
            if pid:
                self.process.returncode = os.waitstatus_to_exitcode(status)
                return usage.ru_maxrss / 1024
            time.sleep(0.05)
        self.process.kill()
        _, status, usage = os.wait4(self.process.pid, 0)
        self.process.returncode = os.waitstatus_to_exitcode(status)
        return usage.ru_maxrss / 1024


# ---- load -------------------------------------------------------------------------------------


@dataclass
class Acknowledged:
    user: int
    item_id: str
    note: str
    checked: bool
    answered_note: str  # the note in the PATCH's answer


@dataclass
class LoadResult:
    latencies: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    errors: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))
    acknowledged: list[Acknowledged] = field(default_factory=list)
    unacknowledged_patches: int = 0


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


async def user_loop(
    index: int,
    client: httpx.AsyncClient,
    item_ids: list[str],
    deadline: float,
    think: float,
    result: LoadResult,
) -> None:
    rng = random.Random(index)
    sequence = 0
    if think:  # users arrive spread over one think time, not all in the same millisecond
        await asyncio.sleep(rng.uniform(0, think))
    while time.monotonic() < deadline:
        roll = rng.random()
        started = time.perf_counter()
        if roll < READ_SHARE["dashboard"]:
            kind, request = "dashboard", client.get("/", params={"env": ENVIRONMENT})
            patch = None
        elif roll < READ_SHARE["dashboard"] + READ_SHARE["checklist_api"]:
            kind, request = "checklist_api", client.get(f"/api/v1/environments/{ENVIRONMENT}/checklist")
            patch = None
        else:
            sequence += 1
            item_id = rng.choice(item_ids)
            patch = {
                "checked": rng.random() < 0.5,
                "note": f"bench {uuid.uuid4().hex[:8]} u{index} w{sequence}",
            }
            kind = "patch"
            request = client.patch(f"/api/v1/environments/{ENVIRONMENT}/items/{item_id}", json=patch)
        try:
            response = await request
        except httpx.HTTPError as error:
            result.errors[kind].append(type(error).__name__)
            result.unacknowledged_patches += patch is not None
            continue
        elapsed = time.perf_counter() - started
        if response.status_code != 200:
            result.errors[kind].append(str(response.status_code))
            result.unacknowledged_patches += patch is not None
        else:
            result.latencies[kind].append(elapsed)
            if patch is not None:
                body = response.json()
                result.acknowledged.append(
                    Acknowledged(index, item_id, patch["note"], patch["checked"], body["note"])
                )
        if think:
            await asyncio.sleep(rng.uniform(0.5 * think, 1.5 * think))


async def warm_up(client: httpx.AsyncClient) -> None:
    """Untimed: connect, sign in, and have every server process load its templates once."""
    for path in ("/api/v1/me", f"/?env={ENVIRONMENT}", f"/api/v1/environments/{ENVIRONMENT}/checklist"):
        (await client.get(path)).raise_for_status()


async def run_load(
    base_url: str, tokens: list[str], item_ids: list[str], seconds: float, think: float
) -> dict[str, Any]:
    """Each user is connected, signed in and warmed up before the clock starts."""
    result = LoadResult()
    clients = [
        httpx.AsyncClient(base_url=base_url, headers={"Authorization": f"Bearer {token}"}, timeout=30)
        for token in tokens
    ]
    try:
        await asyncio.gather(*(warm_up(client) for client in clients))
        # The load generator is the stopwatch: a full collection in it (90 ms measured) would be
        # charged to whichever requests were in flight. Collect before the clock starts, not during.
        gc.collect()
        gc.freeze()
        gc.disable()
        started = time.monotonic()
        deadline = started + seconds
        try:
            await asyncio.gather(
                *(user_loop(i, client, item_ids, deadline, think, result) for i, client in enumerate(clients))
            )
        finally:
            gc.enable()
            gc.unfreeze()
        duration = time.monotonic() - started
    finally:
        for client in clients:
            await client.aclose()
    kinds = {}
    for kind in ("dashboard", "checklist_api", "patch"):
        values = result.latencies.get(kind, [])
        kinds[kind] = {
            "ok": len(values),
            "errors": len(result.errors.get(kind, [])),
            "error_kinds": sorted(set(result.errors.get(kind, []))),
            "per_second": round(len(values) / duration, 1),
            "p50_ms": round(percentile(values, 0.50) * 1000, 1) if values else None,
            "p99_ms": round(percentile(values, 0.99) * 1000, 1) if values else None,
            "max_ms": round(max(values) * 1000, 1) if values else None,
        }
    total = sum(len(v) for v in result.latencies.values())
    summary = {
        "users": len(tokens),
        "think_seconds": think,
        "duration_seconds": round(duration, 1),
        "requests_per_second": round(total / duration, 1),
        "kinds": kinds,
    }
    return {
        "summary": summary,
        "acknowledged": result.acknowledged,
        "unacknowledged": result.unacknowledged_patches,
    }


async def check_consistency(
    base_url: str, token: str, acknowledged: list[Acknowledged], unacknowledged: int
) -> dict[str, Any]:
    """Every acknowledged write is in the audit log exactly once, and each item's state is its last event.

    A PATCH answers with the item as re-read after its commit, so under concurrency the answer can
    already show a later writer's change (and version): counted, not an error.
    """
    headers = {"Authorization": f"Bearer {token}"}
    by_item: dict[str, list[Acknowledged]] = defaultdict(list)
    for write in acknowledged:
        by_item[write.item_id].append(write)
    problems: list[str] = []
    audited_notes = 0
    async with httpx.AsyncClient(base_url=base_url, headers=headers, timeout=60) as client:
        checklist = (await client.get(f"/api/v1/environments/{ENVIRONMENT}/checklist")).json()
        state = {item["id"]: item for category in checklist["categories"] for item in category["items"]}
        for item_id, writes in by_item.items():
            history = (await client.get(f"/api/v1/environments/{ENVIRONMENT}/items/{item_id}/history")).json()
            note_events = [event for event in history if event["action"] == "note"]  # newest first
            check_events = [event for event in history if event["action"] in ("checked", "unchecked")]
            audited = Counter(event["new"] for event in note_events)
            audited_notes += sum(audited[w.note] for w in writes)
            missing = [w.note for w in writes if audited[w.note] == 0]
            repeated = [w.note for w in writes if audited[w.note] > 1]
            if missing:
                problems.append(f"{item_id}: {len(missing)} acknowledged writes missing from the audit log")
            if repeated:
                problems.append(f"{item_id}: {len(repeated)} acknowledged writes audited more than once")
            final = state[item_id]
            if note_events and final["note"] != note_events[0]["new"]:
                problems.append(
                    f"{item_id}: note {final['note']!r} is not the last audited {note_events[0]['new']!r}"
                )
            if check_events and str(final["checked"]).lower() != check_events[0]["new"]:
                problems.append(f"{item_id}: checked={final['checked']} is not the last audited tick")
    return {
        "acknowledged_writes": len(acknowledged),
        "unacknowledged_writes": unacknowledged,
        "acknowledged_writes_found_in_audit_log": audited_notes,
        "answers_showing_a_later_write": sum(1 for w in acknowledged if w.answered_note != w.note),
        "items_written": len(by_item),
        "problems": problems,
        "consistent": not problems and audited_notes == len(acknowledged),
    }


# ---- live updates -----------------------------------------------------------------------------


async def sse_stream(
    client: httpx.AsyncClient, arrivals: asyncio.Queue[tuple[int, str, float]], index: int, opened: list[int]
) -> None:
    """Read one event stream, putting (stream, actor, arrival time) of each `change` on `arrivals`."""
    async with client.stream("GET", f"/environments/{ENVIRONMENT}/events") as response:
        response.raise_for_status()
        event = ""
        async for line in response.aiter_lines():
            if line.startswith("retry:"):
                opened.append(index)
            elif line.startswith("event:"):
                event = line.split(":", 1)[1].strip()
            elif line.startswith("data:") and event == "change":
                data = json.loads(line.split(":", 1)[1])
                arrivals.put_nowait((index, data.get("actor", ""), time.perf_counter()))


async def measure_live_updates(
    base_url: str, viewer_tokens: list[str], ticker_token: str, item_ids: list[str], ticks: int
) -> dict[str, Any]:
    arrivals: asyncio.Queue[tuple[int, str, float]] = asyncio.Queue()
    opened: list[int] = []
    clients = [
        httpx.AsyncClient(
            base_url=base_url, headers={"Authorization": f"Bearer {t}"}, timeout=httpx.Timeout(30, read=None)
        )
        for t in viewer_tokens
    ]
    streams = [asyncio.create_task(sse_stream(c, arrivals, i, opened)) for i, c in enumerate(clients)]
    deadline = time.monotonic() + 30
    while len(opened) < len(clients) and time.monotonic() < deadline:
        await asyncio.sleep(0.05)
    from_ack: list[float] = []
    from_send: list[float] = []
    missed = 0
    try:
        async with httpx.AsyncClient(
            base_url=base_url, headers={"Authorization": f"Bearer {ticker_token}"}, timeout=30
        ) as ticker:
            ticker_name = (await ticker.get("/api/v1/me")).json()["name"]
            for tick in range(ticks):
                while not arrivals.empty():
                    arrivals.get_nowait()
                item_id = item_ids[tick % len(item_ids)]
                sent = time.perf_counter()
                response = await ticker.patch(
                    f"/api/v1/environments/{ENVIRONMENT}/items/{item_id}", json={"note": f"sse tick {tick}"}
                )
                acknowledged = time.perf_counter()
                response.raise_for_status()
                seen: dict[int, float] = {}
                tick_deadline = time.monotonic() + 10
                while len(seen) < len(clients) and time.monotonic() < tick_deadline:
                    try:
                        index, actor, at = await asyncio.wait_for(
                            arrivals.get(), max(0.01, tick_deadline - time.monotonic())
                        )
                    except TimeoutError:
                        break
                    if actor == ticker_name:
                        seen.setdefault(index, at)
                if len(seen) < len(clients):
                    missed += 1
                    continue
                last = max(seen.values())
                from_ack.append(max(0.0, last - acknowledged))
                from_send.append(last - sent)
                await asyncio.sleep(0.3)  # let the previous event settle before the next tick
    finally:
        for task in streams:
            task.cancel()
        await asyncio.gather(*streams, return_exceptions=True)
        for client in clients:
            await client.aclose()

    def stats(values: list[float]) -> dict[str, float | None]:
        return {
            "p50_ms": round(percentile(values, 0.5) * 1000, 1) if values else None,
            "max_ms": round(max(values) * 1000, 1) if values else None,
        }

    return {
        "streams_open": len(opened),
        "ticks": ticks,
        "ticks_not_reaching_every_stream_within_10s": missed,
        "ack_to_all_streams": stats(from_ack),
        "send_to_all_streams": stats(from_send),
    }


# ---- main -------------------------------------------------------------------------------------


async def bench_engine(database_url: str, args: argparse.Namespace) -> dict[str, Any]:
    tokens = prepare(database_url, args.users)
    user_tokens, ticker_token = tokens[:-1], tokens[-1]
    item_ids = [item.id for item in load_default_catalog().items]
    server = Server(database_url, workers=args.workers)
    server.start()
    results: dict[str, Any] = {}
    try:
        for think in args.think:
            label = f"think_{think:g}s"
            log(f"  load: {args.users} users, think {think:g} s, {args.seconds:g} s")
            cpu_before, load_before = server.cpu_seconds(), os.getloadavg()[0]
            load = await run_load(server.url, user_tokens, item_ids, args.seconds, think)
            server_cpu = server.cpu_seconds() - cpu_before
            requests = sum(kind["ok"] + kind["errors"] for kind in load["summary"]["kinds"].values())
            load["summary"]["server_cpu_seconds"] = round(server_cpu, 2)
            load["summary"]["server_cpu_ms_per_request"] = round(1000 * server_cpu / max(1, requests), 2)
            load["summary"]["loadavg_1min_before_after"] = [load_before, os.getloadavg()[0]]
            log(f"  {json.dumps(load['summary']['kinds'])}")
            consistency = await check_consistency(
                server.url, ticker_token, load["acknowledged"], load["unacknowledged"]
            )
            log(
                f"  consistency: {consistency['consistent']} ({consistency['acknowledged_writes']} acknowledged writes)"
            )
            results[label] = {**load["summary"], "consistency": consistency}
        log(f"  live updates: {args.streams} streams, {args.ticks} ticks")
        results["live_updates"] = await measure_live_updates(
            server.url, user_tokens[: args.streams], ticker_token, item_ids, args.ticks
        )
        log(f"  {results['live_updates']}")
    finally:
        results["server_peak_rss_mib"] = round(server.stop(), 1)
    return results


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--engines", nargs="+", default=["sqlite", "postgresql"], choices=["sqlite", "postgresql"]
    )
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=30)
    parser.add_argument(
        "--think", type=float, nargs="+", default=[1.0, 0.0], help="mean think time(s) to run"
    )
    parser.add_argument("--workers", type=int, default=1, help="server processes (serve --workers)")
    parser.add_argument("--streams", type=int, default=50)
    parser.add_argument("--ticks", type=int, default=20)
    parser.add_argument("--json", type=Path, help="also write the results here")
    args = parser.parse_args()
    if args.streams > args.users:
        parser.error("--streams cannot exceed --users (each stream uses a user's token)")
    results = {}
    for engine in args.engines:
        log(f"{engine}: preparing a fresh database")
        with sqlite_database() if engine == "sqlite" else postgres_database() as database_url:
            results[engine] = asyncio.run(bench_engine(database_url, args))
    text = json.dumps(results, indent=2)
    print(text)
    if args.json:
        args.json.write_text(text + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
