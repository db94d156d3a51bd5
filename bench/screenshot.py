"""Regenerate docs/screenshot.png: `mission-control demo` started as a user would, signed in through its
form in headless Chromium, the first screen captured at 1280×800 (and, with --phone, at 390 px).

    python bench/screenshot.py [--output docs/screenshot.png] [--phone docs/screenshot-phone.png]

tests/web/test_demo_browser.py takes the same path, so a page that breaks fails CI before it reaches
the README.
"""

from __future__ import annotations

import argparse
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from playwright.sync_api import Browser, Page, expect, sync_playwright

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}
START_SECONDS = 120  # seeding the estate and the first verification, on a loaded machine


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@dataclass
class DemoProcess:
    """`mission-control demo` running on `port` with its data in `data_dir`, as a user starts it."""

    data_dir: Path
    port: int = field(default_factory=free_port)
    output: str = ""
    process: subprocess.Popen[str] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def password(self) -> str:
        found = re.search(r"Sign in as admin / (\S+)", self.output)
        if found is None:
            raise RuntimeError(f"the demo printed no password:\n{self.output}")
        return found.group(1)

    def start(self, *extra: str) -> None:
        environment = {key: value for key, value in os.environ.items() if not key.startswith(("AWS_", "MC_"))}
        self.process = subprocess.Popen(
            [sys.executable, "-m", "mission_control", "demo", "--port", str(self.port),
             "--data-dir", str(self.data_dir), *extra],
            env=environment, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
        )  # fmt: skip
        self.output = ""
        deadline = time.monotonic() + START_SECONDS
        while "Uvicorn running" not in self.output and time.monotonic() < deadline:
            line = self.process.stderr.readline() if self.process.stderr else ""
            if not line and self.process.poll() is not None:
                raise RuntimeError(f"the demo exited:\n{self.output}")
            self.output += line
        if "Uvicorn running" not in self.output:
            raise RuntimeError(f"the demo did not start within {START_SECONDS} s:\n{self.output}")

    def stop(self) -> float:
        """Ctrl-C, as a user stops it; returns the seconds it took to exit (the rest of its output is kept)."""
        if self.process is None:
            return 0.0
        started = time.monotonic()
        self.process.send_signal(signal.SIGINT)
        try:
            _, rest = self.process.communicate(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()
            _, rest = self.process.communicate()
        self.output += rest or ""
        self.process = None
        return time.monotonic() - started


def launch(playwright_browser_type: object) -> Browser:
    return playwright_browser_type.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)  # type: ignore[attr-defined]


def signed_in_page(browser: Browser, demo: DemoProcess, viewport: dict[str, int]) -> Page:
    """A new page signed in as the demo's admin through the login form, on the live dashboard."""
    page = browser.new_context(base_url=demo.url, viewport=viewport).new_page()
    page.goto("/")
    page.get_by_label("User").fill("admin")
    page.get_by_label("Password").fill(demo.password)
    page.get_by_role("button", name="Sign in").click()
    expect(page.locator("#live-status")).to_contain_text("Live:")
    expect(page.locator(".attention")).to_be_visible()
    return page


def capture(page: Page, path: Path) -> None:
    """The first screen only: the part a lead reads within seconds."""
    path.parent.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(path))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--output", type=Path, default=Path("docs/screenshot.png"))
    parser.add_argument("--phone", type=Path, help="also capture the first screen at 390 px here")
    arguments = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="mission-control-screenshot-") as data_dir:
        demo = DemoProcess(Path(data_dir))
        demo.start()
        try:
            with sync_playwright() as playwright:
                browser = launch(playwright.chromium)
                capture(signed_in_page(browser, demo, DESKTOP), arguments.output)
                if arguments.phone:
                    capture(signed_in_page(browser, demo, PHONE), arguments.phone)
                browser.close()
        finally:
            demo.stop()
    print(f"wrote {arguments.output}" + (f" and {arguments.phone}" if arguments.phone else ""))


if __name__ == "__main__":
    main()
