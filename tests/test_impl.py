"""asyncspec.impl: driven by the declarations, a real drop-in, and reliable."""

from __future__ import annotations

import ast
import asyncio
import concurrent.futures
import contextvars
import copy
import gc
import inspect
import sys
import threading
from types import GeneratorType
import weakref
from pathlib import Path

import pytest

from asyncspec import impl
from asyncspec.impl import Event, Future, ensure_future
from asyncspec.spec import DECLARATIONS, load
from asyncspec.spec import EFFECTS

REPO = Path(__file__).resolve().parents[1]
C_FUTURE = asyncio.Future
PY_FUTURE = asyncio.futures._PyFuture


@pytest.fixture
def loop():
    loop = asyncio.new_event_loop()
    yield loop
    loop.close()


def run(coro):
    return asyncio.run(coro)


# -- driven by the declarations ----------------------------------------------------

def _modified_future(mutate):
    raw = copy.deepcopy(dict(DECLARATIONS))
    mutate(raw["future"])
    spec = load(declarations=raw)
    return impl.future_class(spec["future"], name="ModifiedFuture")


def test_a_modified_declaration_changes_the_behaviour(loop):
    def cancel_of_a_finished_future_returns_true(decl):
        for t in decl["transitions"]:
            if t["trigger"] == "cancel" and t["source"] == "FINISHED":
                t["returns"] = "True"
    Modified = _modified_future(cancel_of_a_finished_future_returns_true)
    f = Modified(loop=loop)
    f.set_result(1)
    assert f.cancel() is True
    assert f.done() and not f.cancelled()
    g = Future(loop=loop)
    g.set_result(1)
    assert g.cancel() is False


def test_a_modified_message_and_state_change_are_compiled(loop):
    def result_message_and_set_result_cancels(decl):
        for t in decl["transitions"]:
            if t["trigger"] == "result" and t["source"] == "PENDING":
                t["raises"] = "InvalidStateError('not yet, says the spec')"
            if t["trigger"] == "set_result" and t["source"] == "PENDING":
                t["dest"] = "CANCELLED"
    Modified = _modified_future(result_message_and_set_result_cancels)
    f = Modified(loop=loop)
    with pytest.raises(asyncio.InvalidStateError, match="not yet, says the spec"):
        f.result()
    f.set_result(3)
    assert f.cancelled()


def test_the_seed_profile_schedules_with_call_soon_threadsafe(loop):
    from asyncspec.impl import seed

    calls = []
    original = loop.call_soon_threadsafe
    loop.call_soon_threadsafe = lambda *a, **k: calls.append(a[0]) or original(*a, **k)
    f = seed.Future(loop=loop)
    f.add_done_callback(lambda _: None)
    f.set_result(1)
    assert len(calls) == 1
    assert "call_soon_threadsafe" in seed.Future.__asyncspec_source__
    assert "call_soon_threadsafe" not in Future.__asyncspec_source__


def _names_in(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    names = {n.value for n in ast.walk(tree) if isinstance(n, ast.Constant) and isinstance(n.value, str)}
    names |= {n.id for n in ast.walk(tree) if isinstance(n, ast.Name)}
    names |= {n.attr for n in ast.walk(tree) if isinstance(n, ast.Attribute)}
    return names


@pytest.mark.parametrize("path", ["impl/_compile.py", "model_tests/model.py", "spec/_schema.py", "spec/_plan.py",
                                  "spec/_verbs.py"])
def test_the_engines_name_no_state_and_no_operation(path):
    spec = load()
    words = {s.name for m in spec.machines.values() for s in m.states}
    words |= {op.name for m in spec.machines.values() for op in m.operations if not op.name.startswith("__")}
    # Words that are also Python's own (the builtin set, list.clear) or the format's verbs are fine.
    python_words = set(dir(__builtins__)) | set(dir(list)) | set(dir(dict)) | set(EFFECTS) | set(dir(GeneratorType))
    assert _names_in(REPO / path) & (words - python_words) == set()


def test_no_transitions_machine_on_the_hot_path(monkeypatch, loop):
    import transitions

    def refuse(*a, **k):
        raise AssertionError("a transitions.Machine was built")
    monkeypatch.setattr(transitions.Machine, "__init__", refuse)
    f = Future(loop=loop)
    f.add_done_callback(lambda _: None)
    f.set_result(1)
    ev = Event()
    ev.set()
    assert f.result() == 1 and ev.is_set()
    for path in (REPO / "impl").glob("*.py"):
        assert "transitions" not in {
            a.name for n in ast.walk(ast.parse(path.read_text())) if isinstance(n, ast.Import) for a in n.names}


# -- the public surface ----------------------------------------------------------

@pytest.mark.parametrize("name, ours, theirs", [
    ("Future", Future, PY_FUTURE), ("Event", Event, asyncio.Event),
])
def test_methods_and_signatures_match_asyncio(name, ours, theirs):
    public = {n for n in dir(theirs) if not n.startswith("_") or n in ("__await__", "__iter__", "__del__")}
    for n in sorted(public):
        assert hasattr(ours, n), f"{name}.{n} is missing"
        theirs_attr, ours_attr = getattr(theirs, n), getattr(ours, n)
        if inspect.isfunction(theirs_attr) and n != "__init__":
            assert inspect.signature(ours_attr) == inspect.signature(theirs_attr), n
    assert inspect.signature(Future.__init__) == inspect.signature(PY_FUTURE.__init__)
    assert inspect.signature(ensure_future) == inspect.signature(asyncio.ensure_future)


def test_the_package_exports():
    assert set(impl.__all__) >= {"Future", "Event", "ensure_future", "isfuture", "wrap_future"}
    assert impl.isfuture(Future(loop=asyncio.new_event_loop()))
    assert inspect.iscoroutinefunction(Event.wait)


# -- drop-in behaviour -----------------------------------------------------------

def test_awaited_inside_tasks_and_gathered():
    async def main():
        loop = asyncio.get_running_loop()
        futures = [Future() for _ in range(3)]
        for i, f in enumerate(futures):
            loop.call_later(0.001 * (3 - i), f.set_result, i)
        assert await asyncio.gather(*futures) == [0, 1, 2]
        done, pending = await asyncio.wait([Future(), futures[0]], return_when=asyncio.FIRST_COMPLETED)
        assert done == {futures[0]} and len(pending) == 1
        slow = Future()
        with pytest.raises(asyncio.TimeoutError):
            await asyncio.wait_for(slow, 0.001)
        assert slow.cancelled()
        inner = Future()
        outer = asyncio.shield(inner)
        outer.cancel()
        inner.set_result("kept")
        assert await inner == "kept"
        ordered = [Future() for _ in range(2)]
        loop.call_soon(ordered[1].set_result, "b")
        loop.call_later(0.002, ordered[0].set_result, "a")
        assert [await c for c in asyncio.as_completed(ordered)] == ["b", "a"]
        yielded = Future()
        loop.call_soon(yielded.set_result, 7)
        assert await yielded == 7
        return True
    assert run(main())


def test_run_until_complete_and_cancellation_reach_the_task(loop):
    f = Future(loop=loop)
    loop.call_soon(f.set_result, "done")
    assert loop.run_until_complete(f) == "done"

    async def waiter(fut):
        return await fut
    fut = Future(loop=loop)
    task = loop.create_task(waiter(fut))
    loop.call_soon(task.cancel, "why")
    with pytest.raises(asyncio.CancelledError):
        loop.run_until_complete(task)
    assert fut.cancelled()


def test_wrap_future_and_run_coroutine_threadsafe(loop):
    pool = concurrent.futures.ThreadPoolExecutor(1)
    try:
        wrapped = impl.wrap_future(pool.submit(lambda: 41 + 1), loop=loop)
        assert isinstance(wrapped, Future)
        assert loop.run_until_complete(wrapped) == 42
        ours = Future(loop=loop)
        assert asyncio.wrap_future(ours) is ours

        async def uses_our_future():
            f = Future()
            asyncio.get_running_loop().call_soon(f.set_result, "from the loop")
            return await f

        thread = threading.Thread(target=loop.run_forever)
        thread.start()
        try:
            assert asyncio.run_coroutine_threadsafe(uses_our_future(), loop).result(5) == "from the loop"
        finally:
            loop.call_soon_threadsafe(loop.stop)
            thread.join(5)
    finally:
        pool.shutdown()


def test_subclassing_and_skipping_init(loop):
    class Sub(Future):
        pass
    s = Sub(loop=loop)
    s.set_result(1)
    assert repr(s) == "<Sub finished result=1>"

    class NoInit(Future):
        def __init__(self):
            pass
    n = NoInit()
    for op, args in [("get_loop", ()), ("set_result", (1,)), ("cancel", ()), ("__repr__", ())]:
        with pytest.raises(RuntimeError, match="Future object is not initialized."):
            getattr(n, op)(*args)
    with pytest.raises(asyncio.InvalidStateError, match="Future object is not initialized."):
        n.result()
    assert n.done() is False


def test_generic_alias_repr_and_get_loop(loop):
    assert Future[int].__origin__ is Future
    f = Future(loop=loop)
    assert repr(f) == "<Future pending>"
    f.add_done_callback(print)
    assert repr(f).startswith("<Future pending cb=[")
    f.set_result([1] * 3)
    assert repr(f) == "<Future finished result=[1, 1, 1]>"
    g = Future(loop=loop)
    g.set_exception(ValueError("v"))
    assert repr(g) == "<Future finished exception=ValueError('v')>"
    g.exception()
    c = Future(loop=loop)
    c.cancel()
    assert repr(c) == "<Future cancelled>"
    assert f.get_loop() is loop


@pytest.mark.parametrize("make", [Future, C_FUTURE, PY_FUTURE], ids=["ours", "C", "Py"])
@pytest.mark.parametrize("case", ["unretrieved", "retrieved", "cancel-cleared", "result-set"])
def test_exception_never_retrieved_exactly_when_asyncio_reports_it(make, case):
    loop = asyncio.new_event_loop()
    reports = []
    loop.set_exception_handler(lambda _loop, context: reports.append(context))
    f = make(loop=loop)
    if case == "result-set":
        f.set_result(1)
    else:
        f.set_exception(KeyError("lost"))
    if case == "retrieved":
        f.exception()
    if case == "cancel-cleared":
        f.cancel()
    del f
    gc.collect()
    loop.close()
    expected = 1 if case == "unretrieved" else 0
    assert len(reports) == expected
    if expected:
        assert reports[0]["message"] == f"{make.__name__} exception was never retrieved"
        assert isinstance(reports[0]["exception"], KeyError)


def test_runs_under_uvloop():
    uvloop = pytest.importorskip("uvloop")

    async def main():
        f = Future()
        ev = Event()
        asyncio.get_running_loop().call_soon(f.set_result, 5)
        waiter = asyncio.ensure_future(ev.wait())
        await asyncio.sleep(0)
        ev.set()
        return await f, await waiter, await ensure_future(f)

    loop = uvloop.new_event_loop()
    try:
        assert loop.run_until_complete(main()) == (5, True, 5)
    finally:
        loop.close()


# -- the standard library's errors for the same misuse --------------------------

@pytest.mark.parametrize("action", [
    lambda f: f.set_exception(42),
    lambda f: f.set_exception(StopIteration),
    lambda f: (f.set_result(1), f.set_result(2)),
    lambda f: (f.cancel(), f.set_exception(ValueError())),
    lambda f: f.result(),
    lambda f: f.exception(),
])
def test_misuse_raises_what_the_c_future_raises(action, loop):
    def outcome(cls):
        f = cls(loop=loop)
        try:
            action(f)
        except BaseException as e:
            return type(e), e.args, f.done()
        return None, (), f.done()
    assert outcome(Future) == outcome(C_FUTURE)


def test_ensure_future_errors_match_asyncio(loop):
    other = asyncio.new_event_loop()
    try:
        for target in (ensure_future, asyncio.ensure_future):
            with pytest.raises(ValueError, match="The future belongs to a different loop"):
                target(C_FUTURE(loop=loop), loop=other)
            with pytest.raises(TypeError, match="An asyncio.Future, a coroutine or an awaitable is required"):
                target(None)
    finally:
        other.close()


def test_ensure_future_closes_the_coroutine_on_a_closed_loop():
    closed = asyncio.new_event_loop()
    closed.close()

    async def coro():
        return 1
    c = coro()
    with pytest.raises(RuntimeError, match="Event loop is closed"):
        ensure_future(c, loop=closed)
    assert c.cr_frame is None


def test_ensure_future_decisions(loop):
    f = Future(loop=loop)
    assert ensure_future(f) is f

    async def coro():
        return "c"

    class Awaitable:
        def __await__(self):
            return coro().__await__()
    t = ensure_future(coro(), loop=loop)
    assert isinstance(t, asyncio.Task) and loop.run_until_complete(t) == "c"
    a = ensure_future(Awaitable(), loop=loop)
    assert isinstance(a, asyncio.Task) and loop.run_until_complete(a) == "c"


# -- Event ---------------------------------------------------------------------

def test_event_wakes_every_current_waiter_even_if_cleared():
    async def main():
        ev = Event()
        waiters = [asyncio.ensure_future(ev.wait()) for _ in range(3)]
        await asyncio.sleep(0)
        ev.set()
        ev.clear()
        return await asyncio.gather(*waiters), ev.is_set(), len(ev._waiters)
    assert run(main()) == ([True, True, True], False, 0)


def test_event_wait_on_a_set_event_does_not_yield():
    async def main():
        ev = Event()
        ev.set()
        order = []
        asyncio.get_running_loop().call_soon(order.append, "loop")
        await ev.wait()
        order.append("waited")
        await asyncio.sleep(0)
        return order
    assert run(main()) == ["waited", "loop"]


def test_cancelled_wait_leaves_no_waiter():
    async def main():
        ev = Event()
        task = asyncio.ensure_future(ev.wait())
        await asyncio.sleep(0)
        assert len(ev._waiters) == 1
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        return len(ev._waiters), repr(ev)
    count, text = run(main())
    assert count == 0 and text.endswith("[unset]>")


def test_event_binds_to_the_first_loop_it_blocks_on():
    ev = Event()
    ev.set()
    ev.clear()

    async def wait_briefly():
        task = asyncio.ensure_future(ev.wait())
        await asyncio.sleep(0)
        task.cancel()
    asyncio.run(wait_briefly())
    with pytest.raises(RuntimeError, match="is bound to a different event loop"):
        asyncio.run(ev.wait())


def test_event_repr_matches_asyncio_format():
    ev = Event()
    assert repr(ev).endswith(" [unset]>") and repr(ev).startswith("<asyncspec.impl.locks.Event object at 0x")
    ev.set()
    assert repr(ev).endswith(" [set]>")


# -- reliability ---------------------------------------------------------------

def test_a_raising_callback_goes_to_the_handler_and_the_others_run(loop):
    reports, ran = [], []
    loop.set_exception_handler(lambda _l, context: reports.append(context["exception"]))
    f = Future(loop=loop)
    f.add_done_callback(lambda _: ran.append(1))
    f.add_done_callback(lambda _: 1 / 0)
    f.add_done_callback(lambda _: ran.append(3))
    f.set_result(None)
    loop.run_until_complete(asyncio.sleep(0))
    assert ran == [1, 3] and isinstance(reports[0], ZeroDivisionError)


def test_callbacks_that_add_and_remove_callbacks_while_scheduled(loop):
    f = Future(loop=loop)
    ran = []

    def second(_):
        ran.append("second")

    def first(fut):
        ran.append("first")
        fut.add_done_callback(lambda _: ran.append("late"))
        assert fut.remove_done_callback(second) == 0
    f.add_done_callback(first)
    f.add_done_callback(second)
    f.set_result(1)
    loop.run_until_complete(asyncio.sleep(0))
    loop.run_until_complete(asyncio.sleep(0))
    assert ran == ["first", "second", "late"]


@pytest.mark.parametrize("mutation", ["clear", "append", "remove-self"])
def test_an_eq_that_mutates_the_callback_list_cannot_corrupt_the_future(loop, mutation):
    # gh-97592, gh-125966, gh-126405: __eq__ ran arbitrary code on the list being filtered.
    f = Future(loop=loop)

    class Evil:
        def __eq__(self, other):
            if mutation == "clear":
                f._callbacks.clear()
            elif mutation == "append":
                f._callbacks.append((print, contextvars.copy_context()))
            else:
                f.remove_done_callback(print)
            return False
        __hash__ = object.__hash__

    for _ in range(4):
        f.add_done_callback(print)
    removed = f.remove_done_callback(Evil())
    assert removed >= 0
    f.set_result(None)
    assert f.result() is None


def test_a_completed_future_is_freed_without_the_cycle_collector(loop):
    gc.disable()
    try:
        for complete in (lambda f: f.set_result(1), lambda f: f.set_exception(ValueError()),
                         lambda f: f.cancel()):
            f = Future(loop=loop)
            f.add_done_callback(lambda _: None)
            complete(f)
            try:
                f.result()
            except BaseException:
                pass
            ref = weakref.ref(f)
            del f
            loop.run_until_complete(asyncio.sleep(0))
            assert ref() is None
    finally:
        gc.enable()


def test_a_finished_task_is_freed_without_the_cycle_collector(loop):
    # Each way a task finishes leaves an exception (or none) whose traceback holds the frames that
    # caught it; none of them may hold the task (the wake-up callback's frame once did).
    async def raises():
        raise ValueError("from the coroutine")

    async def awaits(waiter):
        await waiter

    gc.disable()
    try:
        for make, settle in ((lambda: raises(), None),
                             (lambda w: awaits(w), lambda w: w.set_exception(KeyError("w"))),
                             (lambda w: awaits(w), lambda w: w.cancel())):
            waiter = loop.create_future()
            task = impl.Task(make() if settle is None else make(waiter), loop=loop)
            loop.run_until_complete(asyncio.sleep(0))
            if settle is not None:
                settle(waiter)
            task._log_traceback = False
            ref = weakref.ref(task)
            del task
            for _ in range(3):
                loop.run_until_complete(asyncio.sleep(0))
            assert ref() is None
    finally:
        gc.enable()


def test_creating_and_completing_futures_leaves_memory_flat(loop):
    import tracemalloc

    def churn(n):
        for _ in range(n):
            f = Future(loop=loop)
            f.add_done_callback(_noop)
            f.set_result(None)
        loop.run_until_complete(asyncio.sleep(0))

    churn(2_000)
    tracemalloc.start()
    try:
        churn(20_000)
        first, _ = tracemalloc.get_traced_memory()
        churn(100_000)
        second, _ = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert second - first < 64 * 1024, (first, second)


def _noop(_):
    pass


@pytest.mark.skipif(sys.version_info < (3, 13), reason="3.13 converts StopIteration")
def test_stop_iteration_is_converted_on_313(loop):
    f = Future(loop=loop)
    f.set_exception(StopIteration("x"))
    assert type(f.exception()) is RuntimeError and isinstance(f.exception().__cause__, StopIteration)
