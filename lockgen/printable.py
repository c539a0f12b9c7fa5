"""Text from a lock, an environment file or a server, made safe to show on a terminal or in a PR comment.

A package name, a URL or a pip line can carry any character a pull request or a channel puts there.
On a terminal, an escape sequence can move the cursor, overwrite earlier lines, set the window title
(OSC 0), plant a link that shows other text than it opens (OSC 8) or write the clipboard (OSC 52); a
carriage return can hide the start of a line; bidirectional controls can reorder what a reviewer
reads. :func:`printable` is the one function that neutralises them: every command passes what it
prints through it (``lockgen.cli.runner.echo`` and the error and progress lines), and
:func:`markdown_code` / :func:`markdown_text` build what ``diff --format markdown`` puts in a comment.
"""

from __future__ import annotations

import re

__all__ = ["markdown_code", "markdown_text", "one_line", "printable"]

# A pattern, compiled when first used (re's cache): printable text with newlines and tabs (what
# commands print almost always) never needs it.
_UNSAFE = (
    "[\x00-\x08\x0b-\x1f\x7f-\x9f"  # C0 (but tab and newline), DEL, C1 (CSI 0x9b, OSC 0x9d, ...)
    "\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069"  # bidirectional controls, line separators
    "\ufeff\ufff9-\ufffb]"
)


def _escape(match: re.Match[str]) -> str:
    return f"\\u{ord(match.group()):04x}"


def printable(text: str) -> str:
    """``text`` with every control character but newline and tab written as ``\\uXXXX`` (visible, inert).

    ESC (so CSI colours, OSC titles, links and clipboard writes), carriage return, backspace, the C1
    range and the bidirectional overrides are all escaped; inside a JSON string the escape still
    decodes to the same character.
    """
    if text.replace("\n", "").replace("\t", "").isprintable():
        return text  # every character _UNSAFE matches is one str.isprintable refuses (Cc, Cf, Zl, Zp)
    return re.sub(_UNSAFE, _escape, text)


def one_line(text: str) -> str:
    """``text`` as :func:`printable` makes it, with newlines escaped too (``\\u000a``): what a lock file's
    header holds as one value (a spec, a pip line decoded from its JSON) can never start a line of
    its own in what lockgen prints (a GitHub workflow command such as ``::error::`` must start one)."""
    return printable(text).replace("\n", "\\u000a")


def markdown_code(text: str) -> str:
    """``text`` as an inline Markdown code span that no backtick in it can close (CommonMark: a fence
    longer than the longest backtick run inside, padded with a space when the text starts or ends
    with a backtick); ``|`` escaped for table cells."""
    text = printable(text).replace("\n", " ").replace("|", "\\|")
    longest = max((len(run) for run in re.findall("`+", text)), default=0)
    fence = "`" * (longest + 1)
    pad = " " if text.startswith("`") or text.endswith("`") or (text.startswith(" ") and text.endswith(" ")) else ""
    return f"{fence}{pad}{text}{pad}{fence}"


# A pattern, compiled when first used (re's cache): an up-to-date check or no-op lock never uses it.
_MARKDOWN_SPECIAL = r"([\\`<>\[\]|&])"


def markdown_text(text: str) -> str:
    """``text`` as literal Markdown text: every character that could open markup a reader would not
    see as text (a link or image ``[...](...)``, an HTML tag or entity, a code span, a table pipe)
    backslash-escaped; emphasis characters are left, they cannot hide or add content."""
    return re.sub(_MARKDOWN_SPECIAL, r"\\\1", printable(text).replace("\n", " "))
