"""lockgen.pipsyntax (and lockgen.spec.pipentry.plain_requirement_name, with its markers) read the common
shapes of pip lines without packaging: whatever they answer is packaging's answer, and they answer None
(the caller then asks packaging) for everything else."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from packaging.markers import Marker
from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version

from lockgen.lockfiles.requirements import logical_lines, parse_compiled
from lockgen.pipsyntax import canonical_name, marker_applies, plain_pin, plain_release
from lockgen.spec.pipentry import _PLAIN_PIP_REQUIREMENT, plain_requirement_name

ROOT = Path(__file__).resolve().parents[2]
_SETTINGS = settings(max_examples=300, deadline=None, suppress_health_check=list(HealthCheck))

ODD_BUT_VALID = [
    # what lockgen and uv write
    'gitdb==4.0.12 ; sys_platform == "darwin"',
    'opentelemetry-api==1.44.0 ; sys_platform == "linux" or sys_platform == "win32"',
    'torch==2.5.1 ; (platform_machine == "x86_64" and sys_platform == "linux") or sys_platform == "win32"',
    'nvidia-cublas-cu12==12.4.5.8 ; platform_machine == "x86_64" and sys_platform == "linux"',
    "colorama==0.4.6 ; sys_platform == 'win32'",  # uv's quotes: packaging prints "win32"
    'triton==3.1.0 ; python_version < "3.13" and sys_platform == "linux"',
    'a==1 ; (sys_platform == "linux")',  # a group of one: packaging drops the parentheses
    'a==1 ; ((sys_platform == "linux" or sys_platform == "win32"))',
    'a==1 ; sys_platform=="linux"',
    'a==1;sys_platform == "linux"',
    'a==1 ;  sys_platform == "linux"',
    'a==1 ; extra == "Foo_Bar"',
    'a==1 ; os.name == "nt"',
    'a==1 ; "linux" == sys_platform',
    'a==1 ; sys_platform in "linux darwin"',
    'a==1 ; platform_release >= "5"',
    # versions and names
    "Foo_Bar.baz==2.0",
    "numpy==2.0.0rc1",
    "numpy==2.0.0.post1.dev3",
    "torch==2.5.1+cpu",
    "torch==2.5.1+cu121.abc",
    "pkg==1!2.0",
    "pkg==v1.0",
    "pkg==1.0.*",
    "pkg==1.0-1",
    "pkg==1.0a",
    "pkg==1.0.RC1",
    "pkg===1.0-weird",
    "pkg == 1.0",
    "pkg==1.0,==1.0",
    "pkg>=1.0",
    "pkg[extra]==1.0",
    "pkg @ https://example.org/pkg-1.0-py3-none-any.whl",
    "pkg@https://example.org/pkg-1.0-py3-none-any.whl",
    # requirement lines users write
    "wandb>=0.15",
    "wandb >= 0.15",
    "scipy>=1.10,<1.14",
    "scipy >=1.10 , <1.14",
    "pandas~=2.1.0",
    "rich",
    'colorama ; sys_platform == "win32"',
    "colorama; sys_platform == 'win32'",
    'colorama;sys_platform=="win32"',
    'colorama ; sys_platform == "win32" and',
    "colorama ;",
    'colorama ; sys_platform == "win32" # comment',
    "requests[security]>=2",
    "-e .",
    "./vendor/pkg",
    "git+https://example.org/x.git",
    "numpy>=2.0 ",
    "numpy>=99999999999999999999",
    "numpy>=>2",
    "numpy==",
    "_private",
    "pkg-",
]


def _real_lines() -> list[str]:
    """Every pin of our own locks/requirements.txt (what lockgen wrote), hashes dropped."""
    path = ROOT / "locks" / "requirements.txt"
    if not path.is_file():
        return []
    return [
        " ".join(t for t in line.split() if not t.startswith("--hash="))
        for _, line in logical_lines(path.read_text())
        if not line.startswith("-")
    ]


def _packaging_pin(spec: str) -> tuple[str, str, str | None] | None:
    """What lockfiles.requirements reads from a pin line through packaging (its fallback)."""
    try:
        requirement = Requirement(spec)
    except InvalidRequirement:
        return None
    exact = [s.version for s in requirement.specifier if s.operator in ("==", "===")]
    if requirement.url or len(exact) != 1:
        return None
    return canonicalize_name(requirement.name), exact[0], str(requirement.marker) if requirement.marker else None


def _packaging_name(text: str) -> str | None:
    try:
        return Requirement(text).name
    except InvalidRequirement:
        return None


@pytest.mark.parametrize("line", [*ODD_BUT_VALID, *_real_lines()])
def test_a_pin_is_read_as_packaging_reads_it_or_left_to_packaging(line: str) -> None:
    ours = plain_pin(line)
    if ours is not None:
        assert ours == _packaging_pin(line)


@pytest.mark.parametrize("line", [*ODD_BUT_VALID, *_real_lines()])
def test_a_requirement_name_is_packagings_or_left_to_packaging(line: str) -> None:
    ours = plain_requirement_name(line)
    if ours is not None:
        assert ours == _packaging_name(line)


def test_our_own_pins_never_need_packaging() -> None:
    """Every pin lockgen wrote in our own lock is read here (so `check` and a no-op lock skip packaging)."""
    lines = _real_lines()
    if not lines:
        pytest.skip("no locks/requirements.txt in this checkout")
    assert any(" ; " in line for line in lines)  # markers are covered
    assert [line for line in lines if plain_pin(line) is None] == []


@pytest.mark.parametrize(
    "line",
    [
        'gitdb==4.0.12 ; sys_platform == "darwin"',
        'torch==2.5.1 ; (platform_machine == "x86_64" and sys_platform == "linux") or sys_platform == "win32"',
        "Foo_Bar.baz==2.0",
        "torch==2.5.1+cpu",
    ],
)
def test_the_shapes_lockgen_writes_are_read_here(line: str) -> None:
    assert plain_pin(line) == _packaging_pin(line) is not None


@pytest.mark.parametrize(
    "line",
    [
        "colorama==0.4.6 ; sys_platform == 'win32'",
        'a==1 ; (sys_platform == "linux")',
        'a==1 ; extra == "Foo_Bar"',
        'a==1 ; os.name == "nt"',
        "pkg===1.0-weird",
        "pkg[extra]==1.0",
        "pkg @ https://example.org/pkg-1.0-py3-none-any.whl",
        "pkg==1.0.*",
        "pkg==1.0,==1.0",
        "pkg==v1.0",
    ],
)
def test_other_pins_are_left_to_packaging_and_still_read(line: str) -> None:
    """None here; lockfiles.requirements then reads the line through packaging, as before."""
    assert plain_pin(line) is None
    found = parse_compiled(line)
    expected = _packaging_pin(line)
    if expected is None:
        assert found == () or found[0].url is not None
    else:
        assert (found[0].name, found[0].version, found[0].marker) == expected



def test_a_requirements_text_is_parsed_once_per_process() -> None:
    """check and a no-op lock read the pins twice (the verdict, the pins held to the requirements): the
    second read is the first's immutable result (Round 6); another text is parsed for itself."""
    text = "appa==1.0 \\\n    --hash=sha256:" + "a" * 64 + "\n    # via pip: section\n"
    first = parse_compiled(text)
    assert [(p.name, p.version, p.via) for p in first] == [("appa", "1.0", ("pip: section",))]
    assert parse_compiled(text) is first
    other = parse_compiled(text.replace("1.0", "2.0"))
    assert other is not first and other[0].version == "2.0"


_NAMES = st.from_regex(r"[A-Za-z0-9](?:[A-Za-z0-9._-]{0,8}[A-Za-z0-9])?", fullmatch=True)
_VERSIONS = st.from_regex(
    r"(?:[0-9]!)?[0-9]{1,3}(?:\.[0-9]{1,3}){0,3}(?:(?:a|b|rc)[0-9])?(?:\.post[0-9])?(?:\.dev[0-9])?(?:\+[a-z0-9]{1,4})?",
    fullmatch=True,
)
_VARIABLES = st.sampled_from(
    ["sys_platform", "platform_machine", "platform_system", "os_name", "python_version", "implementation_name", "extra"]
)
_VALUES = st.sampled_from(
    ["linux", "darwin", "win32", "x86_64", "AMD64", "arm64", "3.11", "nt", "posix", "v1", "Linux"]
)
_ITEMS = st.builds(
    lambda var, op, value, quote: f"{var} {op} {quote}{value}{quote}",
    _VARIABLES,
    st.sampled_from(["==", "!=", "<", ">=", "~="]),
    _VALUES,
    st.sampled_from(['"', "'"]),
)


def _markers(depth: int = 2) -> st.SearchStrategy[str]:
    leaf: st.SearchStrategy[str] = _ITEMS
    if depth == 0:
        return leaf
    inner = _markers(depth - 1)
    joined = st.builds(lambda a, op, b: f"{a} {op} {b}", inner, st.sampled_from(["and", "or"]), inner)
    grouped = st.builds(lambda m: f"({m})", inner)
    return st.one_of(leaf, joined, grouped)


@pytest.mark.slow  # generated examples: a few seconds each
@_SETTINGS
@given(_NAMES, _VERSIONS, st.one_of(st.none(), _markers()))
def test_generated_pins_agree_with_packaging(name: str, version: str, marker: str | None) -> None:
    line = f"{name}=={version}" + (f" ; {marker}" if marker else "")
    ours = plain_pin(line)
    if ours is not None:
        assert ours == _packaging_pin(line)
    formatted = _packaging_pin(line)
    if formatted is not None and formatted[2] is not None and "extra" not in line and "~=" not in line:
        rewritten = f"{name}=={version} ; {formatted[2]}"  # as lockgen writes it: always read here
        assert plain_pin(rewritten) == _packaging_pin(rewritten)


@pytest.mark.slow  # generated examples: a few seconds each
@_SETTINGS
@given(st.from_regex(_PLAIN_PIP_REQUIREMENT, fullmatch=True), st.one_of(st.none(), _markers()))
def test_generated_requirements_agree_with_packaging(head: str, marker: str | None) -> None:
    line = f"{head} ; {marker}" if marker else head
    ours = plain_requirement_name(line)
    if marker is None:
        assert ours is not None
    if ours is not None:
        assert ours == Requirement(line).name


@pytest.mark.slow  # generated examples: a few seconds each
@_SETTINGS
@given(_markers(), st.sampled_from(["linux", "darwin", "win32"]), st.sampled_from(["x86_64", "arm64", "AMD64"]))
def test_markers_evaluate_as_packaging_evaluates_them(marker: str, platform: str, machine: str) -> None:
    environment = {"sys_platform": platform, "platform_machine": machine, "os_name": "posix", "python_version": "3.11"}
    ours = marker_applies(marker, environment)
    if ours is not None:
        assert ours is Marker(marker).evaluate(dict(environment))


def test_lockgens_markers_are_evaluated_here() -> None:
    environment = {"sys_platform": "win32", "platform_machine": "AMD64"}
    assert marker_applies('sys_platform == "linux" or sys_platform == "win32"', environment) is True
    assert marker_applies('platform_machine == "x86_64" and sys_platform == "linux"', environment) is False
    assert marker_applies('python_version < "3.13"', environment) is None  # a version: packaging's
    assert marker_applies('platform_system == "Linux"', environment) is None  # not in the environment given


def test_canonical_name_is_packagings() -> None:
    for name in ("Foo_Bar.baz", "a--b__c..d", "NUMPY", "x"):
        assert canonical_name(name) == canonicalize_name(name)


_VERSION_TEXT = st.text(alphabet="0123456789.٣ +ab", min_size=0, max_size=12)
_RELEASES = st.lists(st.integers(0, 10**12), min_size=1, max_size=6).map(lambda r: ".".join(map(str, r)))


@_SETTINGS
@given(st.one_of(_VERSION_TEXT, _RELEASES))
def test_plain_release_is_packagings_release(text: str) -> None:
    """A release read without packaging (Round 8) is packaging's, for a version with nothing but a release."""
    release = plain_release(text)
    if release is None:
        return
    version = Version(text)
    assert release == version.release
    assert str(version) == ".".join(map(str, release))  # nothing else: no pre-, post-, dev-release or local part


@pytest.mark.parametrize("text", ["1.26.4", "0", "01.002", "2024.06.13", "3.11.9"])
def test_plain_release_reads_plain_versions(text: str) -> None:
    assert plain_release(text) == Version(text).release


@pytest.mark.parametrize(
    "text", ["", "1.", ".1", "1..2", "v1", " 1", "1 ", "1.0rc1", "1.0+cpu", "٣.١", "1!2", "1.0.post1"]
)
def test_plain_release_leaves_the_rest_to_packaging(text: str) -> None:
    assert plain_release(text) is None
    try:
        Version(text)
    except InvalidVersion:
        return
    assert Version(text).release is not None  # valid, but not plain: packaging reads it
