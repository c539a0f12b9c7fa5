"""Target platforms (conda subdirs), their virtual packages, and ``# [selector]`` evaluation."""

from __future__ import annotations

import ast
import re
from collections.abc import Iterable

from lockgen.records import dataclass

__all__ = [
    "DEFAULT_PLATFORMS",
    "KNOWN_PLATFORMS",
    "PIP_MARKER_TERMS",
    "VirtualPackage",
    "check_platform",
    "default_virtual_packages",
    "evaluate_selector",
    "lock_file_name",
    "lock_file_names",
    "lowest_versions",
    "marker_terms",
    "parse_virtual_package_override",
    "selector_names",
]

DEFAULT_PLATFORMS: tuple[str, ...] = ("linux-64", "osx-64", "win-64")

KNOWN_PLATFORMS: frozenset[str] = frozenset(
    {
        "linux-32", "linux-64", "linux-aarch64", "linux-armv6l", "linux-armv7l", "linux-loongarch64",
        "linux-ppc64le", "linux-ppc64", "linux-ppc", "linux-s390x", "linux-riscv32", "linux-riscv64",
        "freebsd-64", "freebsd-arm64",
        "osx-64", "osx-arm64",
        "win-32", "win-64", "win-arm64",
        "emscripten-wasm32", "wasi-wasm32", "zos-z",
    }
)  # fmt: skip


PIP_MARKER_TERMS: dict[str, tuple[str, str]] = {
    "linux-64": ("linux", "x86_64"),
    "linux-aarch64": ("linux", "aarch64"),
    "osx-64": ("darwin", "x86_64"),
    "osx-arm64": ("darwin", "arm64"),
    "win-64": ("win32", "AMD64"),
    "win-arm64": ("win32", "ARM64"),
    "win-32": ("win32", "x86"),
}
"""conda subdir → its ``sys_platform`` and ``platform_machine`` (pip's markers): the platforms pip
packages are locked for."""


def marker_terms(platform: str) -> dict[str, str]:
    """The marker variables lockgen's pin markers use, as they are on ``platform`` (empty if unknown)."""
    if platform not in PIP_MARKER_TERMS:
        return {}
    sys_platform, machine = PIP_MARKER_TERMS[platform]
    return {"sys_platform": sys_platform, "platform_machine": machine}


def lock_file_names(template: str) -> dict[str, str]:
    """File name → platform for every known platform: the only files in a lock directory that are locks."""
    return {template.format(platform=p): p for p in sorted(KNOWN_PLATFORMS)}


_ARCHSPEC = {
    "64": "x86_64",
    "32": "x86",
    "aarch64": "aarch64",
    "arm64": "arm64",
    "armv6l": "armv6l",
    "armv7l": "armv7l",
    "ppc64le": "ppc64le",
    "ppc64": "ppc64",
    "s390x": "s390x",
    "riscv64": "riscv64",
    "loongarch64": "loongarch64",
}

# Defaults close to what conda-forge users run today: glibc 2.28 (conda-forge's default sysroot
# since 2025; older distributions can pin `__glibc=2.17`), Linux kernel 4.18, macOS 11.0.
DEFAULT_GLIBC = "2.28"
DEFAULT_LINUX = "4.18"
DEFAULT_OSX = {"osx-64": "11.0", "osx-arm64": "11.0"}
# conda reports the Windows version as `__win` (platform.version(): 10.0.<build> on Windows 10 and 11
# alike) and only says 0 when it is not running on Windows. conda-forge builds may constrain on it
# (libboost 1.90: `__win >=10`), so the default is a version real machines report: Windows 10 1809 /
# Server 2019 (build 17763), the oldest Windows still under Microsoft's long-term servicing.
DEFAULT_WIN = "10.0.17763"


def check_platform(platform: str) -> str:
    """``platform`` when it is a known conda subdir; ValueError otherwise (``-p ../../x`` included)."""
    if platform not in KNOWN_PLATFORMS:
        raise ValueError(f"unknown platform {platform!r} (for example: linux-64, osx-arm64, win-64)")
    return platform


_TEMPLATE = r"(?:[^{}]|\{\{|\}\}|\{platform:?\})*"
"""What :func:`lock_file_name` accepts: text, ``{{``, ``}}`` and ``{platform}`` (or ``{platform:}``,
no conversion and no format spec), exactly the templates whose only field ``string.Formatter``
finds is a plain ``platform`` (the ``string`` module is not imported for it: 0.5 ms on every command)."""


def lock_file_name(template: str, platform: str) -> str:
    """The lock file name ``template`` gives ``platform``; ValueError for a template that is not a
    plain file name holding ``{platform}`` (path separators, ``..``, other fields, bad braces)."""
    if "{platform}" not in template or "/" in template or "\\" in template or ".." in template:
        raise ValueError(f"the filename template must contain {{platform}} and no path separators, got {template!r}")
    check_platform(platform)
    if re.fullmatch(_TEMPLATE, template) is None:
        raise ValueError(f"the filename template {template!r} is not valid: only {{platform}} may be used")
    name = template.format(platform=platform)
    if name in (".", "..") or "/" in name or "\\" in name or "\0" in name:
        raise ValueError(f"the filename template {template!r} does not give a plain file name")
    return name


@dataclass(frozen=True, slots=True, order=True)
class VirtualPackage:
    name: str
    version: str
    build: str = "0"

    def __str__(self) -> str:
        return f"{self.name}={self.version}={self.build}"


def _version_key(version: str) -> tuple[tuple[int, str], ...]:
    return tuple((int(p), "") if p.isdigit() else (-1, p) for p in version.replace("-", ".").split("."))


def lowest_versions(packages: Iterable[VirtualPackage]) -> tuple[VirtualPackage, ...]:
    """Each virtual package of ``packages`` once, at its lowest version (the first of equal ones),
    sorted: what several targets locked together must all run on (glibc, macOS, CUDA)."""
    lowest: dict[str, VirtualPackage] = {}
    for package in packages:
        known = lowest.get(package.name)
        if known is None or _version_key(package.version) < _version_key(known.version):
            lowest[package.name] = package
    return tuple(sorted(lowest.values()))


def _os_and_arch(platform: str) -> tuple[str, str]:
    os_name, _, arch = platform.partition("-")
    return os_name, arch


def default_virtual_packages(platform: str, cuda: str | None = None) -> dict[str, VirtualPackage]:
    """The virtual packages lockgen assumes for ``platform`` (no detection: the target is not the host)."""
    os_name, arch = _os_and_arch(platform)
    archspec = VirtualPackage("__archspec", "1", _ARCHSPEC.get(arch, arch))
    found: list[VirtualPackage] = []
    if os_name == "linux":
        found += [
            VirtualPackage("__unix", "0"),
            VirtualPackage("__linux", DEFAULT_LINUX),
            VirtualPackage("__glibc", DEFAULT_GLIBC),
        ]
    elif os_name == "osx":
        found += [VirtualPackage("__unix", "0"), VirtualPackage("__osx", DEFAULT_OSX.get(platform, "11.0"))]
    elif os_name == "win":
        found += [VirtualPackage("__win", DEFAULT_WIN)]
    elif os_name in {"freebsd", "emscripten", "wasi", "zos"}:
        found += [VirtualPackage("__unix", "0")]
    found.append(archspec)
    if cuda is not None and os_name in {"linux", "win"}:
        found.append(VirtualPackage("__cuda", cuda))
    return {vp.name: vp for vp in found}


def parse_virtual_package_override(text: str) -> tuple[str, VirtualPackage]:
    """Parse ``PLATFORM:NAME=VERSION[=BUILD]`` (PLATFORM may be ``*``). Raises ValueError."""
    platform, sep, rest = text.partition(":")
    if not sep or not rest:
        raise ValueError(f"expected PLATFORM:NAME=VERSION, got {text!r}")
    platform = platform.strip()
    if platform != "*" and platform not in KNOWN_PLATFORMS:
        raise ValueError(f"unknown platform {platform!r} in {text!r}")
    name, sep, version = rest.partition("=")
    name = name.strip()
    if not sep or not name.startswith("__") or not version.strip():
        raise ValueError(f"expected a virtual package like __glibc=2.17, got {rest!r}")
    version, _, build = version.strip().partition("=")
    return platform, VirtualPackage(name, version, build or "0")


def selector_names(platform: str) -> dict[str, bool]:
    """Truth values of the names a ``# [selector]`` may use, for one target platform."""
    os_name, arch = _os_and_arch(platform)
    bits64 = arch in {"64", "aarch64", "arm64", "ppc64le", "ppc64", "s390x", "riscv64", "loongarch64"}
    names = {
        "linux": os_name == "linux",
        "osx": os_name == "osx",
        "win": os_name == "win",
        "unix": os_name in {"linux", "osx", "freebsd", "emscripten", "wasi", "zos"},
        "x86": arch in {"32", "64"},
        "x86_64": arch == "64",
        "arm64": arch == "arm64" or (os_name == "linux" and arch == "aarch64") or (platform == "win-arm64"),
        "aarch64": arch == "aarch64",
        "ppc64le": arch == "ppc64le",
        "s390x": arch == "s390x",
        "armv6l": arch == "armv6l",
        "armv7l": arch == "armv7l",
        "64bit": bits64,
        "32bit": not bits64,
    }
    for os_key in ("linux", "osx", "win"):
        for arch_key in ("32", "64", "aarch64", "arm64", "ppc64le", "s390x", "armv6l", "armv7l"):
            names[f"{os_key}{arch_key}"] = os_name == os_key and arch == arch_key
    names["linux_aarch64"] = platform == "linux-aarch64"
    names["osx_arm64"] = platform == "osx-arm64"
    return names


_ALLOWED = (ast.Expression, ast.BoolOp, ast.UnaryOp, ast.Not, ast.And, ast.Or, ast.Name, ast.Load)


def evaluate_selector(expression: str, platform: str) -> bool:
    """Evaluate a selector such as ``not win`` or ``linux and x86_64`` for ``platform``.

    Only names, ``not``, ``and``, ``or`` and parentheses are accepted; anything else raises
    ValueError with a message fit for the user.
    """
    try:
        tree = ast.parse(expression.strip(), mode="eval")
    except SyntaxError as exc:
        raise ValueError(f"selector [{expression}] is not a valid expression") from exc
    names = selector_names(platform)
    for node in ast.walk(tree):
        if not isinstance(node, _ALLOWED):
            raise ValueError(f"selector [{expression}] may only use names, not, and, or")
        if isinstance(node, ast.Name) and node.id not in names:
            known = ", ".join(sorted(names))
            raise ValueError(f"unknown selector name {node.id!r} in [{expression}] (known: {known})")
    return _eval(tree.body, names)


def _eval(node: ast.expr, names: dict[str, bool]) -> bool:
    if isinstance(node, ast.Name):
        return names[node.id]
    if isinstance(node, ast.UnaryOp):
        return not _eval(node.operand, names)
    if isinstance(node, ast.BoolOp):
        values = (_eval(v, names) for v in node.values)
        return all(values) if isinstance(node.op, ast.And) else any(values)
    raise ValueError("unsupported selector")  # pragma: no cover - guarded by the walk above
