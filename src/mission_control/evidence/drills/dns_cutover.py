"""Drill dns-cutover: the DNS failover game day of the runbook, measured.

It inverts the primary region's health check on `api_domain`, so Route53 treats that region as
unhealthy, polls Route53's TestDNSAnswer until the answer has shifted, then restores the health check
and polls until the answer is back. "Shifted" means the answer Route53 gives its test resolver (in
us-east-1 unless AWS says otherwise) differs from the one before the cutover and, for a record with
values (not an alias), is exactly the secondary region's. The measured RTO is the time to shift plus
the primary record's TTL, the longest a resolver may keep serving the old answer.

The restore is registered as a cleanup before the inversion is sent, so a failure or Ctrl-C at any
point still puts the health check back.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from mission_control.evidence.drills.record import DrillFailed, DrillRecorder
from mission_control.evidence.drills.registry import Scope, drill
from mission_control.evidence.errors import EvidenceError
from mission_control.evidence.runbooks import RegionRoute, region_routes
from mission_control.verification.aws import AwsClients, AwsError, call
from mission_control.verification.collectors.route53 import ROUTE53_REGION, collect_route53, normalise_name
from mission_control.verification.config import EnvironmentConfig

POLL_SECONDS = 2.0
ALIAS_TTL_SECONDS = 60  # an alias answers with its target's TTL: 60 s for AWS load balancers

Answer = tuple[str, tuple[str, ...]]  # (ResponseCode, sorted normalised RecordData)


@drill(
    "dns-cutover",
    item_id="dns.failover-runbook",
    writes=True,
    actions=(
        "route53:ListHostedZonesByName",
        "route53:ListResourceRecordSets",
        "route53:ListHealthChecks",
        "route53:GetHealthCheckStatus",
        "route53:TestDNSAnswer",
        "route53:UpdateHealthCheck",
        "route53:GetHealthCheck",
    ),
    # A health check's ARN holds its id, not a name: for one environment, the primary's own check.
    scopes=(
        Scope(
            ("route53:UpdateHealthCheck",),
            pattern=("arn:aws:route53:::healthcheck/*",),
            resources=lambda config, clients: _inverted_checks(config, clients),
        ),
    ),
)
def dns_cutover(recorder: DrillRecorder, config: EnvironmentConfig, clients: AwsClients) -> None:
    route53 = clients.get("route53", ROUTE53_REGION)
    with recorder.step("find the primary region's health check"):
        snapshot = collect_route53(config, clients)
        try:
            routes, _ = region_routes(config, snapshot)
        except EvidenceError as error:
            raise DrillFailed(str(error)) from error
        primary, secondary = routes[config.primary_region], routes[config.secondary_region]
        check_id = _invertible_check(primary)
        _require_healthy(route53, secondary)
    zone_id = str(snapshot.zone["Id"]).split("/")[-1]  # type: ignore[index]
    domain, record_type = normalise_name(config.api_domain or ""), primary.record["Type"]

    def answer() -> Answer:
        return _test_dns_answer(route53, zone_id, domain, record_type)

    with recorder.step("check Route53's answer before the cutover"):
        before = _answer_before(answer(), primary, domain, record_type)

    restore = _restorer(route53, check_id)
    recorder.on_cleanup(f"restore health check {check_id} (Inverted=False)", restore)
    with recorder.step(f"invert the {primary.region} health check {check_id}"):
        _update_health_check(route53, check_id, inverted=True)

    with recorder.step(f"wait for the answer to shift to {secondary.region}"):
        wanted = _values(secondary.record)
        shift_seconds = _wait_for(
            answer,
            lambda values: bool(values) and values != before and (wanted is None or values == wanted),
            timeout=config.dns_cutover_timeout_seconds,
            waiting_for=f"{domain} to shift to {secondary.region}",
        )
        ttl = int(primary.record.get("TTL", ALIAS_TTL_SECONDS))
        rto = round(shift_seconds + ttl, 1)
        recorder.measure("time_to_shift_seconds", round(shift_seconds, 1))
        recorder.measure("rto_seconds", rto)

    with recorder.step(f"restore health check {check_id}"):
        restore()
    with recorder.step("verify the restoration"):
        settings = _route53_call(
            route53,
            "get_health_check",
            "route53:GetHealthCheck",
            f"health check {check_id}",
            HealthCheckId=check_id,
        )["HealthCheck"]["HealthCheckConfig"]
        if settings.get("Inverted"):
            raise DrillFailed(f"health check {check_id} is still inverted after the restore")
        restore_seconds = _wait_for(
            answer,
            lambda values: values == before,
            timeout=config.dns_cutover_timeout_seconds,
            waiting_for=f"{domain} to answer {', '.join(before)} again",
        )
        recorder.measure("time_to_restore_seconds", round(restore_seconds, 1))

    if config.rto_seconds is not None:
        with recorder.step("compare with rto_seconds"):
            if rto > config.rto_seconds:
                raise DrillFailed(
                    f"measured RTO {rto} s (time to shift {shift_seconds:.1f} s + TTL {ttl} s) "
                    f"is over rto_seconds = {config.rto_seconds}"
                )


def _inverted_checks(config: EnvironmentConfig, clients: AwsClients) -> tuple[str, ...]:
    """The health check the drill inverts (the primary region's, on `api_domain`), read from Route53;
    none when the environment has no DNS to cut over or that record has no health check."""
    if not (config.hosted_zone and config.api_domain):
        return ()
    try:
        routes, _ = region_routes(config, collect_route53(config, clients))
    except EvidenceError as error:
        raise EvidenceError(f"cannot name the health check drill dns-cutover inverts: {error}") from error
    check = routes[config.primary_region].health_check
    return (f"arn:aws:route53:::healthcheck/{check['Id']}",) if check else ()


def _invertible_check(primary: RegionRoute) -> str:
    if primary.health_check is None:
        raise DrillFailed(
            f"the {primary.region} record has no health check, so it cannot be failed over by marking it "
            "unhealthy: fix dns.health-checks first"
        )
    check_id = str(primary.health_check["Id"])
    if primary.health_check["HealthCheckConfig"].get("Inverted"):
        raise DrillFailed(
            f"the {primary.region} health check {check_id} is already inverted (a failover in progress, or an "
            "earlier drill not restored): restore it before the drill"
        )
    return check_id


def _require_healthy(route53: Any, secondary: RegionRoute) -> None:
    """Failing over to an unhealthy secondary shifts nothing: Route53 answers as if both were healthy."""
    check = secondary.health_check
    if check is None:
        return
    if check["HealthCheckConfig"].get("Inverted"):
        raise DrillFailed(f"the {secondary.region} health check {check['Id']} is inverted: restore it first")
    observations = _route53_call(
        route53,
        "get_health_check_status",
        "route53:GetHealthCheckStatus",
        f"health check {check['Id']}",
        HealthCheckId=check["Id"],
    )["HealthCheckObservations"]
    failing = [
        o["StatusReport"]["Status"]
        for o in observations
        if not o["StatusReport"]["Status"].startswith("Success")
    ]
    if failing:
        raise DrillFailed(
            f"the {secondary.region} health check {check['Id']} fails at {len(failing)} of {len(observations)} "
            f"checkers ({failing[0]}): fix the secondary region before failing over to it"
        )


def _answer_before(answer: Answer, primary: RegionRoute, domain: str, record_type: str) -> tuple[str, ...]:
    code, values = answer
    if not values:
        raise DrillFailed(f"Route53 gives no answer for {domain} {record_type} ({code})")
    expected = _values(primary.record)
    if expected is not None and values != expected:
        raise DrillFailed(
            f"before the cutover Route53 answers {', '.join(values)} for {domain}, not the {primary.region} "
            f"record's {', '.join(expected)}: its test resolver is not served by the primary region, so the "
            "shift cannot be observed"
        )
    return values


def _values(record: dict[str, Any]) -> tuple[str, ...] | None:
    """What Route53 answers for this record, or None for an alias (it answers with its target's addresses)."""
    if "AliasTarget" in record:
        return None
    return tuple(sorted(normalise_name(value["Value"]) for value in record.get("ResourceRecords", [])))


def _test_dns_answer(route53: Any, zone_id: str, domain: str, record_type: str) -> Answer:
    response = _route53_call(
        route53,
        "test_dns_answer",
        "route53:TestDNSAnswer",
        f"{domain} {record_type}",
        HostedZoneId=zone_id,
        RecordName=domain,
        RecordType=record_type,
    )
    values = () if response["ResponseCode"] != "NOERROR" else response.get("RecordData", [])
    return response["ResponseCode"], tuple(sorted(normalise_name(value) for value in values))


def _wait_for(
    answer: Callable[[], Answer], done: Callable[[tuple[str, ...]], bool], *, timeout: int, waiting_for: str
) -> float:
    """Poll `answer` until `done`; the seconds it took, or DrillFailed with the last answer at the deadline."""
    started = time.monotonic()
    deadline = started + timeout
    while True:
        code, values = answer()
        if done(values):
            return time.monotonic() - started
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise DrillFailed(
                f"waited {timeout} s (dns_cutover_timeout_seconds) for {waiting_for}: Route53 still answers "
                f"{', '.join(values) or code}"
            )
        time.sleep(min(POLL_SECONDS, remaining))


def _restorer(route53: Any, check_id: str) -> Callable[[], None]:
    """The restore, once: the drill's own restore step and the cleanup both call it."""
    restored = False

    def restore() -> None:
        nonlocal restored
        if not restored:
            _update_health_check(route53, check_id, inverted=False)
            restored = True

    return restore


def _update_health_check(route53: Any, check_id: str, *, inverted: bool) -> None:
    _route53_call(
        route53,
        "update_health_check",
        "route53:UpdateHealthCheck",
        f"health check {check_id}",
        HealthCheckId=check_id,
        Inverted=inverted,
    )


def _route53_call(route53: Any, operation: str, action: str, resource: str, **params: Any) -> Any:
    response = call(route53, operation, action=action, resource=resource, region=ROUTE53_REGION, **params)
    if isinstance(response, AwsError):
        raise DrillFailed(f"{response}{f': {response.message}' if response.message else ''}")
    return response
