"""The drill registry: a dict filled by a decorator, like the probes'.

Each drill names the catalog item it proves, whether it writes to AWS (then it runs only with
--allow-writes), and the IAM actions it needs (`mission-control iam-policy --drills`).
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable
from dataclasses import dataclass

DrillBody = Callable[..., None]


@dataclass(frozen=True)
class Drill:
    name: str
    item_id: str
    writes: bool
    actions: tuple[str, ...]
    body: DrillBody  # body(recorder, config, clients)
    guided: bool = False  # asks an operator at a terminal: the CLI only, never a background job


DRILLS: dict[str, Drill] = {}


def drill(
    name: str, *, item_id: str, writes: bool, actions: tuple[str, ...] = (), guided: bool = False
) -> Callable[[DrillBody], DrillBody]:
    def register(body: DrillBody) -> DrillBody:
        if name in DRILLS:
            raise ValueError(f"drill {name} registered twice")
        DRILLS[name] = Drill(name, item_id, writes, tuple(actions), body, guided)
        return body

    return register


def load_all() -> None:
    """Import every drill module so their decorators run."""
    from mission_control.evidence import drills

    for module in pkgutil.iter_modules(drills.__path__):
        if module.name not in {"record", "registry"}:
            importlib.import_module(f"{drills.__name__}.{module.name}")
