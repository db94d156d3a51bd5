"""Whether Route53 acting on a health check reflects a regional endpoint's health.

Route53 acts on a check only as configured: a disabled check is always healthy, an inverted one is
healthy when its endpoint fails, a CALCULATED check is healthy while HealthThreshold of its children
are, and a CloudWatch-alarm check follows an alarm Route53 cannot show the target of.
"""

from __future__ import annotations

from typing import Any

from mission_control.verification.collectors.route53 import normalise_name

STANDARD_PORTS = {"HTTP": 80, "HTTP_STR_MATCH": 80, "HTTPS": 443, "HTTPS_STR_MATCH": 443}


def check_problem(
    check_id: str, checks: dict[str, dict[str, Any]], endpoint: str, paths: tuple[str, ...]
) -> str | None:
    """Why the check `check_id` does not make Route53 follow `endpoint`'s health on `paths`; None if it does."""
    return _problem(check_id, checks, endpoint, paths, ())


def check_facts(check: dict[str, Any]) -> dict[str, Any]:
    settings = check["HealthCheckConfig"]
    facts: dict[str, Any] = {"id": check["Id"], "type": settings["Type"]}
    for key, fact in (
        ("FullyQualifiedDomainName", "fqdn"),
        ("IPAddress", "ip_address"),
        ("Port", "port"),
        ("ResourcePath", "path"),
        ("SearchString", "search_string"),
        ("Disabled", "disabled"),
        ("Inverted", "inverted"),
        ("ChildHealthChecks", "children"),
        ("HealthThreshold", "health_threshold"),
        ("AlarmIdentifier", "alarm"),
    ):
        if settings.get(key) is not None:
            facts[fact] = settings[key]
    return facts


def _problem(
    check_id: str,
    checks: dict[str, dict[str, Any]],
    endpoint: str,
    paths: tuple[str, ...],
    seen: tuple[str, ...],
) -> str | None:
    check = checks.get(check_id)
    if check is None:
        return f"health check {check_id} does not exist"
    settings = check["HealthCheckConfig"]
    kind = settings["Type"]
    if settings.get("Disabled"):
        return f"health check {check_id} is disabled, and Route53 considers a disabled check healthy"
    if settings.get("Inverted"):
        return f"health check {check_id} is inverted: healthy when what it requests fails"
    if kind in STANDARD_PORTS:
        return _http_problem(check_id, settings, endpoint, paths)
    if kind == "CALCULATED":
        return _calculated_problem(check_id, settings, checks, endpoint, paths, (*seen, check_id))
    if kind == "CLOUDWATCH_METRIC":
        alarm = settings.get("AlarmIdentifier") or {}
        return (
            f"health check {check_id} follows CloudWatch alarm {alarm.get('Name', '?')} in "
            f"{alarm.get('Region', '?')}: Route53 cannot show that it watches {endpoint}"
        )
    return f"health check {check_id} is {kind}, which does not request {endpoint}'s health path"


def _http_problem(
    check_id: str, settings: dict[str, Any], endpoint: str, paths: tuple[str, ...]
) -> str | None:
    kind = settings["Type"]
    host = settings.get("FullyQualifiedDomainName")
    if host is None or normalise_name(host) != normalise_name(endpoint):
        requested = host or settings.get("IPAddress", "?")
        return f"health check {check_id} requests {requested}, not {endpoint}"
    port = settings.get("Port", STANDARD_PORTS[kind])
    if port != STANDARD_PORTS[kind]:
        return f"health check {check_id} requests {kind} on port {port}, not {STANDARD_PORTS[kind]}"
    path = settings.get("ResourcePath") or "/"
    request_path = "/" + path.partition("?")[0].lstrip("/")  # Route53 sends the query string as given
    if request_path not in paths:
        return f"health check {check_id} requests {path}, not one of {', '.join(paths)}"
    return None


def _calculated_problem(
    check_id: str,
    settings: dict[str, Any],
    checks: dict[str, dict[str, Any]],
    endpoint: str,
    paths: tuple[str, ...],
    seen: tuple[str, ...],
) -> str | None:
    children = settings.get("ChildHealthChecks") or []
    threshold = settings.get("HealthThreshold")
    if not children:
        return f"calculated health check {check_id} has no child health checks"
    if threshold is None or threshold == 0:
        return (
            f"calculated health check {check_id} has HealthThreshold 0: Route53 considers it always healthy"
        )
    if threshold > len(children):
        return (
            f"calculated health check {check_id} needs {threshold} healthy of {len(children)} children: "
            "Route53 considers it always unhealthy"
        )
    problems = {
        child: "loops back to a parent" if child in seen else _problem(child, checks, endpoint, paths, seen)
        for child in children
    }
    probing = [child for child, problem in problems.items() if problem is None]
    others = len(children) - len(probing)
    if not probing:
        return f"no child of calculated health check {check_id} probes {endpoint}: " + "; ".join(
            str(problem) for problem in problems.values()
        )
    if others >= threshold:
        return (
            f"calculated health check {check_id} stays healthy when {endpoint} fails: {others} of its "
            f"{len(children)} children do not probe it and HealthThreshold is {threshold}"
        )
    return None
