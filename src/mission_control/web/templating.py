"""The Jinja2 environment shared by every page (autoescaping on: notes are user input)."""

from datetime import datetime
from pathlib import Path

from fastapi.templating import Jinja2Templates

templates = Jinja2Templates(directory=Path(__file__).with_name("templates"))
templates.env.auto_reload = False  # templates ship with the package: no stat() per render


def _when(value: datetime | None) -> str:
    return value.strftime("%Y-%m-%d %H:%M UTC") if value else ""


templates.env.filters["when"] = _when
