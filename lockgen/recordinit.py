"""A record class's ``__init__``: the standard library's code for its fields (the same parameters,
defaults, annotations and body), compiled once per shape of class with placeholder names and given
each class's own names (``CodeType.replace``), made when the class is first instantiated or its
``__init__`` first looked at (:class:`LazyInit`). :mod:`lockgen.records` builds the rest of the
class; tests/unit/test_records.py holds the code to the standard library's, byte for byte."""

from __future__ import annotations

import dataclasses
import sys
import types
from collections.abc import Sequence
from typing import Any

__all__ = ["LazyInit"]

_MISSING: Any = dataclasses.MISSING
_VERSION = sys.version_info[:2]
_PRIVATE: Any = dataclasses  # the standard library's private names (lockgen.records checks they exist)


# A field as LazyInit takes it: its name, type, default, default_factory and init.
Taken = tuple[str, Any, Any, Any, bool]


class LazyInit:
    """A class's ``__init__`` until it is first called or looked at: then the function, made
    for its shape and put in the class in its place."""

    __slots__ = ("function", "of")

    def __init__(self, qualname: str, globals: dict[str, Any], taken: Sequence[Taken], shape: dict[str, bool]) -> None:
        # ``taken``: what the function is made of, each field's as it was when the class was made
        # (a Field changed later changes nothing, as with the standard library's, made then).
        self.of = (qualname, globals, taken, shape)
        self.function: types.FunctionType | None = None

    def made(self) -> types.FunctionType:
        """The function (made now if not yet)."""
        function = self.function
        if function is None:
            qualname, globals, taken, shape = self.of
            function = self.function = _init_function(qualname, globals, taken, **shape)
        return function

    def __get__(self, instance: object, owner: type | None = None) -> Any:
        function = self.made()
        # The class holding this: the owner's, or (inspect.signature from 3.13 asks for a class's
        # __init__ as a descriptor of that class) the instance's when it is a class.
        classes = (*getattr(owner, "__mro__", ()), *(instance.__mro__ if isinstance(instance, type) else ()))
        for klass in classes:
            if klass.__dict__.get("__init__") is self:
                type.__setattr__(klass, "__init__", function)
                break
        return function.__get__(instance, owner)


# (frozen, post_init, kinds) -> the code of ``__init__``, its fields named ``_0000``, ...; a
# field's kind: "param" (an argument), "factory" (an argument, else its default_factory called),
# "call" (init=False: its default_factory called), "default" (init=False in a slots class).
_SHAPES: dict[tuple[bool, bool, tuple[str, ...], tuple[int, ...]], types.CodeType] = {}


def _init_function(
    qualname: str, globals: dict[str, Any], fields: Sequence[Taken], *, frozen: bool, post_init: bool, slots: bool
) -> types.FunctionType:
    """The standard library's ``__init__`` for ``fields``: the same parameters, defaults and
    annotations, the same body (``object.__setattr__`` when frozen, a factory called for a
    missing argument, ``__post_init__`` last)."""
    kinds: list[str] = []
    assigned: list[str] = []
    params: list[Taken] = []
    defaults: list[Any] = []
    defaulted: list[tuple[str, Any]] = []
    for f in fields:
        name, _, default, default_factory, init = f
        factory = default_factory is not _MISSING
        if init:
            params.append(f)
            kind = "factory" if factory else "param"
            if factory or default is not _MISSING:
                defaults.append(_PRIVATE._HAS_DEFAULT_FACTORY if factory else default)
        elif factory:
            kind = "call"
        elif slots and default is not _MISSING:
            kind = "default"  # no class attribute to read it from
        else:
            continue  # read from the class attribute, or unset, as the standard library leaves it
        if kind != "param":
            defaulted.append((_DEFAULT_NAME.format(name), default_factory if factory else default))
        kinds.append(kind)
        assigned.append(name)
    # The compiler orders the free variables by name, the standard library's named after the
    # fields: the same order here, for the same code.
    ranks = [0] * len(defaulted)
    for rank, at in enumerate(sorted(range(len(defaulted)), key=lambda at: defaulted[at][0])):
        ranks[at] = rank
    values: dict[str, Any] = {_default(rank): value for rank, (_, value) in zip(ranks, defaulted, strict=True)}
    key = (frozen, post_init, tuple(kinds), tuple(ranks))
    code = _SHAPES.get(key)
    if code is None:
        code = _SHAPES[key] = _compiled(frozen, post_init, kinds, ranks)
    values["__dataclass_builtins_object__"] = object
    values["__dataclass_HAS_DEFAULT_FACTORY__"] = _PRIVATE._HAS_DEFAULT_FACTORY
    closure = tuple(types.CellType(values[name]) for name in code.co_freevars)
    # The class's names in place of the placeholders: its fields', and the free variables' names
    # the standard library's code has (a default's after its field's name).
    named = {_placeholder(i): name for i, name in enumerate(assigned)}
    free = {_default(rank): name for rank, (name, _) in zip(ranks, defaulted, strict=True)} | _FREE
    code = code.replace(
        co_varnames=tuple(named.get(name, name) for name in code.co_varnames),
        co_consts=tuple(named.get(c, c) if type(c) is str else c for c in code.co_consts),
        co_names=tuple(named.get(name, name) for name in code.co_names),
        co_freevars=tuple(free.get(name, name) for name in code.co_freevars),
    )
    function = types.FunctionType(code, globals, "__init__", tuple(defaults) or None, closure)
    function.__annotations__ = {name: type_ for name, type_, *_ in params} | {"return": None}
    function.__qualname__ = f"{qualname}.__init__"
    return function


_DEFAULT_NAME = "_dflt_{}" if _VERSION < (3, 12) else "__dataclass_dflt_{}__"
_FREE = {"__dataclass_HAS_DEFAULT_FACTORY__": "_HAS_DEFAULT_FACTORY"} if _VERSION < (3, 12) else {}


def _default(rank: int) -> str:
    return f"__dataclass_dflt_{rank:04d}__"


def _placeholder(i: int) -> str:
    """A field's name in a shape's code, replaced by the class's own when a class takes it."""
    return f"_{i:04d}"


def _compiled(frozen: bool, post_init: bool, kinds: Sequence[str], ranks: Sequence[int] = ()) -> types.CodeType:
    """The standard library's text of ``__init__`` for the shape, compiled."""
    params, lines, ranked = ["self"], [], iter(ranks)
    free = ["__dataclass_builtins_object__", "__dataclass_HAS_DEFAULT_FACTORY__"]
    for i, kind in enumerate(kinds):
        name = _placeholder(i)
        if kind in {"param", "factory"}:
            params.append(name)
        value = name
        if kind != "param":
            default = _default(next(ranked))
            free.append(default)
            value = {
                "factory": f"{default}() if {name} is __dataclass_HAS_DEFAULT_FACTORY__ else {name}",
                "call": f"{default}()",
                "default": default,
            }[kind]
        if frozen:
            lines.append(f"  __dataclass_builtins_object__.__setattr__(self,{name!r},{value})")
        else:
            lines.append(f"  self.{name}={value}")
    if post_init:
        lines.append(f"  self.{_PRIVATE._POST_INIT_NAME}()")
    body = "\n".join(lines or ["  pass"])
    text = f"def __create_fn__({','.join(free)}):\n def __init__({','.join(params)}):\n{body}\n return __init__"
    create = next(
        c for c in compile(text, "<string>", "exec", dont_inherit=True).co_consts if type(c) is types.CodeType
    )
    return next(c for c in create.co_consts if type(c) is types.CodeType)
