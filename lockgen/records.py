"""``dataclass``: the standard library's, built without compiling a method per class at import.

The standard library compiles every method a dataclass gets from source text (``exec``:
``__init__``, ``__repr__``, ``__eq__``, ``__hash__``, the frozen ``__setattr__`` and
``__delattr__``) and reads each string annotation three times for ``ClassVar``, ``InitVar`` and
``KW_ONLY``: about 0.4 ms a class, and a no-op ``lock`` builds sixty before it reads a line.

Here the common class is built by hand, with the standard library's results:

- fields are found in one pass over the annotations, with the standard library's own tests;
- ``__eq__``, ``__hash__``, the ordering methods and the frozen ``__setattr__`` and
  ``__delattr__`` are functions of code compiled once, given each class's cells and its module's
  globals (as the standard library's generated code has them: its ``hash``, ``type``, ``super``
  and ``NotImplemented``, its ``__module__``), doing what each Python's own do (the same tuples or
  fields compared and hashed, the same errors); ``__repr__`` is a closure with the same text and
  recursion guard, and the same ``__wrapped__``;
- ``__init__`` is the standard library's code (the same parameters, defaults, annotations, body
  and free variables' names), compiled once for each shape of class and given the class's names;
  it is made at the class's first instantiation, or first look at ``__init__``, so a class never
  instantiated makes none (:mod:`lockgen.recordinit`), from the fields as they were when the class
  was made;
- the docstring the standard library writes for a class without one (its signature) is written
  when first read, from the ``__init__`` and the defaults' reprs as they were when the class was
  made (a class whose body has its own ``__init__``, ``__new__`` or ``__signature__`` gets it at
  once);
- the class's dict has its keys in the order each Python's has them.

That covers a class whose only base is ``object``, with string annotations (``from __future__
import annotations``), defaults, ``field()`` (``default``, ``default_factory``, ``init``,
``repr``, ``compare``, ``hash``, ``metadata``), ``frozen``, ``slots``, ``eq``, ``repr``,
``order``, ``match_args`` and ``__post_init__`` without ``InitVar``, its fields' names ASCII, not
keywords, dunders, ``self`` or (before 3.12) a name of the standard library's ``__init__``.
Anything else -- a base class, another metaclass, ``unsafe_hash``, ``kw_only``,
``weakref_slot``, ``init=False`` on the class, a ``ClassVar``, ``InitVar`` or ``KW_ONLY``, an
annotation that is not a string, whatever the standard library would refuse, a Python other than
3.10-3.13 -- is the standard library's class, as it builds it. Either way the class is a standard
dataclass (``fields``, ``replace``, ``asdict``, pickling, ``inspect.signature``) and the type
checker sees :func:`dataclasses.dataclass` itself. tests/unit/test_records.py and
tests/unit/test_records_differential.py hold every behaviour to the standard library's;
docs/performance.md ("Round 6: fixed costs", "Round 7: record classes", "Round 8: record classes,
checked") has the measurements.
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING

__all__ = ["dataclass"]

if TYPE_CHECKING:
    from dataclasses import dataclass as dataclass  # noqa: PLC0414 - re-exported for the type checker only
else:
    import inspect
    import sys
    import types
    from _thread import get_ident
    from keyword import iskeyword
    from operator import attrgetter
    from types import CellType, FunctionType

    from lockgen.recordinit import LazyInit

    _MISSING = dataclasses.MISSING
    _Field = dataclasses.Field
    _VERSION = sys.version_info[:2]
    # The standard library's private names a class is built by hand with: without any of them (a
    # Python not checked here), every class goes to the standard library.
    _PRIVATE = (
        "_FIELD",
        "_FIELDS",
        "_PARAMS",
        "_DataclassParams",
        "_HAS_DEFAULT_FACTORY",
        "_POST_INIT_NAME",
        "_MODULE_IDENTIFIER_RE",
        "_is_classvar",
        "_is_initvar",
        "_is_kw_only",
        "_dataclass_getstate",
        "_dataclass_setstate",
        *(("_replace",) if _VERSION >= (3, 13) else ()),
    )
    _BY_HAND = (3, 10) <= _VERSION <= (3, 13) and all(hasattr(dataclasses, name) for name in _PRIVATE)
    # What a field's name may not start with: a dunder (mangled), or, before 3.12, a name of the
    # standard library's generated ``__init__`` (its sentinel, its defaults' names) that the field's
    # parameter would hide.
    _RESERVED = ("__",) if _VERSION >= (3, 12) else ("__", "_dflt_", "_type_", "_HAS_DEFAULT_FACTORY", "MISSING")
    _RESERVED += ("BUILTINS", "_return_type") if _VERSION < (3, 12) else ()

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
        weakref_slot=_MISSING,
    ):
        options = {"init": init, "repr": repr, "eq": eq, "order": order, "unsafe_hash": unsafe_hash}
        options |= {"frozen": frozen, "match_args": match_args, "kw_only": kw_only, "slots": slots}
        if weakref_slot is not _MISSING:  # only when given: 3.10's has no such parameter
            options["weakref_slot"] = weakref_slot
            if _VERSION < (3, 11):  # (refused by the call, as the standard library's refuses it)
                return dataclasses.dataclass(cls, **options)
        by_hand = _BY_HAND and init and not (unsafe_hash or kw_only or options.get("weakref_slot"))

        def build(cls):
            if by_hand:
                built = _built_by_hand(cls, options)
                if built is not None:
                    return built
            return dataclasses.dataclass(cls, **options)

        return build if cls is None else build(cls)

    def _has_own_hash(body):
        own_hash = body.get("__hash__", _MISSING)
        return not (own_hash is _MISSING or (own_hash is None and "__eq__" in body))

    _ORDER = ("__lt__", "__le__", "__gt__", "__ge__")

    def _built_by_hand(cls, options):
        """The class built as the standard library builds it, or None (the class untouched) for a
        class it would build otherwise or refuse, or that is not proven here."""
        if type(cls) is not type:
            return None  # (a class of another metaclass, or not a class)
        eq, order, frozen, slots = (options[name] for name in ("eq", "order", "frozen", "slots"))
        body = cls.__dict__
        if frozen and ("__setattr__" in body or "__delattr__" in body):
            return None  # the standard library refuses them
        if order and (not eq or any(name in body for name in _ORDER)):
            return None  # the standard library refuses them
        found = _fields_of(cls)
        if found is None:
            return None
        fields, taken = found
        qualname, names = cls.__qualname__, sys.modules[cls.__module__].__dict__
        added = {
            dataclasses._PARAMS: _params(**options),
            dataclasses._FIELDS: {f.name: f for f in fields},
        }
        hashed = eq and not _has_own_hash(body)  # the standard library's rule: frozen and eq hash, eq alone does not
        if _VERSION >= (3, 13):  # where 3.13's puts them in the class's dict: first
            if "__replace__" not in body:
                added["__replace__"] = dataclasses._replace
            if hashed:
                added["__hash__"] = None
        init = None
        if "__init__" not in body:
            shape = {"frozen": frozen, "post_init": hasattr(cls, dataclasses._POST_INIT_NAME), "slots": slots}
            added["__init__"] = init = LazyInit(qualname, names, taken, shape)
        added |= _methods(cls, fields, names, options, hashed=hashed)
        doc = None
        if not cls.__doc__:
            doc = _doc_of(cls, fields, init)
            if doc is not None:
                added["__doc__"] = doc
        if options["match_args"] and "__match_args__" not in body:
            added["__match_args__"] = tuple(f.name for f in fields if f.init)
        if slots:  # the class made again, with its slots: nothing to set on this one
            cls = _with_slots(cls, added, fields, frozen)
            if doc is None and not cls.__doc__:
                type.__setattr__(cls, "__doc__", _doc_now(cls))
            return cls
        for f in fields:  # a Field as the class attribute: its default, or nothing, in its place
            if isinstance(body.get(f.name), _Field):
                if f.default is _MISSING:
                    delattr(cls, f.name)
                else:
                    setattr(cls, f.name, f.default)
        for name, value in added.items():
            setattr(cls, name, value)
        if doc is None and not cls.__doc__:
            cls.__doc__ = _doc_now(cls)
        # abc.update_abstractmethods has nothing to do: only a class ABCMeta built has abstract
        # methods, and this one's type is ``type``, its only base ``object``.
        return cls

    def _methods(cls, fields, names, options, *, hashed):
        """The methods the standard library adds after ``__init__``, in its order."""
        body, qualname, eq, frozen = cls.__dict__, cls.__qualname__, options["eq"], options["frozen"]
        added = {}
        if options["repr"] and "__repr__" not in body:
            added["__repr__"] = _repr_of(qualname, names, tuple(f.name for f in fields if f.repr))
        compared = None
        if eq and "__eq__" not in body:
            if _VERSION >= (3, 13):
                cell = CellType(tuple(attrgetter(f.name) for f in fields if f.compare))
            else:
                cell = compared = CellType(_values(tuple(f.name for f in fields if f.compare)))
            added["__eq__"] = _method(names, qualname, "__eq__", _EQ_CODE, (cell,))
        if options["order"]:
            cells = (compared or CellType(_values(tuple(f.name for f in fields if f.compare))),)
            added |= {name: _method(names, qualname, name, _CODES[name], cells) for name in _ORDER}
        if frozen:
            cells = (CellType(cls), CellType(dataclasses.FrozenInstanceError), CellType(_frozen_names(fields)))
            for name in ("__setattr__", "__delattr__"):
                added[name] = _method(names, qualname, name, _CODES[name], cells)
        if hashed:
            hashing = tuple(f.name for f in fields if (f.compare if f.hash is None else f.hash))
            cells = (CellType(_values(hashing)),)
            added["__hash__"] = _method(names, qualname, "__hash__", _CODES["__hash__"], cells) if frozen else None
        return added

    def _fields_of(cls):
        """The fields, built as the standard library's ``_get_field`` builds them, and what the
        class's ``__init__`` is made of, or None for anything but plain fields of a class whose only
        base is ``object``."""
        body = cls.__dict__
        module = sys.modules.get(cls.__module__)
        annotations = body.get("__annotations__", {})
        if cls.__bases__ != (object,) or type(cls) is not type or module is None or "__slots__" in body:
            return None
        if type(annotations) is not dict:
            return None
        fields, names, seen_default = [], module.__dict__, False
        for name, annotation in annotations.items():
            f = _field_of(cls, name, annotation, names)
            if f is None:
                return None
            if not f.init:
                pass
            elif f.default is not _MISSING or f.default_factory is not _MISSING:
                seen_default = True
            elif seen_default:
                return None  # the standard library refuses a field without a default after one with
            fields.append(f)
        if any(isinstance(value, _Field) and name not in annotations for name, value in body.items()):
            return None  # the standard library refuses a field() without an annotation
        taken = []  # what the class's __init__ is made of, as it is now (lockgen.recordinit.LazyInit)
        for f, (name, annotation) in zip(fields, annotations.items(), strict=True):
            f.name, f.type, f._field_type = name, annotation, dataclasses._FIELD
            if f.kw_only is _MISSING:
                f.kw_only = False
            taken.append((name, annotation, f.default, f.default_factory, f.init))
        return fields, taken

    def _field_of(cls, name, annotation, names):
        """One plain field's Field (its name and type not yet set), or None."""
        if type(annotation) is not str or _is_special(annotation, names):
            return None
        plain = _PLAIN_NAMES.get(name)
        if plain is None:
            plain = _plain_name(name)
            if len(_PLAIN_NAMES) < 4096:
                _PLAIN_NAMES[name] = plain
        if not plain:
            return None
        default = getattr(cls, name, _MISSING)
        if isinstance(default, _Field):
            f = default
            if f.kw_only is not _MISSING and f.kw_only is not False:
                return None
        elif isinstance(default, types.MemberDescriptorType):
            return None
        else:  # field(default=default), as the standard library's _get_field makes it (3.10-3.13's Field)
            f = _Field(default, _MISSING, True, True, None, True, None, _MISSING)
        if isinstance(f.default, (list, dict, set)) or f.default.__class__.__hash__ is None:
            return None  # the standard library refuses a mutable default (3.10: these three)
        return f

    _PLAIN_NAMES = {}  # a field's name -> whether it is plain (:func:`_plain_name`)

    def _plain_name(name):
        """Whether the standard library's code has ``name`` as it is (ASCII: no name Python would
        normalise (NFKC); not a keyword, ``self``, a dunder or a name of its own code)."""
        return (
            name.isidentifier()
            and name.isascii()
            and name != "self"
            and not name.startswith(_RESERVED)
            and not iskeyword(name)
        )

    _IDENTIFIED = {}  # a string annotation -> the names the standard library's pattern reads in it

    def _is_special(annotation, names):
        """Whether the standard library might read the string annotation as a ``ClassVar``, an
        ``InitVar`` or ``KW_ONLY``: its own test (``_is_type``), once for the three."""
        identified = _IDENTIFIED.get(annotation, _MISSING)
        if identified is _MISSING:
            match = dataclasses._MODULE_IDENTIFIER_RE.match(annotation)
            identified = match and match.groups()
            if len(_IDENTIFIED) < 4096:
                _IDENTIFIED[annotation] = identified
        if not identified:
            return False
        module_name, name = identified
        if module_name:
            found = names.get(module_name)
            return found is dataclasses or found is sys.modules.get("typing")
        found = names.get(name)
        if found is None:
            return False
        typing = sys.modules.get("typing")
        return (
            (typing is not None and dataclasses._is_classvar(found, typing))
            or dataclasses._is_initvar(found, dataclasses)
            or dataclasses._is_kw_only(found, dataclasses)
        )

    def _params(*, init, repr, eq, order, unsafe_hash, frozen, match_args, kw_only, slots, weakref_slot=False):
        if _VERSION >= (3, 12):
            return dataclasses._DataclassParams(
                init, repr, eq, order, unsafe_hash, frozen, match_args, kw_only, slots, weakref_slot
            )
        return dataclasses._DataclassParams(init, repr, eq, order, unsafe_hash, frozen)

    def _with_slots(cls, added, fields, frozen):
        """The standard library's ``_add_slots`` for a class whose only base is ``object``, given
        what the standard library would have set on ``cls`` first."""
        body = dict(cls.__dict__)
        body |= added
        names = tuple(f.name for f in fields)
        body["__slots__"] = names
        for name in names:
            body.pop(name, None)
        body.pop("__dict__", None)
        if _VERSION >= (3, 11):
            body.pop("__weakref__", None)  # gh-102069
        body["__qualname__"] = cls.__qualname__  # (type() takes it from there, as set after)
        made = type(cls)(cls.__name__, cls.__bases__, body)
        if frozen:  # set on the class made, after its slots (where they come in its dict)
            if _VERSION < (3, 11) or "__getstate__" not in body:
                type.__setattr__(made, "__getstate__", dataclasses._dataclass_getstate)
            if _VERSION < (3, 11) or "__setstate__" not in body:
                type.__setattr__(made, "__setstate__", dataclasses._dataclass_setstate)
        return made

    def _method(names, qualname, function):
        """``function`` as the standard library's method: named for the class, and run with the
        class's module's globals, as its generated code is (the names it looks up there, its
        ``__module__``: pickled, ``hash`` or ``super`` as that module has them)."""
        made = FunctionType(function.__code__, names, function.__name__, None, function.__closure__)
        made.__qualname__ = f"{qualname}.{function.__name__}"
        return made

    def _values(names):
        """The tuple ``(obj.a, obj.b, ...)`` of ``names``, as the generated methods build it."""
        if len(names) > 1:
            return attrgetter(*names)
        if names:
            one = attrgetter(names[0])
            return lambda obj: (one(obj),)
        return lambda obj: ()

    def _repr_of(qualname, names, shown):
        """``__repr__``: the text of the fields ``shown``, "..." for a recursive call; its
        ``__wrapped__`` the unguarded text, as the standard library's (``functools.wraps``, or 3.13's
        ``reprlib.recursive_repr``)."""
        running = set()  # the standard library's guard against a recursive repr

        def __repr__(self):
            shown_ = ", ".join(f"{name}={getattr(self, name)!r}" for name in shown)
            return f"{self.__class__.__qualname__}({shown_})"

        def guarded(self):
            key = id(self), get_ident()
            if key in running:
                return "..."
            running.add(key)
            try:
                return __repr__(self)
            finally:
                running.discard(key)

        module = names.get("__name__")
        __repr__.__qualname__, __repr__.__module__ = "__create_fn__.<locals>.__repr__", module
        guarded.__name__, guarded.__qualname__, guarded.__module__ = "__repr__", f"{qualname}.__repr__", module
        guarded.__wrapped__ = __repr__
        return guarded

    def _templates():
        """The code of the methods but ``__repr__``, made once (their names as in the standard
        library's, what they look up as globals too). A class's methods are functions of it, with
        the class's module's globals and their own cells (:func:`_method`): ``values`` (a getter of
        the tuple of fields), ``getters`` (one getter a field), ``cls``, ``error`` and ``names``."""
        values = getters = cls = error = names = None
        codes = {}

        def __eq__(self, other):  # the tuples compared, before 3.13
            if other.__class__ is self.__class__:
                return values(self) == values(other)
            return NotImplemented

        codes["tuples __eq__"] = __eq__.__code__

        def __eq__(self, other):  # from 3.13: ``self is other or self.a == other.a and ...``
            if self is other:
                return True
            if other.__class__ is self.__class__:
                result = True
                for get in getters:
                    result = get(self) == get(other)
                    if not result:
                        return result
                return result
            return NotImplemented

        codes["fields __eq__"] = __eq__.__code__

        def __lt__(self, other):
            if other.__class__ is self.__class__:
                return values(self) < values(other)
            return NotImplemented

        def __le__(self, other):
            if other.__class__ is self.__class__:
                return values(self) <= values(other)
            return NotImplemented

        def __gt__(self, other):
            if other.__class__ is self.__class__:
                return values(self) > values(other)
            return NotImplemented

        def __ge__(self, other):
            if other.__class__ is self.__class__:
                return values(self) >= values(other)
            return NotImplemented

        def __hash__(self):
            return hash(values(self))

        # The frozen ``__setattr__`` and ``__delattr__``: ``cls`` is the class as decorated (with
        # slots, not the class made again: the standard library's do the same); ``names`` what
        # ``name in ...`` tests (:func:`_frozen_names`).
        def __setattr__(self, name, value):
            if type(self) is cls or (names is not None and name in names):
                raise error(f"cannot assign to field {name!r}")
            super(cls, self).__setattr__(name, value)

        def __delattr__(self, name):
            if type(self) is cls or (names is not None and name in names):
                raise error(f"cannot delete field {name!r}")
            super(cls, self).__delattr__(name)

        for function in (__lt__, __le__, __gt__, __ge__, __hash__, __setattr__, __delattr__):
            codes[function.__name__] = function.__code__
        return codes

    _CODES = _templates()
    _EQ_CODE = _CODES["fields __eq__" if _VERSION >= (3, 13) else "tuples __eq__"]
    # (the cells given in the order of the code's free variables)
    _BY_HAND = _BY_HAND and _CODES["__setattr__"].co_freevars == ("cls", "error", "names")
    _BY_HAND = _BY_HAND and _CODES["__delattr__"].co_freevars == ("cls", "error", "names")

    def _method(names, qualname, name, code, cells):
        """A method as the standard library's: named for the class, and run with the class's
        module's globals as its generated code is (``hash``, ``type``, ``super`` and
        ``NotImplemented`` as that module has them; its ``__module__``: it pickles)."""
        made = FunctionType(code, names, name, None, cells)
        made.__qualname__ = f"{qualname}.{name}"
        return made

    def _frozen_names(fields):
        """What ``name in ...`` tests in the frozen methods: a tuple before 3.12, a set after (no
        test at all for a class without fields)."""
        names = tuple(f.name for f in fields)
        if _VERSION < (3, 12):
            return names
        return frozenset(names) if names else None

    _PLAIN = frozenset({type(None), bool, int, float, complex, str, bytes})

    def _doc_of(cls, fields, init):
        """The docstring the standard library writes for a class without one, to be written when
        first read (:class:`_LazyDoc`), or None: written once the class is built (:func:`_doc_now`),
        for a class whose body has its own ``__init__`` or what else inspect.signature reads of it."""
        body = cls.__dict__
        if init is None or "__new__" in body or "__signature__" in body or "__wrapped__" in body:
            return None
        if "_partialmethod" in body or "__partialmethod__" in body:
            return None
        shown = {}  # a default's repr, taken now: the standard library's docstring is written now
        for f in fields:
            default = f.default
            if f.init and default is not _MISSING and type(default) not in _PLAIN:
                if type(default) is tuple and not default:
                    continue
                try:
                    shown[f.name] = _Shown(repr(default))
                except Exception:
                    return None  # its error, or the docstring without a signature, now
        return _LazyDoc(cls.__name__, init, shown)

    def _doc_now(cls):
        """The standard library's docstring for ``cls``, now."""
        try:
            text = str(inspect.signature(cls)).replace(" -> None", "")
        except (TypeError, ValueError):
            if _VERSION < (3, 11):
                raise
            text = ""
        return cls.__name__ + text

    class _Shown:
        __slots__ = ("text",)

        def __init__(self, text):
            self.text = text

        def __repr__(self):
            return self.text

    class _LazyDoc:
        """The docstring the standard library gives a class without one (its name and signature,
        as they were when the class was made), written into the class when first read."""

        __slots__ = ("init", "name", "shown")

        def __init__(self, name, init, shown):
            self.name, self.init, self.shown = name, init, shown

        def __get__(self, instance, owner):
            signature = inspect.signature(self.init.made())
            shown = self.shown
            parameters = [
                p.replace(default=shown[p.name]) if p.name in shown else p
                for p in tuple(signature.parameters.values())[1:]
            ]
            doc = self.name + str(signature.replace(parameters=parameters)).replace(" -> None", "")
            for klass in owner.__mro__:  # the class holding this (``owner`` may be a subclass)
                if klass.__dict__.get("__doc__") is self:
                    type.__setattr__(klass, "__doc__", doc)
                    break
            return doc
