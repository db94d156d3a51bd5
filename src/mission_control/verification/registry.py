"""The probe registry: a dict filled by a decorator, so adding a probe is adding one function.

A probe is a pure function of the environment's configuration and the snapshots of the collectors
it names; it never calls AWS itself. It declares the IAM actions its collectors need on its behalf,
and `mission-control iam-policy` is the union of those declarations.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from mission_control.verification.results import ProbeResult

ProbeFunction = Callable[..., ProbeResult]


@dataclass(frozen=True)
class Probe:
    item_id: str
    actions: tuple[str, ...]
    collectors: tuple[str, ...]
    evaluate: ProbeFunction


PROBES: dict[str, Probe] = {}


def probe(item_id: str, *, collectors: tuple[str, ...], actions: tuple[str, ...]) -> Callable[[ProbeFunction], ProbeFunction]:
    """Register `evaluate(config, **snapshots)` as the probe proving catalog item `item_id`."""

    def register(evaluate: ProbeFunction) -> ProbeFunction:
        if item_id in PROBES:
            raise ValueError(f"probe for {item_id} registered twice")
        PROBES[item_id] = Probe(item_id, tuple(actions), tuple(collectors), evaluate)
        return evaluate

    return register
