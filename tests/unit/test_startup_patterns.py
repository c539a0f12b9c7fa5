"""Patterns a command compiles only when its input needs them (docs/performance.md, "Round 8: the shared
startup"): a spec without brackets, a URL without a login or a ``/t/`` token, a message without a URL
compile none of the bracket-channel and credential patterns; the common conda spec shapes have one
pattern (:data:`lockgen.models.PLAIN_SPEC`), which the environment file's reader and ``check`` share.
Behaviour, not timing: a fresh interpreter's ``re`` cache says what was compiled."""

from __future__ import annotations

import json
import subprocess
import sys

from lockgen import channels, secrets

_PROBE = """\
import json, re
from lockgen.channels import channel_prefixed, split_channel_spec
from lockgen.secrets import SecretRegistry, redact, strip_credentials
import lockgen.spec.condaspec

assert split_channel_spec("conda-forge::numpy>=1.26") == ("conda-forge", None, "numpy>=1.26")
assert channel_prefixed("numpy >=1.26,<2") == "numpy >=1.26,<2"
assert strip_credentials("https://conda.anaconda.org/conda-forge") == "https://conda.anaconda.org/conda-forge"
registry = SecretRegistry()
registry.add_url("https://conda.anaconda.org/conda-forge")
assert registry.redact("linux-64: 290 packages, up to date") == "linux-64: 290 packages, up to date"
assert redact("a secret-value here", ("secret-value",)) == "a *** here"
print(json.dumps([key[1] for key in re._cache if isinstance(key[1], str)]))
"""


def test_plain_inputs_compile_no_bracket_or_credential_pattern() -> None:
    done = subprocess.run([sys.executable, "-c", _PROBE], capture_output=True, text=True, check=True, timeout=60)
    compiled = set(json.loads(done.stdout))
    patterns = (channels._BRACKET_CHANNEL, secrets._USERINFO, secrets._TOKEN, secrets._URL_IN_TEXT)
    unneeded = {getattr(p, "pattern", p) for p in patterns}  # the text (a compiled pattern's, before Round 8)
    assert compiled.isdisjoint(unneeded), compiled & unneeded


def test_the_patterns_still_apply_where_their_input_needs_them() -> None:
    assert channels.channel_prefixed("idna[channel=conda-forge]") == "conda-forge::idna"
    assert channels.channel_prefixed("numpy[version='>=2']") == "numpy[version='>=2']"
    url = "https://user:pw@host/t/tk-123/conda-forge"
    assert secrets.strip_credentials(url) == "https://host/conda-forge"
    registry = secrets.SecretRegistry()
    registry.add_url(url)
    assert {"user:pw", "tk-123"} <= registry.secrets
    assert secrets.redact(f"fetching {url} failed") == "fetching https://***@host/t/***/conda-forge failed"
    assert secrets.redact("see /home/t/project") == "see /home/t/project"


_READERS_PROBE = """\
import json, re
import lockgen.models, lockgen.spec.condaspec, lockgen.spec.envfile, lockgen.spec.model
print(json.dumps([key[1] for key in re._cache if isinstance(key[1], str)]))
"""


def test_importing_the_readers_compiles_no_pattern_a_memo_hit_or_a_check_never_uses() -> None:
    """Round 9: the python tag of a build (install's) and the leading name of a spec (an environment
    file parsed anew, not read from its memo) are compiled when first used; both were compiled at import."""
    from lockgen import models
    from lockgen.spec import model

    probe = [sys.executable, "-c", _READERS_PROBE]
    done = subprocess.run(probe, capture_output=True, text=True, check=True, timeout=60)
    compiled = set(json.loads(done.stdout))
    unneeded = {getattr(p, "pattern", p) for p in (models._PY_TAG, model.LEADING_NAME)}  # a compiled one before
    assert compiled.isdisjoint(unneeded), compiled & unneeded


def test_the_deferred_patterns_still_apply() -> None:
    from lockgen.models import build_python
    from lockgen.spec.envfile import pip_key

    assert build_python("py312h8a5da7c_0") == "3.12"
    assert build_python("np2py311h1234_0") == "3.11"
    assert build_python("h4ab18f5_1") is None
    assert pip_key("Typing_Extensions>=4") == "typing-extensions"
    assert pip_key("  rich.text[x]==1") == "rich-text"
    assert pip_key("-r more.txt") == "-r more.txt"
    assert pip_key("git+https://host/x.git") == "git+https://host/x.git"
