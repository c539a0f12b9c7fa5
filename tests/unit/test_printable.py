"""``printable``'s shortcut for printable text (docs/performance.md, "Round 7: check") escapes exactly what
the pattern escapes: every character alone, and any text, give what ``re.sub`` with the pattern gives."""

from __future__ import annotations

import re

from hypothesis import given
from hypothesis import strategies as st

from lockgen.printable import _UNSAFE, one_line, printable


def _by_pattern(text: str) -> str:
    return re.sub(_UNSAFE, lambda m: f"\\u{ord(m.group()):04x}", text)


def test_every_character_is_escaped_as_the_pattern_says() -> None:
    for code in [*range(0x10000), *range(0x1F000, 0x1F100), 0xE0001, 0x10FFFF]:
        char = chr(code)
        for text in (char, f"a{char}b", f"\n{char}\t"):
            assert printable(text) == _by_pattern(text), hex(code)


def test_terminal_controls_are_escaped_and_plain_text_is_kept() -> None:
    assert printable("up to date: linux-64.txt in locks\n\tnext") == "up to date: linux-64.txt in locks\n\tnext"
    assert printable("\x1b]0;pwned\x07") == "\\u001b]0;pwned\\u0007"
    assert printable("ok\rfake") == "ok\\u000dfake"
    assert printable("del\x7f") == "del\\u007f"
    assert printable("csi\x9b") == "csi\\u009b"
    assert one_line("a\nb\x1b") == "a\\u000ab\\u001b"


@given(st.text(alphabet=st.characters(max_codepoint=0x7F)))
def test_ascii_text_as_the_pattern_escapes_it(text: str) -> None:
    assert printable(text) == _by_pattern(text)


@given(st.text())
def test_any_text_as_the_pattern_escapes_it(text: str) -> None:
    assert printable(text) == _by_pattern(text)
