"""Completion over time, from the append-only record: ticks replayed from the audit trail, and the
verified count of every completed verification run. Rendered as SVG on the server (no script)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from html import escape

from sqlalchemy import and_, case, func, select
from sqlalchemy.orm import Session

from mission_control.progress.models import AuditEvent, Environment
from mission_control.verification.models import VerificationResult, VerificationRun


@dataclass(frozen=True)
class Burnup:
    start: datetime  # the environment's creation, or the first of the `recent` changes replayed
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


def burnup(
    *, session: Session, environment: Environment, total: int, now: datetime, recent: int | None = None
) -> Burnup:
    """The ticked count after every tick and untick, and the verified count of every completed run.

    With `recent`, only the newest `recent` ticks and unticks are replayed and the chart starts at the
    first of them, so its cost stops growing with the history. The count before them is one sum in
    SQL: the audit trail records a tick or untick only when the state changes, so each is +1 or -1.
    """
    is_change = and_(
        AuditEvent.environment_id == environment.id, AuditEvent.action.in_(("checked", "unchecked"))
    )
    changes = select(AuditEvent.id, AuditEvent.at, AuditEvent.action).where(is_change)
    if recent is None:
        rows = list(session.execute(changes.order_by(AuditEvent.id)))
    else:
        rows = list(session.execute(changes.order_by(AuditEvent.id.desc()).limit(recent)))[::-1]
    start, count = environment.created_at, 0
    if rows and recent is not None and len(rows) == recent:
        earlier, net = session.execute(
            select(
                func.count(), func.coalesce(func.sum(case((AuditEvent.action == "checked", 1), else_=-1)), 0)
            ).where(is_change, AuditEvent.id < rows[0].id)
        ).one()
        if earlier:
            start, count = rows[0].at, net
    ticked = [(start, count)]
    for _, at, action in rows:
        count += 1 if action == "checked" else -1
        ticked.append((at, count))
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
    return Burnup(start, now, total, tuple(ticked), tuple(verified))


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
