"""?next= after sign-in: only same-site paths, never an open redirect to another host."""

from __future__ import annotations

import pytest

from mission_control.identity.views import safe_next


@pytest.mark.parametrize("target", ["/", "/history", "/environments/production?tab=drills"])
def test_a_same_site_path_is_kept(target: str) -> None:
    assert safe_next(target) == target


@pytest.mark.parametrize(
    "target",
    [
        "//evil.example/login",
        "///evil.example",
        "/\\evil.example",
        "https://evil.example/",
        "history",
        "",
        None,
    ],
)
def test_a_target_that_could_leave_the_site_sends_the_user_home(target: str | None) -> None:
    assert safe_next(target) == "/"
