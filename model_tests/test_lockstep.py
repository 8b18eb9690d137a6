"""The lockstep engine against the built-in targets, and against seeded faults."""

from __future__ import annotations

import asyncio
from asyncio import futures
from pathlib import Path

import pytest

from asyncspec.model_tests.check import check_machine
from asyncspec import impl
from asyncspec.model_tests.engine import Action, Target, class_target
from asyncspec.model_tests.recipes import Recipe
from asyncspec.model_tests.explore import DEFAULT_BOUNDS, explore
from asyncspec.model_tests.faults import FAULTS
from asyncspec.model_tests.lockstep import HARNESS_CLAUSE, HARNESS_ROW, Counterexample, World
from asyncspec.model_tests.stateful import lockstep_machine
from asyncspec.model_tests.machines import facts
from asyncspec.model_tests.targets import KINDS, builtin_targets, model_for, new_world, spec_for

#: CPython's pure-Python future (not in typeshed).
PyFuture = getattr(futures, "_PyFuture")

HERE = Path(__file__).parent


@pytest.mark.parametrize("kind", KINDS)
def test_builtin_targets_comply_with_full_coverage(kind):
    result = check_machine(kind)
    assert result.counterexample is None, result.counterexample.text()
    assert result.coverage is not None and result.exploration is not None
    assert result.coverage.missing_rows == [] and result.coverage.missing_clauses == []
    assert result.exploration.states > 1 and result.examples > 0
    assert result.ok
    if kind == "future":
        # every known difference the Future declares is needed: none is stale
        assert set(result.known_used) == {d.id for d in spec_for("cpython")["future"].differences}


@pytest.mark.parametrize("fault", FAULTS, ids=lambda f: f.name)
def test_every_seeded_fault_is_caught_on_its_clause(fault):
    ce = check_machine(fault.kind, targets=[fault.target()]).counterexample
    assert ce is not None, f"{fault.name} ({fault.story}) was not caught"
    named = {cid for cid, _ in ce.clauses()}
    assert named & set(fault.clauses), (fault.name, sorted(named))
    assert len(ce.steps) <= 5, ce.text()


def test_there_are_at_least_twenty_faults_across_the_three_machines():
    # The loop contract's faulty loops are in test_loop.py.
    assert len(FAULTS) >= 20
    assert {f.kind for f in FAULTS} == {k for k in KINDS if not facts(k).is_loop}


def test_the_counterexample_text_is_pinned():
    fault = next(f for f in FAULTS if f.name == "cancel-done-true")
    ce = check_machine("future", targets=[fault.target()]).counterexample
    assert ce is not None
    text = ce.text()
    assert text + "\n" == (HERE / "pinned_cancel_done_true.txt").read_text()


def test_the_reproduction_script_reproduces(tmp_path):
    import subprocess
    import sys
    fault = next(f for f in FAULTS if f.name == "drops-late-callback")
    ce = check_machine("future", targets=[fault.target()]).counterexample
    assert ce is not None
    script = tmp_path / "repro.py"
    script.write_text(ce.script())
    out = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert "step 1:" in out.stdout


def test_the_reproduction_script_runs_on_the_audited_loop(tmp_path):
    import dataclasses
    import subprocess
    import sys
    fault = next(f for f in FAULTS if f.name == "cancel-done-true")
    target = dataclasses.replace(fault.target(), loop_source="asyncio:SelectorEventLoop")
    ce = check_machine("future", targets=[target], random=False).counterexample
    assert ce is not None
    assert "Reproduce on the loop from asyncio:SelectorEventLoop:" in ce.text()
    assert "from asyncio import SelectorEventLoop as new_loop" in ce.script()
    script = tmp_path / "repro.py"
    script.write_text(ce.script())
    out = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert "-> True" in out.stdout  # the deviation shows: cancel() of a cancelled future answers True


def test_breadth_first_finds_the_shortest_counterexample():
    fault = next(f for f in FAULTS if f.name == "overwrites-result")
    machine = spec_for("cpython")["future"]

    def make_world():
        return new_world("future", [fault.target()])
    result = explore(machine, make_world, DEFAULT_BOUNDS["future"])
    assert result.counterexample is not None
    actions = [s.action for s in result.counterexample.steps]
    # new, complete, complete again: nothing shorter can show an overwrite
    assert len(actions) == 3 and actions[0].verb == "new"


def test_exploration_is_deterministic():
    from asyncspec.model_tests.explore import Bounds
    machine = spec_for("cpython")["event"]

    def make_world():
        return new_world("event", builtin_targets("event"))
    bounds = Bounds(depth=3, tasks=2)
    first = explore(machine, make_world, bounds)
    second = explore(machine, make_world, bounds)
    assert (first.states, first.transitions, first.max_depth) == (second.states, second.transitions,
                                                                    second.max_depth)


def test_known_differences_apply_by_behaviour_not_by_name():
    # A faithful copy of the pure-Python future, under another name, shows the declared behaviours.
    renamed = class_target("some.other.Future", "future", PyFuture, "asyncio.futures:_PyFuture")
    result = check_machine("future", targets=[renamed], examples=10)
    assert result.counterexample is None, result.counterexample.text()
    assert {"D-MSG-result", "D-CTX", "D-ITER", "D-UNINIT-attribute"} <= set(result.known_used)


def test_strict_messages_compare_messages_exactly():
    from asyncspec.model_tests.lockstep import known_differences
    from asyncspec.model_tests.targets import spec_for
    renamed = class_target("some.other.Future", "future", PyFuture, "asyncio.futures:_PyFuture")
    strict = known_differences(spec_for("cpython"), strict_messages=True)
    result = check_machine("future", targets=[renamed], known=strict, random=False)
    assert result.counterexample is not None
    assert result.counterexample.differences[0].aspect == "outcome"


def test_a_new_operation_gets_a_rule():
    from hypothesis.stateful import RULE_MARKER
    machine_cls = lockstep_machine("future")
    rules = {f.__name__ for f in vars(machine_cls).values() if getattr(f, RULE_MARKER, None)}
    assert {"call", "await_in_task", "iterate", "resume", "collect", "run_one_iteration", "run_until_idle"} <= rules


# Hypothesis's own runner, on the same machines (random sequences, shrunk on failure).
TestFutureLockstep = lockstep_machine("future", name="pytest-future").TestCase
TestEventLockstep = lockstep_machine("event", name="pytest-event").TestCase
TestEnsureFutureLockstep = lockstep_machine("ensure_future", name="pytest-ensure_future").TestCase


# -- no difference is dropped ----------------------------------------------------

class _IgnoresCallSoonContext(asyncio.SelectorEventLoop):
    """A loop bug: call_soon() runs the callback in whatever context is current when the loop runs."""

    def call_soon(self, callback, *args, context=None):  # type: ignore[override]
        return super().call_soon(callback, *args)


def test_a_difference_seen_while_the_loop_runs_is_blamed_on_the_rows_that_caused_it():
    loop = _IgnoresCallSoonContext
    target = class_target("asyncspec.impl.Future", "future", impl.Future, "asyncspec.impl:Future",
                          loop_factory=loop)
    # The model on asyncio's own loop, so that the loop's fault shows as a difference during loop progress.
    model, recorder = model_for("future")
    world = World(spec_for("cpython")["future"], [model, target], recorder)
    steps = [Action("new", result="f0", machine="future"),
             Action("call", "add_done_callback", "f0", (Recipe("callback", "cb0"),)),
             Action("call", "set_result", "f0", (Recipe("value", 1),)),
             Action("once")]
    diffs = []
    for action in steps:
        diffs = world.step(action)
        if diffs:
            break
    ce = Counterexample(world.machine, target, list(world.steps), diffs)
    world.close()
    assert len(ce.steps) == 4 and ce.steps[-1].rows == ()  # only the loop ran
    assert set(ce.rows) == {"PENDING.add_done_callback", "PENDING.set_result"}
    assert "F-CALLBACK-CONTEXT" in {cid for cid, _ in ce.clauses()}


def test_a_loop_fault_is_not_blamed_on_the_future_run_on_that_loop():
    # new_world runs the model on the targets' loop: what the loop does wrong, it does on both sides.
    loop = _IgnoresCallSoonContext
    target = class_target("asyncspec.impl.Future", "future", impl.Future, "asyncspec.impl:Future",
                          loop_factory=loop)
    result = check_machine("future", targets=[target], random=False)
    assert result.counterexample is None


def test_a_difference_no_row_can_be_named_for_still_deviates():
    def make(loop):
        future = impl.Future(loop=loop)
        loop.call_soon(lambda: None)  # something the spec never does, at creation
        return future
    target = Target("noisy", "future", make=make, source="noisy:make")
    result = check_machine("future", targets=[target], random=False)
    assert result.counterexample is not None and not result.ok
    assert result.counterexample.rows == (HARNESS_ROW,)
    assert result.counterexample.clauses() == [HARNESS_CLAUSE]


# -- merged states are safe for the targets ----------------------------------------

class _RemovesNothingFuture(impl.Future):
    """remove_done_callback() answers the right count but keeps the callbacks."""

    def remove_done_callback(self, fn):
        return sum(1 for callback, _ in self._callbacks if callback == fn)


def test_a_merge_first_reveals_the_fields_the_two_histories_wrote_differently():
    # add(cb); remove(cb) reaches the model state remove(cb) reaches; the target's list differs.
    target = class_target("removes-nothing", "future", _RemovesNothingFuture, "test:_RemovesNothingFuture")
    result = explore(spec_for("cpython")["future"], lambda: new_world("future", [target]), DEFAULT_BOUNDS["future"])
    assert result.counterexample is not None
    assert "F-REMOVE-CALLBACK" in {cid for cid, _ in result.counterexample.clauses()}
    assert result.suffixes > 0


def test_splitting_the_frontier_across_processes_finds_the_same():
    fault = next(f for f in FAULTS if f.name == "removes-first-only")
    machine = spec_for("cpython")["future"]
    alone, split = (explore(machine, lambda: new_world("future", [fault.target()]), DEFAULT_BOUNDS["future"],
                            collect_all=True, jobs=jobs) for jobs in (1, 2))
    assert (alone.states, alone.transitions, alone.suffixes) == (split.states, split.transitions, split.suffixes)
    assert alone.counterexample is not None and split.counterexample is not None
    assert alone.counterexample.text() == split.counterexample.text()
    assert sorted(alone.counterexamples) == sorted(split.counterexamples)
