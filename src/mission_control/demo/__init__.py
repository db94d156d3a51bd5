"""The built-in demo: an embedded moto server seeded with a half-ready spaceduck estate.

moto is the optional `demo` extra, so a production install (`pip install mission-control`) lacks it.
"""

from __future__ import annotations

import importlib.util

from mission_control.errors import MissionControlError


class DemoUnavailable(MissionControlError):
    pass


def require_moto() -> None:
    """DemoUnavailable, saying how to install it, when this install has no moto."""
    if importlib.util.find_spec("moto") is None:
        raise DemoUnavailable(
            "the demo runs an embedded moto server, which this install lacks: "
            "pip install 'mission-control[demo]' (`make run` does)"
        )
