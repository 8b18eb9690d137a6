"""The actions a machine's declaration offers, over small value domains.

Every declared operation becomes actions by its kind: a query or command is
called, a generator operation is awaited in a task (and driven by hand, to
reach what a misused await does), a coroutine operation is started as a task (also on
another loop), a finalizer is reached by collecting the object, and a
function is called. Loop progress, task cancellation and object creation are
the harness's own actions. Parameter values come from DOMAINS, by parameter
name; a parameter without a domain is an error, so a new operation cannot be
left untested silently.
"""

from __future__ import annotations

import itertools
from typing import Iterable

from ..spec import Machine, Operation
from .engine import Action, Recipe

OMITTED = None  # a keyword parameter left at its default

#: Small value domains, by parameter name (or "operation.parameter").
DOMAINS: dict[str, tuple[Recipe | None, ...]] = {
    "result": (Recipe("value", None), Recipe("value", 1), Recipe("exception", "ValueError", ("as a value",))),
    "exception": (
        Recipe("exception_class", "ValueError"), Recipe("exception", "KeyError", ("k",)),
        Recipe("exception", "StopIteration", ("s",)), Recipe("exception_class", "StopIteration"),
        Recipe("exception", "CancelledError", ()), Recipe("value", 42),
    ),
    "msg": (OMITTED, Recipe("value", "why")),
    "add_done_callback.fn": (Recipe("callback", "cb0"), Recipe("callback", "cb1")),
    "remove_done_callback.fn": (Recipe("equal_callback", "cb0"), Recipe("equal_callback", "cb1")),
    "context": (OMITTED, Recipe("context", "explicit")),
    "coro_or_future": (
        Recipe("coroutine"), Recipe("future", "same"), Recipe("future", "other"), Recipe("duck_future"),
        Recipe("awaitable"), Recipe("generator"), Recipe("function"), Recipe("value", None),
        Recipe("value", 42),
    ),
    "ensure_future.loop": (OMITTED, Recipe("loop", "same"), Recipe("loop", "other"), Recipe("loop", "closed")),
}

#: Smaller domains for breadth-first exploration, where every value multiplies the states.
SMALL: dict[str, tuple[Recipe | None, ...]] = {
    "result": (Recipe("value", 1),),
    "exception": (Recipe("exception_class", "ValueError"), Recipe("exception", "StopIteration", ("s",)),
                  Recipe("value", 42)),
    "add_done_callback.fn": (Recipe("callback", "cb0"),),
    "remove_done_callback.fn": (Recipe("equal_callback", "cb0"),),
}


class MissingDomain(KeyError):
    pass


def domain(op: Operation, param: str, domains: dict | None = None) -> tuple[Recipe | None, ...]:
    for table in ((domains or {}), DOMAINS):
        for key in (f"{op.name}.{param}", param):
            if key in table:
                return table[key]
    raise MissingDomain(f"no value domain for parameter {param!r} of {op.name}(); add one to "
                        f"asyncspec.model_tests.actions.DOMAINS")


def _keyword_only(op: Operation) -> set[str]:
    params = op.params
    if "*" not in params:
        return {p.split("=")[0].strip() for p in params.split(",") if "=" in p}
    return {p.split("=")[0].strip() for p in params.split("*", 1)[1].split(",") if p.strip()}


def argument_sets(op: Operation, domains: dict | None = None) -> list[tuple[tuple, tuple]]:
    """Every (args, kwargs) combination of the operation's parameters over their domains."""
    names = op.param_names
    choices = [domain(op, p, domains) for p in names]
    keyword = _keyword_only(op)
    out = []
    for combo in itertools.product(*choices):
        args = []
        kwargs = []
        for name, recipe in zip(names, combo):
            if recipe is OMITTED:
                continue
            if name in keyword:
                kwargs.append((name, recipe))
            else:
                args.append(recipe)
        out.append((tuple(args), tuple(kwargs)))
    return out



def operation_actions(machine: Machine, op: Operation, obj: str, task_name: str,
                      domains: dict | None = None) -> list[Action]:
    """The actions through which the engine reaches ``op`` on ``obj``."""
    if op.kind == "continuation":
        return []  # reached by resuming the operation that suspended
    if op.kind in ("query", "command"):
        return [Action("call", op.name, obj, a, k) for a, k in argument_sets(op, domains)]
    if op.kind == "generator":
        return [Action("await", op.name, obj, result=task_name),
                Action("iterate", op.name, obj, result="i" + task_name[1:])]
    if op.kind == "coroutine":
        return [Action("start", op.name, obj, a, k, result=task_name) for a, k in argument_sets(op, domains)] + \
               [Action("start", f"{op.name}@elsewhere", obj, a, k, result=task_name)
                for a, k in argument_sets(op, domains)]
    if op.kind == "finalizer":
        return [Action("collect", op.name, obj)]
    if op.kind == "function":
        return [Action("call", op.name, "", a, k, result=task_name) for a, k in argument_sets(op, domains)]
    raise AssertionError(op.kind)


def creation_actions(machine: Machine, name: str) -> list[Action]:
    if any(op.kind == "function" for op in machine.operations):
        return []
    actions = [Action("new", machine.name, result=name)]
    return actions


def uninitialized_action(machine: Machine, name: str) -> list[Action]:
    return [Action("new", "uninitialized", result=name)] if machine.uninitialized else []


LOOP_ACTIONS = (Action("once"), Action("idle"))



def task_actions(tasks: Iterable[str]) -> list[Action]:
    return [Action("cancel", "cancel", t) for t in tasks]


def resume_actions(iterators: Iterable[str]) -> list[Action]:
    return [Action("resume", "", i) for i in iterators]
