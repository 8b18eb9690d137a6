"""The actions a machine's declaration offers, over small value domains.

Every declared operation becomes actions by its kind: a query or command is
called, a property assigned, a generator operation is awaited in a task (and driven by hand, to
reach what a misused await does), a coroutine operation is started as a task
(also on another loop), a finalizer is reached by collecting the object, and a
function is called. Loop progress, task cancellation and object creation are
the harness's own actions. Parameter values come from the value domains in
``machines``; arguments are passed as the operation's one signature says
(:func:`call_arguments`), by exhaustive and random exploration alike.
"""

from __future__ import annotations

import inspect
import itertools
from dataclasses import replace
from typing import Iterable, Mapping

from ..spec import Machine, Operation
from .engine import CONSTRUCTOR, Action
from .machines import WAITER, WAITER_MOVE, WAITER_SETTLEMENTS, domain, facts
from .recipes import OMITTED, Recipe

#: How names are given to what actions make, by role.
PREFIXES = {"task": "t", "iterator": "i", "uninitialized": "u", "callback": "cb"}


def object_name(machine: Machine, n: int) -> str:
    """The name of the ``n``-th object of ``machine``: its initial, unless a role already uses it."""
    letter = machine.name[0]
    return f"{'o' if letter in {p[0] for p in PREFIXES.values()} else letter}{n}"


def call_arguments(op: Operation, values: Mapping[str, Recipe | None]) -> tuple[tuple, tuple]:
    """Split parameter values into positional and keyword arguments, as the signature says.

    A parameter that may be passed by position is; keyword-only ones go by
    keyword; an omitted value (None) leaves the parameter at its default.
    """
    args: list[Recipe] = []
    kwargs: list[tuple[str, Recipe]] = []
    skipped = False
    for name, parameter in op.signature.parameters.items():
        recipe = values.get(name)
        if recipe is OMITTED:
            skipped = True
            continue
        if parameter.kind is inspect.Parameter.KEYWORD_ONLY or skipped:
            kwargs.append((name, recipe))
        else:
            args.append(recipe)
    return tuple(args), tuple(kwargs)


def argument_sets(op: Operation, domains: dict | None = None,
                  fixed: Mapping[str, Recipe | None] | None = None) -> list[tuple[tuple, tuple]]:
    """Every (args, kwargs) combination of the operation's parameters over their domains (``fixed`` ones held)."""
    names = op.param_names
    fixed = fixed or {}
    choices = [(fixed[p],) if p in fixed else domain(op, p, domains) for p in names]
    return [call_arguments(op, dict(zip(names, combo))) for combo in itertools.product(*choices)]


def operation_actions(machine: Machine, op: Operation, obj: str, task_name: str,
                      domains: dict | None = None) -> list[Action]:
    """The actions through which the engine reaches ``op`` on ``obj``."""
    if op.kind in ("continuation", "callback"):
        return []  # reached by resuming the operation that suspended, or run by the loop
    if op.name in facts(machine.name).driven:
        return []  # the harness runs it: the loop's one iteration (``once``, ``idle``)
    if op.kind in ("query", "command"):
        return [Action("call", op.name, obj, a, k) for a, k in argument_sets(op, domains)]
    if op.kind == "property":
        return [Action("assign", op.name, obj, a, k) for a, k in argument_sets(op, domains)]
    if op.kind == "generator":
        # Driven by hand through its name and through each alias (``__iter__``: ``yield from``).
        return [Action("await", op.name, obj, result=task_name)] + \
            [Action("iterate", name, obj, result=PREFIXES["iterator"] + task_name[1:])
             for name in (op.name, *op.aliases)]
    if op.kind == "coroutine":
        return [Action("start", op.name, obj, a, k, result=task_name, elsewhere=elsewhere)
                for elsewhere in (False, True) for a, k in argument_sets(op, domains)]
    if op.kind == "finalizer":
        return [Action("collect", op.name, obj)]
    if op.kind == "function":
        return [Action("call", op.name, "", a, k, result=task_name) for a, k in argument_sets(op, domains)]
    raise AssertionError(op.kind)


def required_argument_sets(machine: Machine) -> list[tuple[tuple, tuple]]:
    """The constructor's required parameters over their domains, the others left at their defaults."""
    c = machine.constructor
    if c is None:
        return []
    required = [p for p, parameter in c.signature.parameters.items() if parameter.default is inspect.Parameter.empty]
    if not required:
        return []
    return [call_arguments(c, dict(zip(required, combo))) for combo in itertools.product(*(domain(c, p) for p in required))]


def creation_actions(machine: Machine, name: str) -> list[Action]:
    """The plain ways to make an object: with no arguments, or one per value of each required parameter.

    A constructor that requires arguments (a Task's coroutine) is called with each
    combination of their domains' values, the optional parameters at their defaults.
    """
    if facts(machine.name).function:
        return []
    required = required_argument_sets(machine)
    if required:
        return [Action("new", CONSTRUCTOR, args=a, kwargs=k, result=name, machine=machine.name) for a, k in required]
    return [Action("new", result=name, machine=machine.name)]


def creation_variants(machine: Machine, name: str) -> list[Action]:
    """The other ways to make an object: the constructor over its parameters' domains, and in debug mode.

    The plain creation (:func:`creation_actions`) binds the object to the run's
    loop; each variant calls the declared constructor with one combination of
    its parameters' values (``Future()`` on the current loop, ``Future(loop=other)``),
    and one makes the plain object with the loops in asyncio's debug mode, where
    the declaration's debug-only fields and context keys are kept.
    """
    if facts(machine.name).function:
        return []
    c = machine.constructor
    plain = creation_actions(machine, name)
    if c is None or not c.param_names:
        out = []
    elif required_argument_sets(machine):
        # The required arguments take their first values; the optional ones vary.
        first = {p: v for p, v in zip(c.param_names, _first_values(plain[0]))}
        out = [Action("new", CONSTRUCTOR, args=a, kwargs=k, result=name, machine=machine.name)
               for a, k in argument_sets(c, fixed=first)]
        out = [a for a in out if a != plain[0]]
    else:
        out = [Action("new", CONSTRUCTOR, args=a, kwargs=k, result=name, machine=machine.name)
               for a, k in argument_sets(c)]
    return out + [replace(plain[0], debug=True)] + in_loop_creations(machine, plain)


def in_loop_creations(machine: Machine, plain: list[Action]) -> list[Action]:
    """Each plain creation made in a callback of the running loop, with the table's arguments added,
    those the version's constructor takes (a Task's ``eager_start``, 3.12+)."""
    extra = facts(machine.name).in_loop
    c = machine.constructor
    if extra is None or c is None:
        return []
    taken = tuple((k, v) for k, v in extra if k in c.param_names and k not in c.not_yet)
    if len(taken) < len(extra):
        return []
    return [replace(a, kwargs=a.kwargs + taken, in_loop=True) for a in plain]


def _first_values(action: Action) -> list[Recipe]:
    """The values a plain creation passes, positional first (its required parameters)."""
    return list(action.args) + [v for _, v in action.kwargs]


def uninitialized_action(machine: Machine, name: str) -> list[Action]:
    if not facts(machine.name).uninitialized:
        return []
    return [Action("new", result=name, machine=machine.name, uninitialized=True)]


LOOP_ACTIONS = (Action("once"), Action("idle"))


def task_actions(tasks: Iterable[str]) -> list[Action]:
    return [Action("cancel_task", obj=t) for t in tasks]


def settle_actions(path: Iterable[Action]) -> list[Action]:
    """Completing a waiter future a scripted coroutine awaits, each way once, until one was tried."""
    path = list(path)
    if any(a.verb == "settle" for a in path):
        return []
    awaits = any(r.kind == "script" and WAITER_MOVE in r.args for a in path if a.verb == "new"
                 for r in (*a.args, *(v for _, v in a.kwargs)) if r is not None)
    return [Action("settle", op, WAITER, args) for op, args in WAITER_SETTLEMENTS] if awaits else []


def resume_actions(iterators: Iterable[str]) -> list[Action]:
    return [Action("resume", obj=i) for i in iterators]
