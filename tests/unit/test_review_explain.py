"""`explain` core on records given directly (no repodata): chains, cycles, constraints, errors."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pytest

from lockgen.config import LockOptions, build_options
from lockgen.lockfiles import ExplicitEntry
from lockgen.review.explain import ExplainError, Explanation, Record, explain, explain_records
from tests.support.options import flags

RECORDS = {
    "app": Record("app", "1.0", "0", depends=("lib >=2", "python >=3.10")),
    "tool": Record("tool", "2.0", "0", depends=("app", "lib <3")),
    "lib": Record("lib", "2.5", "h0", depends=("python",)),
    "python": Record("python", "3.11.9", "h0", constrains=("lib !=2.4",)),
}


def test_shortest_chain_from_each_spec() -> None:
    chains, _ = explain_records(RECORDS, [("app", "env.yml:4"), ("tool >=2", "env.yml:5")], "lib")
    assert [[s.record.name for s in chain] for chain in chains] == [["app", "lib"], ["tool", "lib"]]
    assert (chains[0][0].requirement, chains[0][0].origin) == ("app", "env.yml:4")
    assert chains[0][1].requirement == "lib >=2"


def test_spec_naming_the_package_itself_and_every_constraint() -> None:
    chains, constraints = explain_records(RECORDS, [("lib 2.*", "env.yml:6"), ("tool", "env.yml:5")], "lib")
    assert [len(chain) for chain in chains] == [1, 2]
    found = [(c.source, c.spec, c.kind) for c in constraints]
    assert found == [
        ("env.yml:6", "lib 2.*", "spec"),
        ("app 1.0 (0)", "lib >=2", "depends"),
        ("python 3.11.9 (h0)", "lib !=2.4", "constrains"),
        ("tool 2.0 (0)", "lib <3", "depends"),
    ]


def test_cycles_terminate() -> None:
    records = {"a": Record("a", "1", "0", depends=("b",)), "b": Record("b", "1", "0", depends=("a",))}
    chains, _ = explain_records(records, [("a", "e:1")], "b")
    assert [[s.record.name for s in c] for c in chains] == [["a", "b"]]
    assert explain_records(records, [("a", "e:1")], "zzz") == ((), ())


class FakeSource:
    def __init__(self) -> None:
        self.asked: list[tuple[str, int]] = []

    def records(self, platform: str, entries: Sequence[ExplicitEntry]) -> dict[str, Record]:
        self.asked.append((platform, len(entries)))
        return {e.name: RECORDS[e.name] for e in entries}


def _project(tmp_path: Path) -> LockOptions:
    (tmp_path / "environment.yml").write_text(
        "channels: [conda-forge]\nplatforms: [linux-64]\ndependencies:\n  - tool\n"
    )
    lock = tmp_path / "locks" / "linux-64.txt"
    lock.parent.mkdir()
    base = "https://conda.anaconda.org/conda-forge/linux-64"
    lines = [f"{base}/{r.name}-{r.version}-{r.build}.conda#{'0' * 32}" for r in RECORDS.values()]
    lock.write_text("# platform: linux-64\n@EXPLICIT\n" + "\n".join(lines) + "\n")
    return build_options([tmp_path / "environment.yml"], flags(output_dir=tmp_path / "locks"))


def test_explain_with_a_dependency_source(tmp_path: Path) -> None:
    options = _project(tmp_path)
    source = FakeSource()
    found = explain(options, "Python", "linux-64", source=source)
    assert source.asked == [("linux-64", 4)]
    assert isinstance(found, Explanation)
    assert found.target == RECORDS["python"]
    assert [[s.record.name for s in c] for c in found.chains] == [["tool", "app", "python"]]
    assert {c.spec for c in found.constraints} == {"python >=3.10", "python"}


def test_explain_errors(tmp_path: Path) -> None:
    options = _project(tmp_path)
    with pytest.raises(ExplainError, match="numpy is not in"):
        explain(options, "numpy", "linux-64", source=FakeSource())
    with pytest.raises(ExplainError, match="does not exist"):
        explain(options, "lib", "osx-64", source=FakeSource())
