"""A mapping file is checked whole (its entries in place, not copied) and read as before; stub wheels
are built once per package and process however many platforms write them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from lockgen.errors import ConfigError
from lockgen.pypi.mapping import PypiMapping, _parse_table, load_mapping
from lockgen.pypi.stubs import ProvidedPackage, stub_wheel_bytes, write_stubs


@pytest.mark.parametrize(
    "table",
    [{"a": "x"}, {"a": [1]}, {"a": ["x", None]}, {"a": {"b": ["c"]}}, {"a": True}, ["a"], "a"],
)
def test_a_malformed_table_is_refused(table: object) -> None:
    with pytest.raises(ValueError, match="where"):
        _parse_table(json.dumps(table).encode(), "where")


def test_a_file_with_one_bad_entry_among_many_is_a_config_error(tmp_path: Path) -> None:
    table: dict[str, object] = {f"pkg{i}": [f"pkg{i}"] for i in range(1000)}
    table["pkg500"] = ["ok", 3]
    path = tmp_path / "m.json"
    path.write_text(json.dumps(table))
    with pytest.raises(ConfigError, match="pkg500"):
        load_mapping(["conda-forge"], path, None)


def test_entries_answer_as_before(tmp_path: Path) -> None:
    path = tmp_path / "m.json"
    path.write_text(json.dumps({"python": None, "py-opencv": ["Opencv_Python", "opencv-python-headless"], "x": []}))
    mapping = load_mapping(["conda-forge"], path, None)
    assert isinstance(mapping, PypiMapping)
    assert mapping.answers(["python", "py-opencv", "x", "numpy"]) == {
        "numpy": ("numpy",),
        "py-opencv": ("opencv-python", "opencv-python-headless"),
        "python": (),
        "x": (),
    }


def test_stub_wheels_are_built_once_per_package(tmp_path: Path) -> None:
    packages = [ProvidedPackage(f"p{i}", "1.0", f"p{i}", "1.0") for i in range(5)]
    stub_wheel_bytes.cache_clear()
    for platform in ("linux-64", "osx-64", "win-64"):
        write_stubs(tmp_path / platform / "stubs", packages)
    assert stub_wheel_bytes.cache_info().misses == len(packages)
    first = sorted((p.name, p.read_bytes()) for p in (tmp_path / "linux-64" / "stubs").iterdir())
    assert first == sorted((p.name, p.read_bytes()) for p in (tmp_path / "win-64" / "stubs").iterdir())


def test_platforms_writing_stubs_at_once_build_each_stub_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Two platforms solved at the same moment write their stubs in two threads: the second waits
    for the first's stubs instead of building them again (hashing slowed down so that both threads
    are building at once)."""
    import threading
    import time

    from lockgen.pypi import stubs

    slow = stubs._record_hash

    def record_hash(data: bytes) -> str:
        time.sleep(0.002)
        return slow(data)

    monkeypatch.setattr(stubs, "_record_hash", record_hash)
    packages = [ProvidedPackage(f"p{i}", "1.0", f"p{i}", "1.0") for i in range(20)]
    stub_wheel_bytes.cache_clear()
    threads = [
        threading.Thread(target=write_stubs, args=(tmp_path / platform / "stubs", packages))
        for platform in ("osx-64", "win-64")
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert stub_wheel_bytes.cache_info().misses == len(packages)
    assert len(list((tmp_path / "win-64" / "stubs").iterdir())) == len(packages)
