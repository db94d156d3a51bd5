"""The README's first command: `mission-control demo` serves a verified sample estate, no AWS needed."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time

import httpx

from tests.conftest import free_port, sign_in


def test_demo_serves_the_dashboard_with_the_first_verification_and_prints_the_admin_password() -> None:
    port = free_port()
    env = {key: value for key, value in os.environ.items() if not key.startswith(("AWS_", "MC_"))}
    process = subprocess.Popen(
        [sys.executable, "-m", "mission_control", "demo", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        output = ""
        deadline = time.monotonic() + 90
        while "Uvicorn running" not in output and time.monotonic() < deadline:
            line = process.stderr.readline()
            if not line and process.poll() is not None:
                break
            output += line
        assert "Uvicorn running" in output, output
        assert "First verification: 7 verified, 6 failing, 0 error, 7 manual." in output
        password = re.search(r"Sign in as admin / (\S+)", output).group(1)
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=10) as browser:
            sign_in(browser, "admin", password)
            page = browser.get("/").text
        counter = re.search(r'data-counter="completed">(\d+)</span> / <span data-counter="total">(\d+)', page)
        assert counter.groups() == ("7", "20")
        assert "✖ Failing — " in page and "Verify now" in page
    finally:
        process.terminate()
        process.wait(timeout=20)
        process.stderr.close()
