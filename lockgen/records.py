"""``dataclass``: the standard library's, built with fewer methods compiled at import.

Python compiles each method a dataclass generates from source text (one ``exec`` each, about
0.08 ms): six for a frozen class (``__init__``, ``__repr__``, ``__eq__``, ``__hash__``,
``__setattr__``, ``__delattr__``), about 0.5 ms a class, and ``check`` builds some fifty of them
before it reads a line. Here ``__repr__``, ``__eq__`` and ``__hash__`` are closures over the field
names, with the standard library's results (the same tuples compared and hashed, the same text,
the same guard against a recursive repr); ``__init__``, the frozen ``__setattr__`` and
``__delattr__``, slots, ``order`` and ``unsafe_hash`` are the standard library's own. The class is
a standard dataclass (``fields``, ``replace``, ``asdict``), and the type checker sees
:func:`dataclasses.dataclass` itself. docs/performance.md ("Round 6") has the measurements.
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING

__all__ = ["dataclass"]

if TYPE_CHECKING:
    from dataclasses import dataclass as dataclass  # noqa: PLC0414 - re-exported for the type checker only
else:
    import reprlib
    from operator import attrgetter

    def dataclass(
        cls=None,
        /,
        *,
        init=True,
        repr=True,
        eq=True,
        order=False,
        unsafe_hash=False,
        frozen=False,
        match_args=True,
        kw_only=False,
        slots=False,
        weakref_slot=False,
    ):
        def build(cls):
            options = {"init": init, "frozen": frozen, "match_args": match_args, "kw_only": kw_only}
            options |= {"slots": slots, "weakref_slot": weakref_slot}
            if order or unsafe_hash:  # the standard library's table decides the hash: left to it
                return dataclasses.dataclass(cls, repr=repr, eq=eq, order=order, unsafe_hash=unsafe_hash, **options)
            body = cls.__dict__
            own_hash = body.get("__hash__", dataclasses.MISSING)
            explicit_hash = not (own_hash is dataclasses.MISSING or (own_hash is None and "__eq__" in body))
            wants_repr, wants_eq = repr and "__repr__" not in body, eq and "__eq__" not in body
            built = dataclasses.dataclass(cls, repr=False, eq=False, **options)
            fields = dataclasses.fields(built)
            if wants_repr:
                _add(built, "__repr__", _repr_of(tuple(f.name for f in fields if f.repr)))
            if wants_eq:
                _add(built, "__eq__", _eq_of(_values(tuple(f.name for f in fields if f.compare))))
            if eq and not explicit_hash:  # the standard library's rule: frozen and eq hash, eq alone does not
                hashed = tuple(f.name for f in fields if (f.compare if f.hash is None else f.hash))
                built.__hash__ = _hash_of(_values(hashed)) if frozen else None
            return built

        return build if cls is None else build(cls)

    def _add(cls, name, function):
        function.__qualname__ = f"{cls.__qualname__}.{name}"
        setattr(cls, name, function)

    def _values(names):
        """The tuple ``(obj.a, obj.b, ...)`` of ``names``, as the generated methods build it."""
        if len(names) > 1:
            return attrgetter(*names)
        if names:
            one = attrgetter(names[0])
            return lambda obj: (one(obj),)
        return lambda obj: ()

    def _repr_of(names):
        def __repr__(self):
            shown = ", ".join(f"{name}={getattr(self, name)!r}" for name in names)
            return f"{self.__class__.__qualname__}({shown})"

        return reprlib.recursive_repr()(__repr__)

    def _eq_of(values):
        def __eq__(self, other):
            if other.__class__ is self.__class__:
                return values(self) == values(other)
            return NotImplemented

        return __eq__

    def _hash_of(values):
        def __hash__(self):
            return hash(values(self))

        return __hash__
