"""Background work for the web app ("Verify now", drills): one thread per key at a time, with progress.

Runs are recorded in the database by the work itself, so a finished job is visible to every replica;
the progress counters are this process's only, and are published live as they move.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

from mission_control.progress.service import ProgressError

Advance = Callable[[], dict[str, int]]


class NotConfigured(ProgressError):
    pass


class AlreadyRunning(ProgressError):
    pass


class BackgroundJobs:
    def __init__(self) -> None:
        self._progress: dict[str, dict[str, int]] = {}
        self._threads: dict[str, threading.Thread] = {}
        self._lock = threading.Lock()

    def progress(self, key: str) -> dict[str, int] | None:
        """{"done", "total"} while the key's job runs, else None."""
        with self._lock:
            progress = self._progress.get(key)
            return dict(progress) if progress else None

    def start(self, key: str, work: Callable[[Advance], None], *, total: int, busy: str) -> None:
        """Run `work(advance)` in a thread; `advance()` counts one step and returns the progress.

        AlreadyRunning(busy) if the key's previous job has not finished.
        """
        with self._lock:
            if key in self._progress:
                raise AlreadyRunning(busy)
            self._progress[key] = {"done": 0, "total": total}
            thread = threading.Thread(target=self._run, args=(key, work), name=f"job-{key}", daemon=True)
            self._threads[key] = thread
        thread.start()

    def wait(self, key: str, timeout: float) -> bool:
        """Block until the key's current job ends; True if it did within `timeout`."""
        thread = self._threads.get(key)
        if thread is None:
            return True
        thread.join(timeout)
        return not thread.is_alive()

    def _advance(self, key: str) -> dict[str, int]:
        with self._lock:
            progress = self._progress[key]
            progress["done"] += 1
            return dict(progress)

    def _run(self, key: str, work: Callable[[Advance], None]) -> None:
        try:
            work(lambda: self._advance(key))
        except Exception:  # the work records its own failure; a job must never kill the server
            pass
        finally:
            with self._lock:
                self._progress.pop(key, None)
