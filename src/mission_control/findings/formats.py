"""The findings formats by name, for `verify --format` and `report --format`.

Each renderer is imported when it is used: the OCSF models alone take over half a second to import,
which a `verify --format json` (or a fleet of them) need not pay.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from mission_control.findings.asff import Account
    from mission_control.findings.model import FindingsRun

FORMATS = ("sarif", "ocsf", "asff")


def render(run: FindingsRun, fmt: str, *, account: Account | None = None) -> str:
    """`run` as `fmt`; ASFF names an account and region in every finding, so it needs `account`."""
    if fmt == "sarif":
        from mission_control.findings.sarif import to_sarif

        return to_sarif(run)
    if fmt == "ocsf":
        from mission_control.findings.ocsf import to_ocsf

        return to_ocsf(run)
    if fmt == "asff" and account is not None:
        from mission_control.findings.asff import to_asff

        return to_asff(run, account)
    raise ValueError(
        f"cannot render findings as {fmt!r}" + (" without an AWS account" if fmt == "asff" else "")
    )


def combine(documents: Sequence[str], fmt: str) -> str:
    """Several environments' rendered findings as one document of `fmt`: SARIF's runs side by side in one
    log, OCSF's findings in one array, ASFF's in one `Findings` list."""
    parsed = [json.loads(document) for document in documents]
    if fmt == "sarif":
        combined: object = {**parsed[0], "runs": [run for log in parsed for run in log["runs"]]}
    elif fmt == "ocsf":
        combined = [finding for findings in parsed for finding in findings]
    elif fmt == "asff":
        combined = {"Findings": [finding for batch in parsed for finding in batch["Findings"]]}
    else:
        raise ValueError(f"cannot combine findings as {fmt!r}")
    return json.dumps(combined, indent=2, ensure_ascii=False) + "\n"
