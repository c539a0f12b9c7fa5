"""A memo hit gives what a fresh parse gives, for real and hostile environment files alike.

Each text is read three ways: without a memo, with an empty memo folder (a parse, then kept) and again
(the memo's); the three must agree on everything (the EnvSpec with its notes and locations, or the same
problems). The texts are ../shared/environments' and hostile ones, in every spelling a file may have on
disk (CRLF, a lone CR, a BOM), under names that are not ASCII or not UTF-8, and merged with ``-f a -f b``."""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from pathlib import Path

import pytest

from lockgen.errors import InputError
from lockgen.spec.envfile import load_env_specs
from lockgen.spec.model import EnvSpec
from tests.conftest import SHARED_ENVS

HOSTILE = {
    "selectors": (
        "name: sel\nchannels: [conda-forge, nodefaults]\nplatforms: [linux-64, win-64, osx-arm64]\n"
        "dependencies:\n  - python=3.11\n  - pywin32  # [win]\n  - libgcc  #[linux and not aarch64]\n"
        "  - pip\n  - pip:\n      - colorama  # [win]\n      - uvloop ; sys_platform != 'win32'  # [unix]\n"
    ),
    "notes": (
        "prefix: /opt/x\nvariables: {A: b}\ncolour: blue\nchannels:\n  - conda-forge\n"
        "dependencies:\n  - dask[complete]\n  - idna[channel=conda-forge]\n  - conda-forge::numpy>=1.26,<2\n"
    ),
    "pip-options": (
        "dependencies:\n  - python\n  - pip:\n    - --index-url https://user:secret@example.org/simple\n"
        "    - --extra-index-url https://example.org/t/tok3n/simple\n    - -r requirements-dev.txt\n"
        "    - -e .\n    - git+https://example.org/repo.git@v1#egg=thing\n    - ./local/pkg\n"
        "    - requests[socks] >=2.31 ; python_version >= '3.8'\n    - torch==2.3.0 --hash=sha256:" + "0" * 64 + "\n"
    ),
    "anchors": ("base: &base\n  - numpy\nchannels: [conda-forge]\ndependencies:\n  - python\n  - *base\n"),
    "aliases-ok": "x: &c conda-forge\nchannels: [*c]\ndependencies:\n  - python\n",
    "non-ascii": (
        "name: \u00e9t\u00e9-\U0001f600\nchannels: [conda-forge]  # caf\u00e9\ndependencies:\n  - python  # \u2603\n"
    ),
    "line-separators": "channels: [conda-forge]\ndependencies:\n  - python  # a\u2028b\n  - numpy # [win]\n",
    "form-feed": "channels: [conda-forge]\n# \x0c\ndependencies:\n  - numpy  # [win]\n",
    "tabs": "channels: [conda-forge]\ndependencies:\n\t- python\n",
    "empty-pip": "dependencies:\n  - python\n  - pip:\n",
    "pip-below": "dependencies:\n  - python\n  - pip:\n  - requests\n",
    "numbers": "dependencies:\n  - 3.10\n  - python=3.11\n",
    "duplicate-key": "dependencies: [python]\ndependencies: [numpy]\n",
    "no-deps": "channels: [conda-forge]\n",
    "empty": "",
    "comments-only": "# nothing\n",
    "bad-channel": "channels: ['https://user:pw@ho st/x', '../up']\ndependencies: [python]\n",
    "swapped": "dependencies:\n  - pandas=>2.0\n  - pip:\n    - einops=0.8.0\n",
    "folded": "dependencies:\n  - python=3.11\n    - numpy\n",
    "not-a-mapping": "- python\n- numpy\n",
    "platforms-bad": "platforms: [linux-64, amiga-68k]\ndependencies: [python]\n",
}

SPELLINGS: dict[str, Callable[[str], bytes]] = {
    "lf": lambda text: text.encode(),
    "crlf": lambda text: text.replace("\n", "\r\n").encode(),
    "cr": lambda text: text.replace("\n", "\r").encode(),
    "bom": lambda text: b"\xef\xbb\xbf" + text.encode(),
    "bom-crlf": lambda text: b"\xef\xbb\xbf" + text.replace("\n", "\r\n").encode(),
}
NAMES = ("environment.yml", "\u00e9t\u00e9 env.yml", os.fsdecode(b"env\xff.yml"), "sub dir/environment.yaml")


def _texts() -> dict[str, str]:
    texts = dict(HOSTILE)
    if SHARED_ENVS.is_dir():
        texts |= {f"shared-{p.name}": p.read_text(encoding="utf-8") for p in sorted(SHARED_ENVS.glob("*.y*ml"))}
    return texts


def _outcome(paths: Sequence[Path], memo_dir: Path | None) -> EnvSpec | list[str]:
    try:
        return load_env_specs(paths, memo_dir=memo_dir)
    except InputError as exc:
        return [str(problem) for problem in exc.problems]


def _agree(paths: Sequence[Path], memo_dir: Path) -> None:
    fresh = _outcome(paths, None)
    assert _outcome(paths, memo_dir) == fresh  # parsed, and kept when it parsed without a problem
    assert _outcome(paths, memo_dir) == fresh  # the memo's


@pytest.mark.parametrize("key", sorted(_texts()))
def test_a_memo_hit_is_a_fresh_parse(tmp_path: Path, key: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)  # names as users give them: relative to the working folder
    text, memo_dir = _texts()[key], tmp_path / "cache" / "memo"
    for spelling, encode in SPELLINGS.items():
        path = Path(f"{spelling}.yml")
        path.write_bytes(encode(text))
        _agree([path], memo_dir)
    for name in NAMES:
        path = Path(name)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        _agree([path], memo_dir)
        _agree([path.absolute()], memo_dir)
    parses = isinstance(_outcome([Path("lf.yml")], None), EnvSpec)
    assert len(list(memo_dir.glob("*.json"))) == (len(SPELLINGS) + 2 * len(NAMES) if parses else 0)


def test_merged_files_agree_with_and_without_memos(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """``-f a -f b``: each file's memo, then the merge (a later file wins, with a note for each override)."""
    monkeypatch.chdir(tmp_path)
    texts = _texts()
    keys = ["selectors", "notes", "pip-options", "non-ascii", *[k for k in texts if k.startswith("shared-")][:3]]
    memo_dir = tmp_path / "cache" / "memo"
    for first in keys:
        for second in keys:
            a, b = Path(f"a-{first}.yml"), Path(f"b-{second}.yml")
            a.write_text(texts[first], encoding="utf-8")
            b.write_text(texts[second], encoding="utf-8")
            _agree([a, b], memo_dir)
    merged = _outcome([Path("a-notes.yml"), Path("b-selectors.yml")], memo_dir)
    assert isinstance(merged, EnvSpec) and merged.files == ("a-notes.yml", "b-selectors.yml")
