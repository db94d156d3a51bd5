"""What the demo's moto server adds so the sample estate reads like real AWS.

moto 5 accepts but drops, or lacks, four things the demo estate needs. Rather than patching moto's
classes (they are process-global, so a patch would leak into the project's in-process moto tests),
`AwsParityLayer` is a WSGI layer wrapped around this one server's app only:

- DynamoDB `UpdateTable` ignores `ReplicaUpdates` and `DescribeTable` lists no `Replicas`: the layer
  creates the replica table in its region and reports both sides' replicas as ACTIVE (2019.11.21).
- AWS Backup has no backup selections: the layer serves Create/List/GetBackupSelection itself.
- CloudFront drops `LambdaFunctionAssociations` and rejects a behaviour that targets an origin
  group: the layer sends moto the group's first origin and restores both fields in every response.
- Route53 has no `TestDNSAnswer`: the layer answers it from moto's records and health checks, as
  Route53's test resolver in us-east-1 would see them (an inverted health check is unhealthy).
"""

from __future__ import annotations

import io
import json
import re
import threading
import urllib.parse
import uuid
import zlib
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from typing import Any
from xml.etree import ElementTree

WsgiApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]
Response = tuple[str, list[tuple[str, str]], bytes]
Override = tuple[str, ElementTree.Element | None]  # a behaviour's TargetOriginId, LambdaFunctionAssociations

_CREDENTIAL_SCOPE = re.compile(r"Credential=[^/]+/\d{8}/([^/]+)/([^/]+)/aws4_request")
_SELECTIONS = re.compile(r"^/backup/plans/([^/]+)/selections/([^/]*)$")
_DISTRIBUTION = re.compile(r"^/2020-05-31/distribution(?:/([A-Z0-9]+)(/config)?)?$")
_CLOUDFRONT_NS = "http://cloudfront.amazonaws.com/doc/2020-05-31/"
_TEST_DNS_ANSWER = "/2013-04-01/testdnsanswer"
_ROUTE53_NS = "https://route53.amazonaws.com/doc/2013-04-01/"
_TEST_RESOLVER_REGION = "us-east-1"  # where TestDNSAnswer's default resolver is, per the API reference


class AwsParityLayer:
    """Wrap moto's WSGI app; requests the layer doesn't extend pass through untouched."""

    def __init__(self, app: WsgiApp) -> None:
        self._app = app
        self._lock = threading.Lock()
        self._replica_regions: dict[str, set[str]] = {}  # table name -> every region holding it
        self._selections: dict[str, dict[str, dict[str, Any]]] = {}  # plan id -> selection id -> body
        self._behaviours: dict[str, dict[str, Override]] = {}  # distribution id -> path pattern -> sent

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        scope = _CREDENTIAL_SCOPE.search(environ.get("HTTP_AUTHORIZATION", ""))
        region, service = scope.groups() if scope else ("us-east-1", "")
        path = environ.get("PATH_INFO", "")
        operation = environ.get("HTTP_X_AMZ_TARGET", "").rpartition(".")[2]
        if service == "dynamodb" and operation in ("UpdateTable", "DescribeTable"):
            response = self._dynamodb(environ, region, operation)
        elif service == "backup" and _SELECTIONS.match(path):
            response = self._backup_selections(environ, path)
        elif service == "cloudfront" and _DISTRIBUTION.match(path):
            response = self._cloudfront(environ, path)
        elif service == "route53" and path == _TEST_DNS_ANSWER:
            response = _test_dns_answer(self._app, environ)
        else:
            return self._app(environ, start_response)
        status, headers, body = response
        headers = [(k, v) for k, v in headers if k.lower() != "content-length"]
        start_response(status, [*headers, ("Content-Length", str(len(body)))])
        return [body]

    def _dynamodb(self, environ: dict[str, Any], region: str, operation: str) -> Response:
        request = json.loads(_read_body(environ) or b"{}")
        replica_updates = request.pop("ReplicaUpdates", []) if operation == "UpdateTable" else []
        status, headers, body = _call(self._app, environ, json.dumps(request).encode())
        if not status.startswith("200"):
            return status, headers, body
        response = json.loads(body)
        table = response.get("TableDescription") or response["Table"]
        for update in replica_updates:
            if "Create" in update:
                self._create_replica(environ, table, region, update["Create"]["RegionName"])
        with self._lock:
            regions = self._replica_regions.get(table["TableName"], set())
        if regions:
            table["GlobalTableVersion"] = "2019.11.21"
            table["Replicas"] = [
                {"RegionName": other, "ReplicaStatus": "ACTIVE"} for other in sorted(regions - {region})
            ]
        body = json.dumps(response).encode()
        headers = [(k, v) for k, v in headers if k.lower() != "x-amz-crc32"]
        return status, [*headers, ("x-amz-crc32", str(zlib.crc32(body)))], body

    def _create_replica(
        self, environ: dict[str, Any], table: dict[str, Any], region: str, target: str
    ) -> None:
        billing_mode = table.get("BillingModeSummary", {}).get("BillingMode", "PROVISIONED")
        create = {
            "TableName": table["TableName"],
            "KeySchema": table["KeySchema"],
            "AttributeDefinitions": table["AttributeDefinitions"],
            "BillingMode": billing_mode,
            "StreamSpecification": table.get("StreamSpecification", {"StreamEnabled": False}),
        }
        if billing_mode == "PROVISIONED":
            throughput = table["ProvisionedThroughput"]
            create["ProvisionedThroughput"] = {
                key: throughput[key] for key in ("ReadCapacityUnits", "WriteCapacityUnits")
            }
        if table.get("GlobalSecondaryIndexes"):
            create["GlobalSecondaryIndexes"] = [
                {key: index[key] for key in ("IndexName", "KeySchema", "Projection")}
                for index in table["GlobalSecondaryIndexes"]
            ]
        replica_environ = dict(environ)
        replica_environ["HTTP_AUTHORIZATION"] = environ["HTTP_AUTHORIZATION"].replace(
            f"/{region}/dynamodb/", f"/{target}/dynamodb/"
        )
        replica_environ["HTTP_X_AMZ_TARGET"] = "DynamoDB_20120810.CreateTable"
        status, _, body = _call(self._app, replica_environ, json.dumps(create).encode())
        if not status.startswith("200"):
            raise RuntimeError(f"creating replica {table['TableName']} in {target}: {body.decode()}")
        with self._lock:
            self._replica_regions.setdefault(table["TableName"], {region}).add(target)

    def _backup_selections(self, environ: dict[str, Any], path: str) -> Response:
        plan_id, selection_id = _SELECTIONS.match(path).groups()  # type: ignore[union-attr]
        method = environ["REQUEST_METHOD"]
        with self._lock:
            plan = self._selections.setdefault(plan_id, {})
            if method == "PUT" and not selection_id:
                request = json.loads(_read_body(environ))
                selection_id = str(uuid.uuid4())
                plan[selection_id] = {
                    "SelectionId": selection_id,
                    "BackupPlanId": plan_id,
                    "CreationDate": datetime.now(UTC).timestamp(),
                    "CreatorRequestId": request.get("CreatorRequestId", ""),
                    "BackupSelection": request["BackupSelection"],
                }
                created = plan[selection_id]
                return _json({key: created[key] for key in ("SelectionId", "BackupPlanId", "CreationDate")})
            if method == "GET" and not selection_id:
                summaries = [
                    {
                        **{key: value for key, value in selection.items() if key != "BackupSelection"},
                        "SelectionName": selection["BackupSelection"]["SelectionName"],
                        "IamRoleArn": selection["BackupSelection"]["IamRoleArn"],
                    }
                    for selection in plan.values()
                ]
                return _json({"BackupSelectionsList": summaries})
            if method == "GET" and selection_id in plan:
                return _json(plan[selection_id])
        message = f"backup selection {selection_id or '(new)'} of plan {plan_id}: {method} not supported"
        return _json({"Message": message}, status="404 Not Found", error="ResourceNotFoundException")

    def _cloudfront(self, environ: dict[str, Any], path: str) -> Response:
        distribution_id, _ = _DISTRIBUTION.match(path).groups()  # type: ignore[union-attr]
        method = environ["REQUEST_METHOD"]
        request_body = _read_body(environ)
        overrides: dict[str, Override] = {}
        if method in ("POST", "PUT") and request_body:
            config = ElementTree.fromstring(request_body)
            overrides = _behaviour_overrides(config)
            request_body = ElementTree.tostring(config, default_namespace=_CLOUDFRONT_NS)
        status, headers, body = _call(self._app, environ, request_body)
        if not status.startswith(("200", "201")):
            return status, headers, body
        document = ElementTree.fromstring(body)
        with self._lock:
            if overrides:
                created_id = document.findtext(_tag("Id"))
                self._behaviours[distribution_id or created_id or ""] = overrides
            for owner in (document, *document.iter(_tag("DistributionSummary"))):
                owner_id = distribution_id or owner.findtext(_tag("Id")) or ""
                _restore_behaviours(owner, self._behaviours.get(owner_id, {}))
        return status, headers, ElementTree.tostring(document, default_namespace=_CLOUDFRONT_NS)


def _test_dns_answer(app: WsgiApp, environ: dict[str, Any]) -> Response:
    """Route53's answer for a record: the healthy routing record nearest the test resolver."""
    query = {key: values[0] for key, values in urllib.parse.parse_qs(environ.get("QUERY_STRING", "")).items()}
    zone_id = query.get("hostedzoneid", "").split("/")[-1]
    name, kind = query.get("recordname", "").rstrip(".").lower(), query.get("recordtype", "")
    listed = {}
    for key, path in (
        ("records", f"/2013-04-01/hostedzone/{zone_id}/rrset"),
        ("checks", "/2013-04-01/healthcheck"),
    ):
        get = {
            **environ,
            "REQUEST_METHOD": "GET",
            "PATH_INFO": path,
            "QUERY_STRING": "",
            "RAW_URI": path,
            "REQUEST_URI": path,
        }
        status, headers, body = _call(app, get, b"")
        if not status.startswith("200"):
            return status, headers, body
        listed[key] = ElementTree.fromstring(body)
    inverted = {
        check.findtext(_r53("Id")): check.findtext(f"{_r53('HealthCheckConfig')}/{_r53('Inverted')}")
        == "true"
        for check in listed["checks"].iter(_r53("HealthCheck"))
    }
    candidates = [
        record
        for record in listed["records"].iter(_r53("ResourceRecordSet"))
        if (record.findtext(_r53("Name")) or "").rstrip(".").lower() == name
        and record.findtext(_r53("Type")) == kind
    ]
    # When every record is unhealthy Route53 answers as if all were healthy.
    healthy = [r for r in candidates if not inverted.get(r.findtext(_r53("HealthCheckId")))] or candidates
    healthy.sort(
        key=lambda r: (
            r.findtext(_r53("Failover")) == "SECONDARY",
            r.findtext(_r53("Region")) != _TEST_RESOLVER_REGION,
        )
    )
    answer = ElementTree.Element("TestDNSAnswerResponse", xmlns=_ROUTE53_NS)
    for field, value in (("Nameserver", "ns-2048.awsdns-64.com"), ("RecordName", name), ("RecordType", kind)):
        ElementTree.SubElement(answer, field).text = value
    data = ElementTree.SubElement(answer, "RecordData")
    for value in healthy[0].iter(_r53("Value")) if healthy else ():
        ElementTree.SubElement(data, "RecordDataEntry").text = value.text
    ElementTree.SubElement(answer, "ResponseCode").text = "NOERROR" if healthy else "NXDOMAIN"
    ElementTree.SubElement(answer, "Protocol").text = "UDP"
    return "200 OK", [("Content-Type", "text/xml")], ElementTree.tostring(answer)


def _r53(name: str) -> str:
    return f"{{{_ROUTE53_NS}}}{name}"


def _tag(name: str) -> str:
    return f"{{{_CLOUDFRONT_NS}}}{name}"


def _behaviours(element: ElementTree.Element) -> Iterable[tuple[str, ElementTree.Element]]:
    """Each cache behaviour under `element`, keyed by path pattern ("" for the default)."""
    for behaviour in element.iter(_tag("DefaultCacheBehavior")):
        yield "", behaviour
    for behaviour in element.iter(_tag("CacheBehavior")):
        yield behaviour.findtext(_tag("PathPattern"), ""), behaviour


def _behaviour_overrides(config: ElementTree.Element) -> dict[str, Override]:
    """Record each behaviour's target and edge functions; point group targets at a real origin for moto."""
    first_member = {
        group.findtext(_tag("Id")): group.findtext(f"{_tag('Members')}/{_tag('Items')}/*/{_tag('OriginId')}")
        for group in config.iter(_tag("OriginGroup"))
    }
    overrides = {}
    for key, behaviour in _behaviours(config):
        target = behaviour.find(_tag("TargetOriginId"))
        if target is not None and target.text:
            overrides[key] = (target.text, behaviour.find(_tag("LambdaFunctionAssociations")))
            target.text = first_member.get(target.text) or target.text
    return overrides


def _restore_behaviours(owner: ElementTree.Element, overrides: dict[str, Override]) -> None:
    """Put back the targets and edge functions the caller sent, which moto changed or dropped."""
    for key, behaviour in _behaviours(owner):
        if key not in overrides:
            continue
        target, associations = overrides[key]
        behaviour.find(_tag("TargetOriginId")).text = target  # type: ignore[union-attr]
        for index, child in enumerate(behaviour):
            if child.tag == _tag("LambdaFunctionAssociations") and associations is not None:
                behaviour[index] = associations


def _read_body(environ: dict[str, Any]) -> bytes:
    length = int(environ.get("CONTENT_LENGTH") or 0)
    return environ["wsgi.input"].read(length) if length else b""


def _call(app: WsgiApp, environ: dict[str, Any], body: bytes) -> Response:
    """Run `app` on `environ` with `body` as the request; return its status, headers and body."""
    environ = {**environ, "wsgi.input": io.BytesIO(body), "CONTENT_LENGTH": str(len(body))}
    started: list[Any] = []
    chunks: list[bytes] = []

    def start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
        started[:] = [status, headers]
        return chunks.append

    result = app(environ, start_response)
    try:
        chunks.extend(result)
    finally:
        close = getattr(result, "close", None)
        if close is not None:
            close()
    return started[0], list(started[1]), b"".join(chunks)


def _json(document: dict[str, Any], *, status: str = "200 OK", error: str = "") -> Response:
    headers = [("Content-Type", "application/json")]
    if error:
        headers.append(("x-amzn-ErrorType", error))
    return status, headers, json.dumps(document).encode()
