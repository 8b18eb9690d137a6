"""Hypothesis stateful machines, one per spec machine, derived from the declarations.

Every declared operation becomes a rule, by its kind (see ``actions``):
when the spec gains an operation, the machine gains a rule. Objects,
callbacks, tasks and hand-driven iterators are bundles. Loop progress is a
rule of its own: one iteration, or until idle. After every step the world
compares each target with the model, and a difference fails the example with
the engine's counterexample text, which Hypothesis then shrinks.
"""

from __future__ import annotations

import itertools
from collections import Counter
from typing import Any, Callable, Sequence

from hypothesis import HealthCheck, settings, strategies as st
from hypothesis.stateful import Bundle, RuleBasedStateMachine, consumes, rule

from ..spec import Machine, Operation
from .actions import domain
from .engine import Action, Recipe, Target
from .lockstep import Counterexample, KNOWN_DIFFERENCES, KnownDifference, World
from .targets import _spec, builtin_targets, model_for

settings.register_profile(
    "asyncspec-ci", max_examples=40, stateful_step_count=25, deadline=None, database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
settings.register_profile(
    "asyncspec-deep", max_examples=2000, stateful_step_count=60, deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])


class Deviation(AssertionError):
    """A target's observation differs from the spec's: the message is the counterexample."""

    def __init__(self, counterexample: Counterexample) -> None:
        self.counterexample = counterexample
        super().__init__("\n" + counterexample.text())


#: Rows fired across every example of a kind, for the coverage report.
COVERAGE: dict[str, Counter] = {}
EXAMPLES: Counter = Counter()


def _callback_param(op: Operation, param: str) -> bool:
    values = domain(op, param)
    return bool(values) and all(v is not None and v.kind in ("callback", "equal_callback") for v in values)


def lockstep_machine(kind: str, targets: Callable[[], Sequence[Target]] | None = None,
                     profile: str = "cpython", known: Sequence[KnownDifference] = KNOWN_DIFFERENCES,
                     name: str | None = None) -> type[RuleBasedStateMachine]:
    """Build the RuleBasedStateMachine that drives ``kind``'s targets in lockstep with the model."""
    machine: Machine = _spec(profile)[kind]
    make_targets = targets or (lambda: builtin_targets(kind, profile))
    function = any(op.kind == "function" for op in machine.operations)
    coverage = COVERAGE.setdefault(name or kind, Counter())
    ns: dict[str, Any] = {}

    objects = Bundle("objects")
    callbacks = Bundle("callbacks")
    tasks = Bundle("tasks")
    iterators = Bundle("iterators")
    ns.update(objects=objects, callbacks=callbacks, tasks=tasks, iterators=iterators)

    def __init__(self: Any) -> None:
        RuleBasedStateMachine.__init__(self)
        model, sinks = model_for(kind, profile)
        self.world = World(machine, [model] + list(make_targets()), known=known, fired_sinks=sinks)
        self.names = itertools.count()
        EXAMPLES[name or kind] += 1

    def teardown(self: Any) -> None:
        coverage.update(self.world.coverage)
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

    if not function:
        letter = machine.name[0]

        @rule(target=objects)
        def new(self: Any) -> str:
            obj = self.fresh(letter)
            self.act(Action("new", machine.name, result=obj))
            return obj
        ns["new"] = new
        if machine.uninitialized:
            @rule(target=objects)
            def new_uninitialized(self: Any) -> str:
                obj = self.fresh("u")
                self.act(Action("new", "uninitialized", result=obj))
                return obj
            ns["new_uninitialized"] = new_uninitialized

    if any(_callback_param(op, p) for op in machine.operations for p in op.param_names):
        @rule(target=callbacks)
        def new_callback(self: Any) -> str:
            return self.fresh("cb")
        ns["new_callback"] = new_callback

    for op in machine.operations:
        ns.update(_rules_for(machine, op, objects, callbacks, tasks, iterators, function))

    @rule()
    def run_one_iteration(self: Any) -> None:
        self.act(Action("once"))

    @rule()
    def run_until_idle(self: Any) -> None:
        self.act(Action("idle"))

    @rule(task=tasks)
    def cancel_task(self: Any, task: str) -> None:
        self.act(Action("cancel", "cancel", task))

    ns.update(run_one_iteration=run_one_iteration, run_until_idle=run_until_idle, cancel_task=cancel_task)
    cls = type(name or f"{machine.title.replace('.', '_')}Lockstep", (RuleBasedStateMachine,), ns)
    return cls


def _rules_for(machine: Machine, op: Operation, objects: Bundle, callbacks: Bundle, tasks: Bundle,
               iterators: Bundle, function: bool) -> dict[str, Any]:
    rules: dict[str, Any] = {}
    obj_strategy = st.just("") if function else objects
    callback_params = [p for p in op.param_names if _callback_param(op, p)]
    plain = [p for p in op.param_names if p not in callback_params]
    keyword = set(op.param_names) - set(_positional(op))

    def arguments() -> st.SearchStrategy:
        per_param = {p: st.sampled_from(domain(op, p)) for p in plain}
        per_param.update({p: callbacks.map(lambda n, p=p: Recipe(_callback_kind(op, p), n)) for p in callback_params})
        return st.fixed_dictionaries(per_param)

    def split(values: dict) -> tuple[tuple, tuple]:
        args = tuple(values[p] for p in op.param_names if p not in keyword and values[p] is not None)
        kwargs = tuple((p, values[p]) for p in op.param_names if p in keyword and values[p] is not None)
        return args, kwargs

    if op.kind in ("query", "command", "function"):
        kw = {"obj": obj_strategy, "values": arguments()}
        if function:
            kw["obj"] = st.just("")

        @rule(target=tasks, **kw)
        def call(self: Any, obj: str, values: dict) -> str:
            args, kwargs = split(values)
            result = self.fresh("t")
            self.act(Action("call", op.name, obj, args, kwargs, result=result))
            return result
        rules[f"call_{op.name.strip('_')}"] = call
    elif op.kind == "generator":
        @rule(target=tasks, obj=objects)
        def await_in_task(self: Any, obj: str) -> str:
            task = self.fresh("t")
            self.act(Action("await", op.name, obj, result=task))
            return task

        @rule(target=iterators, obj=objects)
        def iterate(self: Any, obj: str) -> str:
            iterator = self.fresh("i")
            self.act(Action("iterate", op.name, obj, result=iterator))
            return iterator

        @rule(iterator=consumes(iterators))
        def resume(self: Any, iterator: str) -> None:
            self.act(Action("resume", "", iterator))
        rules.update({f"await_{op.name.strip('_')}": await_in_task,
                      f"iterate_{op.name.strip('_')}": iterate, f"resume_{op.name.strip('_')}": resume})
    elif op.kind == "coroutine":
        @rule(target=tasks, obj=objects, values=arguments(), elsewhere=st.booleans())
        def start(self: Any, obj: str, values: dict, elsewhere: bool) -> str:
            args, kwargs = split(values)
            task = self.fresh("t")
            self.act(Action("start", op.name + ("@elsewhere" if elsewhere else ""), obj, args, kwargs,
                            result=task))
            return task
        rules[f"start_{op.name.strip('_')}"] = start
    elif op.kind == "finalizer":
        @rule(obj=consumes(objects))
        def collect(self: Any, obj: str) -> None:
            self.act(Action("collect", op.name, obj))
        rules[f"collect_{op.name.strip('_')}"] = collect
    return rules


def _positional(op: Operation) -> list[str]:
    params = op.params.split("*", 1)[0]
    return [p.split("=")[0].strip() for p in params.split(",") if p.strip()]


def _callback_kind(op: Operation, param: str) -> str:
    return domain(op, param)[0].kind
