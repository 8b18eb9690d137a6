"""The lockstep engine: one sequence of actions, run on every target, observed alike.

A *target* is an implementation of one spec machine (a Future class, an Event
class, an ensure_future function), reached through an adapter. The model,
interpreted from the declarations, is a target like any other, and it is the
oracle: every other target's observations are compared with its.

Each target gets a *run*: its own instrumented event loop, its own objects
and callbacks, named abstractly (``f0``, ``cb1``, ``t2``) so that runs can be
compared. An *action* is plain data (an operation, the abstract object it
applies to, argument recipes), so the same action can be applied to every
run, rendered as Python for a reproduction script, and replayed by the
explorer or in an audit worker process.

An observation is what a user of the object could see: the return value or
the exception (type and args), which loop methods were called and with what,
which callbacks ran with which argument in which context, what reached the
loop's exception handler, and the state queries answered after the step.
"""

from __future__ import annotations

import asyncio
import builtins
import contextlib
import contextvars
import functools
import gc
import logging
import os
import re
import sys
import types
import weakref
from dataclasses import dataclass, field
from typing import Any, Callable, Iterator, Mapping

from ..spec import Machine, Observed, compiled, resolve_namespace
from ..spec.errors import HarnessAbort, StepTimeout, TargetCrashed  # noqa: F401 - HarnessAbort for explore
from .machines import NOTED_LOOP_CALLS, WAITER, facts, kinds
from .recipes import EXCEPTIONS, Recipe
from .scripts import FILENAME as SCRIPT_FILENAME, scripted

#: What a named thing in a run is: the machine's objects, and what the harness makes around them.
OBJECT, TASK, ITERATOR, CALLBACK, ARGUMENT = "object", "task", "iterator", "callback", "argument"

#: The context variable each callback reports: which context it ran in.
CONTEXT: contextvars.ContextVar[str | None] = contextvars.ContextVar("asyncspec_context", default=None)


def step_context(step: int) -> str:
    """The mark of the context current during step ``step``: a copy of it is what ``context=None`` means."""
    return f"step{step}"
IDLE_LIMIT = 20
#: The engine's folder, as this process imported it (a worker on another interpreter, from elsewhere).
_ENGINE_FOLDER = os.path.dirname(__file__)
#: What a text must hold for ``describe_text`` to change it: a repr, a quote, a call, an address, a
#: task's default name, the never-retrieved message, where something was made, the engine's folder.
_NORMALISED = ("<", "'", "(", "0x", "Task-", " exception was never retrieved", "created at", _ENGINE_FOLDER)
#: How an object's own internal callback is described (a task's step, its wake-up).
INTERNAL = "<internal>"


# -- actions ---------------------------------------------------------------------

#: The operation of a ``new`` action that calls the constructor with the action's arguments.
CONSTRUCTOR = "__init__"

#: How an action is applied (see :class:`Action`).
VERBS = ("new", "call", "assign", "await", "iterate", "resume", "start", "collect", "cancel_task", "settle", "once",
         "idle")


@dataclass(frozen=True)
class Action:
    """One step, applied alike to every run.

    ``verb`` says how: ``new`` makes an object of the machine (``uninitialized``:
    without running its constructor), ``call`` calls an ``operation`` on it (or,
    for a function machine, the function), ``assign`` assigns its one argument
    to a ``property`` operation, ``await`` awaits it in a new task (a
    generator operation), ``iterate`` drives a generator operation by hand for
    its first step and ``resume`` for the next, ``start`` runs a coroutine
    operation as a task (on the other loop when ``elsewhere``), ``collect``
    drops the object, ``cancel_task`` cancels a task, ``settle`` completes a
    future the harness made (``operation`` on it: the waiter a scripted
    coroutine awaits), and ``once`` and ``idle`` run the loop one iteration or
    until it is idle.
    """

    verb: str
    operation: str = ""
    obj: str = ""
    args: tuple[Recipe, ...] = ()
    kwargs: tuple[tuple[str, Recipe], ...] = ()
    result: str = ""  # the abstract name given to what the action makes
    #: For ``new``: the machine whose object is made, and whether its constructor is skipped.
    machine: str = ""
    uninitialized: bool = False
    #: For ``start``: on the run's other loop.
    elsewhere: bool = False
    #: For ``new``: put the run's loops in debug mode first (they stay in it).
    debug: bool = False
    #: For ``new``: make it in a callback of one iteration of the run's loop, after the callbacks
    #: already due (a Task asked to start eagerly does so only while its loop runs).
    in_loop: bool = False

    def __post_init__(self) -> None:
        # A malformed action would fail alike on every target and so hide as agreement.
        if self.verb not in VERBS:
            raise ValueError(f"an action verb in {VERBS}, found {self.verb!r}")
        if (self.verb == "new") != bool(self.machine) or (self.uninitialized and self.verb != "new"):
            raise ValueError(f"'machine' (and 'uninitialized') only on a 'new' action, found {self!r}")
        if self.elsewhere and self.verb != "start":
            raise ValueError(f"'elsewhere' only on a 'start' action, found {self!r}")
        if (self.debug or self.in_loop) and self.verb != "new":
            raise ValueError(f"'debug' and 'in_loop' only on a 'new' action, found {self!r}")
        if self.verb == "new" and self.operation not in ("", CONSTRUCTOR):
            raise ValueError(f"a 'new' action's operation is {CONSTRUCTOR!r} or none, found {self.operation!r}")

    def python(self, machine: Machine) -> str:
        return _python_of(self, machine)

    def describe(self) -> str:
        args = [a.python() for a in self.args] + [f"{k}={v.python()}" for k, v in self.kwargs]
        call = f"{self.operation}({', '.join(args)})"
        if self.verb == "call":
            return f"{self.obj}.{call}" if self.obj else call
        if self.verb == "new":
            made = 'uninitialized' if self.uninitialized else self.machine
            made += f"({', '.join(args)})" if self.operation == CONSTRUCTOR else ""
            where = " in debug mode" if self.debug else ""
            return f"{self.result} = new {made}{where}{' in a loop callback' if self.in_loop else ''}"
        if self.verb == "assign":
            return f"{self.obj}.{self.operation} = {args[0]}"
        if self.verb == "await":
            return f"{self.result} = task awaiting {self.obj}"
        if self.verb == "start":
            return f"{self.result} = task running {self.obj}.{call}{' on another loop' if self.elsewhere else ''}"
        if self.verb == "iterate":
            return f"{self.result} = {self.obj}.{self.operation}(); next({self.result})"
        if self.verb == "resume":
            return f"next({self.obj})"
        if self.verb == "collect":
            return f"collect {self.obj}"
        if self.verb == "cancel_task":
            return f"{self.obj}.cancel()"
        if self.verb == "settle":
            return f"{self.obj}.{call}"
        return {"once": "run one loop iteration", "idle": "run the loop until idle"}[self.verb]


# -- targets and adapters --------------------------------------------------------

@dataclass
class Target:
    """An implementation of one spec machine, and how the engine reaches it.

    ``make`` builds one object for a loop (None for a function machine);
    ``function`` is the function of a function machine. ``absent`` names
    operations the target does not offer: their clauses are not applicable.
    ``adapter`` may map operations onto another API (``call_<op>(obj, *args)``,
    ``start_<op>(obj, *args)`` returning an awaitable).
    """

    name: str
    kind: str
    make: Callable[[asyncio.AbstractEventLoop], Any] | None = None
    make_uninitialized: Callable[[], Any] | None = None
    function: Callable[..., Any] | None = None
    absent: frozenset[str] = frozenset()
    adapter: Any = None
    loop_factory: Callable[[], asyncio.AbstractEventLoop] | None = None
    #: How a script makes the loop: "" for asyncio's, "uvloop", or the ``--loop`` MODULE:ATTR.
    loop_source: str = ""
    source: str = ""  # how a script imports it: "module:attr"
    is_model: bool = False
    #: Calls the constructor with any declared arguments (a class); None when only ``make`` can make one.
    construct: Callable[..., Any] | None = None
    #: The model only: what the spec answers for an observed fact (``Machine.observed``) about an object.
    observe: Callable[[Any, Observed], Any] | None = None
    classes: tuple[type, ...] = ()
    #: The model only: where it reports the rows it fires (paused while the harness acts).
    recorder: Any = None
    #: Parameters the target's operations do not take, by operation (``{"cancel": {"msg"}}``;
    #: ``__init__`` for the constructor): they are never passed, and the clauses about them are not applicable.
    absent_parameters: Mapping[str, frozenset[str]] = field(default_factory=dict)
    #: Whether debug mode's "created at" of its objects is the engine's line: not for a factory's objects,
    #: which its own code makes.
    exact_origin: bool = True
    #: Makes the target's side of a world, for a target that runs elsewhere (another interpreter: see
    #: ``asyncspec.remote``); None for a ``Run`` here.
    new_run: Callable[[Machine], Any] | None = None

    def offers(self, action: "Action", machine: Machine) -> bool:
        """Whether the target can take ``action``: its operation is not absent, nor any parameter it passes."""
        if action.operation in self.absent:
            return False
        absent = self.absent_parameters.get(action.operation, frozenset()) | not_yet(machine, action.operation)
        return not absent or not (passed_parameters(machine, action) & absent)

    def call(self, obj: Any, op: str, args: list, kwargs: dict) -> Any:
        custom = getattr(self.adapter, f"call_{op.strip('_')}", None)
        if custom is not None:
            return custom(obj, *args, **kwargs)
        if obj is None:
            assert self.function is not None
            return self.function(*args, **kwargs)
        through = builtin_for(op)
        if through is not None:
            return through(obj, *args, **kwargs)
        return getattr(obj, op)(*args, **kwargs)

    def assign(self, obj: Any, op: str, value: Any) -> None:
        custom = getattr(self.adapter, f"assign_{op.strip('_')}", None)
        if custom is not None:
            custom(obj, value)
        else:
            setattr(obj, op, value)

    def awaitable(self, obj: Any, op: str, args: list) -> Any:
        custom = getattr(self.adapter, f"start_{op.strip('_')}", None)
        if custom is not None:
            return custom(obj, *args)
        return getattr(obj, op)(*args)


#: The loop class runs use unless a target names another (``--loop``): asyncio's, as it is.
DEFAULT_LOOP = asyncio.SelectorEventLoop


class ExceptionHandler:
    """An exception handler that records how the loop called it, whatever the arguments.

    The harness installs one on every loop it makes, with ``set_exception_handler``
    (the public hook): a loop that calls it as ``handler(context)`` or
    ``handler(None, context)`` is seen doing so. It never logs.
    """

    def __init__(self, run: "Run", name: str = "") -> None:
        self.run = run
        self.name = name

    def __call__(self, *args: Any) -> None:
        run = self.run
        if not run.recording:
            return
        *given, context = args if args else (None,)
        how = tuple(run.describe(a) for a in given)
        run.log.append(("exception handler", self.name, how,
                        run.handler_context(context) if isinstance(context, dict) else run.describe(context)))

    def __repr__(self) -> str:
        return self.name or "<the harness's handler>"


class TaskFactory:
    """A task factory that records its calls, then makes an asyncio Task as the loop would."""

    def __init__(self, run: "Run", name: str = "") -> None:
        self.run = run
        self.name = name

    def __call__(self, loop: Any, coro: Any, **kwargs: Any) -> Any:
        run = self.run
        if run.recording:
            run.log.append((f"{run.describe(loop)}.create_task", run.describe(coro), self.name))
        return asyncio.Task(coro, loop=loop, **kwargs)

    def __repr__(self) -> str:
        return self.name or "<the harness's task factory>"


class _AsyncioLog(logging.Handler):
    """What reaches the ``asyncio`` logger (the default exception handler's lines), noted by the run stepping.

    Installed once on that logger; being a handler, it also keeps Python's
    last-resort handler from printing what the targets log outside a step.
    """

    performing: "Run | None" = None

    def emit(self, record: logging.LogRecord) -> None:
        run = self.performing
        if run is not None and run.recording:
            first = record.getMessage().split("\n", 1)[0]
            run.log.append(("logged", record.levelname, run.describe_text(first)))


_ASYNCIO_LOG = _AsyncioLog()


def _recorded(run: "Run", loop: Any, method: str) -> Callable[..., Any]:
    """The loop's own ``method``, called unchanged, after noting the call (what the object asked)."""
    original = getattr(loop, method)

    def note(callback: Any, *args: Any, context: Any = None) -> Any:
        if run.recording:
            described = run.describe(callback)
            # An object's own internal callback may carry its arguments itself (the C Task's step wrapper
            # holds the exception to throw in): what it is given shows in what it then does.
            given = "…" if str(described).endswith(INTERNAL) else tuple(map(run.describe, args))
            run.log.append((f"{run.describe(loop)}.{method}", described, given, context_mark(context)))
        return original(callback, *args, context=context)
    return note


def not_yet(machine: Machine, operation: str) -> frozenset[str]:
    """The parameters of ``operation`` that the machine's Python does not take yet (``gated_params``)."""
    op = next((o for o in machine.operations if o.name == operation), None)
    return op.not_yet if op is not None else frozenset()


def passed_parameters(machine: Machine, action: Action) -> set[str]:
    """The names of the parameters an action passes to its operation (or the constructor)."""
    if not action.operation:
        return set()
    op = machine.constructor if action.operation == CONSTRUCTOR else machine.operation(action.operation)
    if op is None:
        return set()
    positional = [p for p in op.signature.parameters.values() if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    return {p.name for p in positional[:len(action.args)]} | {k for k, _ in action.kwargs}


def context_mark(context: Any) -> Any:
    if context is None:
        return None
    return context.get(CONTEXT, None) if isinstance(context, contextvars.Context) else "?"


class Callback:
    """A done-callback that records its calls. Equal callbacks share a name."""

    def __init__(self, run: "Run | None", name: str) -> None:
        self.run = run
        self.name = name

    def __call__(self, *args: Any) -> None:
        run = self.run
        if run is not None:
            shown = run.describe(args[0]) if len(args) == 1 else run.describe(args)
            running = asyncio._get_running_loop()
            run.log.append(("callback", self.name, shown, CONTEXT.get())
                           + ((("running loop", run.describe(running)),) if running is not run.loop else ()))
            self.then(run)

    def then(self, run: "Run") -> None:
        """What the callback does after recording its call."""

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Callback) and other.name == self.name

    def __hash__(self) -> int:
        return hash(self.name)

    def __repr__(self) -> str:
        return self.name


class RaisingCallback(Callback):
    """A callback that raises ValueError once it has recorded its call."""

    def then(self, run: "Run") -> None:
        raise ValueError(f"raised by {self.name}")


class ChainingCallback(Callback):
    """A callback that schedules another with ``call_soon`` on the run's loop once it has run."""

    def __init__(self, run: "Run | None", name: str, next_name: str) -> None:
        super().__init__(run, name)
        self.next_name = next_name

    def then(self, run: "Run") -> None:
        run.loop.call_soon(Callback(run, self.next_name))


class LoopCallingCallback(Callback):
    """A callback that calls one of the running loop's methods (``run_forever``, ``close``) and notes the outcome."""

    def __init__(self, run: "Run | None", name: str, method: str) -> None:
        super().__init__(run, name)
        self.method = method

    def then(self, run: "Run") -> None:
        try:
            outcome: tuple = ("returns", run.describe(getattr(run.loop, self.method)()))
        except Exception as e:
            outcome = ("raises", exception_name(type(e), run.machine), run.describe_args(e))
        run.log.append((f"{self.name} called loop.{self.method}()", outcome))


class DuckFuture:
    """A future by the protocol only: ``_asyncio_future_blocking`` and ``get_loop()``."""

    _asyncio_future_blocking = False

    def __init__(self, loop: Any) -> None:
        self._loop = loop

    def get_loop(self) -> Any:
        return self._loop

    def __await__(self):
        return (yield self)


class Awaitable:
    """An awaitable that is neither a coroutine nor a future."""

    def __await__(self):
        return returns_done().__await__()


async def returns_done() -> str:
    return "finished"


def plain_generator():
    yield
    return "finished"


# -- a run ---------------------------------------------------------------------

@dataclass
class Observation:
    outcome: tuple
    events: tuple
    state: tuple
    rows: tuple = ()

    def as_dict(self) -> dict:
        return {"outcome": self.outcome, "events": self.events, "state": self.state}


class Run:
    """One target's side of a lockstep run: its loops, its objects, its log."""

    def __init__(self, target: Target, machine: Machine) -> None:
        self.target = target
        self.machine = machine
        self.debug = False
        self._other_loop: asyncio.AbstractEventLoop | None = None
        self._closed_loop: asyncio.AbstractEventLoop | None = None
        self.objects: dict[str, Any] = {}
        self.names: dict[int, str] = {}
        self.name_refs: list[weakref.ref] = []
        self.forgotten: list[tuple[int, str]] = []
        self.roles: dict[str, str] = {}
        self.keep: list[Any] = []
        self.log: list[tuple] = []
        self.recording = True
        self.tasks: dict[str, asyncio.Task] = {}
        self.closed_args: dict[str, Any] = {}
        #: Objects collected while something still used them, held until the end of a step (see ``collect``).
        self.dropped: list[Any] = []
        #: The coroutines made for the run's tasks: the harness's own, and the scripted ones.
        self.coroutines: list[weakref.ref] = []
        #: Objects made without running their constructor: only operations are asked of them.
        self.uninitialized: set[str] = set()
        #: The classes whose name a text may print for ``{cls}``: the target's, and those of what it made
        #: (a factory's, an adapter's).
        self.classes: list[type] = list(target.classes)
        #: Whether every run of the world makes its objects by calling a class from the engine, so that
        #: where debug mode says an object was made is the same line everywhere, and an object's address
        #: in a text is its own (see ``World``).
        self.exact_origin = True
        self.before_probe: Callable[[], None] = lambda: None
        self.loop = self._new_loop()

    def _new_loop(self) -> asyncio.AbstractEventLoop:
        """A loop from the target's factory, observed through its public surface only.

        Its exception handler is a recording one, set with ``set_exception_handler``.
        Where the loop is not what is audited but what an object uses, the run
        also notes what the object asks of it: a recording task factory, set with
        ``set_task_factory``, and, where the loop object takes attributes (asyncio's
        do), its ``call_soon`` and ``call_soon_threadsafe`` noted before they run
        unchanged. Nothing of the loop is replaced: what it does is what is seen.
        """
        logger = logging.getLogger("asyncio")
        if _ASYNCIO_LOG not in logger.handlers:
            logger.addHandler(_ASYNCIO_LOG)
        loop = (self.target.loop_factory or DEFAULT_LOOP)()
        with self.harness():
            loop.set_exception_handler(ExceptionHandler(self))
            if not facts(self.machine.name).is_loop:
                loop.set_task_factory(TaskFactory(self))
                for method in NOTED_LOOP_CALLS:
                    try:
                        setattr(loop, method, _recorded(self, loop, method))
                    except AttributeError:
                        break  # a loop without instance attributes (uvloop's) is observed by its effects
        if self.debug:
            _debug(loop)
        return loop

    def handler_context(self, context: dict) -> tuple:
        """What an exception handler was given, in terms every run shares."""
        described = self.describe_text(str(context.get("message", "")))
        exc = context.get("exception")
        found: tuple = (described, exception_name(type(exc), self.machine) if exc is not None else None,
                        self.describe(context.get("future")))
        if "handle" in context:
            found += (("handle", self.describe(context["handle"])),)
        stack = context.get("source_traceback")
        if stack is None:
            return found
        # Debug mode: the stack where the object was made ends at the code that asked for it: the
        # engine's line that called the class; for a factory, its own line, so then only whether
        # the stack wrongly ends inside the constructor is compared.
        last = stack[-1] if len(stack) else None
        if last is None:
            return found + (("source_traceback", "empty"),)
        if self.exact_origin:
            return found + (("source_traceback", (last.name, last.lineno)),)
        return found + (("source_traceback", "ends in __init__" if last.name == "__init__" else "ends at the caller"),)

    def set_debug(self) -> None:
        """Put the run's loops in asyncio's debug mode, now and when made."""
        self.debug = True
        for loop in (self.loop, self._other_loop):
            if loop is not None:
                _debug(loop)

    @property
    def other_loop(self) -> asyncio.AbstractEventLoop:
        if self._other_loop is None:
            self._other_loop = self._new_loop()
            self.names[id(self._other_loop)] = "other_loop"
        return self._other_loop

    @property
    def closed_loop(self) -> asyncio.AbstractEventLoop:
        if self._closed_loop is None:
            self._closed_loop = asyncio.new_event_loop()
            self._closed_loop.close()
            self.names[id(self._closed_loop)] = "closed_loop"
        return self._closed_loop

    def close(self) -> None:
        """Close the loops without running them: what is still scheduled is the target's code,
        and it runs only inside a step, where a timeout guards it."""
        self.recording = False
        unhandled = False
        for loop in (self.loop, self._other_loop):
            with self.harness():
                if loop is None or loop.is_closed():
                    continue
                unhandled = unhandled or loop.get_exception_handler() is None
                loop.close()
        for coro in filter(None, (ref() for ref in self.coroutines)):
            # Ours, not the target's: closed here, each alone, rather than finalized whenever the
            # collector takes the cycle it is part of (a task, its coroutine, what it awaits) together.
            with self.harness(), contextlib.suppress(Exception):
                coro.close()
        self.coroutines.clear()
        self.objects.clear()
        self.keep.clear()
        self.tasks.clear()
        self.dropped.clear()
        if unhandled:
            # A loop left with the default handler logs what is finalized later (a pending task):
            # finalize it now, before another run's step could take the line for its own.
            gc.collect()

    # -- naming --------------------------------------------------------------
    def name(self, obj: Any, name: str, role: str) -> None:
        self.objects[name] = obj
        self.names[id(obj)] = name
        self.roles[name] = role
        self.keep.append(obj)
        try:
            # Its name goes with it, at the next step: a later object may be given the same id(),
            # but its own finalizer, which a collection may run after this callback, still names it.
            self.name_refs.append(weakref.ref(obj, functools.partial(self._forget, id(obj), name)))
        except TypeError:
            pass  # not weakly referable: kept in ``keep`` until collected, and forgotten then

    def _forget(self, key: int, name: str, _ref: Any = None) -> None:
        self.forgotten.append((key, name))

    def _forget_the_dead(self) -> None:
        for key, name in self.forgotten:
            if self.names.get(key) == name:
                del self.names[key]
        self.forgotten.clear()

    def describe(self, value: Any) -> Any:
        """Describe a value in terms every run shares."""
        if value is None or isinstance(value, (bool, int, float, str)):
            return value
        if isinstance(value, Callback):
            return value.name
        named = self.names.get(id(value))
        if named is not None:
            return named
        if value is self.loop:
            return "loop"
        if isinstance(value, BaseException):
            return (exception_name(type(value), self.machine), self.describe_args(value))
        if isinstance(value, (tuple, list)):
            return tuple(self.describe(v) for v in value if not _implementation_frame(v))
        if isinstance(value, types.FrameType):
            return f"<frame {value.f_code.co_name}>"
        if isinstance(value, asyncio.Task):
            return "<Task>"
        bound = self.names.get(id(getattr(value, "__self__", None)))
        if bound is not None and callable(value):
            # A public method by its name; what an object schedules of its own internals (a task's
            # step, its wake-up) is its own business, however each implementation names it.
            name = getattr(value, "__name__", "")
            return f"{bound}.{name if name in self._public_operations() else INTERNAL}"
        if callable(value):
            return "<internal>"
        return f"<{type(value).__name__}>"

    def _public_operations(self) -> frozenset[str]:
        """The machine's operations a user calls by name (not its internals, not its dunders)."""
        return frozenset(op.name for op in self.machine.operations if not op.name.startswith("_"))

    def describe_text(self, text: str) -> str:
        """Normalise what legitimately differs between implementations: class names and addresses.

        Only where the spec itself prints the class: an object repr, a future repr,
        and the never-retrieved message, which all name ``type(self)``.
        """
        if not any(mark in text for mark in _NORMALISED):
            return text  # (most texts: an error's message) nothing below would change it
        for cls in self.classes:
            text = text.replace(f"<{cls.__module__}.{cls.__qualname__} object at", "<{cls} object at")
            text = text.replace(f"<{cls.__name__} ", "<{cls} ")
            # An AttributeError names the type as C prints it (``'_asyncio.Task' object``) or as Python does.
            text = text.replace(f"'{cls.__module__}.{cls.__qualname__}' object", "'{cls}' object")
            text = text.replace(f"'{cls.__name__}' object", "'{cls}' object")
            text = text.replace(f"{cls.__name__} exception was never retrieved",
                                "{cls} exception was never retrieved")
        # An address that is a named object's own is that object's, on every run: where every target is
        # a class the engine calls (an adapter's text may name the object it wraps instead).
        if self.exact_origin:
            for name, obj in self.objects.items():
                # (PyPy pads an address to 16 digits.)
                text = text.replace(f"0x{id(obj):016x}", f"0x<{name}>").replace(f"0x{id(obj):x}", f"0x<{name}>")
        # Any default object repr names its own class; which class is the implementation's business,
        # as long as the name is a class's (a mangled one is not).
        text = re.sub(r"<([\w.]+) object at 0x", lambda m: "<{cls} object at 0x" if _names_a_class(m.group(1))
                      else m.group(0), text)
        if not self.exact_origin:
            # Debug mode: where an object was made is the caller's line, a factory's own for a factory.
            text = re.sub(r"created at \S+:\d+", "created at …", text)
        # The wake-up of a task awaiting the object, as each version's Task names it (3.8-3.10's C Task: a
        # wrapper object; the Python Task: its private method), named as the current C Task names it.
        text = re.sub(r"<TaskWakeupMethWrapper object at 0x[0-9a-f]+>\(\)|\bTask\.__wakeup\(\)", "Task.task_wakeup()", text)
        # A callback of the object's own, in a repr (``cb=[Task.__wakeup()]``): named as each implementation likes.
        names = {base.__name__ for cls in self.classes for base in cls.__mro__}  # its own, or inherited
        public = self._public_operations()
        text = re.sub(r"\b(\w+)\.([\w<>.]+)\(\)", lambda m: f"{{cls}}.{INTERNAL}()" if m.group(1) in names and
                      m.group(2) not in public else m.group(0), text)
        # A future the loop made for the object (an Event's waiter, 3.8-3.9: ``loop.create_future()``) was
        # made, says debug mode, where the loop's method is: in asyncio's base_events, or the model's loop.
        text = re.sub(rf"created at (?:{re.escape(asyncio.base_events.__file__)}|"
                      rf"{re.escape(os.path.join(_ENGINE_FOLDER, 'targets.py'))}):\d+",
                      "created at <loop.create_future>", text)
        # Where the engine itself is: a coroutine of its own in a task's repr names its file.
        text = text.replace(_ENGINE_FOLDER, "<asyncspec.model_tests>")
        # The harness's own awaiting task, which 3.13.0's C Task names 'None' in an error message it formats.
        text = re.sub(r"name='None' (coro=<Run\._apply\.)", r"name='Task-…' \1", text)
        # A task's default name counts every task the process made.
        text = re.sub(r"\bTask-\d+\b", "Task-…", text)
        return re.sub(r"0x[0-9a-f]+", "0x…", text)

    # -- recipes -----------------------------------------------------------------
    def make(self, recipe: Recipe) -> Any:
        kind = recipe.kind
        made: Any
        if kind == "value":
            return recipe.value
        if kind == "error":
            return EXCEPTIONS[recipe.value](*recipe.args)
        if kind == "error_class":
            return EXCEPTIONS[recipe.value]
        if kind == "callback":
            found = self.objects.get(recipe.value)
            if found is None:
                found = Callback(self, recipe.value)
                self.name(found, recipe.value, CALLBACK)
            return found
        if kind in _MADE_BY_NAME:
            found = self.objects.get(recipe.value)
            if found is None:
                found = _MADE_BY_NAME[kind](self, recipe.value, *recipe.args)
                self.name(found, recipe.value, CALLBACK)
            return found
        if kind == "handler_context":
            handed: dict[str, Any] = {"message": "m"}
            if recipe.value:
                handed["exception"] = EXCEPTIONS[recipe.value]("e")
            return handed
        if kind == "equal_callback":
            return Callback(self, recipe.value)
        if kind == "context":
            context = contextvars.copy_context()
            context.run(CONTEXT.set, recipe.value)
            return context
        if kind == "object":
            return self.objects[recipe.value]
        if kind == "coroutine":
            made = returns_done()
            self.closed_args["argument"] = made
            return made
        if kind == "generator":
            made = plain_generator()
            self.closed_args["argument"] = made
            return made
        if kind == "awaitable":
            return Awaitable()
        if kind == "duck_future":
            made = DuckFuture(self.loop)
            self.name(made, "duck_future", ARGUMENT)
            return made
        if kind == "asyncio_future":
            made = asyncio.Future(loop=self.loop if recipe.value == "same" else self.other_loop)
            self.name(made, f"future_{recipe.value}", ARGUMENT)
            return made
        if kind == "function":
            return returns_done
        if kind == "script":
            return self._scripted(recipe.args)
        if kind == "loop":
            return {None: None, "same": self.loop, "other": self.other_loop,
                    "closed": self.closed_loop}[recipe.value]
        raise AssertionError(f"unknown recipe {recipe!r}")

    def _scripted(self, moves: tuple[str, ...]) -> Any:
        """A scripted coroutine (``scripts``) on this run: its waiter future, and one on the other loop if it needs it.

        Each resumption is noted with the current task and the context it runs in.
        """
        waiter = self.objects.get(WAITER)
        if waiter is None:
            waiter = asyncio.Future(loop=self.loop)
            self.name(waiter, WAITER, ARGUMENT)
        elsewhere: asyncio.Future | None = asyncio.Future(loop=self.other_loop) if "await_elsewhere" in moves else None

        def note(*what: Any) -> None:
            current = asyncio.current_task()
            self.log.append(("coroutine", *map(self.describe, what), "current task",
                             self.describe(current) if current is not None else None, "context", CONTEXT.get()))
        return self._made(scripted(moves, note, waiter, elsewhere))

    def _made(self, coro: Any) -> Any:
        """A coroutine the harness made, to be closed with the run (held weakly: its task may be collected)."""
        self.coroutines.append(weakref.ref(coro))
        return coro

    # -- stepping ------------------------------------------------------------------
    def perform(self, action: Action, step: int) -> Observation:
        self._forget_the_dead()
        self.log = []
        self.closed_args = {}
        token = CONTEXT.set(step_context(step))
        # Each run's own loop is the current one during its steps: what loop=None means
        # must not depend on whatever ran before in this process.
        policy = asyncio.get_event_loop_policy()
        previous = getattr(policy._local, "_loop", None) if hasattr(policy, "_local") else None
        # (The model of the loop contract is a loop by its operations, not an AbstractEventLoop.)
        asyncio.set_event_loop(self.loop if isinstance(self.loop, asyncio.AbstractEventLoop) else None)
        outcome: tuple
        _ASYNCIO_LOG.performing = self
        try:
            value = self._apply(action)
            outcome = ("returns", self.describe_text(value) if isinstance(value, str) else self.describe(value))
        except (StepTimeout, TargetCrashed):
            raise
        except (RecursionError, MemoryError) as e:
            raise TargetCrashed(f"the target exhausted {'recursion' if isinstance(e, RecursionError) else 'memory'}"
                                f" ({type(e).__name__}{': ' + str(e) if str(e) else ''})") from None
        except BaseException as e:  # a target may raise anything, even BaseException
            if action.verb == "new" and not action.in_loop:
                raise TargetCrashed(f"making the object raised {type(e).__name__}: {e}") from None
            # The harness's waiter is the loop's future: what its error says is the loop's business.
            args = () if action.verb == "settle" else self.describe_args(e)
            outcome = ("raises", exception_name(type(e), self.machine), args)
        finally:
            _ASYNCIO_LOG.performing = None
            CONTEXT.reset(token)
            asyncio.set_event_loop(previous)
        if action.verb == "new" and outcome[0] == "raises":  # (only an in-loop one gets here)
            # Made in a loop callback, and lost with the error: finalized in this step, whether
            # reference counting or (a cycle through the error's frames) the collector frees it.
            gc.collect()
        if self.dropped:
            refs = [weakref.ref(o) for o in self.dropped]
            self.dropped.clear()
            gc.collect()
            self.dropped = [o for o in (ref() for ref in refs) if o is not None]
        for name, made in self.closed_args.items():
            self.log.append(("argument closed", _closed(made)))
        self.before_probe()
        return Observation(outcome, tuple(self.log), self.probe())

    def describe_args(self, e: BaseException) -> tuple:
        return tuple(self.describe_text(a) if isinstance(a, str) else self.describe(a) for a in e.args)

    def _apply(self, action: Action) -> Any:
        verb = action.verb
        t = self.target
        if action.obj and action.obj not in self.objects and verb not in ("resume", "settle"):
            # Never made (its creation raised) or gone: nothing to act on, on any target alike.
            return "<no object>"
        obj: Any = self.objects.get(action.obj) if action.obj else None
        args = [self.make(a) for a in action.args]
        kwargs = {k: self.make(v) for k, v in action.kwargs}
        if verb == "new":
            if action.debug:
                self.set_debug()
            if action.uninitialized:
                assert t.make_uninitialized is not None
                made = t.make_uninitialized()
                self.uninitialized.add(action.result)
            elif action.in_loop:
                made = self._in_loop(lambda: self._construct(action, args, kwargs))
            else:
                made = self._construct(action, args, kwargs)
            if type(made) not in self.classes:
                self.classes.append(type(made))
            self.name(made, action.result, OBJECT)
            del made  # kept by the run only: see _in_loop
            return None
        if verb == "call":
            value = t.call(obj, action.operation, args, kwargs)
            if isinstance(value, asyncio.Future) and action.result and self.names.get(id(value)) is None:
                self._track(value, action.result)
            return value
        if verb == "assign":
            t.assign(obj, action.operation, *args)
            return None
        if verb == "await":
            async def awaiting():
                return await obj
            return self._track(self.loop.create_task(self._made(awaiting())), action.result)
        if verb == "start":
            loop = self.other_loop if action.elsewhere else self.loop

            async def starting():
                return await t.awaitable(obj, action.operation, args)
            task = self._track(loop.create_task(self._made(starting())), action.result)
            if action.elsewhere:
                self._drain(loop, rounds=2)
            return task
        if verb == "iterate":
            # Only an iterator that took its first step is kept: whether the error comes
            # when it is made or when it first runs is not the spec's business.
            iterator = getattr(obj, action.operation)()
            value = next(iterator)
            self.name(iterator, action.result, ITERATOR)
            return value
        if verb == "resume":
            if obj is None:
                return "<no iterator>"
            # Resumed once, then let go of: what it still holds (a C iterator its future, until it
            # finishes) is not kept alive by the harness.
            self.objects.pop(action.obj, None)
            self.keep = [o for o in self.keep if o is not obj]
            try:
                return next(obj)
            except StopIteration as stop:
                return ("stopped", self.describe(stop.value))
        if verb == "collect":
            self.objects.pop(action.obj, None)
            self.keep = [o for o in self.keep if self.names.get(id(o)) != action.obj]
            try:
                alive = weakref.ref(obj)
            except TypeError:  # not weakly referable: cannot tell when it goes, and its id may be reused
                del obj
                gc.collect()
                self._forget(next((k for k, n in self.names.items() if n == action.obj), -1), action.obj)
                self._forget_the_dead()
                return None
            del obj
            if alive() is not None:
                gc.collect()  # only what a reference cycle keeps needs the collector
            if alive() is not None:
                # Still in use (a task its loop will run). When its last user lets go, reference
                # counting or the collector finalizes it, in one implementation mid-step, in another
                # later: every run holds it until the end of a step, and lets go there (``perform``).
                self.dropped.append(alive())
            return None
        if verb == "cancel_task":
            return obj.cancel()
        if verb == "settle":
            with self.harness():
                return getattr(obj, action.operation)(*args)
        if verb in ("once", "idle"):
            # An object bound to the other loop has its callbacks run there, after this loop's.
            for each in (self.loop, self._other_loop):
                with self.harness():
                    closed = each is None or each.is_closed()
                if not closed and each is not None:
                    self._drain(each, rounds=1 if verb == "once" else IDLE_LIMIT)
                elif each is not None and facts(self.machine.name).is_loop:
                    # The loop audited, closed: running it must refuse (nothing was scheduled to stop it).
                    try:
                        each.run_forever()
                        self.log.append(("run_forever()", "returned"))
                    except Exception as e:
                        self.log.append(("run_forever()", "raised", exception_name(type(e), self.machine)))
            return None
        raise AssertionError(f"unknown verb {verb!r}")

    def _construct(self, action: Action, args: list, kwargs: dict) -> Any:
        t = self.target
        if action.operation == CONSTRUCTOR and t.construct is not None:
            return t.construct(*args, **kwargs)
        # A factory or an adapter makes an object for a loop: the one the arguments name, if any.
        assert t.make is not None
        return t.make(kwargs.get("loop") or self.loop)

    def _in_loop(self, make: Callable[[], Any]) -> Any:
        """``make()`` in a callback of one iteration of the run's loop, after the callbacks already due."""
        made: list = []
        failed: list[BaseException] = []

        def callback() -> None:
            try:
                made.append(make())
            except BaseException as e:  # raised where the action is taken, as a plain creation's would be
                failed.append(e)

        with self.harness():
            self.loop.call_soon(callback)
        self._drain(self.loop, rounds=1)
        # Nothing made stays in this frame: a traceback that keeps the frame (the error of a task
        # that ran in the same iteration) must not keep the object alive.
        if failed:
            raise failed.pop()
        if not made:
            raise TargetCrashed("the loop did not run the callback that makes the object")
        return made.pop()

    @contextlib.contextmanager
    def harness(self) -> Iterator[None]:
        """While the harness itself acts on the run's loop: nothing is noted, and the model fires no row."""
        recording, self.recording = self.recording, False
        recorder = self.target.recorder
        try:
            if recorder is None:
                yield
            else:
                with recorder.pause():
                    yield
        finally:
            self.recording = recording

    def _track(self, task: Any, name: str) -> Any:
        self.name(task, name, TASK)
        self.tasks[name] = task
        task.add_done_callback(Callback(self, f"{name} done"))
        return task

    def _drain(self, loop: asyncio.AbstractEventLoop, rounds: int) -> None:
        """Run ``rounds`` loop iterations, stopping early once the loop is idle."""
        def stop() -> None:
            with self.harness():
                loop.stop()

        for _ in range(rounds):
            before = len(self.log)
            with self.harness():
                loop.call_soon(stop)  # the harness's own handle, not the target's
            loop.run_forever()
            if rounds > 1 and len(self.log) == before and not _has_ready(loop):
                break

    # -- probing -------------------------------------------------------------------
    def probe(self) -> tuple:
        """After a step: each object's answers to the state queries and the observed facts, each task's outcome.

        An object's answers are (query, answer) pairs; an observed fact's query is its row id
        (``<observed>.isfuture``), asked of initialized objects of the machine only.
        """
        self.recording = False
        try:
            out = []
            for name, obj in self.objects.items():
                if self.roles.get(name) in (CALLBACK, ITERATOR):
                    continue
                if name in self.tasks:
                    out.append((name, task_outcome(self, obj)))
                    continue
                answers = tuple((q, self._query(obj, q)) for q in self._queries())
                if self.roles.get(name) == OBJECT and name not in self.uninitialized:
                    answers += tuple((o.row.id, self._observe(obj, o)) for o in self.machine.observed)
                out.append((name, answers))
            return tuple(out)
        finally:
            self.recording = True

    def _observe(self, obj: Any, observed: Observed) -> Any:
        try:
            if self.target.observe is not None:
                return self.describe(self.target.observe(obj, observed))
            return self.describe(eval(compiled(observed.expr), _namespace(self.machine), {"self": obj}))
        except BaseException as e:
            return ("raises", exception_name(type(e), self.machine))

    def _queries(self) -> tuple[str, ...]:
        # The probes of the run's own machine: resolved for the target's Python, which may lack some.
        return tuple(op.name for op in self.machine.operations if op.probe and op.name not in self.target.absent)

    def _query(self, obj: Any, op: str) -> Any:
        try:
            value = self.target.call(obj, op, [], {})
            return self.describe_text(value) if isinstance(value, str) else self.describe(value)
        except BaseException as e:
            return ("raises", exception_name(type(e), self.machine))


#: Recipe kinds made once per run and then known by name, and what makes them.
_MADE_BY_NAME: dict[str, Callable[..., Any]] = {
    "raising_callback": RaisingCallback, "chaining_callback": ChainingCallback,
    "loop_calling_callback": LoopCallingCallback, "handler": ExceptionHandler, "task_factory": TaskFactory,
}


def _debug(loop: asyncio.AbstractEventLoop) -> None:
    """asyncio's debug mode, without its slow-callback log lines: a loaded machine is not the target's fault."""
    loop.set_debug(True)
    try:
        loop.slow_callback_duration = float("inf")
    except AttributeError:
        pass


def exception_name(cls: type, machine: Machine | None = None) -> str:
    """An exception class as observations name it: by identity, not by name alone.

    Its bare name when that name means this class (a builtin, or the machine's
    namespace: ``CancelledError`` is asyncio's); else module and qualified name,
    so that ``concurrent.futures.CancelledError`` is not ``CancelledError``.
    """
    name = cls.__name__
    if getattr(builtins, name, None) is cls:
        return name
    if machine is not None and _namespace(machine).get(name) is cls:
        return name
    if cls.__module__.startswith("asyncio") and getattr(asyncio, name, None) is cls:
        return name
    return f"{cls.__module__}.{cls.__qualname__}"


def _names_a_class(path: str) -> bool:
    """Whether ``module.qualname`` names a class of a module already imported."""
    parts = path.split(".")
    for i in range(len(parts) - 1, 0, -1):
        found: Any = sys.modules.get(".".join(parts[:i]))
        if found is None:
            continue
        for part in parts[i:]:
            found = getattr(found, part, None)
        return isinstance(found, type)
    return False




_NAMESPACES: dict[int, tuple[Machine, dict[str, Any]]] = {}


def _namespace(machine: Machine) -> dict[str, Any]:
    """The machine's namespace, resolved once (by identity: a machine is not hashable)."""
    cached = _NAMESPACES.get(id(machine))
    if cached is None or cached[0] is not machine:
        cached = _NAMESPACES[id(machine)] = (machine, resolve_namespace(machine, lenient=True))
    return cached[1]


def task_outcome(run: Run, task: Any) -> tuple:
    if not task.done():
        return ("pending",)
    if task.cancelled():
        return ("was cancelled",)
    exc = task.exception()
    if exc is not None:
        return ("raised", exception_name(type(exc), run.machine), run.describe_args(exc))
    return ("returned", run.describe(task.result()))


def _has_ready(loop: Any) -> bool:
    ready = getattr(loop, "_ready", None)
    return bool(ready) if ready is not None else False


def _closed(made: Any) -> bool:
    frame = getattr(made, "cr_frame", getattr(made, "gi_frame", None))
    running = getattr(made, "cr_running", getattr(made, "gi_running", False))
    return frame is None and not running


# -- python rendering ----------------------------------------------------------

def builtin_for(operation: str) -> Callable[..., Any] | None:
    """The builtin through which Python calls a dunder operation (``__repr__``: ``repr``), if any."""
    if operation.startswith("__") and operation.endswith("__"):
        found = getattr(builtins, operation[2:-2], None)
        return found if callable(found) else None
    return None


def _python_of(action: Action, machine: Machine) -> str:
    args = [a.python() for a in action.args] + [f"{k}={v.python()}" for k, v in action.kwargs]
    call = f"{action.operation}({', '.join(args)})"
    verb = action.verb
    if verb == "new":
        if facts(machine.name).is_loop:
            return f"{action.result} = loop  # the loop audited"
        debug = "loop.set_debug(True); " if action.debug else ""
        if action.uninitialized:
            return f"{debug}{action.result} = Uninitialized()"
        made = (f"Target({', '.join(args)})" if action.operation == CONSTRUCTOR
                else f"Target({'loop=loop' if facts(machine.name).takes_loop else ''})")
        if action.in_loop:
            made = f"in_callback(loop, lambda: {made})"
        return f"{debug}{action.result} = {made}"
    if verb == "call":
        if not action.obj:
            return f"show(lambda: Target({', '.join(args)}))"
        if builtin_for(action.operation) is not None:
            return f"show(lambda: {action.operation[2:-2]}({', '.join([action.obj, *args])}))"
        return f"show(lambda: {action.obj}.{call})"
    if verb == "assign":
        return f"show(lambda: setattr({action.obj}, {action.operation!r}, {', '.join(args)}))"
    if verb == "await":
        return f"{action.result} = loop.create_task(awaiting({action.obj}))"
    if verb == "start":
        inner = f"{action.obj}.{call}"
        if action.elsewhere:
            return f"{action.result} = other_loop.create_task(awaiting({inner})); run_once(other_loop)"
        return f"{action.result} = loop.create_task(awaiting({inner}))"
    if verb == "iterate":
        return f"{action.result} = {action.obj}.{action.operation}(); show(lambda: next({action.result}))"
    if verb == "resume":
        return f"show(lambda: next({action.obj}))"
    if verb == "collect":
        return f"del {action.obj}; gc.collect()"
    if verb == "cancel_task":
        return f"show(lambda: {action.obj}.cancel())"
    if verb == "settle":
        return f"show(lambda: {action.obj}.{call})"
    if verb == "once":
        return "run_once(loop)"
    return "run_until_idle(loop)"


def _implementation_frame(value: Any) -> bool:
    """A frame in a task's stack that is not the scripted coroutine's own.

    A stack (``get_stack()``) is compared as the coroutine's frames: whether an
    implementation's own code shows in it is its business (a pure-Python
    Task's step and Future's ``__await__`` are frames, the C Task's are not),
    and so is how far up an exception it re-raised travelled.
    """
    return isinstance(value, types.FrameType) and value.f_code.co_filename != SCRIPT_FILENAME


def model_target(kind: str, model: Any) -> Target:
    """The model, interpreted from the declarations, as a target."""
    if facts(kind).is_loop:
        return loop_target("model", kind, model, is_model=True, classes=(model,), loop_source="")
    if facts(kind).function:
        return Target("model", kind, function=model, is_model=True, classes=(model.asyncspec_class,))

    def uninitialized() -> Any:
        return model.__new__(model)
    return Target("model", kind, make=_maker(kind, model), make_uninitialized=uninitialized, construct=model,
                  is_model=True, classes=(model,), observe=lambda obj, observed: obj.asyncspec_observe(observed))


def _maker(kind: str, cls: type) -> Callable[[Any], Any]:
    if facts(kind).takes_loop:
        return lambda loop: cls(loop=loop)

    def make(loop: Any) -> Any:
        return cls()
    return make


@functools.lru_cache(maxsize=None)
def uninitialized_maker(cls: type) -> Callable[[], Any]:
    """A subclass of ``cls`` whose __init__ does nothing, instantiated."""
    sub = type("Uninitialized", (cls,), {"__init__": lambda self, *a, **k: None,
                                         "__module__": __name__})
    return sub


def class_target(name: str, kind: str, cls: type, source: str = "", **extra: Any) -> Target:
    """A class implementing the machine ``kind``; uninitialized objects are made where the machine declares them."""
    sub = uninitialized_maker(cls) if facts(kind).uninitialized else None
    classes: tuple[Any, ...] = (cls, sub) if sub else (cls,)
    return Target(name, kind, make=_maker(kind, cls), make_uninitialized=sub, construct=cls, source=source,
                  classes=classes, **extra)


def loop_target(name: str, kind: str, factory: Callable[[], Any], source: str = "", **extra: Any) -> Target:
    """An event loop (the loop contract): the run's loop, made by ``factory``, is the object audited."""
    extra.setdefault("loop_source", source)
    return Target(name, kind, make=lambda loop: loop, loop_factory=factory, source=source, **extra)


def function_target(name: str, function: Callable[..., Any], source: str = "", kind: str | None = None,
                    **extra: Any) -> Target:
    """A function implementing a function machine (``kind``, or the one function machine declared)."""
    if kind is None:
        (kind,) = (k for k in kinds() if facts(k).function)
    return Target(name, kind, function=function, source=source, **extra)
