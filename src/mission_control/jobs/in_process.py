"""The runner of the embedded (SQLite) deployment: jobs, deliveries and the schedule tick in threads
of the server's own process.

Jobs of one environment run one at a time: a job claims its run only while no other job of its
environment runs, which SQLite decides atomically (its writers take turns), also across
`serve --workers` processes. A beat marks this process's jobs alive; a job whose process stopped
beating is failed as abandoned by whichever process ticks next.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

from mission_control.jobs import runner as runners
from mission_control.jobs import schedules, service
from mission_control.jobs.execution import JobContext, run_job

logger = logging.getLogger(__name__)

JOB_THREADS = 4
WAIT_SECONDS = 0.5  # between tries of a job waiting for its environment's running job
BEAT_SECONDS = 10.0
ABANDONED_AFTER = timedelta(seconds=6 * BEAT_SECONDS)


class InProcessRunner:
    def __init__(self, context: JobContext, *, tick_seconds: float = 15.0, schedule: bool = True) -> None:
        self.context = context
        self._tick_seconds = tick_seconds
        self._schedule = schedule
        self._jobs = ThreadPoolExecutor(JOB_THREADS, thread_name_prefix="job")
        self._deliveries = ThreadPoolExecutor(2, thread_name_prefix="delivery")
        self._held: set[int] = set()  # this process's queued and running jobs, kept alive by the beat
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._threads: list[threading.Thread] = []

    def start(self) -> None:
        loops: list[tuple[str, float, Callable[[], None]]] = [("job-beat", BEAT_SECONDS, self._beat)]
        if self._schedule:
            loops.append(("schedule-tick", self._tick_seconds, self.tick))
        for name, seconds, body in loops:
            thread = threading.Thread(target=self._every, args=(seconds, body), name=name, daemon=True)
            self._threads.append(thread)
            thread.start()

    def stop(self) -> None:
        self._stopping.set()
        self._jobs.shutdown(wait=False, cancel_futures=True)
        self._deliveries.shutdown(wait=False, cancel_futures=True)
        for thread in self._threads:
            thread.join(timeout=2)

    def submit(self, job_run_id: int) -> None:
        with self._lock:
            self._held.add(job_run_id)
        self._jobs.submit(self._run, job_run_id)

    def deliver(self, delivery_ids: Iterable[int]) -> None:
        ids = list(delivery_ids)
        if ids and not self._stopping.is_set():
            self._deliveries.submit(runners.send_deliveries, self.context, ids)

    def problem(self) -> str | None:
        return None

    def tick(self) -> None:
        """Fail what stopped processes left behind, then fire what is due."""
        now = self.context.clock()
        with self.context.database.transaction() as session:
            abandoned = service.fail_abandoned(
                session=session, older_than=ABANDONED_AFTER, now=now,
                reason="abandoned: the server process running it stopped",
            )  # fmt: skip
        if abandoned:
            logger.warning("failed %d job(s) whose server process stopped: %s", len(abandoned), abandoned)
        schedules.tick(self, now)

    def wait_idle(self, timeout: float) -> bool:
        """True once this process holds no job, within `timeout` seconds (tests and shutdown)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self._lock:
                if not self._held:
                    return True
            self._stopping.wait(0.05)
        return False

    def _run(self, job_run_id: int) -> None:
        try:
            while not self._stopping.is_set():
                try:
                    if run_job(self.context, job_run_id, exclusive=True, deliver=self.deliver):
                        return
                except Exception:  # the database itself failed: log it and try again shortly
                    logger.exception("job run %d could not be claimed or ended; retrying", job_run_id)
                self._stopping.wait(WAIT_SECONDS)
        finally:
            with self._lock:
                self._held.discard(job_run_id)

    def _beat(self) -> None:
        with self._lock:
            held = list(self._held)
        if held:
            with self.context.database.transaction() as session:
                service.beat(session=session, job_run_ids=held, now=self.context.clock())

    def _every(self, seconds: float, body: Callable[[], None]) -> None:
        while not self._stopping.wait(seconds):
            try:
                body()
            except Exception:  # a database hiccup must not end the loop; the next round retries
                logger.exception(
                    "background %s failed; retrying in %s s", threading.current_thread().name, seconds
                )
