"""User text is text: cleaned of control characters for the terminal, escaped for rich markup.

Notes, goals, exercise names, reasons and identifiers come from people and
other systems. Printed raw, an escape sequence clears the screen, writes the
clipboard (OSC 52) or hides a link (OSC 8), and a bracket is read as rich
markup (`pain [left knee] 3/10` loses its bracket; `[/]` crashes the report).
Every table cell and every printed record text goes through here: `clean` shows
each control character as a visible escape (`\\x1b`), `markup` also escapes
rich markup for text placed inside a markup string, `cell` makes a rich Text
(never read as markup), and `echo` prints a cleaned line.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

import typer

if TYPE_CHECKING:
    from rich.text import Text

# C0 controls but tab and newline, DEL, C1 controls, and the Unicode bidi controls.
_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def _visible(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def clean(value: object) -> str:
    """Return the text of a value with every control character shown as a visible escape."""
    return _CONTROL.sub(_visible, str(value))


def markup(value: object) -> str:
    """Return a value's text cleaned and escaped, to place inside a rich markup string."""
    from rich.markup import escape

    return escape(clean(value))


def cell(value: object) -> Text:
    """Return a value as a rich Text (cleaned; never read as markup)."""
    from rich.text import Text

    return Text(clean(value))


def echo(message: object, *, err: bool = False) -> None:
    """Print one cleaned message line (stdout, or stderr with err=True)."""
    typer.echo(clean(message), err=err)
