"""The format has one meaning: the compiler and the model walk one plan and agree.

* the generated source is pinned (golden files), so a change to the plan or a
  verb that changes the compiled code shows in the diff;
* ``transitions``, loaded with the declarations, picks the same row as the plan
  for every state, operation and guard valuation;
* each disagreement the two interpreters once had is a test that runs both;
* small random declarations run on both backends give the same answers.
"""

from __future__ import annotations

import copy
from dataclasses import replace
import itertools
import sys
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from asyncspec import impl
from asyncspec.impl import compile_class
from asyncspec.impl._compile import Compiler, _Body, _Lines
from asyncspec.model_tests.model import Recorder, model_class
from asyncspec.model_tests.selector import transitions_choice
from asyncspec.spec import DECISIONS, Branch, load, plan_of
from asyncspec.spec._schema import load_machine

GOLDEN = Path(__file__).parent / "golden"
PYTHON = sys.version_info[:2]


# -- the generated source is pinned ---------------------------------------------------

@pytest.mark.parametrize("profile", ["cpython", "seed"])
@pytest.mark.parametrize("name, attr", [("future", "Future"), ("event", "Event"), ("ensure_future", "ensure_future"),
                                        ("task", "Task")])
def test_the_generated_source_is_the_golden_one(profile, name, attr):
    if PYTHON != (3, 11):
        pytest.skip("the golden sources are the ones generated for Python 3.11's gates")
    compiled = getattr(impl.compile_profile(profile), attr)
    assert compiled.__asyncspec_source__ == (GOLDEN / f"{profile}_{name}.py.txt").read_text()


# -- transitions picks what the plan picks --------------------------------------------

@pytest.mark.parametrize("python", [(3, 11), (3, 12), (3, 13)])
def test_transitions_picks_the_row_the_plan_picks(python):
    checked = 0
    for machine in load(python=python).machines.values():
        plan = plan_of(machine)
        for op in plan.operations:
            for decision in op.decisions:
                guards = sorted({g for r in machine.rows_for(decision.state.name, op.name)
                                 for g in r.conditions + r.unless})
                for values in itertools.product((False, True), repeat=len(guards)):
                    valuation = dict(zip(guards, values))
                    chosen = decision.choose(lambda g: valuation[g.name], lambda a: valuation[a.guard.name])
                    assert transitions_choice(machine, decision.state.name, op.name, valuation) == chosen.id, \
                        (machine.name, decision.state.name, op.name, valuation)
                    checked += 1
    assert checked > 100


class _Choosing(Compiler):
    """The compiler with every row written as ``return <its id>`` and every guard read from ``V``."""

    def row(self, body: Any, row: Any) -> None:
        body.line(f"return {row.id!r}")


class _Refused(Exception):
    pass


def _attempt(passes: bool) -> None:
    if not passes:
        raise _Refused


def _valued(branch: Branch) -> Branch:
    tests = tuple(replace(t, guard=replace(t.guard, expr=f"V[{t.guard.name!r}]")) for t in branch.tests)
    attempt = branch.attempt
    if attempt is not None:
        name = attempt.guard.name
        attempt = replace(attempt, guard=replace(attempt.guard, attempt=f"_attempt(V[{name!r}])",
                                                 raises="_Refused", let=()))
    return replace(branch, tests=tests, attempt=attempt)


@pytest.mark.parametrize("python", [(3, 11), (3, 12), (3, 13)])
def test_the_compiled_tests_pick_the_row_the_plan_picks(python):
    """The compiler nests branches that share a first test and keeps guards in locals: never another row."""
    nested = checked = 0
    for machine in load(python=python).machines.values():
        compiler = _Choosing(machine)
        for op in compiler.plan.operations:
            for decision in op.decisions:
                out = _Lines()
                compiler.decision(_Body(compiler, out, set(), True),
                                  replace(decision, lets=(), branches=tuple(map(_valued, decision.branches))))
                source = "def decide(V):\n" + "\n".join(out.lines)
                nested += any(line.startswith("        if") for line in out.lines)
                namespace: dict[str, Any] = {"_attempt": _attempt, "_Refused": _Refused}
                exec(source, namespace)
                names = sorted({t.guard.name for b in decision.branches for t in b.tests}
                               | {b.attempt.guard.name for b in decision.branches if b.attempt is not None})
                for values in itertools.product((False, True), repeat=len(names)):
                    valuation = dict(zip(names, values))
                    chosen = decision.choose(lambda g: valuation[g.name], lambda a: not valuation[a.guard.name])
                    assert namespace["decide"](valuation) == chosen.id, (machine.name, op.name, valuation, source)
                    checked += 1
    assert nested and checked > 100


def test_the_model_binds_positional_arguments_as_inspect_does():
    """The model's shortcut for positional arguments: the same names, values, defaults and order, or TypeError."""
    from asyncspec.model_tests.model import _arguments
    checked = 0
    for python in [(3, 8), (3, 11), (3, 13)]:
        for machine in load(python=python).machines.values():
            for op in plan_of(machine).operations:
                for count in range(1, len(op.signature.parameters) + 2):
                    args = tuple(range(count))
                    try:
                        bound = op.signature.bind(*args)
                        bound.apply_defaults()
                        want: Any = list(bound.arguments.items())
                    except TypeError:
                        want = TypeError
                    try:
                        got: Any = list(_arguments(op, args, {}).items())
                    except TypeError:
                        got = TypeError
                    assert got == want, (machine.name, op.name, args)
                    checked += 1
    assert checked > 100


def test_every_open_question_is_decided_once():
    questions = [q for q, _, _ in DECISIONS]
    assert len(questions) == len(set(questions)) >= 3


# -- small declarations, run on both backends -----------------------------------------

def _box(rows: list[dict], fields: dict | None = None, namespace: dict | None = None,
         operations: dict | None = None) -> dict:
    """A declaration of a small machine: states A and B, rows given."""
    return {
        "name": "box", "title": "Box", "states": [{"name": "A"}, {"name": "B"}], "initial": "A",
        "namespace": namespace or {},
        "constructor": {"params": ""},
        "fields": fields or {"items": {"init": "[]"}, "log": {"init": "[]"}, "count": {"init": "0"}},
        "operations": operations or {"op": {"params": "x=0"}},
        "guards": {}, "transitions": rows,
        "clauses": [{"id": "X", "source": "cpython-behaviour", "quote": "q", "cite": "tests"}],
    }


def _both(raw: dict) -> tuple[Any, Any]:
    machine = load_machine(raw, PYTHON)
    return compile_class(machine, "Box", __name__), model_class(machine, Recorder())


def _outcome(thunk: Any) -> tuple:
    try:
        return ("returns", thunk())
    except BaseException as e:  # noqa: BLE001 - either backend may raise anything
        return ("raises", type(e), str(e))


def test_for_each_walks_the_live_list_on_both_backends():
    # A body that grows the deque it walks: CPython's Event.set() would meet the deque's error.
    rows = [
        {"trigger": "add", "source": s, "dest": "B", "effects": [{"append": "waiters", "item": "x"}], "clauses": ["X"]}
        for s in "AB"
    ] + [
        {"trigger": "flush", "source": s, "dest": None,
         "effects": [{"for_each": "waiters", "do": "waiters.append(item)"}], "returns": "len(waiters)",
         "clauses": ["X"]}
        for s in "AB"
    ]
    raw = _box(rows, fields={"waiters": {"init": "deque()"}}, namespace={"deque": "collections:deque"},
               operations={"add": {"params": "x"}, "flush": {}})
    compiled, model = _both(raw)
    outcomes = []
    for cls in (compiled, model):
        obj = cls()
        obj.add(1)
        outcomes.append(_outcome(obj.flush))
    assert outcomes[0] == outcomes[1] == ("raises", RuntimeError, "deque mutated during iteration")


def test_an_attempt_matches_its_exception_by_class_on_both_backends():
    # concurrent.futures.CancelledError is named like asyncio's but is another class: not caught.
    rows = [r for s in "AB" for r in (
        {"trigger": "op", "source": s, "dest": None, "conditions": ["refused"], "returns": "'caught'",
         "clauses": ["X"]},
        {"trigger": "op", "source": s, "dest": "B" if s == "A" else None, "unless": ["refused"],
         "returns": "value", "clauses": ["X"]},
        {"trigger": "op", "source": s, "dest": None, "returns": "'never'", "clauses": ["X"]},
    )]
    raw = _box(rows, namespace={"CancelledError": "asyncio.exceptions:CancelledError",
                                "Future": "concurrent.futures:Future"})
    raw["guards"] = {"refused": {"attempt": "(lambda f: (f.cancel(), f.result()))(Future())",
                                 "raises": "CancelledError", "bind": "value"}}
    compiled, model = _both(raw)
    import concurrent.futures
    got = [_outcome(cls().op) for cls in (compiled, model)]
    assert got[0] == got[1] and got[0][1] is concurrent.futures.CancelledError


def test_a_try_let_binds_the_outcome_and_the_traceback_starts_where_it_was_raised_on_both_backends():
    # json.loads raises from json's own frames: the traceback starts there, in neither backend's frame.
    rows = [{"trigger": "op", "source": s, "dest": "B" if s == "A" else None,
             "let": {"got": {"try": "loads(text)", "except": "error"}},
             "returns": "(got, error)", "clauses": ["X"]} for s in "AB"]
    raw = _box(rows, namespace={"loads": "json:loads"}, operations={"op": {"params": "text"}})
    compiled, model = _both(raw)
    for cls in (compiled, model):
        assert cls().op("[1]") == ([1], None)
        got, error = cls().op("[")
        assert got is None and type(error).__name__ == "JSONDecodeError"
        assert error.__traceback__.tb_frame.f_code.co_name == "loads", cls
    # Raised by the expression itself (no frame of its own below it): no traceback at all, on both.
    raw = _box([dict(r, let={"got": {"try": "1 // x", "except": "error"}}) for r in rows],
               operations={"op": {"params": "x"}})
    compiled, model = _both(raw)
    for cls in (compiled, model):
        assert cls().op(1) == (1, None)
        got, error = cls().op(0)
        assert got is None and isinstance(error, ZeroDivisionError) and error.__traceback__ is None, cls


def test_a_let_is_an_expression_or_a_try_and_nothing_else():
    from asyncspec.spec.errors import InvalidSpec

    rows = [{"trigger": "op", "source": s, "dest": "B", "let": {"got": {"try": "x", "catch": "e"}},
             "returns": "got", "clauses": ["X"]} for s in "AB"]
    with pytest.raises(InvalidSpec, match="let 'got'"):
        load_machine(_box(rows), PYTHON)


# The vocabulary of generated declarations: every verb, guards of both polarities, an attempt.
_GUARDS = {
    "positive": {"expr": "x > 0"},
    "many": {"expr": "count > 1"},
    "has_items": {"expr": "bool(items)"},
    "divides": {"attempt": "12 // x", "raises": "ZeroDivisionError", "bind": "quotient"},
}
_EFFECTS = [
    {"set": "count", "to": "count + 1"},
    {"set": "count", "to": "count + x"},
    {"append": "items", "item": "x"},
    {"append": "items", "item": "count"},
    {"keep": "items", "where": "item != x", "count": "removed"},
    {"keep": "items", "where": "item > 0"},
    {"for_each": "items", "do": "log.append(item)"},
    {"for_each": "items", "do": "log.append(item)", "take": True},
    {"for_each": "items", "skip": "item % 2 == 0", "do": "log.append(-item)"},
    {"do": "log.append(count)"},
]
_OUTPUTS = [{}, {"returns": "count"}, {"returns": "(len(items), tuple(log))"}, {"raises": "ValueError(count, x)"},
            {"delegates": "peek"}]


@st.composite
def declarations(draw: Any) -> dict:
    states = ["A", "B", "C"]
    rows: list[dict] = []

    def row(state: str, trigger: str, dest: str | None, guards: dict, kind: str) -> dict:
        effects = draw(st.lists(st.sampled_from(_EFFECTS), max_size=3))
        outputs = _OUTPUTS if kind == "command" else _OUTPUTS[1:4]
        if any("count" in e and "keep" in e for e in effects):
            outputs = outputs + [{"returns": "removed"}]
        return {"trigger": trigger, "source": state, "dest": dest, **guards,
                "effects": copy.deepcopy(effects), **draw(st.sampled_from(outputs)), "clauses": ["X"]}

    for i, state in enumerate(states):
        for op in ("poke", "shove"):
            # The first operation moves round the states, so every state is reachable.
            fallback_dest = states[(i + 1) % 3] if op == "poke" else draw(st.sampled_from(states + [None]))
            plain = draw(st.lists(st.sampled_from(["positive", "many", "has_items"]), max_size=2, unique=True))
            for g in plain:
                polarity = draw(st.sampled_from(["conditions", "unless"]))
                rows.append(row(state, op, draw(st.sampled_from(states + [None])), {polarity: [g]}, "command"))
            if draw(st.booleans()):
                rows.append(row(state, op, draw(st.sampled_from(states + [None])), {"conditions": ["divides"]},
                                "command"))
                rows.append(row(state, op, draw(st.sampled_from(states + [None])), {"unless": ["divides"]},
                                "command"))
            rows.append(row(state, op, fallback_dest, {}, "command"))
        rows.append({"trigger": "peek", "source": state, "dest": None,
                     "returns": "(count, tuple(items), tuple(log))", "clauses": ["X"]})
    raw = _box(rows, operations={"poke": {"params": "x=0"}, "shove": {"params": "x=1"}, "peek": {"kind": "query"}})
    raw["states"] = [{"name": s} for s in states]
    raw["guards"] = _GUARDS
    return raw


def _snapshot(obj: Any) -> tuple:
    return (obj.state, obj._count, tuple(obj._items), tuple(obj._log))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(declarations(), st.lists(st.tuples(st.sampled_from(["poke", "shove", "peek"]),
                                          st.sampled_from([None, 0, 1, 2, -3])), max_size=12))
def test_compiler_and_model_agree_on_random_declarations(raw, calls):
    compiled, model = _both(raw)
    a, b = compiled(), model()
    for op, x in calls:
        args = () if op == "peek" or x is None else (x,)
        first, second = _outcome(lambda: getattr(a, op)(*args)), _outcome(lambda: getattr(b, op)(*args))
        assert first == second, (op, x)
        assert _snapshot(a) == _snapshot(b), (op, x)


def test_exhaustive_and_random_modes_pass_the_same_arguments_the_same_way():
    # Once exhaustive mode passed cancel's msg by keyword and Hypothesis mode by position.
    import itertools as it

    from asyncspec.model_tests.actions import argument_sets
    from asyncspec.model_tests.machines import domain
    from asyncspec.model_tests.stateful import lockstep_machine

    class Stub:
        def __init__(self) -> None:
            self.acted: list = []

        def fresh(self, prefix: str) -> str:
            return prefix + "0"

        def act(self, action: Any) -> None:
            self.acted.append(action)

    compared = 0
    for name, machine in load().machines.items():
        rules = vars(lockstep_machine(name))
        for op in machine.operations:
            rule = rules.get(f"call_{op.name.strip('_')}")
            if rule is None:
                continue
            names = op.param_names
            combos = list(it.product(*(domain(op, p) for p in names)))
            for combo, (args, kwargs) in zip(combos, argument_sets(op)):
                stub = Stub()
                rule(stub, "o0", dict(zip(names, combo)))
                (action,) = stub.acted
                assert (action.args, action.kwargs) == (args, kwargs), (op.name, combo)
                compared += 1
    assert compared > 20
