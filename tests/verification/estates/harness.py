"""The estate corpus: each case is one edit to a ready estate, judged end to end by `mission-control verify`.

A case seeds its baseline on the module's moto HTTP server (reset first, so cases share nothing),
applies its one edit through the ordinary AWS APIs, writes the configuration and runs the real CLI
with `--format json`. Add cases in a `test_*_cases.py` module of this package:

    CASES = [Case("latency-ttl-300", "dns.failover-ttl", "failing", "Route53 answers with the record's TTL",
                  edit=lambda estate: ...)]

    @pytest.mark.parametrize("case", CASES, ids=case_id)
    def test_case(corpus: Corpus, case: Case) -> None:
        corpus.check(case)
"""

from __future__ import annotations

import json
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import boto3
from typer.testing import CliRunner

from mission_control.cli import app
from mission_control.demo.estate import demo_config_toml
from mission_control.demo.server import MotoServer
from mission_control.verification.config import EnvironmentConfig

PRIMARY = "us-east-1"
SECONDARY = "ap-southeast-1"
VERDICTS = ("verified", "failing", "error", "manual")  # manual: only a reviewed attestation can decide


class Estate:
    """One case's AWS account on the corpus server: boto3 clients, its configuration and seeded ids."""

    def __init__(self, clients: Clients, config: EnvironmentConfig) -> None:
        self.client = clients
        self.config = config  # an edit may replace it, e.g. dataclasses.replace(estate.config, ...)
        self.ids: dict[str, str] = {}  # what the baseline created, by role, e.g. "zone", "plan"


class Clients:
    """boto3 clients for the corpus server, kept for the whole module: building one costs ~0.1 s."""

    def __init__(self, endpoint_url: str) -> None:
        self.endpoint_url = endpoint_url
        self._session = boto3.Session(
            aws_access_key_id="testing", aws_secret_access_key="testing", region_name=PRIMARY
        )
        self._clients: dict[tuple[str, str], Any] = {}

    def __call__(self, service: str, region: str = PRIMARY) -> Any:
        if (service, region) not in self._clients:
            self._clients[service, region] = self._session.client(
                service, region_name=region, endpoint_url=self.endpoint_url
            )
        return self._clients[service, region]


Seed = Callable[[Estate], None]
Edit = Callable[[Estate], None]


@dataclass(frozen=True)
class Case:
    """One estate edit and the verdict AWS's documented behaviour decides for `item`.

    `because` is one line citing that behaviour; `summary`, when given, must appear in the item's summary.
    `baseline` seeds the ready estate the edit starts from (the DNS, DynamoDB and Backup one by default).
    """

    name: str
    item: str
    expected: str
    because: str
    edit: Edit
    summary: str | None = None
    baseline: Seed | None = field(default=None, compare=False)

    def __post_init__(self) -> None:
        if self.expected not in VERDICTS:
            raise ValueError(f"case {self.name}: expected must be one of {VERDICTS}, not {self.expected!r}")
        if not self.because.strip():
            raise ValueError(f"case {self.name}: cite the AWS behaviour that decides it in `because`")


def case_id(case: Case) -> str:
    return case.name


def unchanged(estate: Estate) -> None:
    """The edit of a case proving its baseline verifies."""


class Corpus:
    """The module's moto server and a database for the CLI's stored runs."""

    def __init__(self, server: MotoServer, workdir: Path, default_baseline: Seed) -> None:
        self.server = server
        self.workdir = workdir
        self.default_baseline = default_baseline
        self._runner = CliRunner()
        self._clients = Clients(server.endpoint_url)

    def run(self, case: Case) -> dict[str, Any]:
        """Seed, edit, verify through the CLI; return the case item's entry of the JSON report."""
        self._reset()
        estate = Estate(self._clients, _EMPTY_CONFIG)
        (case.baseline or self.default_baseline)(estate)
        case.edit(estate)
        config_path = self.workdir / f"{case.name}.toml"
        config_path.write_text(demo_config_toml(estate.config), encoding="utf-8")
        environment = {
            "AWS_ENDPOINT_URL": self.server.endpoint_url,
            "MC_DATABASE_URL": f"sqlite:///{self.workdir / 'corpus.db'}",
        }
        arguments = ["verify", "--config", str(config_path), "--env", estate.config.name, "--format", "json"]
        result = self._runner.invoke(app, arguments, env=environment)
        assert result.exit_code in (0, 1), f"verify exited {result.exit_code}: {result.stderr}"
        items = {item["id"]: item for item in json.loads(result.stdout)["items"]}
        return items[case.item]

    def check(self, case: Case) -> None:
        item = self.run(case)
        verdict = (item["status"], item["summary"])
        assert item["status"] == case.expected, f"{case.because}\ngot {verdict}\nfacts {item['facts']}"
        if case.summary is not None:
            assert case.summary in item["summary"], f"{case.because}\ngot {verdict}"

    def _reset(self) -> None:
        request = urllib.request.Request(f"{self.server.endpoint_url}/moto-api/reset", method="POST")
        with urllib.request.urlopen(request, timeout=10):
            pass


_EMPTY_CONFIG = EnvironmentConfig(name="production", primary_region=PRIMARY, secondary_region=SECONDARY)
