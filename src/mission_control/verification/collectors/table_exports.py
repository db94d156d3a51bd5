"""DynamoDB exports: the newest completed export of each table and the region of its bucket.

Read only for tables no backup plan copies to the secondary region, one DescribeExport each.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from mission_control.verification.aws import AwsClients, AwsError, call

MAX_WORKERS = 16


@dataclass(frozen=True)
class TableExport:
    """The newest completed export of a table, and the region of the bucket it went to."""

    table: str
    arn: str
    bucket: str
    bucket_region: str | AwsError
    export_time: str | None


def read_exports(
    clients: AwsClients, tables: list[str], region: str
) -> dict[str, TableExport | AwsError] | AwsError:
    client = clients.get("dynamodb", region)
    summaries = _list_exports(client, region)
    if isinstance(summaries, AwsError):
        return summaries
    wanted = set(tables)
    newest: dict[str, str] = {}
    for summary in summaries:
        table = _exported_table(summary["ExportArn"])
        # Export ids start with their creation time in milliseconds, so the greatest ARN is the newest.
        if table in wanted and summary.get("ExportStatus") == "COMPLETED":
            newest[table] = max(newest.get(table, ""), summary["ExportArn"])
    if not newest:
        return {}
    with ThreadPoolExecutor(max_workers=min(MAX_WORKERS, len(newest)), thread_name_prefix="export") as pool:
        descriptions = pool.map(lambda arn: _describe_export(client, arn, region), newest.values())
        described = dict(zip(newest, descriptions, strict=True))
    s3 = clients.get("s3", region)
    buckets = sorted({d["S3Bucket"] for d in described.values() if not isinstance(d, AwsError)})
    bucket_regions = {bucket: _bucket_region(s3, bucket, region) for bucket in buckets}
    exports: dict[str, TableExport | AwsError] = {}
    for table, description in described.items():
        if isinstance(description, AwsError):
            exports[table] = description
            continue
        bucket = description["S3Bucket"]
        export_time = description.get("ExportTime")
        exports[table] = TableExport(
            table,
            description["ExportArn"],
            bucket,
            bucket_regions[bucket],
            export_time.isoformat() if export_time else None,
        )
    return exports


def _list_exports(client: Any, region: str) -> list[dict[str, Any]] | AwsError:
    """ListExports has no botocore paginator, so follow NextToken here."""
    summaries: list[dict[str, Any]] = []
    params: dict[str, Any] = {}
    while True:
        response = call(
            client,
            "list_exports",
            action="dynamodb:ListExports",
            resource="table exports",
            region=region,
            **params,
        )
        if isinstance(response, AwsError):
            return response
        summaries.extend(response.get("ExportSummaries", []))
        if not response.get("NextToken"):
            return summaries
        params = {"NextToken": response["NextToken"]}


def _describe_export(client: Any, arn: str, region: str) -> dict[str, Any] | AwsError:
    response = call(
        client,
        "describe_export",
        action="dynamodb:DescribeExport",
        resource=arn,
        region=region,
        ExportArn=arn,
    )
    return response if isinstance(response, AwsError) else response["ExportDescription"]


def _bucket_region(s3: Any, bucket: str, region: str) -> str | AwsError:
    response = call(
        s3,
        "get_bucket_location",
        action="s3:GetBucketLocation",
        resource=f"bucket {bucket}",
        region=region,
        Bucket=bucket,
    )
    if isinstance(response, AwsError):
        return response
    # GetBucketLocation's legacy answers: no constraint means us-east-1, "EU" means eu-west-1.
    constraint = response.get("LocationConstraint") or "us-east-1"
    return "eu-west-1" if constraint == "EU" else constraint


def _exported_table(export_arn: str) -> str:
    """arn:aws:dynamodb:REGION:ACCOUNT:table/NAME/export/ID -> NAME."""
    resource = export_arn.split(":", 5)[-1]
    parts = resource.split("/")
    return parts[1] if len(parts) > 1 else ""
