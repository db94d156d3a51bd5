"""One moto HTTP server per corpus module; each case resets it and seeds its own estate."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from mission_control.demo.server import start_moto_server
from tests.verification.estates.harness import Corpus
from tests.verification.estates.ready import seed_ready
from tests.verification.isolation import isolated_from_real_aws


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Corpus]:
    with isolated_from_real_aws(), start_moto_server() as server:
        yield Corpus(server, tmp_path_factory.mktemp("corpus"), seed_ready)
