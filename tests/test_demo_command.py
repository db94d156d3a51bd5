"""The README's first command: `mission-control demo` serves a verified sample estate, no AWS needed,
and `mission-control status --demo` reads the progress it keeps."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import httpx
from bench.screenshot import DemoProcess

from mission_control.catalog import load_default_catalog
from mission_control.db.database import Database
from mission_control.demo.workspace import DemoWorkspace
from mission_control.web.app import prepare_database
from tests.conftest import change_item, sign_in


def test_demo_serves_the_dashboard_with_the_first_verification_and_prints_the_admin_password(
    tmp_path: Path,
) -> None:
    demo = DemoProcess(tmp_path)
    demo.start()
    try:
        assert "Verification: 7 verified, 6 failing, 0 error, 7 manual." in demo.output
        with httpx.Client(base_url=demo.url, timeout=10) as browser:
            sign_in(browser, "admin", demo.password)
            page = browser.get("/").text
            report = browser.get("/environments/production/report.md")
        counter = re.search(r'data-counter="completed">(\d+)</span> / <span data-counter="total">(\d+)', page)
        assert counter.groups() == ("7", "20")
        assert "✖ Failing — " in page and "Verify now" in page
        assert report.headers["content-type"] == "text/markdown; charset=utf-8"
        assert "**7 / 20 complete**" in report.text
    finally:
        demo.stop()
    assert sorted(path.name for path in tmp_path.iterdir()) == [
        "admin-password",
        "demo.db",
        "mission-control.toml",
    ]
    assert (tmp_path / "admin-password").stat().st_mode & 0o077 == 0  # the owner's alone


def test_status_demo_reads_the_demos_database_in_the_user_data_dir(tmp_path: Path) -> None:
    environment = {key: value for key, value in os.environ.items() if not key.startswith(("AWS_", "MC_"))}
    environment["XDG_DATA_HOME"] = str(tmp_path)
    workspace = DemoWorkspace(tmp_path / "mission-control" / "demo")
    workspace.root.mkdir(parents=True)
    database, catalog = Database(workspace.database_url), load_default_catalog()
    prepare_database(database, catalog)
    change_item(database, catalog, "dns.health-checks", checked=True)
    database.dispose()

    result = subprocess.run(
        [sys.executable, "-m", "mission_control", "status", "--demo"],
        env=environment, capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip

    assert result.returncode == 0, result.stderr
    assert re.search(r"DNS — Route53 +│ +1/4", result.stdout), result.stdout
    assert re.search(r"Overall +│ +1/20", result.stdout)
