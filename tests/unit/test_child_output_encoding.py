"""uv's and pip's output is UTF-8 whatever the locale: lockgen reads it as bytes and decodes UTF-8,
an undecodable byte replaced, so a message is never lost to a narrow locale (Windows cp1252; here
the C locale without UTF-8 mode, whose preferred encoding is ASCII)."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

# What uv or pip could write: UTF-8 text no narrow codec holds (→, ü) and a byte that is not UTF-8.
NOISY = b"caf\xc3\xa9 \xe2\x86\x92 \xff end\n"

PARENT = """
import locale, sys
from pathlib import Path
assert locale.getpreferredencoding(False).lower() in ("ansi_x3.4-1968", "ascii"), locale.getpreferredencoding(False)
noisy = "bytes.fromhex({noisy!r})"
write = f"import sys; sys.stdout.buffer.write({{noisy}}); sys.stderr.buffer.write({{noisy}})"
child = [sys.executable, "-c", write]

from lockgen.install.bounded import run_bounded
code, output = run_bounded(child, {{"PATH": "/usr/bin:/bin"}}, 60)
print("bounded", code, ascii(output))

from lockgen.errors import LockgenError
from lockgen.pypi.targets import PipTarget
from lockgen.pypi.uv import CompileJob, UvResolver
tmp = Path({tmp!r})
uv = tmp / "fake-uv"
uv.write_text("#!" + sys.executable + f"\\nimport sys\\nsys.stderr.buffer.write({{noisy}}); sys.exit(1)\\n")
uv.chmod(0o755)
(tmp / "requirements.in").write_text("accelerate\\n")
target = PipTarget("linux-64", "x86_64-manylinux_2_28", "3.11.9", "linux", "x86_64")
job = CompileJob(target=target, requirements=tmp / "requirements.in", constraints=(), output=tmp / "out.txt")
try:
    UvResolver(tmp / "cache", uv_path=str(uv)).compile([job])
except LockgenError as exc:
    print("uv", ascii(exc.message))
"""


def test_child_output_is_read_as_utf8_under_a_narrow_locale(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LC_", "LANG", "PYTHONUTF8", "PYTHONIOENC"))}
    env.update(LC_ALL="C", PYTHONUTF8="0", PYTHONCOERCECLOCALE="0")
    script = textwrap.dedent(PARENT).format(noisy=NOISY.hex(), tmp=str(tmp_path))
    done = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    lines = dict(line.split(" ", 1) for line in done.stdout.splitlines())
    said = "caf\\xe9 \\u2192 \\ufffd end"  # ascii() of what was written: é and → kept, the bad byte replaced
    assert lines["bounded"] == f"0 '{said}\\n{said}\\n'"
    assert said in lines["uv"], lines["uv"]
