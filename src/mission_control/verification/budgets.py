"""Per-account API budgets: token buckets keyed by (account, API family), shared by every thread.

AWS throttles some APIs per account, shared with everything else calling that account: Route53 allows
10 requests/s sustained with a burst of 50 (GetHealthCheckStatus is counted on its own), Cognito
user-pool reads 15/s. A run paces those families below the limit; everything else relies on botocore's
adaptive retry. Every HTTP request (retries included) passes `before-send`, so that is where a request
takes its token and is logged.

A bucket holding `capacity` tokens, refilled at `rate` a second, lets at most `capacity + rate * T`
requests through in any T seconds. The token is taken, and the send time logged, under the bucket's
lock at the moment the request is released, so the log obeys that bound exactly, however late the
threads that waited for a token are scheduled.
"""

from __future__ import annotations

import threading
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Bucket:
    """A family's budget: `rate` tokens a second, at most `capacity` saved up."""

    rate: float
    capacity: float = 1.0


@dataclass(frozen=True)
class Rates:
    """The budget per account of each paced API family.

    Route53 gets half of AWS's 10/s sustained, and a burst of 5: even after an idle spell its busiest
    second stays under 10, far inside AWS's burst of 50, leaving room for everything else calling Route53
    in the account. Where AWS documents no burst (health check status, Cognito) a bucket holds one token:
    requests are spaced evenly, never more than `rate` in any second.
    """

    route53: float = 5.0
    route53_burst: float = 5.0
    route53_health_check_status: float = 1.0
    cognito_user_pools: float = 15.0

    def for_family(self, family: str) -> Bucket | None:
        return {
            "route53": Bucket(self.route53, self.route53_burst),
            "route53:GetHealthCheckStatus": Bucket(self.route53_health_check_status),
            "cognito-idp": Bucket(self.cognito_user_pools),
        }.get(family)


def family_of(service: str, operation: str) -> str:
    """The API family a call counts against: its service, or the operation when AWS limits it alone."""
    if service == "route53" and operation == "GetHealthCheckStatus":
        return "route53:GetHealthCheckStatus"
    return service


class _TokenBucket:
    """Starts full; a request waits until a whole token is there, then takes it."""

    def __init__(self, bucket: Bucket, clock: Callable[[], float], sleep: Callable[[float], None]) -> None:
        self._rate = bucket.rate
        self._capacity = bucket.capacity
        self._tokens = bucket.capacity
        self._clock = clock
        self._sleep = sleep
        self._updated = clock()
        self._lock = threading.Lock()

    def take(self) -> float:
        """Wait for a token and take it; returns the moment it was taken (the request's send time)."""
        while True:
            with self._lock:
                now = self._clock()
                self._tokens = min(self._capacity, self._tokens + (now - self._updated) * self._rate)
                self._updated = now
                if self._tokens >= 1.0:
                    self._tokens -= 1.0
                    return now
                wait = (1.0 - self._tokens) / self._rate
            self._sleep(wait)


class RequestLog:
    """Send times per (account, family): what one run, or one environment, asked of AWS."""

    def __init__(self) -> None:
        self._times: dict[tuple[str, str], list[float]] = defaultdict(list)
        self._lock = threading.Lock()

    def record(self, account: str, family: str, moment: float) -> None:
        with self._lock:
            self._times[(account, family)].append(moment)

    def times(self, account: str, family: str) -> list[float]:
        """The send times of `family` in `account`, in order."""
        with self._lock:
            return sorted(self._times.get((account, family), []))

    def observed(self) -> dict[str, dict[str, dict[str, float]]]:
        """Per account and family: requests sent and the most sent in any one-second window."""
        with self._lock:
            log = {key: sorted(times) for key, times in self._times.items()}
        rates: dict[str, dict[str, dict[str, float]]] = defaultdict(dict)
        for (account, family), times in sorted(log.items()):
            rates[account][family] = {"requests": len(times), "max_per_second": busiest_second(times)}
        return dict(rates)


class Budgets:
    """The buckets of one run (or one fleet run), shared by all its clients, and its request log."""

    def __init__(
        self,
        rates: Rates | None = None,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.rates = rates or Rates()
        self.log = RequestLog()
        self._clock = clock
        self._sleep = sleep
        self._buckets: dict[tuple[str, str], _TokenBucket] = {}
        self._lock = threading.Lock()

    def attach(self, client: Any, account: str, *, log: RequestLog | None = None) -> None:
        """Pace every request `client` sends to `account` (first in line, before any stub) and log it
        here and in `log` (the environment's own)."""
        service = client.meta.service_model.endpoint_prefix

        def before_send(event_name: str, **kwargs: Any) -> None:
            family = family_of(service, event_name.rsplit(".", 1)[-1])
            moment = self.pace(account, family)
            if log is not None:
                log.record(account, family, moment)

        client.meta.events.register_first("before-send", before_send)

    def pace(self, account: str, family: str) -> float:
        """Take a token of `family`'s budget in `account` (if it has one), log the request, return its
        send time."""
        key = (account, family)
        spec = self.rates.for_family(family)
        with self._lock:
            bucket = self._buckets.get(key)
            if bucket is None and spec is not None:
                bucket = self._buckets[key] = _TokenBucket(spec, self._clock, self._sleep)
        moment = bucket.take() if bucket is not None else self._clock()
        self.log.record(account, family, moment)
        return moment

    def observed(self) -> dict[str, dict[str, dict[str, float]]]:
        """Every account's requests of the run, per family (see `RequestLog.observed`)."""
        return self.log.observed()


def busiest_second(times: list[float]) -> int:
    """The most of the sorted `times` in any half-open window [t, t + 1s)."""
    busiest, start = 0, 0
    for end, moment in enumerate(times):
        while moment - times[start] >= 1.0:
            start += 1
        busiest = max(busiest, end - start + 1)
    return busiest
