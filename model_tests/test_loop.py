"""The loop contract: deliberately faulty loops are blamed on the loop's clauses, never on the objects run on them."""

from __future__ import annotations

import asyncio
import asyncio.tasks
import subprocess
import sys

import pytest

from asyncspec import impl
from asyncspec.model_tests.check import check_machine
from asyncspec.model_tests.engine import Action, class_target, loop_target
from asyncspec.model_tests.recipes import Recipe
from asyncspec.model_tests.targets import builtin_targets, new_world, spec_for


class IgnoresCallSoonContext(asyncio.SelectorEventLoop):
    """call_soon() drops its context: the callback runs in a copy of the context current at the call."""

    def call_soon(self, callback, *args, context=None):  # type: ignore[override]
        return super().call_soon(callback, *args)


class HandlerWithoutLoop(asyncio.SelectorEventLoop):
    """call_exception_handler() calls the handler as handler(context), not handler(loop, context)."""

    def call_exception_handler(self, context):
        handler = self.get_exception_handler()
        if handler is None:
            return self.default_exception_handler(context)
        return handler(context)  # type: ignore[call-arg]  # the fault: one argument


class StopRunsLateCallbacks(asyncio.SelectorEventLoop):
    """stop() also runs what the last iteration scheduled before run_forever() returns (uvloop#517)."""

    def run_forever(self):
        super().run_forever()
        ready = self._ready  # type: ignore[attr-defined]
        for _ in range(len(ready)):
            handle = ready.popleft()
            if not handle._cancelled:
                handle._run()


class IgnoresTaskFactory(asyncio.SelectorEventLoop):
    """create_task() makes a plain Task whatever factory was set."""

    def create_task(self, coro, *, name=None, context=None):
        if self.is_closed():
            raise RuntimeError("Event loop is closed")
        return asyncio.tasks.Task(coro, loop=self, name=name, context=context)


FAULTY = [
    (IgnoresCallSoonContext, "L-CONTEXT"),
    (HandlerWithoutLoop, "L-HANDLER-SIGNATURE"),
    (StopRunsLateCallbacks, "L-STOP-BATCH"),
    (IgnoresTaskFactory, "L-TASK-FACTORY"),
]


def test_asyncio_loop_keeps_the_contract():
    result = check_machine("event_loop", examples=20)
    assert result.ok, result.counterexample.text() if result.counterexample else result.coverage
    assert result.coverage is not None and not result.coverage.missing_rows


@pytest.mark.parametrize("loop, clause", FAULTY, ids=[c.__name__ for c, _ in FAULTY])
def test_a_faulty_loop_is_blamed_on_its_own_clause(loop, clause):
    target = loop_target(loop.__name__, "event_loop", loop, f"asyncspec.model_tests.test_loop:{loop.__name__}")
    result = check_machine("event_loop", targets=[target], random=False)
    ce = result.counterexample
    assert ce is not None, f"{loop.__name__} passed the loop contract"
    assert clause in {cid for cid, _ in ce.clauses()}, ce.text()
    assert len(ce.steps) <= 3


@pytest.mark.parametrize("loop", [c for c, _ in FAULTY], ids=[c.__name__ for c, _ in FAULTY])
@pytest.mark.parametrize("kind, cls", [("future", impl.Future), ("event", impl.Event)])
def test_objects_on_a_faulty_loop_are_not_blamed_for_it(loop, kind, cls):
    # The model runs on the targets' loop: what the loop does wrong, it does on both sides.
    target = class_target(f"asyncspec.impl.{cls.__name__}", kind, cls, f"asyncspec.impl:{cls.__name__}",
                          loop_factory=loop)
    result = check_machine(kind, targets=[target], random=False, depth=2)
    assert result.counterexample is None, result.counterexample.text()


def test_a_counterexample_script_replays_on_the_loop_audited():
    target = loop_target("StopRunsLateCallbacks", "event_loop", StopRunsLateCallbacks,
                         "asyncspec.model_tests.test_loop:StopRunsLateCallbacks")
    ce = check_machine("event_loop", targets=[target], random=False).counterexample
    assert ce is not None
    script = ce.script()
    assert "from asyncspec.model_tests.test_loop import StopRunsLateCallbacks as new_loop" in script
    assert "e0 = loop" in script


def test_a_done_callback_that_raises_reaches_the_handler_and_the_others_still_run():
    world = new_world("future", builtin_targets("future"))
    steps = [Action("new", result="f0", machine="future"),
             Action("call", "add_done_callback", "f0", (Recipe("raising_callback", "raiser"),)),
             Action("call", "add_done_callback", "f0", (Recipe("callback", "cb0"),)),
             Action("call", "set_result", "f0", (Recipe("value", 1),)),
             Action("once")]
    try:
        for action in steps:
            assert world.step(action) == [], action
        events = world.steps[-1].observations["model"].events
    finally:
        world.close()
    handled = [e for e in events if e[0] == "exception handler"]
    assert handled and handled[0][2] == ("loop",), events  # handler(loop, context)
    assert handled[0][3][:2] == ("Exception in callback raiser(<{cls} finished result=1>)", "ValueError"), events
    assert ("handle", "<Handle>") in handled[0][3]
    assert any(e[:2] == ("callback", "cb0") for e in events), events
    assert "F-CALLBACK-RAISES" in {c for r in world.steps[3].rows for c in spec_for("cpython")["future"].row(r).clauses}


def test_a_generated_script_shows_the_deviation_when_run(tmp_path):
    target = loop_target("StopRunsLateCallbacks", "event_loop", StopRunsLateCallbacks,
                         "asyncspec.model_tests.test_loop:StopRunsLateCallbacks")
    ce = check_machine("event_loop", targets=[target], random=False).counterexample
    assert ce is not None
    script = tmp_path / "reproduce.py"
    script.write_text(ce.script())
    done = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    # The callback scheduled during the last iteration runs before run_forever() returns: the deviation.
    lines = done.stdout.splitlines()
    ran = [line for line in lines if line.strip().startswith("callback")]
    assert [line.split()[1] for line in ran] == ["chain", "cb1"], done.stdout
    assert lines[-1].startswith("The spec expects otherwise:") and "cb1" in lines[-1]
