"""conda-lock's unified lock file (``conda-lock.yml``, format v1): its one reader and its one writer.

conda-lock 2.x–4.x write ``conda-lock.yml`` as YAML with ``version: 1``, a ``metadata`` mapping
(``content_hash`` per platform, ``channels`` as ``{url, used_env_vars}``, ``platforms``,
``sources``, optional ``time_metadata``/``git_metadata``/``inputs_metadata``/``custom_metadata``)
and a ``package`` list: one entry per package *and platform*, with ``name``, ``version``,
``manager`` (``conda`` or ``pip``), ``platform``, ``dependencies`` (name → version spec),
``url``, ``hash`` (``md5`` required for conda, ``sha256``), ``category`` and ``optional``.
Its ``conda-<platform>.lock`` renderings are ``@EXPLICIT`` files whose pip packages follow as
``# pip NAME @ URL#sha256=HASH`` comments (:mod:`lockgen.frompins` reads them for ``--from``).

:func:`parse_condalock` (:func:`read_condalock` for a file) is the one reader of format v1,
:func:`render_condalock` its one writer (the same solution as lockgen's own locks);
:func:`explicit_for_platform` and :func:`pip_requirements_for_platform` give one platform's
packages as the records ``lockgen install`` uses. A file that cannot be read raises
:class:`~lockgen.lockfiles.explicit.MalformedLock` whose message names the file (and the package
entry) itself: a YAML entry has no single line.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

import yaml

from lockgen.lockfiles.explicit import ExplicitEntry, ExplicitLock, MalformedLock
from lockgen.lockfiles.requirements import VCS_PREFIXES
from lockgen.models import PACKAGE_EXTENSIONS, PACKAGE_NAME, LockedPackage
from lockgen.records import dataclass

__all__ = [
    "CondaLockFile",
    "CondaLockPackage",
    "explicit_for_platform",
    "explicit_lock",
    "is_condalock_path",
    "parse_condalock",
    "pip_requirements_for_platform",
    "read_condalock",
    "read_lock_text",
    "render_condalock",
]

FORMAT_VERSION = 1
MAX_BYTES = 64 * 1024 * 1024
_MD5 = re.compile(r"^[0-9a-f]{32}$")
_SHA256 = re.compile(r"^[0-9a-f]{64}$")
_PLATFORM = re.compile(r"^[a-z0-9]+-[a-z0-9_]+$")
_NAME = re.compile(rf"^{PACKAGE_NAME}$")
_COMMIT = re.compile(r"^[0-9a-f]{7,64}$")


@dataclass(frozen=True, slots=True)
class CondaLockPackage:
    """One ``package`` entry: a package for one platform."""

    name: str
    version: str
    manager: str
    """``conda`` or ``pip``."""
    platform: str
    url: str
    md5: str | None = None
    sha256: str | None = None
    dependencies: tuple[tuple[str, str], ...] = ()
    category: str = "main"
    optional: bool = False
    commit: str | None = None
    """A pip VCS pin's commit: conda-lock 2.5.8–3.0.3 store it in ``hash.sha256`` (then None here)."""


@dataclass(frozen=True, slots=True)
class CondaLockFile:
    platforms: tuple[str, ...]
    channels: tuple[str, ...]
    sources: tuple[str, ...]
    content_hash: tuple[tuple[str, str], ...]
    packages: tuple[CondaLockPackage, ...]

    def for_platform(self, platform: str, manager: str) -> tuple[CondaLockPackage, ...]:
        return tuple(p for p in self.packages if p.platform == platform and p.manager == manager)


def is_condalock_path(path: Path) -> bool:
    """A file named like conda-lock's unified lock (``*.yml``/``*.yaml``), as opposed to an explicit file."""
    return path.suffix.lower() in (".yml", ".yaml")


# ----------------------------------------------------------------------------------------- reading


def _fail(where: str, message: str) -> MalformedLock:
    return MalformedLock(f"{where}: {message}")


class _Float(float):
    """A YAML float with the text it was written as and its line (``1.10`` reads as 1.1)."""

    text: str
    line: int


class _Int(int):
    """A YAML int with the text it was written as and its line (``010`` reads as 8)."""

    text: str
    line: int


class _Loader(yaml.SafeLoader):
    """PyYAML's safe loader; its numbers keep the text they were written as (see :func:`_as_written`)."""


def _number(loader: yaml.SafeLoader, node: yaml.ScalarNode) -> _Float | _Int:
    value = loader.construct_yaml_float(node) if node.tag.endswith(":float") else loader.construct_yaml_int(node)
    number = _Float(value) if isinstance(value, float) else _Int(value)
    number.text, number.line = str(node.value), node.start_mark.line + 1
    return number


_Loader.add_constructor("tag:yaml.org,2002:float", _number)
_Loader.add_constructor("tag:yaml.org,2002:int", _number)


def _as_written(value: object, where: str, what: str) -> None:
    """MalformedLock for a number where text is meant that does not read back as written: YAML reads
    ``version: 1.10`` as 1.1 (and ``010`` as 8), another version; conda-lock quotes such values."""
    if isinstance(value, (_Float, _Int)) and str(value) != value.text:
        raise _fail(
            where,
            f"{what} {value.text} (line {value.line}) is a YAML number, read as {value!r}, not as {value.text}:"
            f" quote it, '{value.text}'",
        )


def _text(value: object, where: str, what: str, *, required: bool = True) -> str | None:
    if value is None and not required:
        return None
    _as_written(value, where, what)
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        raise _fail(where, f"{what} must be a string, got {type(value).__name__}")
    text = str(value).strip()
    if required and not text:
        raise _fail(where, f"{what} is empty")
    return text


def _package(raw: object, where: str) -> CondaLockPackage:
    if not isinstance(raw, dict):
        raise _fail(where, "each package must be a mapping")
    name = _text(raw.get("name"), where, "name")
    assert name is not None
    if not _NAME.match(name):
        raise _fail(where, f"invalid package name {name!r}")
    where = f"{where} ({name})"
    version = _text(raw.get("version"), where, "version") or ""
    manager = _text(raw.get("manager", "conda"), where, "manager")
    if manager not in ("conda", "pip"):
        raise _fail(where, f"manager must be conda or pip, got {manager!r}")
    platform = _text(raw.get("platform"), where, "platform") or ""
    if not _PLATFORM.match(platform):
        raise _fail(where, f"invalid platform {platform!r}")
    url = _text(raw.get("url"), where, "url") or ""
    hashes = raw.get("hash") or {}
    if not isinstance(hashes, dict):
        raise _fail(where, "hash must be a mapping with md5 and/or sha256")
    md5 = _text(hashes.get("md5"), where, "hash.md5", required=False) or None
    sha256 = _text(hashes.get("sha256"), where, "hash.sha256", required=False) or None
    if md5 is not None and not _MD5.match(md5.lower()):
        raise _fail(where, f"hash.md5 is not 32 hex digits: {md5!r}")
    commit = None
    if manager == "pip" and url.startswith(VCS_PREFIXES) and sha256 is not None and _COMMIT.match(sha256.lower()):
        commit, sha256 = sha256.lower(), None  # conda-lock wrote the VCS pin's commit id there
    if sha256 is not None and not _SHA256.match(sha256.lower()):
        raise _fail(where, f"hash.sha256 is not 64 hex digits: {sha256!r}")
    if manager == "conda":
        if not url.endswith(PACKAGE_EXTENSIONS) or "://" not in url:
            raise _fail(where, f"url is not a conda package URL: {url!r}")
        if md5 is None and sha256 is None:
            raise _fail(where, "a conda package needs hash.md5 or hash.sha256")
    deps = raw.get("dependencies") or {}
    if not isinstance(deps, dict):
        raise _fail(where, "dependencies must be a mapping of name to version spec")
    for k, v in deps.items():
        _as_written(v, where, f"dependencies: {k}:")
    dependencies = tuple(sorted((str(k), "" if v is None else str(v)) for k, v in deps.items()))
    category = _text(raw.get("category", "main"), where, "category") or "main"
    optional = raw.get("optional", category != "main")
    if not isinstance(optional, bool):
        raise _fail(where, "optional must be true or false")
    return CondaLockPackage(
        name=name,
        version=version,
        manager=manager,
        platform=platform,
        url=url,
        md5=md5.lower() if md5 else None,
        sha256=sha256.lower() if sha256 else None,
        dependencies=dependencies,
        category=category,
        optional=optional,
        commit=commit,
    )


def _string_list(value: object, where: str, what: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if not isinstance(value, list):
        raise _fail(where, f"metadata.{what} must be a list")
    return tuple(_text(v, where, f"metadata.{what} item") or "" for v in value)


def _channels(value: object, where: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if not isinstance(value, list):
        raise _fail(where, "metadata.channels must be a list")
    found = []
    for item in value:
        url = item.get("url") if isinstance(item, dict) else item
        found.append(_text(url, where, "metadata.channels url") or "")
    return tuple(found)


def parse_condalock(text: str, where: str = "conda-lock.yml") -> CondaLockFile:
    """Parse conda-lock's unified lock file (format v1). Raises MalformedLock naming the problem."""
    try:
        data = yaml.load(text, Loader=_Loader)  # noqa: S506 (a SafeLoader, its numbers keeping their text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = f":{mark.line + 1}" if mark is not None else ""
        raise MalformedLock(f"{where}{line}: not valid YAML ({getattr(exc, 'problem', exc)})") from exc
    except RecursionError:  # PyYAML composes nested lists and mappings recursively
        raise MalformedLock(f"{where}: not valid YAML (lists or mappings nested too deep)") from None
    if not isinstance(data, dict) or "package" not in data or "metadata" not in data:
        raise _fail(where, "not a conda-lock lock file (no `metadata` and `package`)")
    version = data.get("version")
    if version != FORMAT_VERSION:
        shown = "missing" if version is None else repr(version)
        raise _fail(where, f"conda-lock lock format version {shown} is not supported (lockgen reads version 1)")
    metadata = data["metadata"]
    if not isinstance(metadata, dict):
        raise _fail(where, "metadata must be a mapping")
    hashes = metadata.get("content_hash") or {}
    if not isinstance(hashes, dict):
        raise _fail(where, "metadata.content_hash must be a mapping of platform to hash")
    for key, digest in hashes.items():
        _as_written(digest, where, f"metadata.content_hash: {key}:")
    raw_packages = data["package"] or []
    if not isinstance(raw_packages, list):
        raise _fail(where, "package must be a list")
    packages = tuple(_package(raw, f"{where}: package {i + 1}") for i, raw in enumerate(raw_packages))
    platforms = _string_list(metadata.get("platforms"), where, "platforms")
    return CondaLockFile(
        platforms=platforms or tuple(sorted({p.platform for p in packages})),
        channels=_channels(metadata.get("channels"), where),
        sources=_string_list(metadata.get("sources"), where, "sources"),
        content_hash=tuple(sorted((str(k), str(v)) for k, v in hashes.items())),
        packages=packages,
    )


def read_lock_text(path: Path) -> str:
    """A lock file's text (conda-lock.yml or an explicit file), refused when too large or not UTF-8."""
    try:
        size = path.stat().st_size
        if size > MAX_BYTES:
            raise MalformedLock(f"{path}: larger than {MAX_BYTES // 2**20} MiB; not a lock file?", None, path)
        return path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise MalformedLock(f"{path}: not UTF-8 text", None, path) from exc
    except OSError as exc:
        raise MalformedLock(f"{path}: cannot read: {exc.strerror or exc}", None, path) from exc


def read_condalock(path: Path) -> CondaLockFile:
    return parse_condalock(read_lock_text(path), str(path))


def explicit_lock(platform: str, packages: Iterable[CondaLockPackage]) -> ExplicitLock:
    """``packages`` (conda entries) as an explicit lock's records, in their order."""
    entries = tuple(
        ExplicitEntry(p.url, p.md5, p.sha256, i)
        for i, p in enumerate(packages, start=1)
        if not p.name.startswith("__")  # virtual packages (older conda-lock listed some) are not files
    )
    return ExplicitLock(platform, None, entries, ())


def explicit_for_platform(lock: CondaLockFile, platform: str, where: str) -> ExplicitLock:
    """The conda packages of one platform as the explicit-lock records ``lockgen install`` installs.

    Optional (non-``main``) categories are left out, as ``conda-lock install`` does by default.
    """
    if platform not in lock.platforms and not lock.for_platform(platform, "conda"):
        listed = ", ".join(lock.platforms) or "none"
        raise MalformedLock(f"{where} has no packages for {platform} (its platforms: {listed})")
    packages = [p for p in lock.for_platform(platform, "conda") if not p.optional]
    _no_placeholders(packages, where)
    return ExplicitLock(platform, None, explicit_lock(platform, packages).entries, ())


def _no_placeholders(packages: Iterable[CondaLockPackage], where: str) -> None:
    """conda-lock writes private channels' credentials as ``${VAR}``; expanding variables named by a
    file a pull request can change would send secrets wherever it points, so they are refused."""
    for p in packages:
        if "$" in p.url:
            raise MalformedLock(
                f"{where}: {p.name}'s URL uses an environment variable placeholder; lockgen does not expand"
                " them: give the channel's credentials through rattler's auth file (RATTLER_AUTH_FILE)"
                " or a --mirror URL instead"
            )


def pip_requirements_for_platform(lock: CondaLockFile, platform: str, where: str) -> str | None:
    """A hash-pinned requirements text for the platform's pip packages (None when it has none)."""
    _no_placeholders(lock.for_platform(platform, "pip"), where)
    lines = []
    for p in lock.for_platform(platform, "pip"):
        if p.optional:
            continue
        if p.url.startswith(VCS_PREFIXES):
            raise MalformedLock(
                f"{where}: pip package {p.name} is a VCS pin ({p.url.split('://', 1)[0]}://…"
                f"{'@' + p.commit[:12] if p.commit else ''}) that no hash can check; lock it with"
                " `lockgen lock --from` (it goes to requirements-unhashed.txt) and install with `lockgen install`"
            )
        if not p.sha256 or "://" not in p.url:
            raise MalformedLock(f"{where}: pip package {p.name} has no sha256 or no URL; cannot install it")
        lines.append(f"{p.name} @ {p.url.split('#', 1)[0]} --hash=sha256:{p.sha256}")
    return "".join(f"{line}\n" for line in lines) or None


# ----------------------------------------------------------------------------------------- writing


def _dependency_map(depends: Sequence[str]) -> list[tuple[str, str]]:
    """``depends`` as conda-lock writes them: name → the version part of its spec(s), sorted by name."""
    merged: dict[str, list[str]] = {}
    for spec in depends:
        parts = spec.split()
        if not parts:
            continue
        name = parts[0].split("::")[-1]
        version = parts[1] if len(parts) > 1 else ""
        merged.setdefault(name, [])
        if version and version not in merged[name]:
            merged[name].append(version)
    return sorted((name, ",".join(versions)) for name, versions in merged.items())


def _quote(value: str) -> str:
    """A YAML scalar: plain when it is a simple word that reads back as the same string, else single-quoted."""
    if re.match(r"^[A-Za-z0-9_][A-Za-z0-9_.+\-]*$", value) and yaml.safe_load(value) == value:
        return value
    return "'" + value.replace("'", "''") + "'"


def _hex(digest: str) -> str:
    """A hex digest as YAML: plain, but quoted when it is all digits (YAML would read an integer)."""
    return f"'{digest}'" if digest.isdigit() else digest


def _url_value(value: str) -> str:
    return value if re.match(r"^[A-Za-z][A-Za-z0-9+.\-]*://[^\s'\"#{}\[\],]+$", value) else _quote(value)


def _conda_entry(platform: str, package: LockedPackage) -> list[str]:
    lines = [
        f"- name: {_quote(package.name)}",
        f"  version: {_quote(package.version)}",
        "  manager: conda",
        f"  platform: {platform}",
    ]
    deps = _dependency_map(package.depends)
    if deps:
        lines.append("  dependencies:")
        lines += [f"    {_quote(name)}: {_quote(spec)}" for name, spec in deps]
    else:
        lines.append("  dependencies: {}")
    lines.append(f"  url: {_url_value(package.url)}")
    lines.append("  hash:")
    if package.md5:
        lines.append(f"    md5: {_hex(package.md5)}")
    if package.sha256:
        lines.append(f"    sha256: {_hex(package.sha256)}")
    lines += ["  category: main", "  optional: false"]
    return lines


def _pip_entry(platform: str, pin: CondaLockPackage) -> list[str]:
    assert pin.sha256 is not None
    return [
        f"- name: {_quote(pin.name)}",
        f"  version: {_quote(pin.version)}",
        "  manager: pip",
        f"  platform: {platform}",
        "  dependencies: {}",
        f"  url: {_url_value(pin.url)}",
        "  hash:",
        f"    sha256: {_hex(pin.sha256)}",
        "  category: main",
        "  optional: false",
    ]


def render_condalock(
    conda: Mapping[str, Sequence[LockedPackage]],
    pip: Mapping[str, Sequence[CondaLockPackage]],
    *,
    channels: Sequence[str],
    sources: Sequence[str],
    content_hash: Mapping[str, str],
    header: Sequence[str] = (),
) -> str:
    """conda-lock's unified lock (format v1) for ``conda`` (platform → packages) and ``pip``
    (platform → its pip entries, each with a URL and ``sha256``).

    Packages are sorted as conda-lock sorts them (manager, name, platform), each dependency map by
    name; no time or git metadata: the same solution always gives the same bytes.
    """
    platforms = sorted(conda)
    lines = [f"# {line}".rstrip() for line in header]
    lines += ["version: 1", "metadata:", "  content_hash:"]
    lines += [f"    {p}: {_quote(content_hash[p])}" for p in platforms]
    lines.append("  channels:")
    for channel in channels:
        lines += [f"  - url: {_url_value(channel)}", "    used_env_vars: []"]
    lines.append("  platforms:")
    lines += [f"  - {p}" for p in platforms]
    lines.append("  sources:")
    lines += [f"  - {_quote(s)}" for s in sources]
    lines.append("package:")
    keyed: list[tuple[tuple[str, str, str], list[str]]] = []
    for platform in platforms:
        for package in conda[platform]:
            keyed.append((("conda", package.name, platform), _conda_entry(platform, package)))
        for pin in pip.get(platform, ()):
            keyed.append((("pip", pin.name, platform), _pip_entry(platform, pin)))
    for _, entry in sorted(keyed, key=lambda item: item[0]):
        lines += entry
    return "\n".join(lines) + "\n"
