"""The fast path of the spec reader: what it accepts without the library, the library accepts too."""

from __future__ import annotations

import re

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from packaging.requirements import Requirement
from rattler import MatchSpec

from lockgen.models import PLAIN_SPEC
from lockgen.spec.document import parse_env_text
from lockgen.spec.pipentry import _PLAIN_PIP_REQUIREMENT

_SETTINGS = settings(max_examples=400, deadline=None, suppress_health_check=list(HealthCheck))


@pytest.mark.slow  # 400 examples through rattler: ~10 s
@_SETTINGS
@given(st.from_regex(PLAIN_SPEC, fullmatch=True))
def test_plain_conda_specs_are_valid_match_specs(text: str) -> None:
    MatchSpec(text, strict=False)


@pytest.mark.slow  # 400 examples: ~10 s
@_SETTINGS
@given(st.from_regex(_PLAIN_PIP_REQUIREMENT, fullmatch=True))
def test_plain_pip_requirements_are_valid_requirements(text: str) -> None:
    Requirement(text)


@pytest.mark.parametrize(
    ("text", "plain"),
    [
        ("numpy", True),
        ("python=3.11.*", True),
        ("scipy>=1.10,<1.14", True),
        ("conda-forge::scipy>=1.11,<1.14", True),
        ("numpy >=2", True),
        ("pandas~=2.1.0", False),
        ("libblas=*=*openblas", False),
        ("numpy>=2.0 ", False),
        ("numpy\x1f>=2", False),
        ("numpy>=99999999999999999999", False),
    ],
)
def test_plain_conda_shapes(text: str, plain: bool) -> None:
    assert bool(re.fullmatch(PLAIN_SPEC, text)) is plain


def test_specs_off_the_fast_path_are_still_checked_by_rattler() -> None:
    text = "channels: [conda-forge]\ndependencies:\n  - numpy>=2.0\n  - numpy >=>2\n"
    with pytest.raises(Exception, match="invalid conda spec 'numpy >=>2'"):
        parse_env_text(text, "environment.yml")
