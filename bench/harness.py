"""What the benchmarks share: a log of every request moto serves, measured child processes, and Prowler.

- `log_requests(moto)` puts a WSGI layer in front of the running moto server noting each request's
  arrival, account (from the access key, as moto keys resources), service, operation and status;
- `run_measured` runs a command as a child process: wall time, its own peak RSS (ru_maxrss, read by a
  small launcher, not inherited from this large process) and CPU, and the requests moto saw meanwhile;
- `child_env` gives a child moto as every AWS endpoint, fake credentials and a dead loopback proxy
  (NO_PROXY for 127.0.0.1), so an SDK that ignored AWS_ENDPOINT_URL fails instead of leaving the machine;
- `ensure_prowler` installs Prowler into a throw-away virtualenv (never a project dependency).
"""

from __future__ import annotations

import io
import json
import os
import re
import resource
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from moto.iam.models import get_account_id_from

from mission_control.demo.server import MotoServer

PRIMARY_REGION, SECONDARY_REGION = "us-east-1", "ap-southeast-1"
FAKE_CREDENTIALS = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}
DEAD_PROXY = "http://127.0.0.1:9"  # the discard port, closed: any non-loopback request fails fast
PROWLER_VENV = Path(os.environ.get("BENCH_PROWLER_VENV", "/tmp/prowler-venv"))
PITR_CHECK = "dynamodb_tables_pitr_enabled"
# Prowler checks that look at what `verify` proves (the ones this Prowler version ships are kept).
OVERLAPPING_CHECKS = (
    PITR_CHECK,
    "dynamodb_table_protected_by_backup_plan",
    "dynamodb_table_cross_region_replication",  # absent from Prowler 5.46; skipped when missing
    "cloudfront_distributions_multiple_origin_failover_configured",
    "route53_dangling_ip_subdomain_takeover",  # reads every record set, as verify does
    "cognito_user_pool_mfa_enabled",
    "awslambda_function_not_publicly_accessible",
)


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


# ---- every request moto serves ----------------------------------------------------------------

_CREDENTIAL = re.compile(r"Credential=([^/]+)/\d{8}/([^/]+)/([^/]+)/aws4_request")
_ID_SEGMENT = re.compile(r"^(?=.*\d)[A-Za-z0-9_:%.\-]{6,}$")


@dataclass(frozen=True)
class Request:
    arrived: float  # time.monotonic() when werkzeug handed it over
    account: str
    service: str
    operation: str
    status: int


class RequestLog:
    """A WSGI layer noting every request and the status moto answered it with."""

    def __init__(self, app: Callable[..., Any]) -> None:
        self._app = app
        self._lock = threading.Lock()
        self.requests: list[Request] = []

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        arrived = time.monotonic()
        credential = _CREDENTIAL.search(environ.get("HTTP_AUTHORIZATION", ""))
        access_key, _, service = credential.groups() if credential else ("", "", "unsigned")
        account = get_account_id_from(access_key) if access_key else "-"
        operation = _operation(environ, service)

        def noting_status(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            with self._lock:
                self.requests.append(Request(arrived, account, service, operation, int(status.split()[0])))
            return start_response(status, headers, exc_info)

        return self._app(environ, noting_status)

    def snapshot(self) -> list[Request]:
        with self._lock:
            return list(self.requests)

    def counts(self) -> Counter[str]:
        """Requests by `service.operation`."""
        return Counter(f"{request.service}.{request.operation}" for request in self.snapshot())


def _operation(environ: dict[str, Any], service: str) -> str:
    """X-Amz-Target, else the query or form Action, else GetHealthCheckStatus, else the REST path."""
    target = environ.get("HTTP_X_AMZ_TARGET", "")
    if target:
        return target.rpartition(".")[2]
    action = re.search(r"(?:^|&)Action=([A-Za-z]+)", environ.get("QUERY_STRING", ""))
    if action is not None:
        return action.group(1)
    if environ.get("REQUEST_METHOD") == "POST":
        body = environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
        environ["wsgi.input"] = io.BytesIO(body)
        posted = re.search(rb"(?:^|&)Action=([A-Za-z]+)", body)
        if posted is not None:
            return posted.group(1).decode()
    path = environ.get("PATH_INFO", "")
    if service == "route53" and re.search(r"/healthcheck/[^/]+/status$", path):
        return "GetHealthCheckStatus"
    segments = ["{id}" if _ID_SEGMENT.match(part) else part for part in path.split("/") if part]
    return f"{environ.get('REQUEST_METHOD', '?')} /{'/'.join(segments)}"


def log_requests(moto: MotoServer) -> RequestLog:
    """Put a RequestLog in front of the running server's WSGI app (werkzeug reads `server.app` per
    request, so every request after this call is logged)."""
    werkzeug_server = moto._server._server
    requests = RequestLog(werkzeug_server.app)
    werkzeug_server.app = requests
    return requests


# ---- measured child processes -----------------------------------------------------------------


@dataclass(frozen=True)
class Measured:
    command: list[str]
    exit_code: int
    wall_seconds: float
    peak_rss_mib: float  # the largest single process of the command's tree (ru_maxrss)
    peak_tree_rss_mib: float  # the most its processes held together, sampled every 0.1 s
    cpu_seconds: float
    moto_cpu_seconds: float  # this process's CPU time during the run: the moto server serving it
    requests: Counter[str]
    output_tail: str


# Runs the command as its own child and writes the child's own rusage: a forked child starts with its
# parent's high-water RSS, and the benchmark's process (holding moto's estate) is large, so wait4 on a
# child of it would report at least the benchmark's own RSS as the child's peak.
_LAUNCHER = """import os, subprocess, sys
child = subprocess.Popen(sys.argv[2:])
_, status, usage = os.wait4(child.pid, 0)
open(sys.argv[1], "w").write(f"{usage.ru_maxrss} {usage.ru_utime + usage.ru_stime}")
sys.exit(os.waitstatus_to_exitcode(status))
"""


def run_measured(
    command: list[str], *, env: dict[str, str], requests: RequestLog, timeout: float, cwd: Path
) -> Measured:
    """Run `command`; its wall time, its own peak RSS (ru_maxrss, KiB on Linux) and CPU, and the requests
    moto saw meanwhile (those of anything else running at the same time included)."""
    before = requests.counts()
    moto_cpu_before = _own_cpu_seconds()
    with tempfile.TemporaryFile() as log_file, tempfile.NamedTemporaryFile("r") as usage_file:
        started = time.perf_counter()
        process = subprocess.Popen(
            [sys.executable, "-c", _LAUNCHER, usage_file.name, *command],
            env=env, stdout=log_file, stderr=subprocess.STDOUT, cwd=cwd,
        )  # fmt: skip
        tree_peak = [0]
        sampler = threading.Thread(target=_sample_tree_rss, args=(process, tree_peak), daemon=True)
        sampler.start()
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        wall = time.perf_counter() - started
        sampler.join()
        log_file.seek(0)
        tail = log_file.read().decode(errors="replace")[-3000:]
        maxrss, cpu = (usage_file.read().split() or ["0", "0"])[:2]
    return Measured(
        command=command,
        exit_code=process.returncode,
        wall_seconds=wall,
        peak_rss_mib=int(maxrss) / 1024,
        peak_tree_rss_mib=tree_peak[0] / 1024,
        cpu_seconds=float(cpu),
        moto_cpu_seconds=_own_cpu_seconds() - moto_cpu_before,
        requests=requests.counts() - before,
        output_tail=tail,
    )


def _sample_tree_rss(launcher: subprocess.Popen[bytes], peak: list[int]) -> None:
    """Until `launcher` exits: the highest sum of VmRSS (KiB) over its descendants (not itself). It runs
    in the moto server's process, so it follows /proc's children lists instead of scanning all of /proc."""
    while launcher.poll() is None:
        total, pending = 0, _children(launcher.pid)
        while pending:
            pid = pending.pop()
            pending.extend(_children(pid))
            try:
                status = Path(f"/proc/{pid}/status").read_text()
            except OSError:
                continue
            total += next(
                (int(line.split()[1]) for line in status.splitlines() if line.startswith("VmRSS:")), 0
            )
        peak[0] = max(peak[0], total)
        time.sleep(0.2)


def _children(pid: int) -> list[int]:
    found: list[int] = []
    try:
        for task in Path(f"/proc/{pid}/task").iterdir():
            found.extend(int(child) for child in (task / "children").read_text().split())
    except OSError:  # the process has just exited
        pass
    return found


def _own_cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def child_env(endpoint_url: str, **extra: str) -> dict[str, str]:
    """The environment for a child process: moto as every AWS endpoint, fake credentials, no way out."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith("AWS_") and key.lower() not in ("http_proxy", "https_proxy", "no_proxy")
    }
    return env | {
        **FAKE_CREDENTIALS,
        "AWS_ENDPOINT_URL": endpoint_url,
        "AWS_DEFAULT_REGION": PRIMARY_REGION,
        "AWS_REGION": PRIMARY_REGION,
        "HTTP_PROXY": DEAD_PROXY,
        "HTTPS_PROXY": DEAD_PROXY,
        "NO_PROXY": "127.0.0.1,localhost",
        **extra,
    }


# ---- Prowler ----------------------------------------------------------------------------------


def ensure_prowler() -> tuple[Path | None, str]:
    """Prowler in its own throw-away virtualenv: (the prowler executable, its version) or (None, why not)."""
    prowler = PROWLER_VENV / "bin" / "prowler"
    if not prowler.exists():
        log(f"installing Prowler into {PROWLER_VENV} (pip; takes a few minutes the first time)")
        setup = subprocess.run(
            f"python3 -m venv {PROWLER_VENV} && {PROWLER_VENV}/bin/pip install -q prowler",
            shell=True,
            capture_output=True,
            text=True,
            timeout=1200,
            check=False,
        )
        if setup.returncode != 0 or not prowler.exists():
            errors = [line for line in setup.stderr.splitlines() if not line.startswith("WARNING: Location")]
            return None, "pip install prowler failed: " + "\n".join(errors[-15:])
    # Not `prowler --version`: that asks api.github.com for the latest release.
    version = subprocess.run(
        [
            str(PROWLER_VENV / "bin" / "python"),
            "-c",
            "import importlib.metadata as m; print(m.version('prowler'))",
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return prowler, f"prowler {version.stdout.strip()}"


def available_checks(prowler: Path, env: dict[str, str]) -> set[str]:
    listed = subprocess.run(
        [str(prowler), "aws", "--list-checks", "--no-banner"],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )
    return set(re.findall(r"\b([a-z0-9]+(?:_[a-z0-9]+)+)\b", listed.stdout))


def prowler_findings(output_dir: Path) -> Counter[str]:
    """Findings by check and status from Prowler's OCSF JSON output."""
    findings: Counter[str] = Counter()
    for path in output_dir.glob("*.ocsf.json"):
        for finding in json.loads(path.read_text() or "[]"):
            check = finding.get("metadata", {}).get("event_code", "?")
            findings[f"{check} {finding.get('status_code', '?')}"] += 1
    return findings


def prowler_command(prowler: Path, checks: list[str], output_dir: Path, *options: str) -> list[str]:
    """`prowler aws` on `checks` in both regions, OCSF JSON into `output_dir`; `options` e.g. `-R ARN`."""
    return [
        str(prowler), "aws", "--no-banner", "--ignore-exit-code-3",
        "-f", PRIMARY_REGION, SECONDARY_REGION,
        "--checks", *checks,
        "-M", "json-ocsf", "-o", str(output_dir), *options,
    ]  # fmt: skip
