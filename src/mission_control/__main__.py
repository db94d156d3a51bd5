"""`python -m mission_control` is the `mission-control` command."""

from mission_control.cli import app

app()
