"""Single sign-on in headless Chromium, under the app's real Content-Security-Policy: the plain link
on the sign-in page leads through the provider and back to the dashboard, with no script needed."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, expect, sync_playwright

from tests.conftest import ServerProcess
from tests.identity.provider import LocalProvider
from tests.web.conftest import CHROMIUM, CHROMIUM_ARGS

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def chromium() -> Iterator[Browser]:
    if not CHROMIUM.exists():
        if os.environ.get("CI"):
            pytest.fail(f"the browser tests need Debian's chromium at {CHROMIUM} in CI")
        pytest.skip(f"no chromium at {CHROMIUM}: install Debian's chromium package to run the browser tests")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.mark.parametrize("javascript", [True, False], ids=["js", "no-js"])
def test_sign_in_with_sso_in_a_browser(
    chromium: Browser, provider: LocalProvider, sso_server: ServerProcess, javascript: bool
) -> None:
    provider.account["groups"] = ["sre"]
    context = chromium.new_context(java_script_enabled=javascript)
    try:
        page = context.new_page()
        page.goto(f"{sso_server.url}/login")
        page.get_by_role("link", name="Sign in with SSO").click()
        expect(page).to_have_url(f"{sso_server.url}/")
        expect(page.locator(".who")).to_contain_text("ada")
        expect(page.locator(".who")).to_contain_text("editor")
    finally:
        context.close()
