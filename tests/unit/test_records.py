"""lockgen.records.dataclass behaves as the standard library's: every shape lockgen uses, built both
ways, gives the same repr, equality, hash (or none), immutability, fields and replace."""

from __future__ import annotations

import dataclasses
import pickle
from collections.abc import Callable
from typing import Any

import pytest

from lockgen import records

_SHAPES: dict[str, tuple[dict[str, Any], Callable[[], type]]] = {}


def _shape(name: str, **options: Any) -> Callable[[Callable[[], type]], Callable[[], type]]:
    def register(make: Callable[[], type]) -> Callable[[], type]:
        _SHAPES[name] = (options, make)
        return make

    return register


@_shape("frozen slots", frozen=True, slots=True)
def _frozen() -> type:
    class Entry:
        """doc"""

        url: str
        md5: str | None
        line: int = 0
        tags: tuple[str, ...] = ()
        note: str = dataclasses.field(default="", repr=False, compare=False)

    return Entry


@_shape("plain", eq=True)
def _plain() -> type:
    class Plain:
        a: int
        b: list[int] = dataclasses.field(default_factory=list)

    return Plain


@_shape("one field", frozen=True)
def _one() -> type:
    class One:
        a: str

    return One


@_shape("no field", frozen=True, slots=True)
def _none() -> type:
    class Nothing:
        pass

    return Nothing


@_shape("hash field", frozen=True)
def _hash_field() -> type:
    class Hashed:
        a: int
        b: int = dataclasses.field(default=0, hash=False)
        c: int = dataclasses.field(default=0, compare=False, hash=True)

    return Hashed


@_shape("own eq", frozen=True)
def _own_eq() -> type:
    class OwnEq:  # noqa: PLW1641 - its implicit None hash is the shape under test
        a: int

        def __eq__(self, other: object) -> bool:
            return isinstance(other, OwnEq) and abs(self.a) == abs(other.a)

    return OwnEq


@_shape("own hash and repr", frozen=True, slots=True)
def _own_hash() -> type:
    class OwnHash:
        a: int

        def __hash__(self) -> int:
            return 7

        def __repr__(self) -> str:
            return "mine"

    return OwnHash


@_shape("no repr no eq", repr=False, eq=False, frozen=True)
def _bare() -> type:
    class Bare:
        a: int

    return Bare


@_shape("order", order=True, frozen=True)
def _order() -> type:
    class Ordered:
        a: int
        b: str = ""

    return Ordered


@_shape("recursive", eq=True)
def _recursive() -> type:
    class Node:
        name: str
        children: list[Any] = dataclasses.field(default_factory=list)

    return Node


def _both(name: str) -> tuple[Any, Any]:
    options, make = _SHAPES[name]
    return dataclasses.dataclass(make(), **options), records.dataclass(make(), **options)


def _values(cls: Any) -> list[Any]:
    fields = [f for f in dataclasses.fields(cls) if f.init]
    samples: list[list[Any]] = [[], []]
    for f in fields:
        kind = str(f.type)
        if "list" in kind or "tuple" in kind:
            samples[0].append(("x",) if "tuple" in kind else [1])
            samples[1].append(("y",) if "tuple" in kind else [2])
        elif "int" in kind:
            samples[0].append(1)
            samples[1].append(-1)
        else:
            samples[0].append("a")
            samples[1].append("b")
    return samples


@pytest.mark.parametrize("name", sorted(_SHAPES))
def test_a_class_behaves_as_the_standard_librarys(name: str) -> None:
    standard, ours = _both(name)
    assert hasattr(ours, "__dataclass_fields__")  # a standard dataclass
    assert [(f.name, f.repr, f.compare, f.hash) for f in dataclasses.fields(ours)] == [
        (f.name, f.repr, f.compare, f.hash) for f in dataclasses.fields(standard)
    ]
    assert (ours.__hash__ is None) == (standard.__hash__ is None)
    first, second = _values(standard)
    made = [(standard(*args), ours(*args)) for args in (first, first, second)]
    for (s1, o1), (s2, o2) in [(made[0], made[1]), (made[0], made[2]), (made[1], made[2])]:
        if standard.__dataclass_params__.repr:
            assert repr(o1) == repr(s1)
        else:
            assert ours.__repr__ is standard.__repr__ is object.__repr__
        assert (o1 == o2) == (s1 == s2) and (o1 != o2) == (s1 != s2)
        if standard.__hash__ not in (None, object.__hash__):  # by value: the same
            assert hash(o1) == hash(s1)
        else:
            assert ours.__hash__ is standard.__hash__
    params = dataclasses.fields(ours)
    if params and standard.__dataclass_params__.frozen:
        with pytest.raises(dataclasses.FrozenInstanceError):
            setattr(made[0][1], params[0].name, first[0])
    if params:
        changed = dataclasses.replace(made[0][1], **{params[0].name: second[0]})
        assert changed == ours(second[0], *first[1:]) or not ours.__dataclass_params__.eq


def test_a_recursive_repr_is_cut_as_the_standard_librarys() -> None:
    standard, ours = _both("recursive")
    s, o = standard("root"), ours("root")
    s.children.append(s)
    o.children.append(o)
    assert repr(o) == repr(s) == "_recursive.<locals>.Node(name='root', children=[...])"


@records.dataclass(frozen=True, slots=True)
class _Pickled:
    a: int
    b: tuple[str, ...] = ()


def test_a_frozen_slots_record_pickles_and_orders_as_before() -> None:
    entry = _Pickled(3, ("x",))
    assert pickle.loads(pickle.dumps(entry)) == entry
    assert hash(entry) == hash((3, ("x",)))
    standard_order, ours_order = _both("order")
    assert sorted([ours_order(2), ours_order(1, "b"), ours_order(1)]) == [
        ours_order(1),
        ours_order(1, "b"),
        ours_order(2),
    ]
    assert ours_order.__lt__ is not standard_order.__lt__  # each class its own methods


def test_lockgens_records_are_built_here() -> None:
    """The classes of a quick command's modules: built by lockgen.records (no __eq__ compiled for them)."""
    from lockgen.config import LockOptions
    from lockgen.lockfiles.explicit import ExplicitEntry
    from lockgen.models import PackageUrl

    for cls in (LockOptions, ExplicitEntry, PackageUrl):
        assert cls.__eq__.__code__.co_filename == records.__file__, cls


def test_no_lockgen_module_builds_a_class_with_the_standard_decorator() -> None:
    """Every lockgen module takes ``dataclass`` from lockgen.records (``field``, ``replace`` and the
    rest still come from the standard library): a new module that did not would pay the three
    compiled methods again, and a module moved between owners would lose it unnoticed."""
    import ast
    from pathlib import Path

    package = Path(records.__file__).parent
    offenders = []
    for path in sorted(package.rglob("*.py")):
        if path == Path(records.__file__):
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            standard = (
                isinstance(node, ast.ImportFrom)
                and node.module == "dataclasses"
                and any(alias.name == "dataclass" for alias in node.names)
            )
            attribute = (
                isinstance(node, ast.Attribute)
                and node.attr == "dataclass"
                and (isinstance(node.value, ast.Name) and node.value.id == "dataclasses")
            )
            if (standard or attribute) and isinstance(node, (ast.ImportFrom, ast.Attribute)):
                offenders.append(f"{path.relative_to(package.parent)}:{node.lineno}")
    assert offenders == []
