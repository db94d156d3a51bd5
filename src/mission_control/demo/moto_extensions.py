"""What the demo's moto server adds so the sample estate reads like real AWS.

moto 5 accepts but drops, or lacks, things the demo estate needs. Rather than patching moto's
classes (they are process-global, so a patch would leak into the project's in-process moto tests),
`AwsParityLayer` is a WSGI layer wrapped around this one server's app only:

- DynamoDB `UpdateTable` ignores `ReplicaUpdates` and `DescribeTable` lists no `Replicas`: the layer
  creates the replica table in its region and reports both sides' replicas as ACTIVE (2019.11.21).
- DynamoDB lacks the legacy (2017.11.29) Create/DescribeGlobalTable, Multi-Region strong
  consistency (MultiRegionConsistency, witnesses) and replica statuses other than ACTIVE:
  `GlobalTables` keeps them; a test sets a replica's status by POSTing to REPLICA_STATUS_PATH.
- DynamoDB `ListExports` needs a TableArn in moto (without one it answers 500, which botocore
  retries; AWS lists every table's): the layer asks moto table by table.
- moto grants every call: a test denies a DynamoDB operation (on one table, or all) by POSTing to
  DENY_PATH, and the layer answers AccessDeniedException as IAM would.
- AWS Backup has no backup selections: the layer serves Create/List/Get/DeleteBackupSelection itself,
  and no service opt-in: `BackupRegionSettings` serves Describe/UpdateRegionSettings per region.
- CloudFront drops `LambdaFunctionAssociations` and rejects a behaviour that targets an origin
  group: the layer sends moto the group's first origin and restores both fields in every response.
- Cognito has no user pool replicas: `CognitoReplicaLayer` serves them, and lets a replica's region
  answer for its pool from the primary's directory.
- Route53 has no `TestDNSAnswer`: the layer answers it from moto's records and health checks, as
  Route53's test resolver in us-east-1 would see them (an inverted health check is unhealthy).
- Route53 gives every moto zone the same name servers: the layer reports each zone's own four in
  Create/GetHostedZone and the zone's apex NS record, so a parent zone's NS delegation names one zone.
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
from typing import Any, ClassVar
from xml.etree import ElementTree

from joserfc import jwk, jwt
from moto.iam.models import get_account_id_from
from moto.utilities.utils import get_partition, load_resource

WsgiApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]
Response = tuple[str, list[tuple[str, str]], bytes]
Override = tuple[str, ElementTree.Element | None]  # a behaviour's TargetOriginId, LambdaFunctionAssociations

_CREDENTIAL_SCOPE = re.compile(r"Credential=[^/]+/\d{8}/([^/]+)/([^/]+)/aws4_request")
_SIGNING_KEY = re.compile(r"Credential=([^/]+)/\d{8}/([^/]+)/")  # access key (moto's account), region
_SELECTIONS = re.compile(r"^/backup/plans/([^/]+)/selections/([^/]*)$")
_DISTRIBUTION = re.compile(r"^/2020-05-31/distribution(?:/([A-Z0-9]+)(/config)?)?$")
_CLOUDFRONT_NS = "http://cloudfront.amazonaws.com/doc/2020-05-31/"
_RESET = "/moto-api/reset"
_ACCOUNT_SETTINGS = "/account-settings"
DENY_PATH = "/moto-api/parity/dynamodb/deny"  # {"Operation": "DescribeContinuousBackups", "TableName": ...}
REPLICA_STATUS_PATH = (
    "/moto-api/parity/dynamodb/replica-status"  # {"TableName", "RegionName", "ReplicaStatus"}
)
_RECORD_SETS = re.compile(r"^/2013-04-01/hostedzone/([A-Z0-9]+)/rrset/?$")
_HOSTED_ZONE = re.compile(r"^/2013-04-01/hostedzone(?:/[A-Z0-9]+)?$")
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
        self._global_tables = GlobalTables()
        self._region_settings = BackupRegionSettings()
        self._denials = DynamoDBDenials()

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        scope = _CREDENTIAL_SCOPE.search(environ.get("HTTP_AUTHORIZATION", ""))
        region, service = scope.groups() if scope else ("us-east-1", "")
        path = environ.get("PATH_INFO", "")
        operation = environ.get("HTTP_X_AMZ_TARGET", "").rpartition(".")[2]
        if path == _RESET:
            self._reset()
            return self._app(environ, start_response)
        if service == "dynamodb" and self._denials.denies(operation, environ):
            response = _dynamodb_error(
                "AccessDeniedException", f"not authorized to perform dynamodb:{operation}"
            )
        elif path == DENY_PATH and environ["REQUEST_METHOD"] == "POST":
            response = self._denials.add(json.loads(_read_body(environ)))
        elif service == "dynamodb" and operation in ("UpdateTable", "DescribeTable"):
            response = self._dynamodb(environ, region, operation)
        elif service == "dynamodb" and operation == "ListExports":
            response = _list_exports(self._app, environ, json.loads(_read_body(environ) or b"{}"))
        elif service == "dynamodb" and operation in ("CreateGlobalTable", "DescribeGlobalTable"):
            response = self._global_tables.answer(operation, region, json.loads(_read_body(environ) or b"{}"))
        elif path == REPLICA_STATUS_PATH and environ["REQUEST_METHOD"] == "POST":
            response = self._global_tables.set_status(json.loads(_read_body(environ)))
        elif service == "backup" and path == _ACCOUNT_SETTINGS:
            response = self._region_settings.answer(environ["REQUEST_METHOD"], region, _read_body(environ))
        elif service == "backup" and _SELECTIONS.match(path):
            response = self._backup_selections(environ, path)
        elif service == "cloudfront" and _DISTRIBUTION.match(path):
            response = self._cloudfront(environ, path)
        elif service == "route53" and path == _TEST_DNS_ANSWER:
            response = _test_dns_answer(self._app, environ)
        elif service == "route53" and _HOSTED_ZONE.match(path):
            response = _own_name_servers(self._app, environ)
        elif service == "route53" and _RECORD_SETS.match(path) and environ["REQUEST_METHOD"] == "GET":
            response = _own_apex_name_servers(self._app, environ, _RECORD_SETS.match(path).group(1))  # type: ignore[union-attr]
        else:
            return self._app(environ, start_response)
        status, headers, body = response
        headers = [(k, v) for k, v in headers if k.lower() != "content-length"]
        start_response(status, [*headers, ("Content-Length", str(len(body)))])
        return [body]

    def _reset(self) -> None:
        """moto's reset empties its backends; the layer's own state goes with them."""
        with self._lock:
            self._replica_regions.clear()
            self._selections.clear()
            self._behaviours.clear()
        self._global_tables = GlobalTables()
        self._region_settings = BackupRegionSettings()
        self._denials = DynamoDBDenials()
        self._region_settings = BackupRegionSettings()
        self._denials = DynamoDBDenials()

    def _dynamodb(self, environ: dict[str, Any], region: str, operation: str) -> Response:
        request = json.loads(_read_body(environ) or b"{}")
        replica_updates = request.pop("ReplicaUpdates", []) if operation == "UpdateTable" else []
        if operation == "UpdateTable":
            self._global_tables.configure(request)
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
            self._global_tables.decorate(table)
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
            if method == "DELETE" and selection_id in plan:
                del plan[selection_id]
                return _json({})
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


def _own_name_servers(app: WsgiApp, environ: dict[str, Any]) -> Response:
    """Create/GetHostedZone with the zone's own four name servers, as Route53 assigns each zone.

    moto gives every zone the same ones, so a parent zone's delegation could not tell two zones apart.
    """
    status, headers, body = _call(app, environ, _read_body(environ))
    if not status.startswith(("200", "201")):
        return status, headers, body
    document = ElementTree.fromstring(body)
    zone_id = (document.findtext(f"{_r53('HostedZone')}/{_r53('Id')}") or "").split("/")[-1]
    servers = zone_name_servers(zone_id)
    for element in document.iter(_r53("NameServers")):
        for child, server in zip(element.findall(_r53("NameServer")), servers, strict=False):
            child.text = server
    return status, headers, ElementTree.tostring(document, default_namespace=_ROUTE53_NS)


def _own_apex_name_servers(app: WsgiApp, environ: dict[str, Any], zone_id: str) -> Response:
    """ListResourceRecordSets with the zone's apex NS record naming the zone's own name servers."""
    status, headers, body = _call(app, environ, b"")
    if not status.startswith("200"):
        return status, headers, body
    document = ElementTree.fromstring(body)
    record_sets = list(document.iter(_r53("ResourceRecordSet")))
    apex = {r.findtext(_r53("Name")) for r in record_sets if r.findtext(_r53("Type")) == "SOA"}
    for record in record_sets:
        if record.findtext(_r53("Type")) == "NS" and record.findtext(_r53("Name")) in apex:
            values = record.iter(_r53("Value"))
            for value, server in zip(values, zone_name_servers(zone_id), strict=False):
                value.text = server
    return status, headers, ElementTree.tostring(document, default_namespace=_ROUTE53_NS)


def zone_name_servers(zone_id: str) -> tuple[str, ...]:
    """The name servers the layer reports for a zone: four, derived from its id."""
    number = zlib.crc32(zone_id.encode())
    return tuple(
        f"ns-{(number + offset) % 2048}.awsdns-{(number + offset) % 64:02d}.{tld}"
        for offset, tld in enumerate(("com", "net", "org", "co.uk"))
    )


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


class CognitoReplicaLayer:
    """Cognito user pool multi-Region replication, which moto lacks, as a WSGI layer of its own.

    `CreateUserPoolReplica`, `UpdateUserPoolReplica`, `DeleteUserPoolReplica` and `ListUserPoolReplicas`
    are served here in botocore's shapes; a new replica is INACTIVE, as Cognito documents. A replica
    shares its primary's pool id and directory, so every other request in a replica's region for that
    pool (by UserPoolId, or by the ClientId of one of its app clients) is answered by the primary.
    """

    _TARGET_PREFIX = "AWSCognitoIdentityProviderService."

    def __init__(self, app: WsgiApp) -> None:
        self._app = app
        self._lock = threading.Lock()
        self._replicas: dict[str, dict[str, str]] = {}  # pool id -> replica region -> status
        self._primaries: dict[str, str] = {}  # pool id -> the region of its primary
        self._client_pools: dict[str, str] = {}  # app client id -> pool id
        self._issuers: dict[str, str] = {}  # pool id -> its multi-Region issuer, for UPDATED pools

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        scope = _CREDENTIAL_SCOPE.search(environ.get("HTTP_AUTHORIZATION", ""))
        region, service = scope.groups() if scope else ("us-east-1", "")
        if environ.get("PATH_INFO") == _RESET:
            with self._lock:
                self._replicas.clear()
                self._primaries.clear()
                self._client_pools.clear()
                self._issuers.clear()
        target = environ.get("HTTP_X_AMZ_TARGET", "")
        # InitiateAuth, SignUp and other end-user operations are unsigned: known by their target alone.
        if service not in ("cognito-idp", "") or not target.startswith(self._TARGET_PREFIX):
            return self._app(environ, start_response)
        operation = target.removeprefix(self._TARGET_PREFIX)
        request = json.loads(_read_body(environ) or b"{}")
        if operation.endswith("UserPoolReplica") or operation == "ListUserPoolReplicas":
            status, headers, body = self._replica_operation(environ, region, operation, request)
        else:
            status, headers, body = self._forwarded(environ, region, operation, request)
        start_response(status, [*[(k, v) for k, v in headers if k.lower() != "content-length"],
                                ("Content-Length", str(len(body)))])  # fmt: skip
        return [body]

    def _forwarded(
        self, environ: dict[str, Any], region: str, operation: str, request: dict[str, Any]
    ) -> Response:
        """Send a replica region's request for a replicated pool to the primary's region."""
        with self._lock:
            pool_id = request.get("UserPoolId") or self._client_pools.get(request.get("ClientId", ""), "")
            primary = self._primaries.get(pool_id) if region in self._replicas.get(pool_id, {}) else None
        if primary:
            environ = _in_region(environ, "cognito-idp", region, primary)
        status, headers, body = _call(self._app, environ, json.dumps(request).encode())
        if not status.startswith("200"):
            return status, headers, body
        response = json.loads(body)
        with self._lock:
            if operation == "CreateUserPoolClient":
                created = response["UserPoolClient"]
                self._client_pools[created["ClientId"]] = created["UserPoolId"]
            if (
                operation == "CreateUserPool"
                and request.get("IssuerConfiguration", {}).get("Type") == "UPDATED"
            ):
                pool_id = response["UserPool"]["Id"]
                self._issuers[pool_id] = f"https://issuer-cognito-idp.{region}.amazonaws.com/{pool_id}"
            issuer = self._issuers.get(self._client_pools.get(request.get("ClientId", ""), ""))
        tokens = response.get("AuthenticationResult", {})
        if issuer and tokens:
            for name in ("IdToken", "AccessToken"):
                if name in tokens:
                    tokens[name] = _reissued(tokens[name], issuer)
            body = json.dumps(response).encode()
        return status, headers, body

    def _replica_operation(
        self, environ: dict[str, Any], region: str, operation: str, request: dict[str, Any]
    ) -> Response:
        pool_id = request.get("UserPoolId", "")
        with self._lock:
            primary = self._primaries.get(pool_id, region)
        describe = {**_in_region(environ, "cognito-idp", region, primary),
                    "HTTP_X_AMZ_TARGET": f"{self._TARGET_PREFIX}DescribeUserPool"}  # fmt: skip
        status, headers, body = _call(self._app, describe, json.dumps({"UserPoolId": pool_id}).encode())
        if not status.startswith("200"):
            return status, headers, body
        arn = json.loads(body)["UserPool"]["Arn"]
        with self._lock:
            replicas = self._replicas.setdefault(pool_id, {})
            self._primaries.setdefault(pool_id, primary)
            target = request.get("RegionName", "")
            if operation == "CreateUserPoolReplica":
                replicas[target] = "INACTIVE"
            elif operation == "UpdateUserPoolReplica" and target in replicas:
                replicas[target] = request["Status"]
            elif operation == "DeleteUserPoolReplica" and target in replicas:
                del replicas[target]
            elif operation != "ListUserPoolReplicas":
                message = f"user pool {pool_id} has no replica in {target}"
                return _json(
                    {"message": message}, status="400 Bad Request", error="ResourceNotFoundException"
                )
            entries = [
                {"RegionName": primary, "Status": "ACTIVE", "Role": "PRIMARY", "UserPoolArn": arn},
                *(
                    {
                        "RegionName": other,
                        "Status": state,
                        "Role": "SECONDARY",
                        "UserPoolArn": arn.replace(f":{primary}:", f":{other}:"),
                    }
                    for other, state in sorted(replicas.items())
                ),
            ]
        if operation == "ListUserPoolReplicas":
            return _json({"UserPoolReplicas": entries})
        found = next((entry for entry in entries if entry["RegionName"] == target), None)
        deleted = {"RegionName": target, "Status": "DELETING", "Role": "SECONDARY", "UserPoolArn": arn}
        return _json({"UserPoolReplica": found or deleted})


def _reissued(token: str, issuer: str) -> str:
    """`token` with its `iss` claim replaced, signed again with the key moto's Cognito signs with."""
    key = jwk.RSAKey.import_key(load_resource("cognitoidp/resources/jwks-private.json"))
    decoded = jwt.decode(token, key)
    return jwt.encode(dict(decoded.header), {**decoded.claims, "iss": issuer}, key)


def _in_region(environ: dict[str, Any], service: str, region: str, target: str) -> dict[str, Any]:
    """`environ` signed for `target` instead of `region`: moto serves a request from its scope's region."""
    authorization = environ.get("HTTP_AUTHORIZATION", "")
    return {
        **environ,
        "HTTP_AUTHORIZATION": authorization.replace(f"/{region}/{service}/", f"/{target}/{service}/"),
    }


# --- DynamoDB global tables: legacy 2017.11.29, Multi-Region strong consistency, replica statuses ---


class GlobalTables:
    """What moto's DynamoDB lacks about global tables, kept per table name."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._legacy: dict[str, tuple[str, ...]] = {}  # global table name -> replication group regions
        self._statuses: dict[tuple[str, str], str] = {}  # (table, region) -> ReplicaStatus
        self._consistency: dict[str, str] = {}  # table -> MultiRegionConsistency
        self._witnesses: dict[str, tuple[str, ...]] = {}  # table -> witness regions

    def answer(self, operation: str, region: str, request: dict[str, Any]) -> Response:
        name = request.get("GlobalTableName", "")
        with self._lock:
            if operation == "CreateGlobalTable":
                if name in self._legacy:
                    return _dynamodb_error("GlobalTableAlreadyExistsException", name)
                self._legacy[name] = tuple(group["RegionName"] for group in request["ReplicationGroup"])
            if name not in self._legacy:
                return _dynamodb_error("GlobalTableNotFoundException", name)
            description = {
                "GlobalTableName": name,
                "GlobalTableArn": f"arn:aws:dynamodb::123456789012:global-table/{name}",
                "GlobalTableStatus": "ACTIVE",
                "CreationDateTime": datetime(2019, 1, 1, tzinfo=UTC).timestamp(),
                "ReplicationGroup": [
                    {"RegionName": group, "ReplicaStatus": self._statuses.get((name, group), "ACTIVE")}
                    for group in self._legacy[name]
                ],
            }
        return _json({"GlobalTableDescription": description})

    def set_status(self, request: dict[str, Any]) -> Response:
        with self._lock:
            self._statuses[request["TableName"], request["RegionName"]] = request["ReplicaStatus"]
        return _json({})

    def configure(self, update_table: dict[str, Any]) -> None:
        """Take UpdateTable's strong-consistency fields out of the request moto will see, and keep them."""
        name = update_table["TableName"]
        consistency = update_table.pop("MultiRegionConsistency", None)
        witnesses = update_table.pop("GlobalTableWitnessUpdates", [])
        with self._lock:
            if consistency:
                self._consistency[name] = consistency
            created = tuple(update["Create"]["RegionName"] for update in witnesses if "Create" in update)
            if created:
                self._witnesses[name] = created

    def decorate(self, table: dict[str, Any]) -> None:
        """Put the kept replica statuses, consistency mode and witnesses into a TableDescription."""
        name = table["TableName"]
        with self._lock:
            for replica in table.get("Replicas", []):
                replica["ReplicaStatus"] = self._statuses.get((name, replica["RegionName"]), "ACTIVE")
            if name in self._consistency:
                table["MultiRegionConsistency"] = self._consistency[name]
            if name in self._witnesses:
                table["GlobalTableWitnesses"] = [
                    {"RegionName": witness, "WitnessStatus": "ACTIVE"} for witness in self._witnesses[name]
                ]


def _dynamodb_error(code: str, message: str) -> Response:
    """An error as DynamoDB's JSON protocol sends it: the code in the body's __type."""
    return _json(
        {"__type": f"com.amazonaws.dynamodb.v20120810#{code}", "message": message}, status="400 Bad Request"
    )


# --- AWS Backup service opt-in ---------------------------------------------------------------------


class BackupRegionSettings:
    """Describe/UpdateRegionSettings per region, starting from the defaults of a new account."""

    DEFAULT_OPT_IN: ClassVar[dict[str, bool]] = {
        "Aurora": True, "DocumentDB": False, "DynamoDB": True, "EBS": True, "EC2": True, "EFS": True,
        "FSx": True, "Neptune": False, "RDS": True, "S3": False, "Storage Gateway": True,
        "VirtualMachine": False,
    }  # fmt: skip
    DEFAULT_MANAGEMENT: ClassVar[dict[str, bool]] = {"DynamoDB": True, "EFS": True}

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._regions: dict[str, dict[str, dict[str, bool]]] = {}

    def answer(self, method: str, region: str, body: bytes) -> Response:
        with self._lock:
            settings = self._regions.setdefault(
                region,
                {
                    "ResourceTypeOptInPreference": dict(self.DEFAULT_OPT_IN),
                    "ResourceTypeManagementPreference": dict(self.DEFAULT_MANAGEMENT),
                },
            )
            if method == "PUT":
                for key, values in json.loads(body or b"{}").items():
                    if key in settings:
                        settings[key].update(values)
                return _json({})
            return _json({key: dict(values) for key, values in settings.items()})


# --- DynamoDB permissions the account lacks --------------------------------------------------------


class DynamoDBDenials:
    """DynamoDB operations answered AccessDeniedException, for every table or one (`TableName`)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._denied: set[tuple[str, str]] = set()  # (operation, table name or "")

    def add(self, request: dict[str, Any]) -> Response:
        with self._lock:
            self._denied.add((request["Operation"], request.get("TableName", "")))
        return _json({})

    def denies(self, operation: str, environ: dict[str, Any]) -> bool:
        with self._lock:
            if not any(denied == operation for denied, _ in self._denied):
                return False
            if (operation, "") in self._denied:
                return True
        body = _read_body(environ)
        environ["wsgi.input"] = io.BytesIO(body)  # the request still reaches moto when not denied
        request = json.loads(body or b"{}")
        table = request.get("TableName") or request.get("ResourceArn", "").rpartition("/")[2]
        with self._lock:
            return (operation, table) in self._denied


def _list_exports(app: WsgiApp, environ: dict[str, Any], request: dict[str, Any]) -> Response:
    """ListExports of every table when no TableArn is given, as AWS answers it (one page)."""
    if request.get("TableArn"):
        return _call(app, environ, json.dumps(request).encode())

    def dynamodb(operation: str, body: dict[str, Any]) -> dict[str, Any]:
        call_environ = {**environ, "HTTP_X_AMZ_TARGET": f"DynamoDB_20120810.{operation}"}
        _, _, answer = _call(app, call_environ, json.dumps(body).encode())
        return json.loads(answer)

    access_key, region = _SIGNING_KEY.search(environ["HTTP_AUTHORIZATION"]).groups()  # type: ignore[union-attr]
    prefix = f"arn:{get_partition(region)}:dynamodb:{region}:{get_account_id_from(access_key)}:table/"
    names: list[str] = []
    page: dict[str, Any] = {}
    while True:  # ListTables answers 100 names a page
        listed = dynamodb("ListTables", page)
        names += listed.get("TableNames", [])
        if "LastEvaluatedTableName" not in listed:
            break
        page = {"ExclusiveStartTableName": listed["LastEvaluatedTableName"]}
    summaries = []
    for name in names:  # each table's ARN as moto makes it, rather than a DescribeTable each
        summaries += dynamodb("ListExports", {"TableArn": prefix + name}).get("ExportSummaries", [])
    return _json({"ExportSummaries": summaries})
