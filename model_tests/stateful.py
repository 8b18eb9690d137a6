"""Hypothesis stateful machines, one per spec machine, derived from the declarations.

Every declared operation becomes a rule, by its kind (see ``actions``):
when the spec gains an operation, the machine gains a rule. Objects,
callbacks, tasks and hand-driven iterators are bundles. Loop progress is a
rule of its own: one iteration, or until idle. After every step the world
compares each target with the model, and a difference fails the example with
the engine's counterexample text, which Hypothesis then shrinks.

A machine reports what its examples exercised into the :class:`RandomTally`
its caller hands it, so that no two runs share a record.
"""

from __future__ import annotations

import dataclasses
import functools
import itertools
from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Callable, Sequence

from hypothesis import HealthCheck, Phase, seed as hypothesis_seed, settings, strategies as st
from hypothesis.stateful import (Bundle, RuleBasedStateMachine, consumes, initialize, precondition, rule,
                                 run_state_machine_as_test)

from ..spec import Machine, Operation
from ..spec.errors import Deviation
from .actions import PREFIXES, call_arguments, creation_actions, creation_variants, object_name, settle_actions
from .engine import Action, Target
from .lockstep import Counterexample, KNOWN_DIFFERENCES, KnownDifference, worlds_one_at_a_time
from .machines import domain, facts, spec_for
from .recipes import OMITTED, Recipe
from .targets import builtin_targets, new_world

settings.register_profile(
    "asyncspec-ci", max_examples=40, stateful_step_count=25, deadline=None, database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
settings.register_profile(
    "asyncspec-deep", max_examples=2000, stateful_step_count=60, deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])


@dataclass
class RandomTally:
    """What the random sequences of one lockstep machine exercised: how many examples, which rows how often."""

    examples: int = 0
    rows: Counter = field(default_factory=Counter)


def _callback_param(op: Operation, param: str) -> bool:
    values = domain(op, param)
    return bool(values) and all(v is not None and v.kind in ("callback", "equal_callback") for v in values)


def lockstep_machine(kind: str, targets: Callable[[], Sequence[Target]] | None = None,
                     profile: str = "cpython", known: Sequence[KnownDifference] = KNOWN_DIFFERENCES,
                     name: str | None = None, tally: RandomTally | None = None,
                     step_guard: Any = None, python: tuple[int, int] | None = None
                     ) -> type[RuleBasedStateMachine]:
    """Build the RuleBasedStateMachine that drives ``kind``'s targets in lockstep with the model.

    Each example counts itself, and the rows it fired, in ``tally`` when one is
    given. ``step_guard`` wraps every step of every example (see ``World``).
    ``python``: the version the spec is resolved for (the targets' interpreter's).
    """
    machine: Machine = spec_for(profile, python)[kind]
    make_targets = targets or (lambda: builtin_targets(kind, profile))
    function = facts(kind).function
    ns: dict[str, Any] = {}
    sample = make_targets()  # what the targets can do: uninitialized objects, absent operations

    objects = Bundle("objects")
    callbacks = Bundle("callbacks")
    tasks = Bundle("tasks")
    iterators = Bundle("iterators")
    ns.update(objects=objects, callbacks=callbacks, tasks=tasks, iterators=iterators)

    def __init__(self: Any) -> None:
        RuleBasedStateMachine.__init__(self)
        self.world = new_world(kind, make_targets(), profile, known, step_guard=step_guard, python=python)
        self.names = itertools.count()
        if tally is not None:
            tally.examples += 1

    def teardown(self: Any) -> None:
        if tally is not None:
            tally.rows.update(self.world.coverage)
        self.world.close()

    def act(self: Any, action: Action) -> None:
        diffs = self.world.step(action)
        if diffs:
            target = next(r.target for r in self.world.runs if r.target.name == diffs[0].target)
            raise Deviation(Counterexample(machine, target, list(self.world.steps),
                                           [d for d in diffs if d.target == target.name]))

    def fresh(self: Any, prefix: str) -> str:
        return f"{prefix}{next(self.names)}"

    ns.update(__init__=__init__, teardown=teardown, act=act, fresh=fresh)

    if facts(kind).is_loop:
        # The loop contract's object is the run's loop itself: there is one, made first.
        @initialize(target=objects)
        def new_loop(self: Any) -> str:
            obj = object_name(machine, next(self.names))
            self.act(Action("new", machine=machine.name, result=obj))
            return obj
        ns["new_loop"] = new_loop
    elif not function:
        # The plain creation, or another way: the constructor's arguments, debug mode.
        ways = [way for way in creation_actions(machine, "?") + creation_variants(machine, "?")
                if all(t.offers(way, machine) for t in sample)]

        @rule(target=objects, way=st.sampled_from(ways))
        def new(self: Any, way: Action) -> str:
            obj = object_name(machine, next(self.names))
            self.act(dataclasses.replace(way, result=obj))
            return obj
        ns["new"] = new
        if facts(kind).uninitialized and all(t.make_uninitialized is not None for t in sample):
            @rule(target=objects)
            def new_uninitialized(self: Any) -> str:
                obj = self.fresh(PREFIXES["uninitialized"])
                self.act(Action("new", result=obj, machine=machine.name, uninitialized=True))
                return obj
            ns["new_uninitialized"] = new_uninitialized

    if any(_callback_param(op, p) for op in machine.operations for p in op.param_names):
        @rule(target=callbacks)
        def new_callback(self: Any) -> str:
            return self.fresh(PREFIXES["callback"])
        ns["new_callback"] = new_callback

    for op in machine.operations:
        if op.name in facts(kind).driven:
            continue  # the harness runs it (run_one_iteration, run_until_idle)
        if not any(op.name in t.absent for t in sample):  # what a target does not offer is not applicable
            absent = frozenset().union(op.not_yet, *(t.absent_parameters.get(op.name, ()) for t in sample))
            ns.update(_rules_for(machine, op, objects, callbacks, tasks, iterators, function, absent))

    @rule()
    def run_one_iteration(self: Any) -> None:
        self.act(Action("once"))

    @rule()
    def run_until_idle(self: Any) -> None:
        self.act(Action("idle"))

    @rule(task=tasks)
    def cancel_task(self: Any, task: str) -> None:
        self.act(Action("cancel_task", obj=task))

    ns.update(run_one_iteration=run_one_iteration, run_until_idle=run_until_idle, cancel_task=cancel_task)

    if not function and not facts(kind).is_loop and any(settle_actions([way]) for way in ways):
        @precondition(lambda self: bool(settle_actions(s.action for s in self.world.steps)))
        @rule(data=st.data())
        def settle_waiter(self: Any, data: st.DataObject) -> None:
            # A scripted coroutine's waiter future, completed one way, once a coroutine awaits it.
            self.act(data.draw(st.sampled_from(settle_actions(s.action for s in self.world.steps))))
        ns["settle_waiter"] = settle_waiter
    cls = type(name or f"{machine.title.replace('.', '_')}Lockstep", (RuleBasedStateMachine,), ns)
    return cls


def run_random_sequences(machine_cls: type[RuleBasedStateMachine], examples: int, seed: int,
                         shrink: bool = True) -> None:
    """Run ``examples`` random sequences of ``machine_cls`` under Hypothesis, from ``seed``.

    Raises Deviation, with the counterexample (shrunk unless ``shrink`` is
    false), when a target deviates; a HarnessAbort passes through, unshrunk.
    """
    base = settings.get_profile(settings._current_profile or "asyncspec-ci")
    phases = tuple(base.phases) if shrink else tuple(p for p in base.phases if p is not Phase.shrink)
    chosen = settings(base, max_examples=examples, database=None, deadline=None,
                      print_blob=False, derandomize=False, phases=phases)
    try:
        from hypothesis.stateful import get_state_machine_test
    except ImportError:  # pragma: no cover - older Hypothesis
        run_state_machine_as_test(machine_cls, settings=chosen)
        return
    test = get_state_machine_test(machine_cls, settings=chosen)
    with worlds_one_at_a_time():
        hypothesis_seed(seed)(test)()


def _rules_for(machine: Machine, op: Operation, objects: Bundle, callbacks: Bundle, tasks: Bundle,
               iterators: Bundle, function: bool, absent: frozenset[str] = frozenset()) -> dict[str, Any]:
    """The rules that reach ``op``; the ``absent`` parameters (a target does not take them) are never passed."""
    rules: dict[str, Any] = {}
    if op.kind in ("continuation", "callback"):
        return rules  # reached by resuming the operation that suspended, or run by the loop
    obj_strategy: st.SearchStrategy[str] = st.just("") if function else objects
    callback_params = [p for p in op.param_names if _callback_param(op, p)]
    plain = [p for p in op.param_names if p not in callback_params]

    def arguments() -> st.SearchStrategy:
        per_param: dict[str, st.SearchStrategy[Any]] = {
            p: st.just(OMITTED) if p in absent else st.sampled_from(domain(op, p)) for p in plain}
        for p in callback_params:
            per_param[p] = callbacks.map(functools.partial(Recipe, _callback_kind(op, p)))
        return st.fixed_dictionaries(per_param)

    if op.kind in ("query", "command", "function"):
        @rule(target=tasks, obj=obj_strategy, values=arguments())
        def call(self: Any, obj: str, values: dict) -> str:
            args, kwargs = call_arguments(op, values)
            result = self.fresh(PREFIXES["task"])
            self.act(Action("call", op.name, obj, args, kwargs, result=result))
            return result
        rules[f"call_{op.name.strip('_')}"] = call
    elif op.kind == "property":
        @rule(obj=obj_strategy, values=arguments())
        def assign(self: Any, obj: str, values: dict) -> None:
            args, kwargs = call_arguments(op, values)
            self.act(Action("assign", op.name, obj, args, kwargs))
        rules[f"assign_{op.name.strip('_')}"] = assign
    elif op.kind == "generator":
        @rule(target=tasks, obj=objects)
        def await_in_task(self: Any, obj: str) -> str:
            task = self.fresh(PREFIXES["task"])
            self.act(Action("await", op.name, obj, result=task))
            return task

        @rule(target=iterators, obj=objects, name=st.sampled_from((op.name, *op.aliases)))
        def iterate(self: Any, obj: str, name: str) -> str:
            iterator = self.fresh(PREFIXES["iterator"])
            self.act(Action("iterate", name, obj, result=iterator))
            return iterator

        @rule(iterator=consumes(iterators))
        def resume(self: Any, iterator: str) -> None:
            self.act(Action("resume", obj=iterator))
        rules.update({f"await_{op.name.strip('_')}": await_in_task,
                      f"iterate_{op.name.strip('_')}": iterate, f"resume_{op.name.strip('_')}": resume})
    elif op.kind == "coroutine":
        @rule(target=tasks, obj=objects, values=arguments(), elsewhere=st.booleans())
        def start(self: Any, obj: str, values: dict, elsewhere: bool) -> str:
            args, kwargs = call_arguments(op, values)
            task = self.fresh(PREFIXES["task"])
            self.act(Action("start", op.name, obj, args, kwargs, result=task, elsewhere=elsewhere))
            return task
        rules[f"start_{op.name.strip('_')}"] = start
    elif op.kind == "finalizer":
        @rule(obj=consumes(objects))
        def collect(self: Any, obj: str) -> None:
            self.act(Action("collect", op.name, obj))
        rules[f"collect_{op.name.strip('_')}"] = collect
    return rules


def _callback_kind(op: Operation, param: str) -> str:
    return next(v.kind for v in domain(op, param) if v is not None)
