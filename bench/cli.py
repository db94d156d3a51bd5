"""How long `mission-control --help` takes: hyperfine when installed, else a loop of runs; median reported.

CPU time (user + system, from wait4) is reported too: on a shared machine it moves less than wall time.

    .venv/bin/python bench/cli.py [--runs 30]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

COMMAND = [str(Path(sys.executable).with_name("mission-control")), "--help"]


def loop(runs: int) -> dict[str, float | int]:
    """Median wall and CPU time of `runs` runs after two warm-up runs (page cache, .pyc files)."""
    walls, cpus = [], []
    for run in range(runs + 2):
        started = time.perf_counter()
        process = subprocess.Popen(COMMAND, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        _, status, usage = os.wait4(process.pid, 0)
        process.returncode = os.waitstatus_to_exitcode(status)
        if process.returncode != 0:
            raise SystemExit(f"{' '.join(COMMAND)} exited with {process.returncode}")
        if run >= 2:
            walls.append(time.perf_counter() - started)
            cpus.append(usage.ru_utime + usage.ru_stime)
    return {
        "runs": runs,
        "median_wall_seconds": round(statistics.median(walls), 3),
        "min_wall_seconds": round(min(walls), 3),
        "max_wall_seconds": round(max(walls), 3),
        "median_cpu_seconds": round(statistics.median(cpus), 3),
    }


def hyperfine(runs: int) -> dict[str, float | int | str] | None:
    executable = shutil.which("hyperfine")
    if executable is None:
        return None
    with tempfile.NamedTemporaryFile(suffix=".json") as export:
        subprocess.run(
            [
                executable,
                "--warmup",
                "3",
                "--runs",
                str(runs),
                "--export-json",
                export.name,
                " ".join(COMMAND),
            ],
            check=True,
            stdout=subprocess.DEVNULL,
        )
        result = json.loads(Path(export.name).read_text())["results"][0]
    return {
        "runs": runs,
        "median_wall_seconds": round(result["median"], 3),
        "mean_wall_seconds": round(result["mean"], 3),
        "stddev_seconds": round(result["stddev"], 3),
        "min_wall_seconds": round(result["min"], 3),
        "max_wall_seconds": round(result["max"], 3),
        "user_seconds": round(result["user"], 3),
        "system_seconds": round(result["system"], 3),
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--runs", type=int, default=30)
    args = parser.parse_args()
    results = {
        "command": " ".join(COMMAND),
        "loadavg_1min_before": os.getloadavg()[0],
        "hyperfine": hyperfine(args.runs) or "not installed",
        "loop": loop(args.runs),
        "loadavg_1min_after": os.getloadavg()[0],
    }
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
