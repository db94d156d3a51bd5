"""The drill recorder: timed steps, outcomes, and cleanups that run however the drill ends."""

from __future__ import annotations

import pytest

from mission_control.evidence.drills.record import DrillFailed, DrillRecorder, Outcome


def ticking_clock(step: float = 1.5):
    now = [0.0]

    def clock() -> float:
        now[0] += step
        return now[0]

    return clock


def test_a_passing_drill_records_timed_steps_and_measurements() -> None:
    recorder = DrillRecorder("restore", "production", "dynamodb.restore-drill", clock=ticking_clock())

    def body(recording: DrillRecorder) -> None:
        with recording.step("restore spaceduck-main"):
            recording.measure("rto_seconds", 42)

    record = recorder.run(body)
    assert record.outcome is Outcome.PASSED
    assert [(s.name, s.ok, s.seconds) for s in record.steps] == [("restore spaceduck-main", True, 1.5)]
    assert record.to_dict()["measurements"] == {"rto_seconds": 42}
    assert record.finished_at is not None


def test_a_failed_check_fails_the_drill_and_names_the_problem() -> None:
    def body(recording: DrillRecorder) -> None:
        with recording.step("count items"):
            raise DrillFailed("expected 120 items, found 119")

    record = DrillRecorder("restore", "production", "dynamodb.restore-drill").run(body)
    assert record.outcome is Outcome.FAILED
    assert record.steps[0].detail == "expected 120 items, found 119"


@pytest.mark.parametrize(
    ("interruption", "outcome"), [(KeyboardInterrupt, Outcome.ABORTED), (RuntimeError, Outcome.FAILED)]
)
def test_cleanups_run_last_in_first_out_even_when_interrupted(
    interruption: type[BaseException], outcome: Outcome
) -> None:
    cleaned: list[str] = []

    def body(recording: DrillRecorder) -> None:
        recording.on_cleanup("delete scratch table A", lambda: cleaned.append("A"))
        recording.on_cleanup("delete scratch table B", lambda: cleaned.append("B"))
        with recording.step("wait for restore"):
            raise interruption()

    record = DrillRecorder("restore", "production", "dynamodb.restore-drill").run(body)
    assert record.outcome is outcome
    assert cleaned == ["B", "A"]
    assert [s.name for s in record.steps][-2:] == [
        "clean up: delete scratch table B",
        "clean up: delete scratch table A",
    ]


def test_a_failing_cleanup_fails_the_drill_but_the_others_still_run() -> None:
    cleaned: list[str] = []

    def broken() -> None:
        raise RuntimeError("AccessDenied")

    def body(recording: DrillRecorder) -> None:
        recording.on_cleanup("first", lambda: cleaned.append("first"))
        recording.on_cleanup("broken", broken)

    record = DrillRecorder("auth-flow", "production", "cognito.auth-flow-test").run(body)
    assert record.outcome is Outcome.FAILED
    assert cleaned == ["first"]
    assert record.steps[0].detail == "RuntimeError: AccessDenied"


def test_a_drill_that_fails_outside_any_step_records_the_exception(caplog: pytest.LogCaptureFixture) -> None:
    def body(recording: DrillRecorder) -> None:
        recording.measure("users", {}["missing"])

    record = DrillRecorder("auth-flow", "production", "cognito.auth-flow-test").run(body)
    assert (record.outcome, record.error) == (Outcome.FAILED, "KeyError: 'missing'")
    assert record.to_dict()["error"] == "KeyError: 'missing'"
    [logged] = [entry for entry in caplog.records if entry.name == "mission_control.evidence.drills.record"]
    assert logged.exc_info is not None and "auth-flow in production failed" in logged.getMessage()


def test_a_failure_inside_a_step_is_told_by_the_step_not_again_by_the_drill() -> None:
    def body(recording: DrillRecorder) -> None:
        with recording.step("count items"):
            raise DrillFailed("expected 120 items, found 119")

    record = DrillRecorder("restore", "production", "dynamodb.restore-drill").run(body)
    assert (record.steps[0].detail, record.error) == ("expected 120 items, found 119", None)
