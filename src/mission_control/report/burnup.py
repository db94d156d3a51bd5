"""Completion over time, from the append-only record: ticks replayed from the audit trail, and the
verified count of every completed verification run. Rendered as SVG on the server (no script)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from html import escape
from typing import Any

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
    done: tuple[tuple[datetime, int], ...] = ()  # ends at the headline figure

    def to_dict(self) -> dict[str, object]:
        return {
            "total": self.total,
            "done": [{"at": at.isoformat(), "count": count} for at, count in self.done],
            "ticked": [{"at": at.isoformat(), "count": count} for at, count in self.ticked],
            "verified": [{"at": at.isoformat(), "count": count} for at, count in self.verified],
        }


def burnup(
    *,
    session: Session,
    environment: Environment,
    total: int,
    now: datetime,
    done_now: int | None = None,
    recent: int | None = None,
) -> Burnup:
    """The ticked count after every tick and untick, the verified count of every completed run, and
    the done count replayed from both, ending at `done_now` (the headline, which evidence also moves).

    With `recent`, only the newest `recent` ticks and unticks are replayed and the chart starts at the
    first of them, so its cost stops growing with the history. The count before them is one sum in
    SQL: the audit trail records a tick or untick only when the state changes, so each is +1 or -1.
    """
    is_change = and_(
        AuditEvent.environment_id == environment.id, AuditEvent.action.in_(("checked", "unchecked"))
    )
    changes = select(AuditEvent.id, AuditEvent.at, AuditEvent.action, AuditEvent.item_id).where(is_change)
    if recent is None:
        rows = list(session.execute(changes.order_by(AuditEvent.id)))
    else:
        rows = list(session.execute(changes.order_by(AuditEvent.id.desc()).limit(recent)))[::-1]
    start, count, checked_before = environment.created_at, 0, set[str]()
    if rows and recent is not None and len(rows) == recent:
        earlier, net = session.execute(
            select(
                func.count(), func.coalesce(func.sum(case((AuditEvent.action == "checked", 1), else_=-1)), 0)
            ).where(is_change, AuditEvent.id < rows[0].id)
        ).one()
        if earlier:
            start, count = rows[0].at, net
            checked_before = _checked_before(session, is_change, rows[0].id)
    ticked = [(start, count)]
    for _, at, action, _item in rows:
        count += 1 if action == "checked" else -1
        ticked.append((at, count))
    runs = _run_statuses(session, environment)
    verified = [
        (finished_at, sum(status == "verified" for status in statuses.values()))
        for finished_at, statuses in runs
    ]
    done = _replay_done(start, rows, runs, checked_before)
    if done_now is not None:
        done.append((now, done_now))
    return Burnup(start, now, total, tuple(ticked), tuple(verified), tuple(done))


def _checked_before(session: Session, is_change: Any, first_id: int) -> set[str]:
    """The items ticked just before the replayed window: each item's last change there was a tick."""
    last = (
        select(func.max(AuditEvent.id))
        .where(is_change, AuditEvent.id < first_id)
        .group_by(AuditEvent.item_id)
    )
    return set(
        session.scalars(
            select(AuditEvent.item_id).where(AuditEvent.id.in_(last), AuditEvent.action == "checked")
        )
    )


def _run_statuses(session: Session, environment: Environment) -> list[tuple[datetime, dict[str, str]]]:
    """Every completed run's finish time and each item's status in it, oldest first."""
    rows = session.execute(
        select(
            VerificationRun.id,
            VerificationRun.finished_at,
            VerificationResult.item_id,
            VerificationResult.status,
        )
        .join(VerificationResult, VerificationResult.run_id == VerificationRun.id)
        .where(VerificationRun.environment_id == environment.id, VerificationRun.state == "completed")
        .order_by(VerificationRun.finished_at, VerificationRun.id)
    )
    runs: dict[int, tuple[datetime, dict[str, str]]] = {}
    for run_id, finished_at, item_id, status in rows:
        runs.setdefault(run_id, (finished_at, {}))[1][item_id] = status
    return list(runs.values())


def _replay_done(
    start: datetime, rows: list[Any], runs: list[tuple[datetime, dict[str, str]]], checked: set[str]
) -> list[tuple[datetime, int]]:
    """Done as the checklist decides it (verified, or ticked and not failing), at every tick and run.

    Evidence is not replayed; the last point, the headline, counts it.
    """
    checked = set(checked)
    statuses: dict[str, str] = {}
    for finished_at, run in runs:  # the statuses in force at `start`
        if finished_at <= start:
            statuses = run

    def done() -> int:
        items = checked | {item for item, status in statuses.items() if status == "verified"}
        return sum(statuses.get(item) != "failing" for item in items)

    events = [(at, 0, item, action) for _, at, action, item in rows]
    events += [(finished_at, 1, run, None) for finished_at, run in runs if finished_at > start]
    series = [(start, done())]
    for at, kind, subject, action in sorted(events, key=lambda event: (event[0], event[1])):
        if kind == 0:
            (checked.add if action == "checked" else checked.discard)(subject)
        else:
            statuses = subject
        series.append((at, done()))
    return series


SERIES = (  # name, colour, dash, legend
    ("done", "#1f8a4c", "", "done"),
    ("ticked", "#2457d6", "", "ticked"),
    ("verified", "#7a4fb5", "6 4", "verified by probe"),
)


def y_ticks(total: int) -> list[int]:
    """Gridlines every 5 items (20 items: 5, 10, 15, 20), fewer steps for a longer checklist."""
    step = 5 * max(1, -(-total // 25))
    return [*range(step, total, step), total] if total > 0 else []


def x_labels(start: datetime, end: datetime) -> list[tuple[datetime, str]]:
    """Start, middle and end, as dates when they differ and as times within one day."""
    middle = start + (end - start) / 2
    moments = (start, middle, end)
    same_day = start.date() == end.date()
    clock = "%H:%M" if end - start >= timedelta(minutes=2) else "%H:%M:%S"
    shown = [at.strftime(clock) if same_day else f"{at:%b %d}" for at in moments]
    if same_day:
        shown[0] = f"{start:%b %d} {shown[0]}"
    labels = [(at, text) for at, text in zip(moments, shown, strict=True)]
    return [labels[0], labels[2]] if shown[1] in (shown[0], shown[2]) else labels


def burnup_svg(chart: Burnup, *, width: int = 480, height: int = 240) -> str:
    """A step chart of done, ticked and verified, with its axes and legend; presentation attributes
    only, so a strict CSP allows it. Text is sized to stay readable when scaled to a phone's width."""
    left, right, top, bottom = 34, 12, 34, 26
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

    last = {name: (getattr(chart, name)[-1][1] if getattr(chart, name) else None) for name, *_ in SERIES}
    label = (
        f"Completion over time: {last['done'] if last['done'] is not None else 0} done, "
        f"{last['ticked'] or 0} ticked, "
        + (
            f"{last['verified']} verified by probe"
            if last["verified"] is not None
            else "no verification run yet"
        )
    )
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" role="img" '
        f'aria-label="{escape(label)}" class="burnup" font-family="system-ui, sans-serif">',
        f"<title>{escape(label)}</title>",
    ]
    for tick in y_ticks(chart.total):
        parts.append(
            f'<line x1="{left}" y1="{y(tick):.1f}" x2="{width - right}" y2="{y(tick):.1f}" stroke="#e3e7ee"/>'
            f'<text x="{left - 5}" y="{y(tick) + 4:.1f}" text-anchor="end" font-size="12" fill="#5b6475">{tick}</text>'
        )
    parts += [
        f'<line x1="{left}" y1="{y(0):.1f}" x2="{width - right}" y2="{y(0):.1f}" stroke="#8a93a3"/>',
        f'<text x="{left - 5}" y="{y(0) + 4:.1f}" text-anchor="end" font-size="12" fill="#5b6475">0</text>',
    ]
    labels = x_labels(chart.start, chart.end)
    for position, (at, text) in enumerate(labels):
        anchor = "start" if position == 0 else "end" if position == len(labels) - 1 else "middle"
        parts.append(
            f'<text x="{x(at):.1f}" y="{height - 7}" text-anchor="{anchor}" font-size="12" fill="#5b6475" '
            f'data-axis="x">{escape(text)}</text>'
        )
    legend_x = left
    for name, colour, dash, legend in SERIES:
        points = getattr(chart, name)
        dashes = f' stroke-dasharray="{dash}"' if dash else ""
        if points:
            parts.append(
                f'<polyline fill="none" stroke="{colour}" stroke-width="{3 if name == "done" else 2}"{dashes} '
                f'data-series="{name}" data-last="{points[-1][1]}" points="{steps(points)}"/>'
            )
        parts.append(
            f'<line x1="{legend_x}" y1="14" x2="{legend_x + 20}" y2="14" stroke="{colour}" stroke-width="3"{dashes}/>'
            f'<text x="{legend_x + 25}" y="18" font-size="13" fill="#1d2330">{legend}</text>'
        )
        legend_x += 40 + 7 * len(legend)
    parts.append("</svg>")
    return "\n".join(parts)
