"""conda → PyPI names: the file, parselmouth (fetched through a fake transport, cached), the fallback."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lockgen.errors import ConfigError
from lockgen.pypi.mapping import ParselmouthSource, PypiMapping, load_mapping, mapping_channel_name, snapshot_table
from tests.conftest import SHARED_MAPPING

TABLE = {"pytorch": ["torch"], "py-opencv": ["opencv-python"], "libfoo": None, "numpy": ["numpy"]}


class Counting:
    """An httpx transport that serves TABLE (or a status) and counts requests."""

    def __init__(self, status: int = 200, body: bytes | None = None) -> None:
        self.status = status
        self.body = json.dumps(TABLE).encode() if body is None else body
        self.urls: list[str] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.urls.append(str(request.url))
        return httpx.Response(self.status, content=self.body)

    @property
    def transport(self) -> httpx.MockTransport:
        return httpx.MockTransport(self)


@pytest.mark.parametrize(
    ("channel", "name"),
    [
        ("conda-forge", "conda-forge"),
        ("pytorch", "pytorch"),
        ("https://conda.anaconda.org/nvidia", "nvidia"),
        ("https://conda.anaconda.org/conda-forge/", "conda-forge"),
        ("https://repo.example.com/channel", None),
        ("/srv/channels/local", None),
    ],
)
def test_channel_names(channel: str, name: str | None) -> None:
    assert mapping_channel_name(channel) == name


def test_fetch_then_cache(tmp_path: Path) -> None:
    fake = Counting()
    source = ParselmouthSource(tmp_path, url_template="https://mapping.test/{channel}.json", transport=fake.transport)
    mapping = load_mapping(["conda-forge", "nodefaults-is-not-a-url/x"], None, source)
    assert fake.urls == ["https://mapping.test/conda-forge.json"]
    assert mapping.description == "parselmouth conda-forge" and not mapping.fallback
    assert mapping.pypi_names("pytorch") == ("torch",)
    assert mapping.pypi_names("libfoo") == ()
    again = load_mapping(["conda-forge"], None, source)
    assert fake.urls == ["https://mapping.test/conda-forge.json"]  # served from the cache
    assert again.pypi_names("py-opencv") == ("opencv-python",)


def test_stale_cache_is_refreshed_and_used_when_the_fetch_fails(tmp_path: Path) -> None:
    cache = tmp_path / "pypi-mapping" / "conda-forge.json"
    cache.parent.mkdir(parents=True)
    cache.write_text(json.dumps({"pytorch": ["torch"]}))
    old = time.time() - 3 * 24 * 3600
    os.utime(cache, (old, old))
    failing = Counting(status=503)
    source = ParselmouthSource(tmp_path, url_template="https://m.test/{channel}", transport=failing.transport)
    mapping = load_mapping(["conda-forge"], None, source)
    assert len(failing.urls) == 1
    assert mapping.pypi_names("pytorch") == ("torch",)
    assert any("using the cached copy" in n for n in mapping.notes)
    fresh = Counting()
    ParselmouthSource(tmp_path, url_template="https://m.test/{channel}", transport=fresh.transport).load("conda-forge")
    assert json.loads(cache.read_text()) == TABLE


def test_offline_without_cache_uses_the_snapshot(tmp_path: Path) -> None:
    fake = Counting()
    source = ParselmouthSource(tmp_path, offline=True, transport=fake.transport)
    mapping = load_mapping(["conda-forge", "pytorch"], None, source)
    assert fake.urls == []
    assert not mapping.fallback and "snapshot of 2026-08-19" in mapping.description
    assert sum("using lockgen's snapshot" in n for n in mapping.notes) == 2
    assert mapping.pypi_names("pytorch") == ("torch",)
    assert mapping.pypi_names("ignite") == ("pytorch-ignite",)  # only in pytorch's table
    assert mapping.pypi_names("libgcc") == ()


def test_snapshot_is_parselmouths_table(shared_dir: Path) -> None:
    for channel in ("conda-forge", "pytorch"):
        shared = json.loads((SHARED_MAPPING / f"{channel}.json").read_text())
        snapshot = snapshot_table(channel)
        assert snapshot is not None
        assert {k: list(v) if v is not None else None for k, v in snapshot.items()} == shared
    assert snapshot_table("nvidia") is None and snapshot_table("../data/x") is None


def test_offline_without_cache_or_snapshot_falls_back(tmp_path: Path) -> None:
    fake = Counting()
    source = ParselmouthSource(tmp_path, offline=True, transport=fake.transport)
    mapping = load_mapping(["mychannel"], None, source)
    assert fake.urls == []
    assert mapping.fallback and mapping.description == "built-in fallback"
    assert any("built-in table" in n for n in mapping.notes)
    assert mapping.pypi_names("pytorch") == ("torch",)
    assert mapping.pypi_names("matplotlib-base") == ("matplotlib",)
    assert mapping.pypi_names("pytables") == ("tables",)
    assert mapping.pypi_names("msgpack-python") == ("msgpack",)
    assert mapping.pypi_names("py-opencv") == ("opencv-python", "opencv-python-headless")
    assert mapping.pypi_names("requests") == ("requests",)  # unknown: same name
    assert mapping.pypi_names("libopenblas") == ()
    assert mapping.pypi_names("python") == ()
    assert mapping.pypi_names("cuda-nvcc_linux-64") == ()


def test_network_error_falls_back_quickly(tmp_path: Path) -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("no route", request=request)

    source = ParselmouthSource(tmp_path, transport=httpx.MockTransport(refuse))
    mapping = load_mapping(["conda-forge", "pytorch", "mychannel"], None, source)
    assert not mapping.fallback  # conda-forge and pytorch come from lockgen's snapshot
    assert sum("could not be fetched" in n for n in mapping.notes) == 3
    assert load_mapping(["mychannel"], None, source).fallback


def test_bad_json_from_the_server_is_not_cached(tmp_path: Path) -> None:
    source = ParselmouthSource(tmp_path, transport=Counting(body=b"<html>").transport)
    table, note = source.load("conda-forge")
    assert table is None and note and "not JSON" in note
    assert not (tmp_path / "pypi-mapping" / "conda-forge.json").exists()


def test_mapping_file(tmp_path: Path) -> None:
    path = tmp_path / "m.json"
    path.write_text(json.dumps(TABLE))
    mapping = load_mapping(["conda-forge"], path, None)
    assert mapping.description == "file m.json"
    assert mapping.pypi_names("pytorch") == ("torch",)
    path.write_text(json.dumps({"x": 3}))
    with pytest.raises(ConfigError, match="entry 'x' must be a list"):
        load_mapping([], path, None)
    with pytest.raises(ConfigError, match="cannot read"):
        load_mapping([], tmp_path / "missing.json", None)


def test_shared_parselmouth_copy_reads(shared_dir: Path) -> None:
    table = json.loads((SHARED_MAPPING / "conda-forge.json").read_text())
    mapping = PypiMapping((table,), "shared")
    assert mapping.pypi_names("pytorch") == ("torch",)
    assert mapping.pypi_names("libgcc") == ()
    assert mapping.pypi_names("typing_extensions") == ("typing-extensions",)


@settings(max_examples=2000, deadline=None)
@given(st.text(alphabet="aZz09-_.İßK ", max_size=8))
def test_the_shortcut_for_normal_names_is_the_substitution(name: str) -> None:
    """Names already normal are given back as they are (Round 8): exactly what PEP 503's substitution
    gives, for any mix of letters (cased, uncased, ones whose lower case differs in length) and separators."""
    import re

    from lockgen.pypi.mapping import _canonical

    assert _canonical(name) == re.sub(r"[-_.]+", "-", name).lower()


def test_names_of_the_packaged_snapshot_are_normalized_as_before() -> None:
    import gzip
    import re
    from pathlib import Path

    import lockgen.pypi.mapping as mapping

    snapshot = Path(mapping.__file__).parent.parent / "data" / "parselmouth-conda-forge.json.gz"
    table = json.loads(gzip.decompress(snapshot.read_bytes()))
    names = {n for values in table.values() for n in values or ()} | set(table)
    assert len(names) > 10_000
    assert all(mapping._canonical(n) == re.sub(r"[-_.]+", "-", n).lower() for n in names)
