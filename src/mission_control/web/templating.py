"""The Jinja2 environment shared by every page (autoescaping on: notes are user input)."""

from datetime import datetime
from pathlib import Path
from urllib.parse import urlencode

from fastapi.templating import Jinja2Templates

from mission_control.identity.service import role_allows

templates = Jinja2Templates(directory=Path(__file__).with_name("templates"))
templates.env.auto_reload = False  # templates ship with the package: no stat() per render


def _when(value: datetime | None) -> str:
    return value.strftime("%Y-%m-%d %H:%M UTC") if value else ""


templates.env.filters["when"] = _when
templates.env.globals["role_allows"] = role_allows  # the one role check, in templates too


_FILTER_DEFAULTS = {"status": "all", "effort": "all", "mine": ""}


def _filter_query(current: dict[str, str], **changes: str) -> str:
    """The dashboard's query string with `changes` applied; filters at their default are left out."""
    wanted = current | changes
    return urlencode({key: value for key, value in wanted.items() if value != _FILTER_DEFAULTS.get(key)})


templates.env.filters["filter_query"] = _filter_query
