"""lockgen.records.dataclass behaves as the standard library's: every shape of class, built both
ways, gives the same fields, parameters, signature, docstring, methods, ``__init__`` (its code
too), slots, pickling, errors and instances (repr, equality, hash, order, immutability, replace,
asdict, copy), on the running Python. The shapes cover what lockgen builds by hand and what goes
to the standard library (a base class, ClassVar, InitVar, KW_ONLY, kw_only, unsafe_hash, ...)."""

from __future__ import annotations

import abc
import copy
import dataclasses
import functools
import importlib
import inspect
import operator
import pickle
import pkgutil
import re
import sys
from collections.abc import Callable
from dataclasses import KW_ONLY, InitVar, field
from typing import Any, ClassVar

import pytest

import lockgen
from lockgen import records

private: Any = records  # the module's names the type checker does not see (built only at run time)

_Args = tuple[tuple[Any, ...], dict[str, Any]]


class _Shape:
    def __init__(self, options: dict[str, Any], make: Callable[[], type], samples: list[_Args]) -> None:
        self.options, self.make, self.samples = options, make, samples

    def both(self) -> tuple[Any, Any]:
        return dataclasses.dataclass(self.make(), **self.options), records.dataclass(self.make(), **self.options)


_SHAPES: dict[str, _Shape] = {}


def _shape(name: str, samples: list[_Args], **options: Any) -> Callable[[Callable[[], type]], Callable[[], type]]:
    def register(make: Callable[[], type]) -> Callable[[], type]:
        _SHAPES[name] = _Shape(options, make, samples)
        return make

    return register


def _a(*args: Any, **kwargs: Any) -> _Args:
    return args, kwargs


_THREE_STRINGS = [_a("u", None, 1), _a("u", None, 1), _a("v", "m", 2, ("t",)), _a(url="w", md5="x", line=3)]


def _entry() -> type:
    class Entry:
        url: str
        md5: str | None
        line: int = 0
        tags: tuple[str, ...] = ()
        note: str = field(default="", repr=False, compare=False, metadata={"k": 1})

    return Entry


_shape("frozen slots", _THREE_STRINGS, frozen=True, slots=True)(_entry)
_shape("frozen", _THREE_STRINGS, frozen=True)(_entry)
_shape("slots", _THREE_STRINGS, slots=True)(_entry)


@_shape("plain", [_a(1), _a(1), _a(2, [3]), _a(a=4, b=[5])])
def _plain() -> type:
    class Plain:
        a: int
        b: list[int] = field(default_factory=list)

    return Plain


@_shape("factories, frozen slots", [_a(1), _a(1), _a(2, {"x": 1}, [3]), _a(1, c=[2])], frozen=True, slots=True)
def _factories() -> type:
    class Made:
        """A docstring: kept."""

        a: int
        z: dict[str, int] = field(default_factory=dict)
        c: list[int] = field(default_factory=list)

    return Made


@_shape("init=False fields", [_a(1), _a(1), _a(2)], frozen=True)
def _not_in_init() -> type:
    class Partly:
        a: int
        b: int = field(default=5, init=False)
        c: list[int] = field(default_factory=list, init=False)

    return Partly


@_shape("init=False fields, slots", [_a(1), _a(1), _a(2)], frozen=True, slots=True)
def _not_in_init_slots() -> type:
    class Partly:
        a: int
        b: int = field(default=5, init=False)
        c: list[int] = field(default_factory=list, init=False)
        d: str = field(init=False, repr=False, compare=False)

        def __post_init__(self) -> None:
            object.__setattr__(self, "d", f"<{self.a}>")

    return Partly


@_shape("post_init, frozen slots", [_a("a/b"), _a("a/b"), _a("c/d")], frozen=True, slots=True)
def _post_init() -> type:
    class Derived:
        url: str
        head: str = field(init=False, repr=False, compare=False)

        def __post_init__(self) -> None:
            object.__setattr__(self, "head", self.url.split("/")[0])

    return Derived


@_shape("post_init, not frozen", [_a(1), _a(1), _a(2)])
def _post_init_plain() -> type:
    class Doubled:
        a: int
        twice: int = field(init=False)

        def __post_init__(self) -> None:
            self.twice = 2 * self.a

    return Doubled


@_shape("one field", [_a("x"), _a("x"), _a("y")], frozen=True)
def _one() -> type:
    class One:
        a: str

    return One


def _one_int() -> type:
    class One:
        a: int

    return One


_ONES = [_a(1), _a(1), _a(2)]
_shape("no repr no eq", _ONES, repr=False, eq=False, frozen=True)(_one_int)
_shape("eq, no repr, no match_args", _ONES, repr=False, match_args=False, slots=True)(_one_int)
_shape("order, not frozen", _ONES, order=True)(_one_int)
_shape("unsafe_hash", _ONES, unsafe_hash=True)(_one_int)
if sys.version_info >= (3, 11):  # 3.10's dataclass has no weakref_slot (refused alike: test_a_class_is_refused)
    _shape("weakref_slot", _ONES, frozen=True, slots=True, weakref_slot=True)(_one_int)


@_shape("no field", [_a(), _a()], frozen=True, slots=True)
def _none() -> type:
    class Nothing:
        pass

    return Nothing


@_shape("no field, not frozen", [_a(), _a()])
def _none_plain() -> type:
    class Nothing:
        pass

    return Nothing


@_shape("hash field", [_a(1), _a(1, 2, 3), _a(2)], frozen=True)
def _hash_field() -> type:
    class Hashed:
        a: int
        b: int = field(default=0, hash=False)
        c: int = field(default=0, compare=False, hash=True)

    return Hashed


@_shape("own eq", [_a(1), _a(-1), _a(2)], frozen=True)
def _own_eq() -> type:
    class OwnEq:  # noqa: PLW1641 - its implicit None hash is the shape under test
        a: int

        def __eq__(self, other: object) -> bool:
            return isinstance(other, OwnEq) and abs(self.a) == abs(other.a)

    return OwnEq


@_shape("own hash and repr", [_a(1), _a(1), _a(2)], frozen=True, slots=True)
def _own_hash() -> type:
    class OwnHash:
        a: int

        def __hash__(self) -> int:
            return 7

        def __repr__(self) -> str:
            return "mine"

    return OwnHash


@_shape("own init", [_a(1), _a(1), _a(2)], frozen=True)
def _own_init() -> type:
    class OwnInit:
        a: int

        def __init__(self, a: int) -> None:
            object.__setattr__(self, "a", a * 10)

    return OwnInit


@_shape("order", [_a(1), _a(1), _a(1, "b"), _a(2)], order=True, frozen=True, slots=True)
def _order() -> type:
    class Ordered:
        a: int
        b: str = ""
        c: int = field(default=0, compare=False)

    return Ordered


@_shape("recursive", [_a("n"), _a("n"), _a("m")], eq=True)
def _recursive() -> type:
    class Node:
        name: str
        children: list[Any] = field(default_factory=list)

    return Node


@_shape("many fields", [_a(*range(40)), _a(*range(40)), _a(*range(1, 41))], frozen=True, slots=True)
def _many() -> type:
    return type("Many", (), {"__annotations__": {f"f{i}": "int" for i in range(40)}})


@_shape("more fields than repeated", [_a(*range(70)), _a(*range(70)), _a(*range(1, 71))], frozen=True, slots=True)
def _more() -> type:
    return type("More", (), {"__annotations__": {f"f{i}": "int" for i in range(70)}})


# What the standard library builds (lockgen.records hands them over).
@_shape("a dataclass base", [_a(1, 2), _a(1, 2), _a(1, 3)], frozen=True, slots=True)
def _inherits() -> type:
    @dataclasses.dataclass(frozen=True, slots=True)
    class Base:
        a: int

    class Child(Base):
        b: int

    return Child


@_shape("a plain base", [_a(1), _a(1), _a(2)], frozen=True)
def _plain_base() -> type:
    class Base:
        shared = 3

    class Child(Base):
        a: int

    return Child


@_shape("ClassVar", [_a(1), _a(1), _a(2)], frozen=True, slots=True)
def _classvar() -> type:
    class WithClassVar:
        a: int
        counter: ClassVar[int] = 0

    return WithClassVar


@_shape("InitVar", [_a(1, 2), _a(1, 2), _a(2, 3)], frozen=True)
def _initvar() -> type:
    class WithInitVar:
        a: int
        extra: InitVar[int] = 0  # type: ignore[assignment]
        total: int = field(init=False, default=0)

        def __post_init__(self, extra: int) -> None:
            object.__setattr__(self, "total", self.a + extra)

    return WithInitVar


@_shape("KW_ONLY", [_a(1, b=2), _a(1, b=2), _a(2, b=3)], frozen=True)
def _kw_only_marker() -> type:
    class WithMarker:
        a: int
        _: KW_ONLY
        b: int = 0

    return WithMarker


@_shape("kw_only", [_a(a=1), _a(a=1), _a(a=2, b=1)], kw_only=True, frozen=True, slots=True)
def _kw_only() -> type:
    class KwOnly:
        a: int
        b: int = 0

    return KwOnly


@_shape("field kw_only", [_a(1, b=2), _a(1, b=2), _a(2, b=3)], frozen=True)
def _field_kw_only() -> type:
    class FieldKwOnly:
        a: int
        b: int = field(kw_only=True)

    return FieldKwOnly


@_shape("init=False", [_a(), _a()], init=False, frozen=True)
def _no_init() -> type:
    class NoInit:
        a: int = 1

    return NoInit


@_shape("abstract", [], frozen=True)
def _abstract() -> type:
    class Abstract(abc.ABC):
        a: int

        @abc.abstractmethod
        def run(self) -> None: ...

    return Abstract


@_shape("annotations not strings", [_a(1), _a(1), _a(2)], frozen=True, slots=True)
def _real_annotations() -> type:
    return type("Real", (), {"__annotations__": {"a": int, "b": ClassVar[int]}, "b": 3})


@_shape("a field named self", [_a(1), _a(1), _a(2)], frozen=True)
def _self_field() -> type:
    return type("Selfish", (), {"__annotations__": {"self": "int"}})


def _outcome(call: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """What a call gives (an object: its repr, less its address), or the error it raises (type and
    text), to compare."""
    try:
        value = call(*args, **kwargs)
    except Exception as error:
        return ("raised", type(error).__name__, str(error))
    if isinstance(value, (int, bool, tuple, list, dict)) or value is None:
        return ("ok", value)
    if not isinstance(value, str):
        try:
            value = repr(value)
        except Exception as error:
            return ("ok", "its repr raised", type(error).__name__, str(error))
    return ("ok", re.sub(r" at 0x[0-9a-f]+", "", value))


def _plain_value(value: Any) -> Any:
    return value if value is dataclasses.MISSING or isinstance(value, type) or not callable(value) else "a function"


def _attribute(value: Any) -> Any:
    return "a slot" if type(value).__name__ == "member_descriptor" else _plain_value(value)


_METHODS = ["__init__", "__repr__", "__eq__", "__hash__", "__lt__", "__le__", "__gt__", "__ge__", "__setattr__"]
_METHODS += ["__delattr__", "__getstate__", "__setstate__", "__replace__"]


def _field_facts(f: dataclasses.Field[Any]) -> list[Any]:
    facts = [f.name, f.type, _plain_value(f.default), _plain_value(f.default_factory), f.init, f.repr, f.hash]
    return [*facts, f.compare, dict(f.metadata), f.kw_only, getattr(f, "_field_type", None)]


def _class_facts(cls: Any) -> dict[str, Any]:
    facts: dict[str, Any] = {"doc": cls.__doc__, "signature": _outcome(inspect.signature, cls)}
    init = cls.__init__
    facts["init"] = (init.__name__, init.__qualname__, getattr(init, "__module__", None))
    if hasattr(init, "__code__"):
        code = init.__code__
        facts["init code"] = (code.co_varnames[: code.co_argcount], code.co_filename)
        facts["init values"] = (init.__defaults__, init.__kwdefaults__, init.__annotations__)
    facts["fields"] = [_field_facts(f) for f in dataclasses.fields(cls)]
    facts["params"] = repr(cls.__dataclass_params__)
    facts["attributes"] = sorted(vars(cls))
    facts["slots"] = vars(cls).get("__slots__"), vars(cls).get("__match_args__", "none")
    facts["defaults"] = {f.name: _attribute(vars(cls).get(f.name, "none")) for f in dataclasses.fields(cls)}
    facts["methods"] = {
        name: getattr(vars(cls).get(name), "__qualname__", vars(cls).get(name))
        for name in _METHODS
        if name in vars(cls)
    }
    facts["hash"] = cls.__hash__ is None, cls.__hash__ is object.__hash__
    facts["abstract"] = sorted(getattr(cls, "__abstractmethods__", ()))
    facts["dataclass"] = dataclasses.is_dataclass(cls)
    return facts


def _instance_facts(cls: Any, samples: list[_Args]) -> list[Any]:
    facts: list[Any] = []
    made = []
    for args, kwargs in samples:
        try:
            made.append(cls(*args, **kwargs))
        except TypeError as error:
            facts.append(str(error))
    facts.append([_outcome(call) for call in _bad_calls(cls)])
    params = cls.__dataclass_params__
    names = [f.name for f in dataclasses.fields(cls)]
    for obj in made:
        facts.append(_outcome(repr, obj))
        if cls.__hash__ is not object.__hash__:  # by value (or none): the same
            facts.append(_outcome(hash, obj))
        for call in (dataclasses.asdict, dataclasses.astuple, copy.copy, copy.deepcopy):
            facts.append(_outcome(call, obj))
        facts.append(copy.deepcopy(obj) == obj)
        facts.append([getattr(obj, name, "unset") for name in names])
        init_names = [f.name for f in dataclasses.fields(cls) if f.init]
        if init_names:
            facts.append(_outcome(dataclasses.replace, obj, **{init_names[0]: getattr(obj, init_names[0])}))
        for name in [*names[:1], "zz"]:
            facts.append(_outcome(setattr, obj, name, getattr(obj, name, 1)))
            facts.append(_outcome(delattr, obj, name))
        facts.append(_outcome(obj.__setattr__, ["unhashable"], 1))
        facts.append(params.frozen)
    tests: list[Callable[[Any, Any], Any]] = [operator.eq, operator.ne]
    if params.order:
        tests += [operator.lt, operator.le, operator.gt, operator.ge]
    for first in made:
        for second in made:
            facts.append([_outcome(test, first, second) for test in tests])
    return facts


def _bad_calls(cls: Any) -> list[Callable[[], Any]]:
    """Calls whose errors the standard library words: an extra, a missing, an unknown and a
    repeated argument."""
    count = len([f for f in dataclasses.fields(cls) if f.init])
    first = {f.name: 1 for f in dataclasses.fields(cls)[:1] if f.init}
    return [
        functools.partial(cls, *range(count + 1)),
        functools.partial(cls, *range(max(count - 1, 0))),
        functools.partial(cls, *range(count), unknown=1),
        functools.partial(cls, *range(count), **first),
    ]


@pytest.mark.parametrize("name", sorted(_SHAPES))
def test_a_class_behaves_as_the_standard_librarys(name: str) -> None:
    shape = _SHAPES[name]
    standard, ours = shape.both()
    assert dataclasses.is_dataclass(ours)
    assert _class_facts(ours) == _class_facts(standard)
    assert _instance_facts(ours, shape.samples) == _instance_facts(standard, shape.samples)


@pytest.mark.parametrize("name", sorted(_SHAPES))
def test_a_class_pickles_as_the_standard_librarys(name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    shape = _SHAPES[name]
    outcomes = []
    for cls in shape.both():
        cls.__qualname__ = "_Pickled"  # where pickle finds it: this module's _Pickled
        monkeypatch.setattr(sys.modules[__name__], "_Pickled", cls, raising=False)
        made = [cls(*args, **kwargs) for args, kwargs in shape.samples[:2]]
        outcomes.append(
            [_outcome(_pickled, obj, protocol) for obj in made for protocol in (0, 2, pickle.HIGHEST_PROTOCOL)]
        )
    standard, ours = outcomes
    assert ours == standard


def _pickled(obj: Any, protocol: int) -> Any:
    return pickle.loads(pickle.dumps(obj, protocol))


def test_a_recursive_repr_is_cut_as_the_standard_librarys() -> None:
    standard, ours = _SHAPES["recursive"].both()
    s, o = standard("root"), ours("root")
    s.children.append(s)
    o.children.append(o)
    assert repr(o) == repr(s) == "_recursive.<locals>.Node(name='root', children=[...])"


def _refused() -> list[tuple[dict[str, Any], Callable[[], type]]]:
    def mutable_default() -> type:
        return type("Mutable", (), {"__annotations__": {"a": "list[int]"}, "a": []})

    def default_first() -> type:
        return type("Order", (), {"__annotations__": {"a": "int", "b": "int"}, "a": 1})

    def field_without_annotation() -> type:
        return type("Loose", (), {"__annotations__": {"a": "int"}, "b": field(default=1)})

    def own_setattr() -> type:
        def __setattr__(self: Any, name: str, value: Any) -> None:
            object.__setattr__(self, name, value)

        return type("OwnSetattr", (), {"__annotations__": {"a": "int"}, "__setattr__": __setattr__})

    def own_lt() -> type:
        def __lt__(self: Any, other: Any) -> bool:
            return True

        return type("OwnLt", (), {"__annotations__": {"a": "int"}, "__lt__": __lt__})

    def own_slots() -> type:
        return type("OwnSlots", (), {"__annotations__": {"a": "int"}, "__slots__": ("a",)})

    def two_kw_only_markers() -> type:
        return type("Markers", (), {"__annotations__": {"_": "KW_ONLY", "__": "KW_ONLY", "a": "int"}})

    return [
        ({"frozen": True}, mutable_default),
        ({"frozen": True}, default_first),
        ({}, field_without_annotation),
        ({"frozen": True}, own_setattr),
        ({"order": True}, own_lt),
        ({"order": True, "eq": False}, _one_int),
        ({"slots": True}, own_slots),
        ({"weakref_slot": True}, _one_int),
        ({}, two_kw_only_markers),
    ]


@pytest.mark.parametrize(("options", "make"), _refused())
def test_a_class_is_refused_as_by_the_standard_library(options: dict[str, Any], make: Callable[[], type]) -> None:
    standard = _outcome(dataclasses.dataclass, make(), **options)
    ours = _outcome(records.dataclass, make(), **options)
    assert standard[0] == "raised"
    assert ours == standard


@pytest.mark.skipif(not private._BY_HAND, reason="this Python's classes all go to the standard library")
@pytest.mark.parametrize("name", sorted(name for name in _SHAPES if _SHAPES[name].options.get("init", True)))
def test_init_is_the_standard_librarys_code(name: str) -> None:
    """The same bytecode, constants, names and locals: an instance costs what it always cost."""
    standard, ours = _SHAPES[name].both()
    made, compiled = ours.__init__.__code__, standard.__init__.__code__
    assert (made.co_code, made.co_consts, made.co_names, made.co_varnames) == (
        compiled.co_code,
        compiled.co_consts,
        compiled.co_names,
        compiled.co_varnames,
    )
    assert (made.co_argcount, made.co_nlocals, made.co_stacksize, made.co_flags) == (
        compiled.co_argcount,
        compiled.co_nlocals,
        compiled.co_stacksize,
        compiled.co_flags,
    )


@pytest.mark.skipif(not private._BY_HAND, reason="this Python's classes all go to the standard library")
def test_init_is_made_at_first_use() -> None:
    standard, ours = _SHAPES["frozen slots"].both()
    assert not inspect.isfunction(vars(ours)["__init__"])
    assert str(inspect.signature(ours)) == str(inspect.signature(standard))  # looks at __init__: made now
    assert inspect.isfunction(vars(ours)["__init__"])

    _, first_called = _SHAPES["frozen slots"].both()

    class Sub(first_called):  # type: ignore[misc,valid-type]
        pass

    assert repr(Sub("u", None)) == "test_init_is_made_at_first_use.<locals>.Sub(url='u', md5=None, line=0, tags=())"
    assert inspect.isfunction(vars(first_called)["__init__"]) and "__init__" not in vars(Sub)
    assert first_called("u", None) == first_called("u", None)


def _lockgen_record_classes() -> list[Any]:
    found = []
    for info in pkgutil.walk_packages(lockgen.__path__, "lockgen."):
        if info.name.endswith("__main__"):
            continue
        module = importlib.import_module(info.name)
        found += [
            value
            for value in vars(module).values()
            if isinstance(value, type) and value.__module__ == module.__name__ and dataclasses.is_dataclass(value)
        ]
    return found


@pytest.mark.skipif(not private._BY_HAND, reason="this Python's classes all go to the standard library")
def test_lockgens_records_are_built_by_hand() -> None:
    """Every frozen record class of lockgen's modules is built by hand (its ``__setattr__`` is the
    closure here, not a method the standard library compiled): a new class's shape that went to
    the standard library would pay its compiled methods again unnoticed."""
    frozen = [cls for cls in _lockgen_record_classes() if cls.__dataclass_params__.frozen]
    assert len(frozen) > 100
    assert [cls.__qualname__ for cls in frozen if cls.__setattr__.__code__.co_filename != records.__file__] == []


def test_no_lockgen_module_builds_a_class_with_the_standard_decorator() -> None:
    """Every lockgen module takes ``dataclass`` from lockgen.records (``field``, ``replace`` and the
    rest still come from the standard library): a new module that did not would pay the compiled
    methods again, and a module moved between owners would lose it unnoticed."""
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
