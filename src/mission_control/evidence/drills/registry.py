"""The drill registry: a dict filled by a decorator, like the probes'.

Each drill names the catalog item it proves, whether it writes to AWS (then it runs only with
--allow-writes), the IAM actions it needs (`mission-control iam-policy --drills`), and the resources
its writes are confined to (`mission-control drill policy` names them for one environment).
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from mission_control.verification.aws import AwsClients
    from mission_control.verification.config import EnvironmentConfig

DrillBody = Callable[..., None]
Resources = Callable[["EnvironmentConfig", "AwsClients"], tuple[str, ...]]


@dataclass(frozen=True)
class Scope:
    """Actions a drill performs only on some resources.

    `pattern` is the narrowest set of ARN patterns AWS's resource type allows without knowing the
    environment: the scratch resources' name prefix where they have a name, else the resource type.
    `resources(config, clients)` names the resources for one environment (reading AWS where only
    existing resources' ARNs will do); none means the drill cannot run there, so nothing is granted."""

    actions: tuple[str, ...]
    pattern: tuple[str, ...]
    resources: Resources


@dataclass(frozen=True)
class Drill:
    name: str
    item_id: str
    writes: bool
    actions: tuple[str, ...]
    body: DrillBody  # body(recorder, config, clients)
    guided: bool = False  # asks an operator at a terminal: the CLI only, never a background job
    scopes: tuple[Scope, ...] = ()


DRILLS: dict[str, Drill] = {}


def drill(
    name: str,
    *,
    item_id: str,
    writes: bool,
    actions: tuple[str, ...] = (),
    guided: bool = False,
    scopes: tuple[Scope, ...] = (),
) -> Callable[[DrillBody], DrillBody]:
    """Register a drill; each of `scopes` confines some of its `actions` to the resources it names, so
    the drills' IAM policy allows those actions there and nowhere else."""

    def register(body: DrillBody) -> DrillBody:
        if name in DRILLS:
            raise ValueError(f"drill {name} registered twice")
        if any(not set(scope.actions) <= set(actions) for scope in scopes):
            raise ValueError(f"drill {name}: scoped actions must be among its declared actions")
        DRILLS[name] = Drill(name, item_id, writes, tuple(actions), body, guided, scopes)
        return body

    return register


@cache
def load_all() -> None:
    """Import every drill module so their decorators run; once per process
    (listing the package's directory on every dashboard request cost 4 % of the request)."""
    from mission_control.evidence import drills

    for module in pkgutil.iter_modules(drills.__path__):
        if module.name not in {"record", "registry"}:
            importlib.import_module(f"{drills.__name__}.{module.name}")
