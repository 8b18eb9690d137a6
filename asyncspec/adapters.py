"""Targets named on the command line, and the adapter protocol for APIs that differ from asyncio's.

A TARGET is ``MODULE:ATTR``, imported with the current directory on
``sys.path``. It may be:

* a Future class, an Event class or an ensure_future-like function: the kind
  is detected from the object (``--kind`` overrides it);
* a factory: a callable with a ``loop`` parameter is a Future factory taking
  the loop and returning a future (``loop.create_future`` style; ``--kind
  future`` says so for a callable without one); a callable taking ``(loop,
  coro, **kwargs)`` is a task factory (``loop.set_task_factory`` style, like
  ``asyncio.eager_task_factory``);
* an event loop: a loop class is detected by its operations; a loop factory
  (``asyncio:new_event_loop``), or ``uvloop``, needs ``--kind loop``;
* an :class:`Adapter` (a subclass or an instance), which maps the spec's
  operations onto the target's API.

An adapter names the operations its target does not offer in ``absent``, and
the parameters its operations do not take in ``absent_parameters``; their
clauses are reported *not applicable*, not as failures, and the rest of each
operation is still audited::

    class FlagAdapter(asyncspec.Adapter):
        kind = "event"
        absent = frozenset({"clear"})       # mylib.Flag has no clear()

        def create(self, loop):
            return mylib.Flag()

        def start_wait(self, flag):         # waiting is `await flag`
            return flag

        def call_is_set(self, flag):        # is_set is a property
            return flag.is_set
"""

from __future__ import annotations

import asyncio
import importlib
import inspect
import os
import sys
from typing import Any, Callable, Mapping

from .model_tests.engine import Target, class_target, function_target, loop_target
from .model_tests.machines import facts, kinds, spec_for
from .spec.errors import TargetError, UsageError

KINDS = kinds()


class Adapter:
    """Maps the spec's operations onto a target's API.

    Set ``kind``. For a future or an event, define ``create(loop)`` (and,
    for a future, optionally ``create_uninitialized()``); for ensure_future,
    define ``function``. To reach an operation differently, define
    ``call_<operation>(obj, *args, **kwargs)`` (for example ``call_is_set``),
    or for a coroutine operation ``start_<operation>(obj, *args)`` returning
    an awaitable (``start_wait``). Operations listed in ``absent`` are never
    called; their clauses are not applicable.
    """

    kind: str = ""
    absent: frozenset[str] = frozenset()
    #: Parameters the target's operations do not take, by operation: ``{"cancel": {"msg"}}`` for a
    #: ``cancel()`` without ``msg``, ``{"__init__": {"loop"}}`` for a constructor without ``loop=``.
    absent_parameters: Mapping[str, frozenset[str]] = {}
    function: Callable[..., Any] | None = None

    def create(self, loop: asyncio.AbstractEventLoop) -> Any:  # pragma: no cover - to override
        raise NotImplementedError("an adapter for a future or an event defines create(loop)")

    def create_uninitialized(self) -> Any:
        return None


def import_object(spec: str, what: str = "target") -> Any:
    """Import ``MODULE:ATTR`` with the current directory on sys.path; ``what`` names it in errors."""
    module_name, sep, attr = spec.partition(":")
    if not sep or not module_name or not attr:
        raise TargetError(f"expected a {what} as MODULE:ATTR, found {spec!r}")
    cwd = os.getcwd()
    if cwd not in sys.path:
        sys.path.insert(0, cwd)
    try:
        module = importlib.import_module(module_name)
    except BaseException as e:  # an import can raise anything, even SystemExit
        raise TargetError(f"cannot import module {module_name!r} for {what} {spec!r}: "
                          f"{type(e).__name__}: {e}") from None
    obj: Any = module
    for part in attr.split("."):
        try:
            obj = getattr(obj, part)
        except AttributeError:
            raise TargetError(f"module {module_name!r} has no attribute {attr!r} ({what} {spec!r})") from None
    return obj


def detect_kind(obj: Any) -> str | None:
    """The machine an object implements, read from the declarations.

    An adapter says its kind. A class is the machine whose public operations it
    has most of (at least half, and more than any other machine's); a callable
    that is not a class is the function machine, when the declarations have one.
    """
    if isinstance(obj, Adapter) or (isinstance(obj, type) and issubclass(obj, Adapter)):
        return obj.kind or None
    if isinstance(obj, type):
        shares = {}
        for kind in KINDS:
            public = [op.name for op in spec_for("cpython")[kind].operations if not op.name.startswith("_")]
            if public and not facts(kind).function:
                found = sum(hasattr(obj, name) for name in public)
                shares[kind] = (found / len(public), found)
        # The larger share, then (a Task has all of a Future's operations too) the larger machine.
        ranked = sorted(shares.items(), key=lambda item: (-item[1][0], -item[1][1]))
        if ranked and ranked[0][1][0] >= 0.5 and (len(ranked) == 1 or ranked[0][1] > ranked[1][1]):
            return ranked[0][0]
        return None
    if callable(obj):
        factories = [kind for kind in KINDS if facts(kind).factory and list(facts(kind).factory) ==
                     _required_parameters(obj)]
        if len(factories) == 1:
            return factories[0]  # a task factory, as loop.set_task_factory() takes one
        if _takes_the_loop(obj):
            # ``loop.create_future`` style: called with the loop, it makes the object.
            takes = [kind for kind in KINDS if facts(kind).takes_loop]
            return takes[0] if len(takes) == 1 else None
        functions = [kind for kind in KINDS if facts(kind).function]
        return functions[0] if len(functions) == 1 else None
    return None


def _required_parameters(obj: Any) -> list[str] | None:
    """The names of a callable's required positional parameters; None when it has no signature."""
    try:
        parameters = inspect.signature(obj).parameters.values()
    except (TypeError, ValueError):
        return None
    P = inspect.Parameter
    return [p.name for p in parameters if p.default is P.empty and p.kind in (P.POSITIONAL_ONLY,
                                                                             P.POSITIONAL_OR_KEYWORD)]


def _takes_the_loop(obj: Any) -> bool:
    """Whether a callable's one required parameter is the loop (``loop``, or ``self`` of a loop method)."""
    required = _required_parameters(obj)
    return required == ["loop"] or (required == ["self"] and "Loop" in getattr(obj, "__qualname__", ""))


def _factory_target(spec: str, kind: str, factory: Callable[..., Any], **extra: Any) -> Target:
    """A factory taking the loop first (a task factory: ``factory(loop, coro, **kwargs)``): each object the
    engine makes is the factory's, for the loop the arguments name or the run's current one."""
    made_class, eager = _made_by(factory)
    absent, decided = _not_taken_by(factory, kind, eager)

    def construct(*args: Any, loop: Any = None, **kwargs: Any) -> Any:
        for name in decided:
            kwargs.pop(name, None)
        return factory(asyncio.get_event_loop() if loop is None else loop, *args, **kwargs)
    # Its objects' class is known before one is made: an error that names it may come from a
    # construction that never returns one (an eager task whose coroutine raises SystemExit).
    return Target(spec, kind, construct=construct, source=spec, exact_origin=False, absent_parameters=absent,
                  classes=(made_class,) if made_class is not None else (), **extra)


def _not_taken_by(factory: Callable[..., Any], kind: str, eager: bool
                  ) -> tuple[dict[str, frozenset[str]], frozenset[str]]:
    """The constructor's keyword parameters a factory does not take: never passed, and their clauses not
    applicable; and those of them it decides itself, as the machine's in-loop arguments (``TABLE``): an
    eager task factory starts each task eagerly, as ``eager_start=True`` would."""
    try:
        parameters = inspect.signature(factory).parameters
    except (TypeError, ValueError):
        return {}, frozenset()
    if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in parameters.values()):
        return {}, frozenset()
    constructor = spec_for("cpython")[kind].constructor
    declared = set(constructor.param_names) if constructor is not None else set()
    missing = frozenset(declared - set(parameters) - set(facts(kind).factory))
    in_loop = {k for k, _ in facts(kind).in_loop or ()}
    decided = frozenset(missing & in_loop) if eager else frozenset()
    missing -= decided
    return ({"__init__": missing} if missing else {}), decided


def _made_by(factory: Callable[..., Any]) -> tuple[type | None, bool]:
    """What ``factory(loop, coro)`` makes, called while its loop runs: the object's class (None when it
    fails), and whether the coroutine had run by the time it returned (an eager task factory)."""
    started: list[bool] = []
    seen: list[tuple[type, bool]] = []

    async def coroutine() -> None:
        started.append(True)

    def make() -> None:
        coro = coroutine()
        try:
            made = factory(loop, coro)
        except Exception:
            coro.close()
            return
        seen.append((type(made), bool(started)))

    loop = asyncio.new_event_loop()
    try:
        loop.call_soon(make)
        loop.call_soon(loop.stop)
        loop.run_forever()
        loop.run_until_complete(asyncio.sleep(0))  # what the factory scheduled (the coroutine), run
    except Exception:
        pass
    finally:
        loop.close()
    return seen[0] if seen else (None, False)


def resolve(spec: str, kind: str | None = None, loop: str = "asyncio") -> Target:
    """The engine's Target for a TARGET string; TargetError when it cannot be audited."""
    if kind is not None and kind in KINDS and facts(kind).is_loop:
        return loop_target(spec, kind, resolve_loop(spec, "target") or asyncio.new_event_loop, _loop_source(spec))
    obj = import_object(spec)
    found = detect_kind(obj)
    kind = kind or found
    if kind is None:
        raise TargetError(f"cannot tell what {spec!r} is: expected a Future class, an Event class, "
                          f"an ensure_future-like function or an Adapter, found {_what(obj)}; "
                          f"pass --kind to say")
    if kind not in KINDS:
        raise TargetError(f"expected a kind in {KINDS}, found {kind!r}")
    if facts(kind).is_loop:  # a loop class, detected by its operations
        return loop_target(spec, kind, obj, spec)
    loop_factory = resolve_loop(loop)
    loop_source = _loop_source(loop)
    if isinstance(obj, type) and issubclass(obj, Adapter):
        try:
            obj = obj()
        except BaseException as e:
            raise TargetError(f"cannot instantiate adapter {spec!r}: {type(e).__name__}: {e}") from None
    if isinstance(obj, Adapter):
        return _adapter_target(spec, kind, obj, loop_factory, loop_source)
    if facts(kind).function:
        if not callable(obj):
            raise TargetError(f"expected a callable {kind}-like target, found {_what(obj)}")
        return function_target(spec, obj, spec, kind=kind, loop_factory=loop_factory, loop_source=loop_source)
    if isinstance(obj, type):
        return class_target(spec, kind, obj, spec, loop_factory=loop_factory, loop_source=loop_source)
    if callable(obj) and facts(kind).factory:
        return _factory_target(spec, kind, obj, loop_factory=loop_factory, loop_source=loop_source)
    if callable(obj) and facts(kind).takes_loop:
        # A factory that takes the loop, like loop.create_future.
        return Target(spec, kind, make=lambda lp: obj(lp), source=spec, loop_factory=loop_factory, loop_source=loop_source)
    raise TargetError(f"expected a class or a factory for a {kind}, found {_what(obj)}")


def _checked_absent_parameters(spec: str, kind: str, adapter: Adapter) -> dict[str, frozenset[str]]:
    """The adapter's ``absent_parameters``, each an operation's (or the constructor's) declared parameter."""
    machine = spec_for("cpython")[kind]
    out = {}
    for op_name, params in adapter.absent_parameters.items():
        op = machine.constructor if op_name == "__init__" else next(
            (o for o in machine.operations if o.name == op_name), None)
        declared = set(op.param_names) if op is not None else set()
        unknown = sorted(set(params) - declared)
        if op is None or unknown:
            raise TargetError(f"adapter {spec!r}: expected absent_parameters naming {kind} operations and their "
                              f"parameters, found {op_name}: {sorted(params)}"
                              + (f" ({op_name}() takes {sorted(declared)})" if op is not None else ""))
        out[op_name] = frozenset(params)
    return out


def _adapter_target(spec: str, kind: str, adapter: Adapter, loop_factory: Any, loop_source: str) -> Target:
    made_uninitialized = adapter.create_uninitialized
    uninitialized = None
    if type(adapter).create_uninitialized is not Adapter.create_uninitialized:
        uninitialized = made_uninitialized
    return Target(
        spec, kind,
        make=None if facts(kind).function else adapter.create,
        make_uninitialized=uninitialized,
        function=adapter.function if facts(kind).function else None,
        absent=frozenset(adapter.absent), adapter=adapter, loop_factory=loop_factory, loop_source=loop_source,
        absent_parameters=_checked_absent_parameters(spec, kind, adapter),
        source=spec,
    )


def _what(obj: Any) -> str:
    if inspect.isclass(obj):
        return f"class {obj.__module__}.{obj.__qualname__}"
    return f"{type(obj).__name__} {obj!r}"[:120]


def _loop_source(loop: str) -> str:
    """How a reproduction script makes the loop: "" for asyncio's, "uvloop", or MODULE:ATTR."""
    return "" if loop in ("asyncio", "", None) else loop


def resolve_loop(loop: str, what: str = "--loop") -> Any:
    """A loop factory: asyncio's (None), uvloop's, or MODULE:ATTR naming a loop class or factory.

    The factory is used as it is: the engine observes the loops it makes through
    their public methods only, so a loop class is never subclassed.
    """
    if loop in ("asyncio", "", None):
        return None
    if loop == "uvloop":
        try:
            import uvloop
        except ImportError:
            raise TargetError(f"{what} uvloop needs the uvloop package: pip install uvloop") from None
        return uvloop.Loop
    factory = import_object(loop, what)
    if isinstance(factory, type) and issubclass(factory, asyncio.AbstractEventLoop):
        return factory
    if callable(factory):
        return _checked_factory(factory, loop, what)
    raise TargetError(f"expected {what} asyncio, uvloop or MODULE:ATTR naming a loop class or "
                      f"factory, found {loop!r}")


def _checked_factory(factory: Callable[[], Any], name: str, what: str) -> Callable[[], Any]:
    """The factory, refusing what is not an event loop with a one-line error."""
    def make() -> Any:
        loop = factory()
        if not isinstance(loop, asyncio.AbstractEventLoop):
            raise TargetError(f"{name} returned {type(loop).__name__}, not an event loop")
        return loop
    return make


def check_loop(loop: str) -> None:
    """Refuse, before any worker starts, a ``--loop`` that cannot make event loops (a usage error)."""
    try:
        factory = resolve_loop(loop)
        if factory is None:
            return
        made = factory()
    except TargetError as e:
        raise UsageError(f"--loop {loop}: {e}") from None
    except BaseException as e:  # the factory is the user's code: it may raise anything
        raise UsageError(f"--loop {loop}: expected a loop class or a factory callable with no arguments; "
                         f"calling it raised {type(e).__name__}: {e}") from None
    if not isinstance(made, asyncio.AbstractEventLoop):
        raise UsageError(f"--loop {loop}: expected a callable returning an event loop, found {_what(made)}")
    made.close()
