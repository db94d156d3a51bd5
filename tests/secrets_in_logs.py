"""No secret reaches a log: every log record of the test run is kept, and the run fails at its end if
any holds a secret the tests planted (passwords, API tokens, the OIDC client secret).

Loaded by tests/conftest.py as a plugin, so the check covers whichever tests ran, in any order. Under
pytest-xdist each worker checks its own logs and hands what it found to the controller, which fails the
run: a worker's exit status alone would be lost.
"""

from __future__ import annotations

import logging

import pytest

PLANTED: set[str] = set()
_KEPT: list[str] = []


MIN_SECRET_LENGTH = 8  # shorter test values ("x", "wrong") would match ordinary words


def plant(secret: str) -> str:
    """Register a secret a test hands to the code; returns it, so a fixture can plant as it makes."""
    if len(secret) >= MIN_SECRET_LENGTH:
        PLANTED.add(secret)
    return secret


def keep(text: str) -> None:
    """Keep log text from outside this process (a server subprocess's stderr) for the final check."""
    _KEPT.append(text)


def leaks(texts: list[str], secrets: set[str]) -> list[tuple[str, str]]:
    """(secret, the log text holding it) for each planted secret found in the kept log text."""
    return [(secret, text) for text in texts for secret in secrets if secret in text]


class _Keeper(logging.Handler):
    def emit(self, record: logging.LogRecord) -> None:
        text = f"{record.name} {record.getMessage()}"
        if record.exc_info:
            text += "\n" + logging.Formatter().formatException(record.exc_info)
        _KEPT.append(text)


def pytest_configure(config: pytest.Config) -> None:
    logging.getLogger().addHandler(_Keeper(level=logging.DEBUG))
    logging.getLogger("mission_control").setLevel(logging.DEBUG)  # our own records at every level


_FROM_WORKERS: list[str] = []


def _reports(found: list[tuple[str, str]]) -> list[str]:
    """One line per leak, never the whole secret."""
    return [f"SECRET IN LOG: {secret[:4]}… in: {text[:300]}" for secret, text in found]


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node: object, error: object) -> None:
    """xdist's controller: collect the leaks a finished worker found."""
    _FROM_WORKERS.extend(getattr(node, "workeroutput", {}).get("secrets_in_logs", []))


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    lines = _reports(leaks(_KEPT, PLANTED))
    workeroutput = getattr(session.config, "workeroutput", None)
    if workeroutput is not None:  # an xdist worker: the controller reports and fails the run
        workeroutput["secrets_in_logs"] = lines
        return
    lines += _FROM_WORKERS
    if not lines:
        return
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    for line in lines:
        if reporter is not None:
            reporter.write_line(line, red=True)
    session.exitstatus = pytest.ExitCode.TESTS_FAILED
