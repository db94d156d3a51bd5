"""Text we stored, made safe for each output format: Markdown table cells, CSV cells, XML.

Notes, owners, titles and AWS messages are anyone's text. Each output format has one function here,
so every export, report and runbook escapes a value the same way.
"""

from __future__ import annotations

import html
import re

# OWASP CSV injection: a spreadsheet runs a cell starting with one of these as a formula.
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
# XML 1.0 Char: tab, LF, CR, U+0020-U+D7FF, U+E000-U+FFFD, U+10000-U+10FFFF. Nothing else can appear
# in an XML document, not even escaped, so one such character would make a whole JUnit file unreadable.
_XML_ILLEGAL = re.compile("[^\t\n\r\u0020-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def markdown_cell(text: str) -> str:
    """One Markdown table cell: HTML escaped (a renderer shows it, never runs it), `|` escaped, and
    every line break (CRLF, lone CR, LF, U+2028, ...) a `<br>`, so the cell stays on its row."""
    return "<br>".join(html.escape(text, quote=False).replace("|", "\\|").splitlines())


def csv_cell(text: str) -> str:
    """A CSV cell a spreadsheet shows as text: a leading formula character gets a `'` before it."""
    return "'" + text if text.startswith(_FORMULA_STARTS) else text


def xml_text(text: str) -> str:
    """Text for an XML attribute or element: characters XML cannot carry become U+FFFD."""
    return _XML_ILLEGAL.sub("\ufffd", text)
