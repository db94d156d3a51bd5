"""What a drill records: a timeline of steps, measurements, and an outcome.

Drills write to AWS (scratch tables, disposable users), so the recorder also keeps the cleanup
actions and runs them however the drill ends: passed, failed, or interrupted with Ctrl-C.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

logger = logging.getLogger(__name__)


class Outcome(StrEnum):
    PASSED = "passed"
    FAILED = "failed"
    ABORTED = "aborted"


class DrillFailed(Exception):
    """A check inside a step did not hold; the message says what was expected and what was found."""


@dataclass
class Step:
    name: str
    started_at: datetime
    finished_at: datetime | None = None
    seconds: float | None = None
    ok: bool | None = None
    detail: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "started_at": self.started_at.isoformat(),
            "finished_at": self.finished_at.isoformat() if self.finished_at else None,
            "seconds": self.seconds,
            "ok": self.ok,
            "detail": self.detail,
        }


@dataclass
class DrillRecord:
    drill: str
    environment: str
    item_id: str
    started_at: datetime
    finished_at: datetime | None = None
    outcome: Outcome | None = None
    steps: list[Step] = field(default_factory=list)
    measurements: dict[str, Any] = field(default_factory=dict)
    error: str | None = None  # what failed the drill outside any step (inside one, the step says)

    def to_dict(self) -> dict[str, Any]:
        """The JSON contract of `mission-control drill NAME --format json`."""
        return {
            "drill": self.drill,
            "environment": self.environment,
            "item_id": self.item_id,
            "outcome": self.outcome.value if self.outcome else None,
            "started_at": self.started_at.isoformat(),
            "finished_at": self.finished_at.isoformat() if self.finished_at else None,
            "steps": [step.to_dict() for step in self.steps],
            "measurements": self.measurements,
            "error": self.error,
        }


class DrillRecorder:
    """Times steps, keeps measurements and cleanups; `run` turns the drill's end into an outcome."""

    def __init__(
        self, drill: str, environment: str, item_id: str, *, clock: Callable[[], float] = time.monotonic
    ):
        self.record = DrillRecord(drill, environment, item_id, datetime.now(UTC))
        self._clock = clock
        self._cleanups: list[tuple[str, Callable[[], None]]] = []

    @contextmanager
    def step(self, name: str) -> Iterator[Step]:
        """Time one step; an exception inside marks it failed and propagates."""
        step = Step(name, datetime.now(UTC))
        self.record.steps.append(step)
        started = self._clock()
        try:
            yield step
        except BaseException as error:
            step.ok = False
            step.detail = step.detail or _describe(error)
            raise
        else:
            step.ok = True
        finally:
            step.seconds = round(self._clock() - started, 3)
            step.finished_at = datetime.now(UTC)

    def measure(self, name: str, value: Any) -> None:
        self.record.measurements[name] = value

    def on_cleanup(self, name: str, action: Callable[[], None]) -> None:
        """Register an undo action; cleanups run last-in first-out when the drill ends, whatever happens."""
        self._cleanups.append((name, action))

    def run(self, body: Callable[[DrillRecorder], None]) -> DrillRecord:
        """Run the drill body, then every cleanup; never raises for a failed check or an interrupt."""
        try:
            body(self)
            self.record.outcome = Outcome.PASSED
        except KeyboardInterrupt:
            self.record.outcome = Outcome.ABORTED
        except Exception as error:
            self.record.outcome = Outcome.FAILED
            if not isinstance(error, DrillFailed):  # a check that did not hold is no fault of the code
                logger.exception("drill %s in %s failed", self.record.drill, self.record.environment)
            if not any(step.ok is False for step in self.record.steps):
                self.record.error = _describe(error)
        finally:
            self._clean_up()
            self.record.finished_at = datetime.now(UTC)
        return self.record

    def _clean_up(self) -> None:
        while self._cleanups:
            name, action = self._cleanups.pop()
            with self._cleanup_step(f"clean up: {name}"):
                action()

    @contextmanager
    def _cleanup_step(self, name: str) -> Iterator[None]:
        """A cleanup that fails is recorded and the drill fails, but the remaining cleanups still run."""
        try:
            with self.step(name):
                yield
        except Exception:
            logger.exception("drill %s in %s: %s failed", self.record.drill, self.record.environment, name)
            self.record.outcome = Outcome.FAILED


def _describe(error: BaseException) -> str:
    if isinstance(error, KeyboardInterrupt):
        return "interrupted"
    return str(error) if isinstance(error, DrillFailed) else f"{type(error).__name__}: {error}"
