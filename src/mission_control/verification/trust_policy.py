"""Whether a role's trust policy lets an AWS service assume it, decided as IAM decides it.

IAM's policy evaluation: a Deny statement that applies beats every Allow; with no applying Allow the
request is implicitly denied. A statement applies when its action, its principal and every one of its
conditions match. A service principal's AssumeRole request carries no MFA, principal ARN, account,
organisation, tags or external id, so a condition on those keys is judged as IAM judges a missing key:
false, except for the negated operators, `...IfExists`, `ForAllValues:` and `Null` true. Any other
condition (aws:SourceAccount, aws:SourceArn, ...) depends on values only the live request holds: the
statement *may* apply, and the verdict is left to a person.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from enum import Enum, StrEnum
from typing import Any

ASSUME_ROLE = "sts:AssumeRole"
# Keys a service principal's request never carries (IAM's global condition keys are available only for
# IAM principals, web identity and SAML federation).
_ABSENT_KEY_PREFIXES = (
    "aws:multifactorauthpresent",
    "aws:multifactorauthage",
    "aws:principalarn",
    "aws:principalaccount",
    "aws:principalorgid",
    "aws:principalorgpaths",
    "aws:principaltag/",
    "aws:username",
    "aws:federatedprovider",
    "sts:externalid",
    "saml:",
    "cognito-identity.amazonaws.com:",
    "accounts.google.com:",
    "graph.facebook.com:",
    "www.amazon.com:",
)
_POSITIVE_STRING_OPERATORS = {"stringequals", "stringequalsignorecase", "stringlike", "bool"}
_NEGATED_STRING_OPERATORS = {"stringnotequals", "stringnotequalsignorecase", "stringnotlike"}


class Trust(StrEnum):
    TRUSTED = "trusted"
    NOT_TRUSTED = "not trusted"
    CONDITIONAL = "conditional"


class _Match(Enum):
    YES = "yes"
    NO = "no"
    MAYBE = "maybe"


@dataclass(frozen=True)
class ServiceTrust:
    """The verdict for one service, why, and the conditions a person must review when it is conditional."""

    service: str
    trust: Trust
    reason: str
    conditions: tuple[dict[str, Any], ...] = field(default=())

    def to_dict(self) -> dict[str, Any]:
        return {"trust": self.trust.value, "reason": self.reason, "conditions": list(self.conditions)}


def service_trust(document: dict[str, Any], service: str, action: str = ASSUME_ROLE) -> ServiceTrust:
    """How IAM answers `service` calling `action` on the role whose trust policy is `document`."""
    statements = document.get("Statement", [])
    statements = [statements] if isinstance(statements, dict) else list(statements)
    allows: list[tuple[str, _Match, list[dict[str, Any]]]] = []
    denies: list[tuple[str, _Match, list[dict[str, Any]]]] = []
    unsatisfiable: list[str] = []
    for index, statement in enumerate(statements):
        name = str(statement.get("Sid") or f"#{index + 1}")
        if not (_action_matches(statement, action) and _principal_matches(statement, service)):
            continue
        match, undecided = _conditions_match(statement.get("Condition", {}), service)
        if match is _Match.NO:
            if statement.get("Effect") == "Allow":
                unsatisfiable.append(name)
            continue
        target = denies if statement.get("Effect") == "Deny" else allows
        if statement.get("Effect") in ("Allow", "Deny"):
            target.append((name, match, undecided))
    definite_deny = [name for name, match, _ in denies if match is _Match.YES]
    if definite_deny:
        return ServiceTrust(service, Trust.NOT_TRUSTED, f"statement {definite_deny[0]} denies it")
    if not allows:
        why = (
            f"statement {', '.join(unsatisfiable)} allows it only under a condition a service principal "
            "cannot meet"
            if unsatisfiable
            else "no statement allows it"
        )
        return ServiceTrust(service, Trust.NOT_TRUSTED, why)
    undecided = [
        {"statement": name, "effect": effect, "condition": condition}
        for effect, found in (("Allow", allows), ("Deny", denies))
        for name, match, conditions in found
        if match is _Match.MAYBE
        for condition in conditions
    ]
    if any(match is _Match.YES for _, match, _ in allows) and not any(
        match is _Match.MAYBE for _, match, _ in denies
    ):
        return ServiceTrust(service, Trust.TRUSTED, "allowed without conditions that need review")
    return ServiceTrust(
        service,
        Trust.CONDITIONAL,
        "allowed or denied only under conditions the request decides",
        tuple(undecided),
    )


def _listed(value: Any) -> list[Any]:
    return [value] if isinstance(value, str | bool) else list(value or [])


def _wildcard(pattern: str, value: str) -> bool:
    """IAM's wildcards: `*` any characters, `?` one; case-insensitive as IAM compares action names."""
    regex = re.escape(pattern).replace(r"\*", ".*").replace(r"\?", ".")
    return re.fullmatch(regex, value, flags=re.IGNORECASE) is not None


def _action_matches(statement: dict[str, Any], action: str) -> bool:
    if "Action" in statement:
        return any(_wildcard(str(pattern), action) for pattern in _listed(statement["Action"]))
    if "NotAction" in statement:
        return not any(_wildcard(str(pattern), action) for pattern in _listed(statement["NotAction"]))
    return False


def _names(principal: Any, service: str) -> bool:
    """Whether a Principal (or NotPrincipal) element names `service`: "*", AWS "*", or the service."""
    if principal == "*":
        return True
    if not isinstance(principal, dict):
        return False
    services = [str(name).lower() for name in _listed(principal.get("Service"))]
    return "*" in _listed(principal.get("AWS")) or service.lower() in services or "*" in services


def _principal_matches(statement: dict[str, Any], service: str) -> bool:
    if "Principal" in statement:
        return _names(statement["Principal"], service)
    if "NotPrincipal" in statement:
        return not _names(statement["NotPrincipal"], service)
    return False


def _conditions_match(conditions: dict[str, Any], service: str) -> tuple[_Match, list[dict[str, Any]]]:
    """All of a statement's conditions: NO if one cannot hold, MAYBE (with those) if some are undecidable."""
    undecided = []
    for operator, entries in conditions.items():
        for key, values in (entries or {}).items():
            match = _condition_match(operator, key, _listed(values), service)
            if match is _Match.NO:
                return _Match.NO, []
            if match is _Match.MAYBE:
                undecided.append({operator: {key: values}})
    return (_Match.MAYBE if undecided else _Match.YES), undecided


def _condition_match(operator: str, key: str, values: list[Any], service: str) -> _Match:
    qualifier, _, base = operator.rpartition(":")
    base = base.lower()
    if_exists = base.endswith("ifexists")
    base = base.removesuffix("ifexists")
    key = key.lower()
    if key.startswith(_ABSENT_KEY_PREFIXES):
        return _absent_key(qualifier.lower(), base, if_exists, values)
    known = {"aws:principalservicename": service, "aws:principalisawsservice": "true"}.get(key)
    if known is None:
        return _Match.MAYBE
    if base == "null":
        return _Match.YES if str(values[0]).lower() == "false" else _Match.NO
    matched = any(_equal(base, str(value), known) for value in values)
    if base in _POSITIVE_STRING_OPERATORS:
        return _Match.YES if matched else _Match.NO
    if base in _NEGATED_STRING_OPERATORS:
        return _Match.NO if matched else _Match.YES
    return _Match.MAYBE


def _equal(base: str, expected: str, actual: str) -> bool:
    if "like" in base:
        return _wildcard(expected, actual)
    if base == "bool" or base.endswith("ignorecase"):
        return expected.lower() == actual.lower()
    return expected == actual


def _absent_key(qualifier: str, base: str, if_exists: bool, values: list[Any]) -> _Match:
    """IAM's rule for a key missing from the request: see the module docstring."""
    if base == "null":
        return _Match.YES if str(values[0]).lower() == "true" else _Match.NO
    if if_exists or qualifier == "forallvalues" or "not" in base:
        return _Match.YES
    return _Match.NO
