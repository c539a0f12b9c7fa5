"""lockgen.records.dataclass against the standard library's, differentially: the same module source
(one or two classes, a base and a class) executed twice, its ``dataclass`` the standard library's
then lockgen's, and everything observable compared: the build's outcome or error, each class's
``__dict__`` (its keys in order), fields, params, signature, ``__init__`` (defaults, annotations,
code), docstring, methods (names, modules, ``__wrapped__``, pickling), slots, ``__weakref__``,
hash; each instance's repr (recursive too), equality and order (with the other class's too), hash,
frozen set/delete, replace, asdict/astuple, copy/deepcopy, pickle round trips, weak references,
``__post_init__`` calls and the errors of wrong arguments.

The shapes: seeded random ones (what lockgen writes, and what a future class might: defaults,
factories, every ``field()`` option, ClassVar, InitVar, KW_ONLY, kw_only, slots, frozen, order,
unsafe_hash, own methods, a base record whose field a subclass overrides, descriptors as
defaults, odd field names) and hand-written edge cases. It runs on the running Python, and
tests/integration/test_other_pythons.py runs it on every other supported Python the machine has
(docs/performance.md, "Round 8: record classes, checked")."""

from __future__ import annotations

import copy
import dataclasses
import inspect
import keyword
import operator
import pickle
import pprint
import random
import re
import sys
import types
import weakref
from collections.abc import Callable
from typing import Any

import pytest

from lockgen import records
from tests.unit.test_records import _bad_calls, _field_facts, _outcome

_MODULE = "lockgen_records_differential_shape"
_PREAMBLE = """\
import dataclasses, typing
from dataclasses import field, InitVar, KW_ONLY
from typing import ClassVar, Any
POSTS = []

class Desc:
    def __set_name__(self, owner, name):
        self.name = "_" + name
    def __get__(self, obj, owner=None):
        return 7 if obj is None else obj.__dict__.get(self.name, 7)
    def __set__(self, obj, value):
        obj.__dict__[self.name] = value * 2
"""
_METHODS: tuple[str, ...] = ("__init__", "__repr__", "__eq__", "__hash__", "__lt__", "__le__", "__gt__", "__ge__")
_METHODS += ("__setattr__", "__delattr__", "__getstate__", "__setstate__", "__replace__")


def _run(source: str, decorator: Callable[..., Any]) -> list[str]:
    """The module built with ``decorator`` as its ``dataclass``, and everything observed of its
    classes, as text with addresses taken out."""
    module = types.ModuleType(_MODULE)
    module.__dict__["dataclass"] = decorator
    sys.modules[_MODULE] = module
    try:
        built = _outcome(exec, _compiled(source), module.__dict__)
        facts: dict[str, Any] = {"built": built}
        classes: list[Any] = [value for name, value in vars(module).items() if name in {"Base", "K"}]
        for cls in classes:
            facts[cls.__name__] = _class_facts(cls)
        for cls in classes:
            if _is_record(cls):
                facts[f"{cls.__name__} instances"] = _instance_facts(cls, classes)
        facts["post_init calls"] = module.POSTS
    finally:
        del sys.modules[_MODULE]
    return re.sub(r" at 0x[0-9a-f]+", "", pprint.pformat(_shown(facts), width=120)).splitlines()


def _shown(value: Any) -> Any:
    """``value`` with every object not a plain container or scalar as its repr (or its error)."""
    if isinstance(value, (list, tuple)):
        return type(value)(_shown(item) for item in value)
    if isinstance(value, dict):
        return {str(key): _shown(item) for key, item in value.items()}
    if isinstance(value, str):  # (its addresses taken out before pformat splits the text)
        return re.sub(r" at 0x[0-9a-f]+", "", value)
    if value is None or isinstance(value, (bool, int, float, bytes)):
        return value
    return _outcome(repr, value)[1:]


def _compiled(source: str) -> types.CodeType:
    """The module's code: ``from __future__ import annotations`` (when the shape has it) first."""
    future = "from __future__ import annotations\n"
    head = future if future in source else ""
    return compile(head + _PREAMBLE + source.replace(future, "", 1), "<shape>", "exec")


def _class_facts(cls: Any) -> dict[str, Any]:
    facts: dict[str, Any] = {"doc": _outcome(getattr, cls, "__doc__"), "keys": list(vars(cls))}
    facts["signature"] = _outcome(lambda: str(inspect.signature(cls)))
    facts["annotations"] = vars(cls).get("__annotations__")
    facts["slots"] = vars(cls).get("__slots__", "none"), vars(cls).get("__match_args__", "none")
    facts["weakref"] = "__weakref__" in vars(cls), "__dict__" in vars(cls)
    facts["hash"] = cls.__hash__ is None, cls.__hash__ is object.__hash__
    if not _is_record(cls):
        return facts
    init = cls.__init__
    if inspect.isfunction(init):
        code = init.__code__
        facts["init"] = (init.__name__, init.__qualname__, init.__module__, init.__defaults__, init.__kwdefaults__)
        facts["init annotations"] = init.__annotations__
        facts["init code"] = (code.co_varnames, code.co_names, code.co_consts, code.co_freevars, code.co_filename)
        facts["init code 2"] = (code.co_name, getattr(code, "co_qualname", None), code.co_firstlineno, code.co_flags)
        facts["init closure"] = inspect.getclosurevars(init).nonlocals
    facts["fields"] = [_field_facts(f) for f in dataclasses.fields(cls)]
    facts["field reprs"] = [_outcome(repr, f) for f in getattr(cls, "__dataclass_fields__", {}).values()]
    facts["all fields"] = {name: f._field_type.name for name, f in getattr(cls, "__dataclass_fields__", {}).items()}
    facts["params"] = repr(cls.__dataclass_params__)
    facts["class attributes"] = {f.name: repr(vars(cls).get(f.name, "none")) for f in dataclasses.fields(cls)}
    methods: dict[str, Any] = {}
    for name in _METHODS:
        method = vars(cls).get(name)
        if callable(method):
            methods[name] = (
                method.__name__,
                method.__qualname__,
                method.__module__,
                getattr(getattr(method, "__wrapped__", None), "__qualname__", "unwrapped"),
                _outcome(lambda m=method: str(inspect.signature(m))),
                _outcome(lambda m=method: pickle.loads(pickle.dumps(m)) is m),
            )
        elif name in vars(cls):
            methods[name] = method
    facts["methods"] = methods
    return facts


def _is_record(cls: Any) -> bool:
    return dataclasses.is_dataclass(cls)


def _samples(cls: Any) -> list[tuple[tuple[Any, ...], dict[str, Any]]]:
    """Calls of ``cls``: all arguments given, twice (equal instances), other values, only the
    required ones."""
    try:
        parameters = list(inspect.signature(cls).parameters.values())
    except (TypeError, ValueError):
        return [((), {})]
    calls = []
    for offset, everything in ((1, True), (1, True), (5, True), (9, False)):
        args: list[Any] = []
        kwargs: dict[str, Any] = {}
        for i, p in enumerate(parameters):
            if not everything and p.default is not inspect.Parameter.empty:
                continue
            if p.kind is inspect.Parameter.KEYWORD_ONLY or (args and i % 3 == 2) or kwargs:
                kwargs[p.name] = offset + i
            else:
                args.append(offset + i)
        calls.append((tuple(args), kwargs))
    return calls


def _add(facts: list[Any], fact: Any) -> None:
    """``fact`` as text now (an instance's state is changed after)."""
    facts.append(_shown(fact))


def _made(cls: Any, facts: list[Any]) -> list[Any]:
    """The instances of the sample calls (their errors added to ``facts``)."""
    made = []
    for args, kwargs in _samples(cls):
        try:
            made.append(cls(*args, **kwargs))
        except Exception as error:
            facts.append(("raised", type(error).__name__, str(error)))
    return made


def _instance_facts(cls: Any, classes: list[Any]) -> list[Any]:
    facts: list[Any] = []
    made = _made(cls, facts)
    _add(facts, [_outcome(call) for call in _bad_calls(cls)])
    names = [f.name for f in dataclasses.fields(cls)]
    others = [_made(other, [])[:1] for other in classes if other is not cls and _is_record(other)]
    for obj in made:
        _add(facts, _outcome(repr, obj))
        _add(facts, _outcome(getattr, obj, "__doc__"))
        if cls.__hash__ is not object.__hash__:  # by value (an object hashed by its id: whether it hashes)
            plain = all(_plain(getattr(obj, name, None)) for name in names)
            _add(facts, _outcome(hash, obj) if plain else _outcome(hash, obj)[:1])
        for call in (dataclasses.asdict, dataclasses.astuple, copy.copy, copy.deepcopy, vars, weakref.ref):
            _add(facts, _outcome(call, obj))
        _add(facts, _outcome(lambda o=obj: copy.deepcopy(o) == o))
        for protocol in (0, 2, pickle.HIGHEST_PROTOCOL):
            _add(facts, _outcome(lambda o=obj, p=protocol: repr(pickle.loads(pickle.dumps(o, p)))))
        _add(facts, [getattr(obj, name, "unset") for name in names])
        _add(facts, _outcome(dataclasses.replace, obj))
        if sys.version_info >= (3, 13):
            _add(facts, _outcome(copy.replace, obj))  # type: ignore[attr-defined]
        _add(facts, _outcome(dataclasses.replace, obj, unknown=1))
        for f in dataclasses.fields(cls):
            _add(facts, _outcome(dataclasses.replace, obj, **{f.name: getattr(obj, f.name, 0)}))
        for name in [*names[:2], "zz"]:
            _add(facts, _outcome(setattr, obj, name, getattr(obj, name, 1)))
            _add(facts, _outcome(delattr, obj, name))
            _add(facts, [getattr(obj, name, "unset") for name in names])
        _add(facts, _outcome(obj.__setattr__, ["unhashable"], 1))
        for other in [other for group in others for other in group]:
            for test in (operator.eq, operator.lt, operator.ge):
                _add(facts, _outcome(test, obj, other))
    for first in made:
        for second in made:
            _add(facts, [_outcome(test, first, second) for test in _COMPARISONS])
    if made and names:  # a recursive repr: the first field holding a list that holds the instance
        recursive = made[0]
        _add(facts, _outcome(object.__setattr__, recursive, names[0], [recursive]))
        _add(facts, _outcome(repr, recursive))
    return facts


_PLAIN = (int, str, bool, float, tuple, type(None))


def _plain(value: Any) -> bool:
    """Whether ``value`` hashes by value (not a NaN: hashed by its id)."""
    return type(value) in _PLAIN and value == value


_COMPARISONS = (operator.eq, operator.ne, operator.lt, operator.le, operator.gt, operator.ge)


def _assert_same(source: str) -> None:
    standard = _run(source, dataclasses.dataclass)
    ours = _run(source, records.dataclass)
    assert ours == standard, source


# Random shapes.

_NAMES = ["a", "b", "c", "d", "url", "name", "value", "type", "object", "hash", "super", "id", "match", "_", "x1"]
_NAMES += ["other", "cls", "values", "getters", "error", "names", "result"]  # the methods' own names
# Names the standard library's generated code might read otherwise: a keyword, a name Python
# normalises (NFKC), a private name, the generated code's own names on one Python or another.
_ODD_NAMES = ["self", "class", "\ufb01le", "__private", "__dataclass_self__", "_HAS_DEFAULT_FACTORY", "_dflt_a"]
_ODD_NAMES += ["_dflt_b", "MISSING", "BUILTINS", "_type_a", "_return_type", "__dataclass_dflt_a__", "NotImplemented"]
_OPTIONS = ["init", "repr", "eq", "order", "unsafe_hash", "frozen", "match_args", "kw_only", "slots", "weakref_slot"]
_LIKELY = {"init": 0.95, "repr": 0.9, "eq": 0.9, "match_args": 0.9, "frozen": 0.6, "slots": 0.5}


_ANNOTATIONS = 'locals().setdefault("__annotations__", {})'


def _field_source(rng: random.Random, name: str, common: bool) -> str:
    """A field's line; ``common``: of the kinds lockgen's classes have."""
    kind = rng.choices(
        ["plain", "default", "field", "factory", "classvar", "initvar", "marker", "desc", "mutable", "real"],
        weights=[30, 20, 20, 10, *([0] * 6 if common else [2, 2, 1, 2, 1, 1])],
    )[0]
    anything = "Any" if common else "typing.Any"
    annotation = rng.choice(["int", "str | None", anything, "list[int]", "'int'", "tuple[int]"])
    if keyword.iskeyword(name) or not name.isascii():  # written into the class's namespace
        return f"    {_ANNOTATIONS}[{name!r}] = {annotation!r}" + (f"\n    locals()[{name!r}] = 0" * (kind != "plain"))
    if kind == "plain":
        return f"    {name}: {annotation}"
    if kind == "default":
        return f"    {name}: {annotation} = {rng.choice(['0', repr('s'), 'None', '()', 'frozenset()', '3.5'])}"
    if kind == "classvar":
        prefix = rng.choice(["", "typing.", "dataclasses."])
        return f"    {name}: {prefix}ClassVar[int] = {rng.choice(['0', 'field(default=1)', '[]'])}"
    if kind == "initvar":
        prefix = rng.choice(["", "dataclasses."])
        return f"    {name}: {prefix}InitVar[int]" + rng.choice(["", " = 0", " = field(default=1)"])
    if kind == "marker":
        return f"    {name}: {rng.choice(['KW_ONLY', 'dataclasses.KW_ONLY'])}"
    if kind == "desc":
        return f"    {name}: int = Desc()"
    if kind == "mutable":
        return f"    {name}: list[int] = {rng.choice(['[]', '{}', 'set()'])}"
    if kind == "real":  # not a string annotation: the module's own ``from __future__`` is bypassed
        return f"    {_ANNOTATIONS}[{name!r}] = {rng.choice(['int', 'ClassVar[int]', 'InitVar[int]'])}"
    options = []
    if kind == "factory":
        options.append(f"default_factory={rng.choice(['list', 'dict', 'tuple', 'lambda: [1]'])}")
    elif rng.random() < 0.6:
        options.append(f"default={rng.choice(['0', repr('t'), 'None'])}")
    for option, values in (
        ("init", ["False"]),
        ("repr", ["False"]),
        ("compare", ["False"]),
        ("hash", ["None", "True", "False"]),
        ("kw_only", ["True", "False", "0", "[]"]),
        ("metadata", ["{'k': 1}"]),
    ):
        if rng.random() < (0 if common else 0.06 if option == "kw_only" else 0.2):
            options.append(f"{option}={rng.choice(values)}")
    return f"    {name}: {annotation} = field({', '.join(options)})"


def _class_source(rng: random.Random, name: str, base: str | None, taken: list[str], frozen: list[bool]) -> str:
    """A decorated class; ``frozen``: the base's (read, mostly followed) or this one's (written).
    Two in five are of the kinds lockgen's classes have (no base either)."""
    common = base is None and rng.random() < 0.4
    chosen = {
        option: rng.random() < _LIKELY.get(option, 0.07)
        for option in _OPTIONS
        if rng.random() < 0.7 and (option != "weakref_slot" or rng.random() < 0.3)
        if not common or option not in {"init", "unsafe_hash", "kw_only", "weakref_slot"}
    }
    if frozen and rng.random() < 0.9:  # a subclass mostly as frozen as its base (or refused)
        chosen["frozen"] = frozen[0]
    frozen.append(chosen.get("frozen", False))
    options = [f"{option}={value}" for option, value in chosen.items()]
    lines = [f"@dataclass({', '.join(options)})" if options or rng.random() < 0.5 else "@dataclass"]
    lines.append(f"class {name}({base}):" if base else f"class {name}:")
    if rng.random() < 0.4:
        lines.append('    """A docstring."""')
    names = []
    for _ in range(rng.choice([0, 1, 2, 2, 3, 3, 4, 5, 7])):
        odd = rng.random() < (0.02 if common else 0.08)
        pool = taken if taken and rng.random() < 0.3 else _ODD_NAMES if odd else _NAMES
        names.append(rng.choice(pool))
    fields = [_field_source(rng, field_name, common) for field_name in dict.fromkeys(names)]
    if rng.random() < 0.85:  # mostly the fields with a default last (or refused)
        fields.sort(key=lambda line: " = " in line and "init=False" not in line and "Var[" not in line)
    lines += fields
    extras = {
        "post_init": "    def __post_init__(self, *extra):\n        POSTS.append((type(self).__name__, extra))",
        "repr": "    def __repr__(self):\n        return 'mine'",
        "eq": "    def __eq__(self, other):\n        return NotImplemented",
        "hash": "    def __hash__(self):\n        return 5",
        "hash None": "    __hash__ = None",
        "lt": "    def __lt__(self, other):\n        return True",
        "setattr": "    def __setattr__(self, name, value):\n        object.__setattr__(self, name, value)",
        "init": "    def __init__(self, *args, **kwargs):\n        POSTS.append(('init', args, kwargs))",
        "slots": "    __slots__ = ()",
        "getstate": "    def __getstate__(self):\n        return 1\n    def __setstate__(self, state):\n        pass",
    }
    for extra, text in extras.items():
        if rng.random() < (0.3 if extra == "post_init" else 0.01 if common else 0.04):
            lines.append(text)
    if len(lines) == 2:
        lines.append("    pass")
    taken += names
    return "\n".join(lines) + "\n"


def _random_source(seed: int) -> str:
    rng = random.Random(seed)
    source = "from __future__ import annotations\n" if rng.random() < 0.9 else ""
    taken: list[str] = []
    frozen: list[bool] = []
    base = None
    if rng.random() < 0.25:
        source += _class_source(rng, "Base", None, taken, frozen)
        base = "Base"
    elif rng.random() < 0.05:
        source += "class Base:\n    shared = 1\n"
        base = "Base"
    return source + _class_source(rng, "K", base, taken, frozen)


_SEED = 20261207
_RANDOM_SHAPES = 300


@pytest.mark.parametrize("number", range(_RANDOM_SHAPES))
def test_a_random_shape_behaves_as_the_standard_librarys(number: int) -> None:
    _assert_same(_random_source(_SEED + number))


def test_the_random_shapes_cover_lockgens_and_more() -> None:
    """The seeded shapes are not all refused or all handed to the standard library: most build,
    and many of those are built by hand (their ``__init__`` made at first use)."""
    built = by_hand = 0
    for number in range(_RANDOM_SHAPES):
        module = types.ModuleType(_MODULE)
        module.__dict__["dataclass"] = records.dataclass
        sys.modules[_MODULE] = module
        try:
            exec(_compiled(_random_source(_SEED + number)), module.__dict__)
        except Exception:  # a refused shape (compared in the test above)
            continue
        finally:
            del sys.modules[_MODULE]
        built += 1
        by_hand += type(vars(module.K).get("__init__")).__name__ == "LazyInit"
    assert built > _RANDOM_SHAPES * 0.5  # (3.10 refuses weakref_slot: a tenth more refused there)
    assert by_hand > _RANDOM_SHAPES * 0.25 or not getattr(records, "_BY_HAND", False)


# Hand-written edge cases.

_EDGES = {
    "lockgen's common record": """
from __future__ import annotations
@dataclass(frozen=True, slots=True)
class K:
    url: str
    md5: str | None
    line: int = 0
    tags: tuple[str, ...] = ()
    note: str = field(default="", repr=False, compare=False, metadata={"k": 1})
""",
    "a record subclassing a record, overriding a default": """
from __future__ import annotations
@dataclass(frozen=True)
class Base:
    a: int
    b: int = 1
@dataclass(frozen=True)
class K(Base):
    b: int = 2
    c: list[int] = field(default_factory=list)
""",
    "a slots record subclassing a slots record": """
from __future__ import annotations
@dataclass(frozen=True, slots=True, order=True)
class Base:
    a: int
@dataclass(frozen=True, slots=True, order=True)
class K(Base):
    b: int = 0
""",
    "KW_ONLY, InitVar, ClassVar": """
from __future__ import annotations
@dataclass(frozen=True)
class K:
    a: int
    count: ClassVar[int] = 0
    seed: InitVar[int] = 3
    _: KW_ONLY
    b: int = 1
    total: int = field(init=False, default=0)
    def __post_init__(self, seed):
        object.__setattr__(self, "total", self.a + self.b + seed)
""",
    "kw_only and unsafe_hash": """
from __future__ import annotations
@dataclass(kw_only=True, unsafe_hash=True)
class K:
    a: int
    b: int = field(default=0, kw_only=False)
""",
    "a descriptor as a default": """
from __future__ import annotations
@dataclass
class K:
    a: int = Desc()
""",
    "slots and __weakref__": """
from __future__ import annotations
@dataclass(slots=True)
class K:
    a: int
""",
    "a field named after a keyword": """
from __future__ import annotations
K = dataclass(type("K", (), {"__annotations__": {"a": "int", "class": "int"}}))
""",
    "a field named after a keyword, frozen slots": """
from __future__ import annotations
K = dataclass(frozen=True, slots=True)(type("K", (), {"__annotations__": {"def": "int"}}))
""",
    "a field name Python normalises": """
from __future__ import annotations
K = dataclass(type("K", (), {"__annotations__": {"\ufb01le": "int"}}))
""",
    "a field named as the generated code's sentinel (3.10, 3.11)": """
from __future__ import annotations
@dataclass
class K:
    _HAS_DEFAULT_FACTORY: int
    b: list[int] = field(default_factory=list)
""",
    "a field named as another's default (3.10, 3.11)": """
from __future__ import annotations
@dataclass(slots=True)
class K:
    _dflt_b: typing.Any
    b: list[int] = field(default_factory=list)
    _dflt_c: typing.Any = None
    c: int = field(default=3, init=False)
""",
    "a field's kw_only unhashable and falsy": """
from __future__ import annotations
@dataclass
class K:
    a: int = field(kw_only=[])
""",
    "the module's own hash, type and super": """
from __future__ import annotations
def hash(value):
    return 42
@dataclass(frozen=True)
class K:
    a: int
def type(value):
    return "not a type"
""",
    "the module's own super, slots": """
from __future__ import annotations
@dataclass(frozen=True, slots=True)
class K:
    a: int
def super(*args):
    raise LookupError("the module's super")
""",
    "__init__ replaced before the docstring is read": """
from __future__ import annotations
@dataclass
class K:
    a: int
def _init(self, x, y):
    pass
K.__init__ = _init
""",
    "the class renamed before the docstring is read": """
from __future__ import annotations
@dataclass(frozen=True, slots=True)
class K:
    a: int
K.__name__ = "Renamed"
""",
    "a subclass's docstring deleted": """
from __future__ import annotations
@dataclass
class Base:
    a: int
class K(Base):
    pass
del K.__doc__
""",
    "own __init__ and no docstring": """
from __future__ import annotations
@dataclass(frozen=True)
class K:
    a: int
    def __init__(self, a, b=2):
        object.__setattr__(self, "a", a + b)
""",
    "own __new__": """
from __future__ import annotations
@dataclass
class K:
    a: int
    def __new__(cls, *args, **kwargs):
        return super().__new__(cls)
""",
    "a __signature__ in the body": """
from __future__ import annotations
import inspect
@dataclass
class K:
    a: int
    __signature__ = inspect.Signature()
""",
    "no field, frozen slots": """
@dataclass(frozen=True, slots=True)
class K:
    pass
""",
    "order across a base and a subclass": """
from __future__ import annotations
@dataclass(order=True)
class Base:
    a: int
@dataclass(order=True)
class K(Base):
    pass
""",
    "an instance's own repr recursion through two fields": """
from __future__ import annotations
@dataclass
class K:
    a: typing.Any = None
    b: typing.Any = None
""",
    "a mutable default": """
from __future__ import annotations
@dataclass
class K:
    a: list[int] = []
""",
    "a default before a field without one": """
from __future__ import annotations
@dataclass
class K:
    a: int = 0
    b: int
""",
    "weakref_slot=False given (3.10's refuses the keyword)": """
from __future__ import annotations
D = dataclass(weakref_slot=False)
K = D(type("K", (), {"__annotations__": {"a": "int"}}))
""",
    "not a class": """
from __future__ import annotations
K = dataclass(lambda: 0)
""",
    "typing.ClassVar where the module has no ClassVar of its own": """
from __future__ import annotations
del ClassVar
@dataclass(frozen=True)
class K:
    a: int
    b: typing.ClassVar[int] = 0
""",
    "a Field changed after the class is made, before its first instance": """
from __future__ import annotations
@dataclass(frozen=True)
class K:
    a: int
    b: int = 1
dataclasses.fields(K)[1].default = 5
dataclasses.fields(K)[0].type = "str"
""",
    "a default whose repr changes after the class is made": """
from __future__ import annotations
class Counter:
    shown = 0
    def __repr__(self):
        Counter.shown += 1
        return f"Counter({Counter.shown})"
@dataclass(frozen=True)
class K:
    a: Counter = Counter()
""",
    "a default whose repr raises": """
from __future__ import annotations
class Bad:
    def __repr__(self):
        raise ValueError("no repr")
@dataclass(frozen=True, slots=True)
class K:
    a: Bad = Bad()
""",
    "a default whose repr raises LookupError": """
from __future__ import annotations
class Bad:
    def __repr__(self):
        raise LookupError("no repr")
@dataclass
class K:
    a: Bad = Bad()
""",
    "an empty docstring": """
from __future__ import annotations
@dataclass(frozen=True)
class K:
    ""
    a: int = 0
""",
    "a plain subclass calling the record's __init__": """
from __future__ import annotations
@dataclass(frozen=True, slots=True)
class Base:
    a: int
    b: tuple[int, ...] = ()
class K(Base):
    __slots__ = ()
    def __init__(self, a):
        super().__init__(a, (a,))
""",
    "a NaN field (3.13 compares field by field)": """
from __future__ import annotations
NAN = float("nan")
@dataclass(frozen=True, order=True)
class K:
    a: float = NAN
    b: float = NAN
""",
    "frozen with its own __setattr__": """
from __future__ import annotations
@dataclass(frozen=True)
class K:
    a: int
    def __setattr__(self, name, value):
        pass
""",
}


@pytest.mark.parametrize("name", sorted(_EDGES))
def test_an_edge_case_behaves_as_the_standard_librarys(name: str) -> None:
    _assert_same(_EDGES[name])
