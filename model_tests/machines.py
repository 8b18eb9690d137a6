"""What the engine knows of each machine: read from the declarations, plus one table.

Everything the engine needs to know about a particular machine comes from
here. Most of it derives from the declarations (:class:`Facts`): whether the
machine is a function, whether its constructor takes a loop, whether it
declares an uninitialized object, which queries make up its observable state.
The rest the declarations cannot say: how far to explore, which values to try
for each parameter, and which implementations to check by default. That is
:data:`TABLE` and the value domains below, the only place outside ``spec/``
where a machine's or an operation's name appears: adding a machine adds a
line here, and nothing to the engine.
"""

from __future__ import annotations

import functools
import sys
from dataclasses import dataclass

from ..spec import DECLARATIONS, Machine, Operation, Spec, load, plan_of
from .recipes import OMITTED, Recipe


@dataclass(frozen=True)
class Bounds:
    """How far exhaustive exploration goes: steps after creation, tasks made, uninitialized objects."""

    depth: int
    tasks: int
    uninitialized: bool = True
    #: Steps after each other way of making the object (its constructor's arguments, debug mode).
    variant_depth: int = 2


@dataclass(frozen=True)
class Entry:
    """One machine's line in the table."""

    bounds: Bounds
    #: The name in ``asyncspec.impl`` of our implementation ("": asyncspec.impl has none).
    ours: str
    #: The standard library's implementations, as ``module:attr``.
    stdlib: tuple[str, ...]
    #: The object is the run's event loop itself (the loop contract): the harness runs it.
    is_loop: bool = False
    #: Other names ``--kind`` accepts for it.
    aliases: tuple[str, ...] = ()
    #: Operations the harness drives itself and never explores as actions (``run_forever``,
    #: run one iteration at a time with ``call_soon(loop.stop)`` first).
    driven: tuple[str, ...] = ()
    #: The required parameters of a factory that makes one, the loop first (``loop.set_task_factory``'s
    #: ``(loop, coro)``); a callable taking exactly these is audited as such a factory.
    factory: tuple[str, ...] = ()
    #: Made also in a callback of the running loop, each plain way, with these keyword arguments
    #: added (a Task starts eagerly only while its loop runs); None: never made there.
    in_loop: tuple[tuple[str, Recipe], ...] | None = None


TABLE: dict[str, Entry] = {
    "future": Entry(Bounds(depth=3, tasks=1), "Future", ("asyncio:Future", "asyncio.futures:_PyFuture")),
    "event": Entry(Bounds(depth=5, tasks=2), "Event", ("asyncio:Event",)),
    "ensure_future": Entry(Bounds(depth=2, tasks=1), "ensure_future", ("asyncio:ensure_future",)),
    # A Task is made with each scripted coroutine, so each script is a start: two steps from each (and
    # from each other way to make one) reach every row. An uninitialized C Task crashes CPython up to
    # 3.12.1 (get_coro()), so none is made by default.
    "task": Entry(Bounds(depth=2, tasks=1, uninitialized=False, variant_depth=1), "Task",
                  ("asyncio:Task", "asyncio.tasks:_PyTask"), factory=("loop", "coro"),
                  in_loop=(("eager_start", Recipe("value", True)),)),
    "event_loop": Entry(Bounds(depth=2, tasks=1, uninitialized=False, variant_depth=0), "", ("asyncio:new_event_loop",),
                  is_loop=True, driven=("run_forever",), aliases=("loop",)),
}

#: The scripted coroutines a Task is made with (``model_tests.scripts``): each outcome of a step, and
#: cancellation caught, withdrawn or not, while waiting.
SCRIPTS = tuple(Recipe("script", name, moves) for name, moves in (
    ("returns", ("return_value",)),
    ("raises", ("raise_error",)),
    ("waits", ("await_waiter", "return_value")),
    ("waits_twice", ("catch", "await_waiter", "withdraw", "await_waiter", "return_value")),
    ("yields", ("yield_none", "return_value")),
    ("lets_cancel_out", ("raise_cancelled",)),
    ("bad_yield", ("catch", "yield_value", "return_value")),
    ("awaits_itself", ("await_itself",)),
    ("awaits_elsewhere", ("await_elsewhere",)),
    ("yields_unblocked", ("yield_unblocked",)),
    ("yields_generator", ("yield_generator",)),
    ("cancels_itself", ("cancel_itself", "return_value")),
    ("cancels_itself_waiting", ("cancel_itself", "catch", "await_waiter", "return_value")),
    ("exits", ("raise_fatal",)),
    ("forgotten", ("await_forgotten",)),
    ("forgotten_quietly", ("unlogged", "await_forgotten")),
))
#: The move that awaits the run's waiter future, its name in a run, and the ways the harness completes it.
WAITER_MOVE = "await_waiter"
WAITER = "w"
WAITER_SETTLEMENTS = (("set_result", (Recipe("value", 1),)), ("set_exception", (Recipe("error", "KeyError", ("w",)),)),
                      ("cancel", (Recipe("value", "w cancelled"),)))


_CALLBACKS = (Recipe("callback", "cb0"), Recipe("raising_callback", "raiser"),
              Recipe("chaining_callback", "chain", ("cb1",)))

#: Small value domains, by parameter name (or "operation.parameter").
DOMAINS: dict[str, tuple[Recipe | None, ...]] = {
    "result": (Recipe("value", None), Recipe("value", 1), Recipe("error", "ValueError", ("as a value",))),
    "exception": (
        Recipe("error_class", "ValueError"), Recipe("error", "KeyError", ("k",)),
        Recipe("error", "StopIteration", ("s",)), Recipe("error_class", "StopIteration"),
        Recipe("error", "CancelledError", ()), Recipe("value", 42),
    ),
    "msg": (OMITTED, Recipe("value", "why")),
    "add_done_callback.fn": (Recipe("callback", "cb0"), Recipe("callback", "cb1")),
    "remove_done_callback.fn": (Recipe("equal_callback", "cb0"), Recipe("equal_callback", "cb1")),
    "context": (OMITTED, Recipe("context", "explicit")),
    "coro_or_future": (
        Recipe("coroutine"), Recipe("asyncio_future", "same"), Recipe("asyncio_future", "other"),
        Recipe("duck_future"), Recipe("awaitable"), Recipe("generator"), Recipe("function"),
        Recipe("value", None), Recipe("value", 42),
    ),
    # The constructor: no loop (the current one), or a loop that is not the current one.
    "__init__.loop": (OMITTED, Recipe("loop", "other")),
    "_log_traceback.val": (Recipe("value", True), Recipe("value", False)),
    "_log_destroy_pending.val": (Recipe("value", False),),
    "ensure_future.loop": (OMITTED, Recipe("loop", "same"), Recipe("loop", "other"), Recipe("loop", "closed")),
    # The loop contract.
    "callback": _CALLBACKS + (Recipe("callback", "cb1"), Recipe("loop_calling_callback", "reenter", ("run_forever",)),
                              Recipe("loop_calling_callback", "closer", ("close",))),
    "args": (OMITTED, Recipe("value", 7)),
    "call_exception_handler.context": (Recipe("handler_context", None), Recipe("handler_context", "ValueError")),
    "handler": (Recipe("handler", "h0"), Recipe("value", None), Recipe("value", 42)),
    "factory": (Recipe("task_factory", "tf0"), Recipe("value", None), Recipe("value", 42)),
    "coro": (Recipe("coroutine"),),
    "__init__.coro": SCRIPTS,
    "set_name.value": (Recipe("value", "renamed"), Recipe("value", 7)),
    "limit": (OMITTED,),
    "eager_start": (OMITTED, Recipe("value", True)),
    "name": (OMITTED,),
    "create_task.context": (OMITTED,),
    "enabled": (Recipe("value", False),),
}

#: Smaller domains for breadth-first exploration, where every value multiplies the states.
SMALL: dict[str, tuple[Recipe | None, ...]] = {
    "result": (Recipe("value", 1),),
    "exception": (Recipe("error_class", "ValueError"), Recipe("error", "StopIteration", ("s",)),
                  Recipe("value", 42)),
    "add_done_callback.fn": (Recipe("callback", "cb0"),),
    "remove_done_callback.fn": (Recipe("equal_callback", "cb0"),),
    "call_soon.callback": _CALLBACKS + (Recipe("loop_calling_callback", "reenter", ("run_forever",)),
                                        Recipe("loop_calling_callback", "closer", ("close",))),
    "call_soon_threadsafe.callback": (Recipe("callback", "cb0"),),
    "args": (OMITTED,),
    "handler": (Recipe("handler", "h0"), Recipe("value", None), Recipe("value", 42)),
    "factory": (Recipe("task_factory", "tf0"), Recipe("value", None), Recipe("value", 42)),
    "set_name.value": (Recipe("value", 7),),
}


class MissingDomain(KeyError):
    """A declared parameter has no value domain: a new operation must not go untested silently."""


def domain(op: Operation, param: str, domains: dict | None = None) -> tuple[Recipe | None, ...]:
    """The values to try for ``param`` of ``op``: the operation's own, else the parameter name's."""
    for table in ((domains or {}), DOMAINS):
        for key in (f"{op.name}.{param}", param):
            if key in table:
                return table[key]
    raise MissingDomain(f"no value domain for parameter {param!r} of {op.name}(); add one to "
                        f"asyncspec.model_tests.machines.DOMAINS")


#: The loop methods through which an object's requests to its loop are noted (before they run unchanged).
NOTED_LOOP_CALLS = ("call_soon", "call_soon_threadsafe")


#: The machines whose object is the run's event loop (the loop contract).
KINDS_OF_LOOPS = tuple(k for k, e in TABLE.items() if e.is_loop)


def canonical_kind(kind: str) -> str:
    """A machine name, for a name or one of its aliases (``loop``: ``event_loop``)."""
    return next((k for k, e in TABLE.items() if kind in e.aliases), kind)


def kinds() -> tuple[str, ...]:
    """The machines, in the order the declarations present them."""
    return tuple(DECLARATIONS)


def spec_for(profile: str, python: tuple[int, int] | None = None) -> Spec:
    """The declarations of ``profile`` for ``python`` (the running one by default), loaded once."""
    return _loaded(profile, tuple(python or sys.version_info[:2]))


@functools.lru_cache(maxsize=None)
def _loaded(profile: str, python: tuple[int, int]) -> Spec:
    return load(profile, python)


@dataclass(frozen=True)
class Facts:
    """What the declarations say about making and observing one machine's objects."""

    machine: Machine

    @property
    def function(self) -> bool:
        """A module-level function: nothing is made, each call is one run of the machine."""
        return plan_of(self.machine).function

    @property
    def takes_loop(self) -> bool:
        c = self.machine.constructor
        return c is not None and "loop" in c.signature.parameters

    @property
    def is_loop(self) -> bool:
        """The object is the run's event loop itself (``TABLE``)."""
        return TABLE[self.machine.name].is_loop

    @property
    def driven(self) -> tuple[str, ...]:
        """Operations only the harness calls (``TABLE``)."""
        return TABLE[self.machine.name].driven

    @property
    def factory(self) -> tuple[str, ...]:
        """The required parameters of a factory that makes one, the loop first (``TABLE``)."""
        return TABLE[self.machine.name].factory

    @property
    def in_loop(self) -> tuple[tuple[str, Recipe], ...] | None:
        """The keyword arguments it is made with in a callback of the running loop (``TABLE``)."""
        return TABLE[self.machine.name].in_loop

    @property
    def uninitialized(self) -> bool:
        """The machine declares what an object whose constructor never ran answers."""
        return bool(self.machine.uninitialized)



@functools.lru_cache(maxsize=None)
def facts(kind: str) -> Facts:
    """The facts of ``kind``; they are the same for every profile and Python version."""
    return Facts(spec_for("cpython")[kind])
