"""Webhook signatures: a receiver can tell forged, altered and replayed deliveries from genuine ones."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mission_control.notifications.signing import SignatureError, sign, verify_signature

NOW = 1_764_558_000


@given(body=st.binary(max_size=2000), secret=st.text(min_size=1, max_size=64))
def test_a_genuine_delivery_verifies(body: bytes, secret: str) -> None:
    verify_signature(secret, sign(secret, body, NOW), body, now=NOW + 10)


def test_an_altered_body_is_refused() -> None:
    header = sign("s3cret", b'{"changes":[]}', NOW)
    with pytest.raises(SignatureError, match="does not match"):
        verify_signature("s3cret", header, b'{"changes":[1]}', now=NOW)


def test_another_secret_is_refused() -> None:
    with pytest.raises(SignatureError, match="does not match"):
        verify_signature("other", sign("s3cret", b"{}", NOW), b"{}", now=NOW)


def test_a_replay_outside_the_window_is_refused() -> None:
    with pytest.raises(SignatureError, match="replay window"):
        verify_signature("s3cret", sign("s3cret", b"{}", NOW), b"{}", now=NOW + 301)


@pytest.mark.parametrize("header", ["", "v1=abc", "t=soon,v1=abc", "t=1764558000"])
def test_a_malformed_header_is_refused(header: str) -> None:
    with pytest.raises(SignatureError, match="malformed"):
        verify_signature("s3cret", header, b"{}", now=NOW)
