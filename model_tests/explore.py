"""Exhaustive mode: breadth-first exploration of the model's state space.

Like TLC, the explorer de-duplicates states by fingerprint. A fingerprint is
the model's abstract state after a path of actions: every object's lifecycle
state and fields, the tasks' outcomes, the handles waiting in the loop's ready
queue, and the rows of the transition that led there. Each path that reaches a
new fingerprint is replayed on every target and compared step by step, so the
first difference found is one of the shortest: breadth first, a shorter path
would have been tried before.

A fingerprint is the *model's* state; a target may hide state the model does
not keep apart. So a path that reaches a known fingerprint is merged only
after its targets were driven through distinguishing suffixes, as the W-method
does: for each field the two histories wrote a different number of times, an
operation whose rows read that field (from the declarations), then the loop
run until idle.

The guarantee, in the W-method's terms. Within the depth bound and the small
value domains, the explorer takes a *transition cover*: every transition out
of every reached model state, on every target, compared in full (answers,
each loop's calls, callbacks run and their context, the exception handler
and what it is given, the probes and the declared observed facts). Its
*characterizing set* is, per field, the declared readers of that field (then
the loop run until idle), applied before any merge whose two histories wrote
the field differently. So, with no extra states allowed (the W-method's
m = n), it catches every output fault on a covered transition, and every
transfer fault that leaves a hidden field different where its declared reader
shows it. The whole declared surface is covered: each other way to make the
object (each combination of the constructor's parameters over their domains,
and debug mode) is explored the same way to ``Bounds.variant_depth`` steps;
every alias of a generator operation is driven by hand; properties are
assigned. Paths are replayed from the start (real loops and objects cannot be
copied), which bounds the depth one can afford.
"""

from __future__ import annotations

import contextvars
import gc
import multiprocessing
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Callable, Iterator, Sequence

from ..spec import Call, ForEach, Machine, Operation, Park, Suspend, plan_of
from .actions import LOOP_ACTIONS, PREFIXES, creation_actions, creation_variants, object_name, operation_actions, resume_actions, \
    settle_actions, task_actions, uninitialized_action
from .engine import CALLBACK, ITERATOR, Action, HarnessAbort, Run, context_mark, task_outcome, step_context
from .lockstep import Counterexample, World, compare, worlds_one_at_a_time
from .machines import SMALL, TABLE, Bounds, facts


@dataclass
class Exploration:
    machine: str
    states: int = 0
    transitions: int = 0
    paths_replayed: int = 0
    max_depth: int = 0
    seconds: float = 0.0
    coverage: Counter = field(default_factory=Counter)
    counterexample: Counterexample | None = None
    known_used: Counter = field(default_factory=Counter)
    #: With ``collect_all``: the shortest counterexample for each row that deviated.
    counterexamples: dict[str, Counterexample] = field(default_factory=dict)
    completed: bool = True
    #: When the target broke the run: (step number, the action, what happened).
    aborted: tuple[int, str, str] | None = None
    #: The steps that broke the target (a crash, a hang), by what they did (``broken_by``), each with
    #: (step number, the action, what happened, the action itself): exploration went on without them.
    broken: dict[tuple, tuple[int, str, str, Any]] = field(default_factory=dict)
    #: Suffixes run before merges, to reveal hidden fields.
    suffixes: int = 0
    #: Hears of each counterexample as it is kept, with the rows it is the first for (a worker streams them).
    on_found: Callable[[Counterexample, list[str]], None] | None = field(default=None, repr=False)

    def keep(self, found: Counterexample) -> None:
        """Keep a counterexample: the first overall, and the first (so the shortest) for each row it blames."""
        if self.counterexample is None:
            self.counterexample = found
        new = [row for row in found.rows if row not in self.counterexamples]
        for row in new:
            self.counterexamples[row] = found
        if new and self.on_found is not None:
            self.on_found(found, new)


#: How far each machine is explored by default (the table in ``machines``).
DEFAULT_BOUNDS: dict[str, Bounds] = {kind: entry.bounds for kind, entry in TABLE.items()}


def alphabet(machine: Machine, path: Sequence[Action], bounds: Bounds) -> list[Action]:
    """The actions possible after ``path``: on the objects and tasks it made, within bounds."""
    objects = [a.result for a in path if a.verb == "new"]
    uninitialized = {a.result for a in path if a.verb == "new" and a.uninitialized}
    tasks = [a.result for a in path if a.result and a.verb in ("await", "start", "call")]
    iterators = [a.result for a in path if a.verb == "iterate"]
    resumed = {a.obj for a in path if a.verb == "resume"}
    collected = {a.obj for a in path if a.verb == "collect"}
    next_task = f"{PREFIXES['task']}{len(tasks) + len(iterators)}"
    actions: list[Action] = []
    for obj in ([""] if facts(machine.name).function else objects):
        if obj in collected:
            continue
        for op in machine.operations:
            for action in operation_actions(machine, op, obj, next_task, SMALL):
                if action.verb == "iterate" and iterators:
                    continue  # one iterator driven by hand is enough to reach every row
                if action.result and action.verb != "iterate" and len(tasks) >= bounds.tasks:
                    continue
                if obj in uninitialized and action.verb == "iterate":
                    continue
                actions.append(action)
    if bounds.uninitialized and not uninitialized:
        actions += uninitialized_action(machine, PREFIXES["uninitialized"] + "0")
    actions += list(LOOP_ACTIONS) + task_actions(tasks) + settle_actions(path)
    # Resuming an exhausted iterator is outside the spec (the C future's iterator differs there).
    actions += resume_actions(i for i in iterators if i not in resumed)
    return actions


#: How many different steps may break a target before its exploration stops altogether.
MAX_BROKEN = 8


def broken_by(action: Action) -> tuple:
    """What a step that broke the target did: its operation, the parameters it passed, and on what kind
    of object (its name's prefix: an uninitialized one, a task). The same again is not explored."""
    return (action.verb, action.operation, action.obj.rstrip("0123456789"), tuple(sorted(k for k, _ in action.kwargs)),
            len(action.args))


def endings(path: Sequence[Action]) -> list[list[Action]]:
    """At the depth bound, each await driven by hand and still suspended: the loop run idle, then resumed.

    What an await answers once its future is done (its continuation) lies one
    step beyond the step that completes the future; ending each bounded path
    this way reaches it wherever the bound cut the path short.
    """
    resumed = {a.obj for a in path if a.verb == "resume"}
    return [[LOOP_ACTIONS[-1], *resume_actions([a.result])] for a in path
            if a.verb == "iterate" and a.result not in resumed]


def _start_differences(world: World) -> Counterexample | None:
    last = world.steps[-1]
    model = last.observations.get(world.model.target.name)
    for run in world.runs[1:]:
        other = last.observations.get(run.target.name)
        if model is None or other is None:
            continue
        diffs, _ = compare(model, other, run.target.name, last.rows, world.known,
                           current=step_context(len(world.steps) - 1))
        if diffs:
            return Counterexample(world.machine, run.target, list(world.steps), diffs)
    return None


def _what(e: BaseException) -> str:
    return str(e) or type(e).__name__


def initial_path(machine: Machine) -> list[Action]:
    """The first plain way to make the object (none for a function): the actions every path starts with."""
    return creation_actions(machine, object_name(machine, 0))[:1]


def initial_paths(machine: Machine, bounds: Bounds, offers: Callable[[Action], bool] = lambda action: True
                  ) -> list[tuple[list[Action], int]]:
    """Where exploration starts, and how many steps it takes from there.

    The plain creation goes ``bounds.depth`` steps; each other way to make the
    object (the constructor's arguments, debug mode) goes ``bounds.variant_depth``.
    """
    plain = [[a] for a in creation_actions(machine, object_name(machine, 0)) if offers(a)] or [[]]
    variants = [[a] for a in creation_variants(machine, object_name(machine, 0)) if offers(a)]
    return [(p, bounds.depth) for p in plain] + [(v, min(bounds.variant_depth, bounds.depth)) for v in variants]


def fingerprint(world: World) -> tuple:
    run = world.model
    m = world.machine
    parts: list[Any] = []
    if world.steps:
        # The transition that led here is part of the state. An implementation's hidden
        # state can differ between two paths that reach the same model state; expanding
        # each (incoming transition, state) pair (2-switch coverage) reaches both. For a
        # function, which keeps no state between calls, it is the whole state.
        parts.append(("via", world.steps[-1].rows))
    for name, obj in run.objects.items():
        if run.roles.get(name) in (CALLBACK, ITERATOR):
            continue
        if name in run.tasks:
            # What a task runs is part of its state, not only how far it got.
            made_by = next((st.action.describe() for st in world.steps if st.action.result == name), "")
            parts.append((name, made_by, task_outcome(run, obj)))
            continue
        fields = tuple((f.name, _abstract(run, getattr(obj, f.attr, None))) for f in _fields_of(obj, m))
        parts.append((name, _abstract(run, getattr(obj, m.state_attr, None)), fields))
    ready = getattr(run.loop, "_ready", ())
    parts.append(("ready", tuple((run.describe(h._callback), _abstract(run, h._args)) for h in ready)))
    return tuple(parts)


def _fields_of(obj: Any, m: Machine) -> tuple:
    machine = getattr(type(obj), "asyncspec_machine", None)
    return machine.fields if machine is not None else ()


def _abstract(run: Run, value: Any) -> Any:
    if isinstance(value, contextvars.Context):
        return ("context", context_mark(value))
    if isinstance(value, (list, tuple)):
        return tuple(_abstract(run, v) for v in value)
    if hasattr(value, "__iter__") and type(value).__name__ == "deque":
        return tuple(_abstract(run, v) for v in value)
    machine = getattr(type(value), "asyncspec_machine", None)
    if machine is not None and run.names.get(id(value)) is None:
        state = getattr(value, machine.state_attr, None)
        return (machine.name, state)
    if isinstance(value, BaseException):
        return (type(value).__name__, run.describe_args(value))
    if isinstance(value, str):
        return run.describe_text(value)  # a task's default name counts tasks made in the process
    return run.describe(value)



# -- distinguishing suffixes ---------------------------------------------------------
#
# Two paths that reach the same model state are merged (only one is extended), which is
# sound for the model but not for a target: its hidden fields may differ between the two.
# Before a merge, the explorer drives the targets through suffixes that reveal the fields
# the two histories wrote differently (the W-method's characterizing set, restricted to
# what could differ): for each such field, an operation whose rows read it, then the loop
# run until idle. The readers come from the declarations (``OperationPlan.reads``).

#: Which readers to prefer: those that change least.
_PREFERENCE = ("query", "command", "generator", "coroutine", "finalizer")


def writes_of(machine: Machine) -> dict[str, frozenset[str]]:
    """The fields each row of ``machine`` writes, by row id."""
    out = {}
    for row in plan_of(machine).rows():
        written = {f for e in row.effects if not isinstance(e, (Call, Suspend, Park))
                   and not (isinstance(e, ForEach) and not e.take) for f in e.fields()}
        out[row.id] = frozenset(written)
    return out


def history(world: World, writes: dict[str, frozenset[str]]) -> Counter:
    """How often each field was written along the world's path: what the model's state forgets."""
    out: Counter = Counter()
    for step in world.steps:
        for row in step.rows:
            out.update(writes.get(row, ()))
    return out


def revealing(machine: Machine, field_name: str) -> Operation | None:
    """The operation whose rows read ``field_name`` that changes least, if any."""
    readers = [op.operation for op in plan_of(machine).operations
               if field_name in op.reads and op.operation.kind in _PREFERENCE]
    readers.sort(key=lambda op: _PREFERENCE.index(op.kind))
    return readers[0] if readers else None


def suffixes(machine: Machine, path: Sequence[Action], fields: set[str]) -> list[list[Action]]:
    """For each object of ``path`` and each field, the actions that reveal the field, then the loop run idle."""
    made = [a for a in path if a.verb == "new" and not a.uninitialized]
    gone = {a.obj for a in path if a.verb == "collect"}
    taken = sum(1 for a in path if a.result and a.verb != "new")
    out: list[list[Action]] = []
    for field_name in sorted(fields):
        op = revealing(machine, field_name)
        if op is None:
            continue
        for new in made:
            if new.result in gone:
                continue
            actions = operation_actions(machine, op, new.result, f"{PREFIXES['task']}{taken}", SMALL)
            actions = [a for a in actions if not a.elsewhere and a.verb != "iterate"][:1]
            suffix = actions + [LOOP_ACTIONS[-1]]
            if actions and suffix not in out:
                out.append(suffix)
    return out


@dataclass(frozen=True)
class Outcome:
    """What replaying one path showed, in a form that crosses a process boundary."""

    key: tuple = ()
    written: Counter = field(default_factory=Counter)
    deviates: bool = False
    coverage: Counter = field(default_factory=Counter)
    known_used: Counter = field(default_factory=Counter)
    depth: int = 0
    aborted: str | None = None


def evaluate(make_world: Callable[[], World], writes: dict[str, frozenset[str]], path: list[Action]) -> Outcome:
    """Replay ``path`` and say what it showed: the state reached, or that a target deviates or broke."""
    try:
        world, diffs = replay(make_world, path)
    except HarnessAbort as e:
        return Outcome(aborted=_what(e))
    try:
        if diffs:
            return Outcome(deviates=True, coverage=world.coverage, known_used=world.known_used,
                           depth=len(world.steps))
        return Outcome(fingerprint(world), history(world, writes), False, world.coverage, world.known_used,
                       len(world.steps))
    finally:
        world.close()


#: What a forked worker evaluates paths with (set in the parent just before forking).
_SHARED: tuple[Callable[[], World], dict[str, frozenset[str]]] | None = None


def _evaluate_shared(path: list[Action]) -> Outcome:
    assert _SHARED is not None
    return evaluate(_SHARED[0], _SHARED[1], path)


class _Evaluator:
    """Evaluates a level's paths in order: here, or split across forked processes.

    If a forked process dies (the target crashed it), the rest of the level is
    evaluated here, from the path that broke it, so that this process meets the
    crash itself and the audit reports it as it would without the split.
    """

    def __init__(self, make_world: Callable[[], World], writes: dict[str, frozenset[str]], jobs: int) -> None:
        self.make_world, self.writes = make_world, writes
        self.jobs = jobs if jobs > 1 and "fork" in multiprocessing.get_all_start_methods() else 1
        self.pool: ProcessPoolExecutor | None = None

    def __enter__(self) -> Callable[[list[list[Action]]], Iterator[Outcome]]:
        if self.jobs > 1:
            global _SHARED
            _SHARED = (self.make_world, self.writes)
            # The collector in each child would otherwise visit (and so copy) every inherited object;
            # unfrozen when the exploration ends (``worlds_one_at_a_time``).
            gc.freeze()
            self.pool = ProcessPoolExecutor(self.jobs, mp_context=multiprocessing.get_context("fork"))
        return self.evaluate

    def evaluate(self, paths: list[list[Action]]) -> Iterator[Outcome]:
        done = 0
        if self.pool is not None and len(paths) >= 2 * self.jobs:
            try:
                for outcome in self.pool.map(_evaluate_shared, paths, chunksize=max(1, len(paths) // (self.jobs * 8))):
                    yield outcome
                    done += 1
                return
            except BrokenProcessPool:
                self._close()
        for path in paths[done:]:
            yield evaluate(self.make_world, self.writes, path)

    def _close(self) -> None:
        if self.pool is not None:
            self.pool.shutdown(wait=True, cancel_futures=True)
            self.pool = None

    def __exit__(self, *exc: object) -> None:
        global _SHARED
        self._close()
        _SHARED = None


def _counterexample(machine: Machine, world: World, diffs: list) -> Counterexample:
    target = next(r.target for r in world.runs if r.target.name == diffs[0].target)
    return Counterexample(machine, target, world.steps, [d for d in diffs if d.target == target.name])


def replay(make_world: Callable[[], World], path: Sequence[Action]) -> tuple[World, list]:
    world = make_world()
    diffs: list = []
    for action in path:
        diffs = world.step(action)
        if diffs:
            break
    return world, diffs


def explore(machine: Machine, make_world: Callable[[], World], bounds: Bounds,
            deadline: float | None = None, collect_all: bool = False,
            offers: Callable[[Action], bool] = lambda action: True,
            on_step: Callable[[int, Sequence[Action]], None] | None = None, jobs: int = 1,
            on_found: Callable[[Counterexample, list[str]], None] | None = None) -> Exploration:
    """Explore breadth first; stop at the first counterexample, the depth bound or the deadline.

    Every transition out of every reached state is replayed on every target and
    compared; only paths to new states are extended. With ``jobs`` above 1, each
    level's transitions are replayed in that many forked processes; what is
    found, and in which order, is the same.
    """
    with worlds_one_at_a_time():
        return _explore(machine, make_world, bounds, deadline, collect_all, offers, on_step, jobs, on_found)


def _explore(machine: Machine, make_world: Callable[[], World], bounds: Bounds, deadline: float | None,
             collect_all: bool, offers: Callable[[Action], bool],
             on_step: Callable[[int, Sequence[Action]], None] | None, jobs: int,
             on_found: Callable[[Counterexample, list[str]], None] | None) -> Exploration:
    result = Exploration(machine.name, on_found=on_found)
    started = time.perf_counter()
    writes = writes_of(machine)
    seen: dict[tuple, Counter] = {}
    level: list[list[Action]] = []
    limits: dict[int, int] = {}  # by the id of a path's first action: how deep its paths go
    for start, limit in initial_paths(machine, bounds, offers):
        try:
            world, _ = replay(make_world, start)
        except HarnessAbort as e:
            if start and len(result.broken) < MAX_BROKEN and start[-1].kwargs:
                # One way of making it broke (a constructor argument): the others are still explored.
                result.broken[broken_by(start[-1])] = (0, start[-1].describe(), _what(e), start[-1])
                continue
            result.aborted = (0, start[-1].describe() if start else "", _what(e))
            result.completed = False
            result.seconds = time.perf_counter() - started
            return result
        seen.setdefault(fingerprint(world), history(world, writes))
        result.coverage.update(world.coverage)
        world.close()
        first = world.steps and _start_differences(world)
        if first:
            # The target differs as soon as it is made: nothing beyond can be compared.
            result.keep(first)
            if not collect_all or not level:
                result.seconds = time.perf_counter() - started
                return result
            continue
        level.append(start)
        limits[id(start[0]) if start else 0] = limit
    made = len(initial_path(machine))  # the actions that make the object: one, or none for a function

    def room(path: list[Action]) -> bool:
        return len(path) - made < limits[id(path[0]) if made else 0]

    with _Evaluator(make_world, writes, jobs) as evaluate:
        while level and result.counterexample is None or (level and collect_all):
            closing = [path + ending for path in level if not room(path) for ending in endings(path)
                       if all(offers(action) for action in ending)]
            level = [path for path in level if room(path)]
            if not level and not closing:
                break
            candidates = [path + [action] for path in level for action in alphabet(machine, path, bounds)
                          if offers(action) and broken_by(action) not in result.broken] + closing
            level = []
            for candidate, out in zip(candidates, evaluate(candidates)):
                if deadline is not None and time.perf_counter() > deadline:
                    result.completed = False
                    break
                result.transitions += 1
                if on_step is not None:
                    on_step(result.transitions, candidate)
                if out.aborted is not None:
                    key = broken_by(candidate[-1])
                    if key in result.broken:
                        continue  # broke the same way on another path, found at this level
                    if candidate[-1].operation and len(result.broken) < MAX_BROKEN:
                        # The operation broke the target: its clauses are errors; the rest is explored without it.
                        result.broken[key] = (len(candidate) - len(start), candidate[-1].describe(), out.aborted,
                                              candidate[-1])
                        continue
                    result.aborted = (len(candidate) - len(start), candidate[-1].describe(), out.aborted)
                    result.completed = False
                    break
                result.paths_replayed += 1
                result.coverage.update(out.coverage)
                result.known_used.update(out.known_used)
                result.max_depth = max(result.max_depth, out.depth - len(start))
                if out.deviates:
                    # Found where it was evaluated; made again here, where the counterexample is kept.
                    world, diffs = replay(make_world, candidate)
                    found = _counterexample(machine, world, diffs)
                    world.close()
                    # Keep the first (so the shortest) per deviating row; do not extend a deviating path.
                    result.keep(found)
                    if not collect_all:
                        break
                    continue
                if out.key not in seen:
                    seen[out.key] = out.written
                    level.append(candidate)
                    continue
                if out.written == seen[out.key]:
                    continue
                # A merge of two histories that wrote some field differently: reveal those fields first.
                differing = {f for f in set(out.written) | set(seen[out.key]) if out.written[f] != seen[out.key][f]}
                for suffix in suffixes(machine, candidate, differing):
                    result.suffixes += 1
                    try:
                        world, diffs = replay(make_world, candidate + suffix)
                    except HarnessAbort:
                        break  # the target broke only on the suffix: the merge stands, it is not a finding here
                    result.coverage.update(world.coverage)
                    if diffs:
                        result.keep(_counterexample(machine, world, diffs))
                        world.close()
                        break
                    world.close()
                if result.counterexample is not None and not collect_all:
                    break
            if result.aborted is not None or not result.completed:
                break
    result.states = len(seen)
    result.seconds = time.perf_counter() - started
    return result
