"""The plan: one machine's declaration, lowered once into what its two backends walk.

The compiler (``impl/``) and the model (``model_tests/``) must mean the same
thing by a declaration, so neither reads the declaration's rows on its own.
:func:`lower` decides, once per machine and in one place:

* for every (state, operation): the ``let`` bindings, then the ordered
  branches, each a conjunction of guard tests with a polarity (``conditions``
  hold, ``unless`` fail, as ``transitions``' ``Condition(func, target)``), and
  an attempt paired with its refused and passed rows;
* for every row: its effects, when within them the state moves, and its output;
* the constructor, the class defaults, the aliases, the answers of an
  uninitialized object, and one ``inspect.Signature`` per operation.

The open questions of the format are decided here once (:data:`DECISIONS`), each
the way CPython decides it, and the verbs in ``_verbs`` carry the decision out.
"""

from __future__ import annotations

import ast
import inspect
import operator
from dataclasses import dataclass
from typing import Any, Callable

from ._schema import Field, Guard, Let, Machine, Operation, Row, State
from ._verbs import SILENT, Effect, ForEach, Keep, Output

#: The format's open questions, each answered once, with the evidence.
DECISIONS: tuple[tuple[str, str, str], ...] = (
    ("Does for_each walk the live list or a snapshot?",
     "The live list, unless it takes the list first ('take'), then the list it took.",
     "Event.set() walks self._waiters itself; Future.__schedule_callbacks takes a copy and "
     "clears the list (Lib/asyncio/locks.py, futures.py)."),
    ("How does an attempt match the exception it expects?",
     "By class, with isinstance, the name resolved in the declaration's namespace and the builtins.",
     "ensure_future's 'except RuntimeError:' (Lib/asyncio/tasks.py)."),
    ("How are an operation's arguments passed?",
     "As its one inspect.Signature says: positional-or-keyword parameters by position, "
     "keyword-only ones by keyword.",
     "The documented call forms: fut.cancel(msg), fut.add_done_callback(fn, context=ctx)."),
    ("What does a 'try' let bind, and where does its exception's traceback start?",
     "The value and None, or None and the exception, of any class; the traceback starts below the frame "
     "that evaluated the expression, where the exception was raised.",
     "Task.__step_run_and_handle_result's try/except around coro.send/coro.throw; the C Task's "
     "traceback starts in the coroutine (Lib/asyncio/tasks.py, Modules/_asynciomodule.c)."),
    ("When does the state move within a row?",
     "Just before the first effect that is not a 'set' of a field, or after the last effect.",
     "CPython sets fields, then self._state, then schedules callbacks (Lib/asyncio/futures.py)."),
)


@dataclass(frozen=True)
class GuardTest:
    """A guard and the value it must have: True for ``conditions``, False for ``unless``."""

    guard: Guard
    holds: bool


@dataclass(frozen=True)
class RowPlan:
    """A row as it runs: its effects, where the state moves, and its answer."""

    row: Row
    effects: tuple[Effect, ...]
    #: Index into ``effects`` before which the state takes ``dest``'s value; None: it stays.
    move_at: int | None
    dest: State | None
    output: Output

    @property
    def id(self) -> str:
        return self.row.id


@dataclass(frozen=True)
class Attempt:
    """Evaluate an expression; the ``refused`` step when it raises ``exception``, else ``passed``.

    The guard's ``let`` bindings are evaluated first, outside the attempt; the
    value is bound to ``guard.bind`` for the passed step.
    """

    guard: Guard
    refused: RowPlan
    passed: RowPlan


@dataclass(frozen=True)
class Branch:
    """Guard tests, all of which must come out as required, then a row or an attempt."""

    tests: tuple[GuardTest, ...]
    row: RowPlan | None = None
    attempt: Attempt | None = None

    @property
    def rows(self) -> tuple[RowPlan, ...]:
        if self.attempt is not None:
            return (self.attempt.refused, self.attempt.passed)
        assert self.row is not None
        return (self.row,)


@dataclass(frozen=True)
class Decision:
    """What one operation does in one state: bind the ``let``s, then take the first branch that holds."""

    state: State
    lets: tuple[Let, ...]
    branches: tuple[Branch, ...]

    @property
    def rows(self) -> tuple[RowPlan, ...]:
        return tuple(r for b in self.branches for r in b.rows)

    def choose(self, holds: Callable[[Guard], bool], refuses: Callable[[Attempt], bool]) -> RowPlan:
        """The row that fires: the first branch whose tests all come out as required.

        ``holds`` evaluates a guard and ``refuses`` makes an attempt; each is asked
        only when the branches before did not hold, in the order the rows are declared.
        """
        for branch in self.branches:
            if all(holds(t.guard) is t.holds for t in branch.tests):
                if branch.attempt is None:
                    assert branch.row is not None
                    return branch.row
                return branch.attempt.refused if refuses(branch.attempt) else branch.attempt.passed
        # The validator requires an unguarded row last in every decision.
        raise AssertionError(f"no branch holds in {self.state.name}")


@dataclass(frozen=True)
class OperationPlan:
    operation: Operation
    signature: inspect.Signature
    decisions: tuple[Decision, ...]
    #: The answer of an object whose constructor never ran (None: not declared).
    uninitialized: RowPlan | None
    #: The fields some row of the operation reads: what calling it can reveal.
    reads: frozenset[str] = frozenset()

    @property
    def name(self) -> str:
        return self.operation.name

    def decision(self, state: str) -> Decision:
        for d in self.decisions:
            if d.state.name == state:
                return d
        raise KeyError(state)


@dataclass(frozen=True)
class FieldInit:
    field: Field
    value: str
    condition: str | None


@dataclass(frozen=True)
class Constructor:
    operation: Operation | None
    signature: inspect.Signature
    lets: tuple[Let, ...]
    inits: tuple[FieldInit, ...]
    initial: State
    #: Run once the fields hold their initial values and the state is the initial one.
    effects: tuple[Effect, ...] = ()


@dataclass(frozen=True)
class Plan:
    """Everything both backends need of one machine."""

    machine: Machine
    operations: tuple[OperationPlan, ...]
    constructor: Constructor
    #: (attribute, expression) pairs the class holds before any constructor runs.
    class_defaults: tuple[tuple[str, str], ...]
    #: (alias, operation) pairs: the alias is the same function.
    aliases: tuple[tuple[str, str], ...]
    #: A module-level function rather than a class (its states are the call's outcomes).
    function: bool

    @property
    def state_attr(self) -> str:
        return self.machine.state_attr

    def operation(self, name: str) -> OperationPlan:
        for op in self.operations:
            if op.name == name:
                return op
        raise KeyError(name)

    def state_of(self, value: Any) -> State | None:
        """The state an object is in, given its state attribute's value (None: not a declared state)."""
        for s in self.machine.states:
            if s.value is value or (type(s.value) is type(value) and s.value == value):
                return s
        return None

    def rows(self) -> tuple[RowPlan, ...]:
        out = [r for op in self.operations for d in op.decisions for r in d.rows]
        out += [op.uninitialized for op in self.operations if op.uninitialized is not None]
        return tuple(out)


def lower(machine: Machine) -> Plan:
    """Decide, once, everything the compiler and the model do with ``machine``."""
    function = any(op.kind == "function" for op in machine.operations)
    operations = tuple(_operation(machine, op, function) for op in machine.operations)
    constructor = machine.constructor
    lets = machine.constructor_let
    inits = tuple(FieldInit(f, f.init, f.init_if) for f in machine.fields if f.init is not None)
    ctor = Constructor(constructor, constructor.signature if constructor else inspect.Signature(),
                       lets, inits, machine.state(machine.initial), machine.constructor_effects)
    defaults = []
    if machine.uninitialized:
        # An object whose constructor never ran has no state: its answers are the uninitialized ones.
        defaults.append((machine.state_attr, "None"))
    defaults += [(f.attr, f.default) for f in machine.fields if f.default is not None]
    defaults += list(machine.class_attributes)
    aliases = tuple((alias, op.name) for op in machine.operations for alias in op.aliases)
    return Plan(machine, operations, ctor, tuple(defaults), aliases, function)


def class_attribute(machine: Machine, op: OperationPlan, function: Callable[..., Any]) -> Any:
    """What a class holds under an operation's name, given the function made for it (by either backend).

    The function itself; for a ``property``, a property whose getter answers
    the declared field and whose setter is the function.
    """
    if op.operation.kind != "property":
        return function
    return property(operator.attrgetter(machine.field(op.operation.field).attr), function,
                    doc=op.operation.doc or None)


_PLANS: dict[int, tuple[Machine, Plan]] = {}


def plan_of(machine: Machine) -> Plan:
    """The plan of a loaded machine, lowered on first use."""
    cached = _PLANS.get(id(machine))
    if cached is None or cached[0] is not machine:
        cached = _PLANS[id(machine)] = (machine, lower(machine))
    return cached[1]


def _operation(m: Machine, op: Operation, function: bool) -> OperationPlan:
    # A function's final states are the outcomes of a call: nothing is called in them.
    states = [s for s in m.states if not (function and s.final)]
    decisions = tuple(_decision(m, s, op, moves=not function) for s in states)
    answer = m.uninitialized.get(op.name)
    uninitialized = _row_plan(m, answer, moves=False) if answer is not None else None
    return OperationPlan(op, op.signature, decisions, uninitialized, _reads(m, decisions))


def _reads(m: Machine, decisions: tuple[Decision, ...]) -> frozenset[str]:
    """The fields the rows of ``decisions`` read: in an expression, or by walking a list field."""
    fields = {f.name for f in m.fields}
    texts: list[str] = []
    read: set[str] = set()
    for d in decisions:
        texts += [let.expr for let in d.lets]
        for branch in d.branches:
            for test in branch.tests:
                texts.append(test.guard.expr)
            if branch.attempt is not None:
                guard = branch.attempt.guard
                texts += [guard.attempt] + [let.expr for let in guard.let]
            for row in branch.rows:
                for effect in row.effects:
                    texts += [x.text for x in effect.expressions()]
                    if isinstance(effect, (Keep, ForEach)):
                        read.update(effect.fields())
                texts += [x.text for x in row.output.expressions()]
    for text in texts:
        read |= {n.id for n in ast.walk(ast.parse(text, mode="eval")) if isinstance(n, ast.Name)} & fields
    return frozenset(read)


def _decision(m: Machine, state: State, op: Operation, moves: bool) -> Decision:
    rows = m.rows_for(state.name, op.name)
    branches: list[Branch] = []
    i = 0
    while i < len(rows):
        row = rows[i]
        attempt = next((g for g in row.conditions if m.guards[g].is_attempt), None)
        if attempt is not None:
            # The validator pairs an attempt's refused row with the passed row right after it.
            tests = tuple(GuardTest(m.guards[g], True) for g in row.conditions if g != attempt)
            branches.append(Branch(tests, attempt=Attempt(
                m.guards[attempt], _row_plan(m, row, moves), _row_plan(m, rows[i + 1], moves))))
            i += 2
            continue
        tests = tuple(GuardTest(m.guards[g], True) for g in row.conditions) + \
            tuple(GuardTest(m.guards[g], False) for g in row.unless)
        branches.append(Branch(tests, row=_row_plan(m, row, moves)))
        i += 1
    return Decision(state, rows[0].let if rows else (), tuple(branches))


def _row_plan(m: Machine, row: Row, moves: bool) -> RowPlan:
    move_at: int | None = None
    if moves and row.dest is not None:
        move_at = next((i for i, e in enumerate(row.effects) if not e.field_only), len(row.effects))
    dest = m.state(row.dest) if move_at is not None and row.dest is not None else None
    return RowPlan(row, row.effects, move_at, dest, row.output if row.output is not None else SILENT)
