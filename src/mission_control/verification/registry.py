"""The probe and collector registries: dicts filled by decorators.

Adding a checklist item's proof is adding one probe function (and, for a new AWS service, one
collector). A probe is a pure function of the environment's configuration and the snapshots of the
collectors it names; it never calls AWS itself. It declares the IAM actions its collectors perform on
its behalf, and `mission-control iam-policy` is the union of those declarations; it declares the
configuration keys it depends on, which findings (SARIF) point at, and what to change when it fails
(SARIF's rule help).
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from typing import Any

from mission_control.verification.results import ProbeResult

ProbeFunction = Callable[..., ProbeResult]
CollectorFunction = Callable[..., Any]


@dataclass(frozen=True)
class Probe:
    item_id: str
    actions: tuple[str, ...]
    collectors: tuple[str, ...]
    config_keys: tuple[str, ...]  # of EnvironmentConfig, the first the one an operator most likely fixes
    evaluate: ProbeFunction
    fix: str  # what to change in AWS (or record) when the probe fails, in one or two sentences


PROBES: dict[str, Probe] = {}
COLLECTORS: dict[str, CollectorFunction] = {}


def probe(
    item_id: str,
    *,
    config_keys: tuple[str, ...],
    collectors: tuple[str, ...],
    actions: tuple[str, ...],
    fix: str,
) -> Callable[[ProbeFunction], ProbeFunction]:
    """Register `evaluate(config, **snapshots)` as the probe proving catalog item `item_id`."""

    def register(evaluate: ProbeFunction) -> ProbeFunction:
        if item_id in PROBES:
            raise ValueError(f"probe for {item_id} registered twice")
        PROBES[item_id] = Probe(item_id, tuple(actions), tuple(collectors), tuple(config_keys), evaluate, fix)
        return evaluate

    return register


def collector(name: str) -> Callable[[CollectorFunction], CollectorFunction]:
    """Register `collect(config, clients) -> snapshot` under `name`, which probes cite."""

    def register(collect: CollectorFunction) -> CollectorFunction:
        if name in COLLECTORS:
            raise ValueError(f"collector {name} registered twice")
        COLLECTORS[name] = collect
        return collect

    return register


@cache
def load_all() -> None:
    """Import every collector and probe module so their decorators run; once per process
    (listing the package's directory on every dashboard request cost 4 % of the request)."""
    from mission_control.verification import collectors, probes

    for package in (collectors, probes):
        for module in pkgutil.iter_modules(package.__path__):
            importlib.import_module(f"{package.__name__}.{module.name}")
