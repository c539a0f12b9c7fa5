"""The user's default cache folder (``config.platform_cache_dir``) is platformdirs' answer: on Linux with
plain ``XDG_CACHE_HOME`` and ``HOME`` lockgen makes it itself, without importing platformdirs (and the
``tempfile`` and ``shutil`` it imports; docs/performance.md, "Round 9: what every command pays before it
works"); anything else asks platformdirs. Held to platformdirs over the variables' shapes."""

from __future__ import annotations

import itertools
import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import platformdirs
import pytest

from lockgen.config import platform_cache_dir

_XDG = [None, "", "/xdg/cache", "/xdg/cache/", "/", " /xdg", "relative/cache", "  ", "~/cache", "//double"]
_HOME = [None, "", "/home/user", "/home/user/", "/", "relative", " /home", "/home/with space"]


def _answer(function: Callable[[], object]) -> str:
    try:
        return str(function())
    except Exception as exc:  # the same failure is the same answer
        return f"{type(exc).__name__}: {exc}"


@pytest.mark.parametrize(("xdg", "home"), list(itertools.product(_XDG, _HOME)))
def test_the_default_cache_folder_is_platformdirs_answer(
    monkeypatch: pytest.MonkeyPatch, xdg: str | None, home: str | None
) -> None:
    for name, value in (("XDG_CACHE_HOME", xdg), ("HOME", home)):
        if value is None:
            monkeypatch.delenv(name, raising=False)
        else:
            monkeypatch.setenv(name, value)
    expected = _answer(lambda: Path(platformdirs.user_cache_dir("lockgen", appauthor=False)))
    assert _answer(platform_cache_dir) == expected


_PROBE = """\
import json, sys
from lockgen.config import platform_cache_dir
print(json.dumps([str(platform_cache_dir()), "platformdirs" in sys.modules, "tempfile" in sys.modules]))
"""


@pytest.mark.skipif(sys.platform != "linux", reason="the folder is made by lockgen on Linux only")
def test_plain_variables_need_no_platformdirs(tmp_path: Path) -> None:
    env = {**os.environ, "XDG_CACHE_HOME": str(tmp_path / "xdg"), "HOME": str(tmp_path / "home")}
    env.pop("ANDROID_DATA", None)
    env.pop("ANDROID_ROOT", None)
    done = subprocess.run([sys.executable, "-c", _PROBE], env=env, capture_output=True, text=True, check=True)
    assert json.loads(done.stdout) == [str(tmp_path / "xdg" / "lockgen"), False, False]
    env.pop("XDG_CACHE_HOME")
    done = subprocess.run([sys.executable, "-c", _PROBE], env=env, capture_output=True, text=True, check=True)
    assert json.loads(done.stdout) == [str(tmp_path / "home" / ".cache" / "lockgen"), False, False]
    env["XDG_CACHE_HOME"] = "relative"  # not plain: platformdirs decides
    done = subprocess.run([sys.executable, "-c", _PROBE], env=env, capture_output=True, text=True, check=True)
    assert json.loads(done.stdout)[1] is True
