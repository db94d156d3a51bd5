"""Completion over time, from the append-only record: ticks replayed from the audit trail, and the
verified count of every completed verification run. Rendered as SVG on the server (no script)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from html import escape

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from mission_control.progress.models import AuditEvent, Environment
from mission_control.verification.models import VerificationResult, VerificationRun


@dataclass(frozen=True)
class Burnup:
    start: datetime
    end: datetime
    total: int
    ticked: tuple[tuple[datetime, int], ...]
    verified: tuple[tuple[datetime, int], ...]

    def to_dict(self) -> dict[str, object]:
        return {
            "total": self.total,
            "ticked": [{"at": at.isoformat(), "count": count} for at, count in self.ticked],
            "verified": [{"at": at.isoformat(), "count": count} for at, count in self.verified],
        }


def burnup(*, session: Session, environment: Environment, total: int, now: datetime) -> Burnup:
    events = session.execute(
        select(AuditEvent.at, AuditEvent.action, AuditEvent.item_id)
        .where(AuditEvent.environment_id == environment.id, AuditEvent.action.in_(("checked", "unchecked")))
        .order_by(AuditEvent.id)
    )
    checked: set[str] = set()
    ticked = [(environment.created_at, 0)]
    for at, action, item_id in events:
        (checked.add if action == "checked" else checked.discard)(item_id)
        ticked.append((at, len(checked)))
    runs = session.execute(
        select(VerificationRun.finished_at, func.count(VerificationResult.id))
        .join(VerificationResult, VerificationResult.run_id == VerificationRun.id)
        .where(
            VerificationRun.environment_id == environment.id,
            VerificationRun.state == "completed",
            VerificationResult.status == "verified",
        )
        .group_by(VerificationRun.id, VerificationRun.finished_at)
        .order_by(VerificationRun.finished_at)
    )
    verified = [(finished_at, count) for finished_at, count in runs]
    return Burnup(environment.created_at, now, total, tuple(ticked), tuple(verified))


def burnup_svg(chart: Burnup, *, width: int = 640, height: int = 220) -> str:
    """A step chart of both series; presentation attributes only, so a strict CSP allows it."""
    left, right, top, bottom = 40, 10, 10, 30
    span = max((chart.end - chart.start).total_seconds(), 1.0)

    def x(at: datetime) -> float:
        return left + (width - left - right) * max(0.0, (at - chart.start).total_seconds()) / span

    def y(count: int) -> float:
        return top + (height - top - bottom) * (1 - count / max(chart.total, 1))

    def steps(points: tuple[tuple[datetime, int], ...]) -> str:
        """One step per pixel column, so a long history cannot make the page megabytes long."""
        if not points:
            return ""
        last_in_column: dict[int, int] = {}  # points are in time order, so columns come in order
        for at, count in (*points, (chart.end, points[-1][1])):
            last_in_column[round(x(at))] = count
        coordinates, previous = [], None
        for column, count in last_in_column.items():
            if previous is not None:
                coordinates.append(f"{column},{y(previous):.1f}")
            coordinates.append(f"{column},{y(count):.1f}")
            previous = count
        return " ".join(coordinates)

    label = f"Completion over time: {chart.ticked[-1][1] if chart.ticked else 0} ticked, " + (
        f"{chart.verified[-1][1]} verified by probe" if chart.verified else "no verification run yet"
    )
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" role="img" '
        f'aria-label="{escape(label)}" class="burnup">',
        f"<title>{escape(label)}</title>",
        f'<line x1="{left}" y1="{y(0):.1f}" x2="{width - right}" y2="{y(0):.1f}" stroke="#8a93a3"/>',
        f'<line x1="{left}" y1="{top}" x2="{left}" y2="{y(0):.1f}" stroke="#8a93a3"/>',
        f'<text x="{left - 6}" y="{y(chart.total) + 4:.1f}" text-anchor="end" font-size="11">{chart.total}</text>',
        f'<text x="{left - 6}" y="{y(0) + 4:.1f}" text-anchor="end" font-size="11">0</text>',
        f'<text x="{left}" y="{height - 8}" font-size="11">{chart.start:%Y-%m-%d}</text>',
        f'<text x="{width - right}" y="{height - 8}" text-anchor="end" font-size="11">{chart.end:%Y-%m-%d}</text>',
        f'<polyline fill="none" stroke="#2457d6" stroke-width="2" points="{steps(chart.ticked)}"/>',
        f'<polyline fill="none" stroke="#1f8a4c" stroke-width="2" stroke-dasharray="6 3" points="{steps(chart.verified)}"/>',
        f'<text x="{left + 8}" y="{top + 12}" font-size="11" fill="#2457d6">— ticked</text>',
        f'<text x="{left + 70}" y="{top + 12}" font-size="11" fill="#1f8a4c">- - verified by probe</text>',
        "</svg>",
    ]
    return "\n".join(parts)
