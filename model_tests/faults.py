"""Faulty implementations: bugs CPython really had, and mistakes re-implementers make.

Each is the compliant implementation with one mistake put back, so that
whatever the engine reports can only come from that mistake. The test suite
checks that the default run catches every one, on the clause it breaks, and
the audit's benchmark reports how long each takes to find.
"""

from __future__ import annotations

import asyncio
import copy
from dataclasses import dataclass
from typing import Any, Callable

from asyncio import events

from .. import impl
from ..impl.tasks import task_class
from ..spec import DECLARATIONS, load
from .engine import Target, class_target, function_target
from .machines import facts

_Future: Any = impl.Future
_Event: Any = impl.Event
_Task: Any = impl.Task


@dataclass(frozen=True)
class Fault:
    name: str
    kind: str
    obj: Any
    clauses: tuple[str, ...]  # the counterexample must name one of these
    story: str

    def target(self) -> Target:
        source = f"asyncspec.model_tests.faults:{self.obj.__name__}"
        if facts(self.kind).function:
            return function_target(self.name, self.obj, source, kind=self.kind)
        return class_target(self.name, self.kind, self.obj, source)


# -- Future ----------------------------------------------------------------------

class SyncCallbacksFuture(_Future):
    """Runs done-callbacks synchronously inside set_result()."""

    def set_result(self, result):
        if self._state != "PENDING":
            return super().set_result(result)
        callbacks, self._callbacks = self._callbacks, []
        super().set_result(result)
        for fn, ctx in callbacks:
            ctx.run(fn, self)


class CancelDoneTrueFuture(_Future):
    """cancel() of a done future answers True."""

    def cancel(self, msg=None):
        was_done = self.done()
        return super().cancel(msg) or was_done


class DropsCancelMessageFuture(_Future):
    """Forgets the cancel message (before 3.9 there was none)."""

    def cancel(self, msg=None):
        return super().cancel()


class RemovesFirstOnlyFuture(_Future):
    """remove_done_callback() removes the first match only."""

    def remove_done_callback(self, fn):
        if self._state != "PENDING":
            return super().remove_done_callback(fn)
        for i, (f, _ctx) in enumerate(self._callbacks):
            if f == fn:
                del self._callbacks[i]
                return 1
        return 0


class RemovesByIdentityFuture(_Future):
    """remove_done_callback() compares with `is`, so an equal bound method is not removed."""

    def remove_done_callback(self, fn):
        if self._state != "PENDING":
            return super().remove_done_callback(fn)
        kept = [(f, c) for f, c in self._callbacks if f is not fn]
        removed = len(self._callbacks) - len(kept)
        self._callbacks[:] = kept
        return removed


class LifoCallbacksFuture(_Future):
    """Schedules done-callbacks last in, first out."""

    def set_result(self, result):
        if self._state == "PENDING":
            self._callbacks.reverse()
        super().set_result(result)


class OneHandleFuture(_Future):
    """Schedules all done-callbacks in one handle, so one that raises stops the rest."""

    def set_result(self, result):
        if self._state != "PENDING":
            return super().set_result(result)
        callbacks, self._callbacks = self._callbacks, []
        super().set_result(result)
        if callbacks:
            def run_all(fut):
                for fn, ctx in callbacks:
                    ctx.run(fn, fut)
            self._loop.call_soon(run_all, self)


class IgnoresContextFuture(_Future):
    """add_done_callback() ignores context= and the context current when it was called."""

    def add_done_callback(self, fn, *, context=None):
        if self._state not in ("PENDING", "FINISHED", "CANCELLED"):
            return super().add_done_callback(fn, context=context)
        if self._state != "PENDING":
            self._loop.call_soon(fn, self)
        else:
            self._callbacks.append((fn, None))

    def set_result(self, result):
        if self._state != "PENDING":
            return super().set_result(result)
        callbacks, self._callbacks = self._callbacks, []
        super().set_result(result)
        for fn, _ in callbacks:
            self._loop.call_soon(fn, self)


class DropsLateCallbackFuture(_Future):
    """add_done_callback() on a done future does nothing."""

    def add_done_callback(self, fn, *, context=None):
        if self._state not in ("FINISHED", "CANCELLED"):
            super().add_done_callback(fn, context=context)


class OverwritesResultFuture(_Future):
    """set_result() on a done future overwrites the result instead of raising."""

    def set_result(self, result):
        if self._state == "FINISHED":
            self._result = result
            return
        super().set_result(result)


class StoresExceptionClassFuture(_Future):
    """set_exception(SomeError) stores the class instead of an instance."""

    def set_exception(self, exception):
        if isinstance(exception, type) and self._state == "PENDING":
            super().set_exception(exception())
            self._exception = exception
            return
        super().set_exception(exception)


class AcceptsStopIterationFuture(_Future):
    """set_exception(StopIteration()) is stored as it is (bpo-26221, gh-112182)."""

    def set_exception(self, exception):
        if isinstance(exception, StopIteration) and self._state == "PENDING":
            super().set_exception(ValueError())
            self._exception = exception
            return
        super().set_exception(exception)


class PendingResultNoneFuture(_Future):
    """result() of a pending future answers None instead of raising InvalidStateError."""

    def result(self):
        if self._state == "PENDING":
            return None
        return super().result()


class CancelledExceptionReturnedFuture(_Future):
    """exception() of a cancelled future returns the CancelledError instead of raising it."""

    def exception(self):
        if self._state == "CANCELLED":
            return asyncio.CancelledError()
        return super().exception()


class NeverLogsFuture(_Future):
    """Never reports an exception that was never retrieved."""

    def __del__(self):
        pass  # the report of an unretrieved exception, forgotten


class RetrievalKeepsLogFuture(_Future):
    """exception() does not mark the exception retrieved, so it is reported anyway."""

    def exception(self):
        flag = getattr(self, "_Future__log_traceback", False)
        answer = super().exception()
        self._Future__log_traceback = flag
        return answer


class ThreadsafeSchedulingFuture(_Future):
    """Schedules callbacks with call_soon_threadsafe(), as the seed document says."""

    def set_result(self, result):
        if self._state != "PENDING":
            return super().set_result(result)
        callbacks, self._callbacks = self._callbacks, []
        super().set_result(result)
        for fn, ctx in callbacks:
            self._loop.call_soon_threadsafe(fn, self, context=ctx)


class AwaitNeverYieldsFuture(_Future):
    """Awaiting a pending future does not yield it to the Task, so the Task fails."""

    def __await__(self):
        if self._state == "PENDING":
            raise RuntimeError("await wasn't used with future")
        return self.result()
        yield  # pragma: no cover - makes this a generator

    __iter__ = __await__


class NoProtocolMarkerFuture(_Future):
    """The Future protocol marker defaults to None, so asyncio.isfuture() rejects the object."""

    _asyncio_future_blocking = None


class NotGenericFuture(_Future):
    """Future[int] is not supported (no __class_getitem__), as before 3.9."""

    __class_getitem__ = None


class IgnoresLoopArgumentFuture(_Future):
    """Binds to the current event loop whatever loop= says."""

    def __init__(self, *, loop=None):
        super().__init__(loop=events.get_event_loop())


class NoSourceTracebackFuture(_Future):
    """Keeps no creation stack in debug mode."""

    def __init__(self, *, loop=None):
        super().__init__(loop=loop)
        self._source_traceback = None


class BrokenIterFuture(_Future):
    """__iter__ is not __await__: `yield from fut` never suspends."""

    def __iter__(self):
        return self.result()
        yield  # a generator, never reached


class ConcurrentCancelledErrorFuture(_Future):
    """result() of a cancelled future raises concurrent.futures.CancelledError, asyncio's before 3.8."""

    def result(self):
        if self._state == "CANCELLED":
            import concurrent.futures

            raise concurrent.futures.CancelledError()
        return super().result()


# -- Event -----------------------------------------------------------------------

def _bound_loop(self):
    """Bind to the running loop as asyncio's _LoopBoundMixin does (the part these faults keep)."""
    loop = events._get_running_loop()
    if self._loop is None:
        self._loop = loop
    if loop is not self._loop:
        raise RuntimeError(f"{self!r} is bound to a different event loop")
    return loop


class RecheckingEvent(_Event):
    """wait() re-checks the flag after waking, so set(); clear() loses the wakeup."""

    async def wait(self):
        while not self._value:
            fut = self._get_loop().create_future()
            self._waiters.append(fut)
            try:
                await fut
            finally:
                self._waiters.remove(fut)
        return True

    _get_loop = _bound_loop


class LeavesWaiterEvent(_Event):
    """A cancelled wait() leaves its waiter behind."""

    async def wait(self):
        if self._value:
            return True
        fut = _bound_loop(self).create_future()
        self._waiters.append(fut)
        await fut
        self._waiters.remove(fut)
        return True


class YieldsWhenSetEvent(_Event):
    """wait() on a set event still yields to the loop once."""

    async def wait(self):
        if self._value:
            await asyncio.sleep(0)
            return True
        return await super().wait()


class WakesFirstOnlyEvent(_Event):
    """set() wakes only the first waiter."""

    def set(self):
        if not self._value:
            self._value = True
            for fut in self._waiters:
                if not fut.done():
                    fut.set_result(True)
                    break


class NeverBindsEvent(_Event):
    """Never binds to a loop, so a wait() on another loop blocks there."""

    async def wait(self):
        if self._value:
            return True
        fut = events._get_running_loop().create_future()
        self._waiters.append(fut)
        try:
            await fut
            return True
        finally:
            self._waiters.remove(fut)


class ClearCancelsWaitersEvent(_Event):
    """clear() cancels the waiters that set() already woke."""

    def clear(self):
        for fut in self._waiters:
            fut.cancel()
        self._value = False


# -- ensure_future ----------------------------------------------------------------

def wraps_future_in_task(coro_or_future, *, loop=None):
    """Wraps a future in a new Task instead of returning it."""
    if asyncio.isfuture(coro_or_future):
        async def wait_for_it():
            return await coro_or_future
        return (loop or events.get_event_loop()).create_task(wait_for_it())
    return impl.ensure_future(coro_or_future, loop=loop)


def leaves_coroutine_open(coro_or_future, *, loop=None):
    """Does not close the coroutine when the loop refuses the task (bpo-26552)."""
    if asyncio.iscoroutine(coro_or_future):
        return (loop or events.get_event_loop()).create_task(coro_or_future)
    return impl.ensure_future(coro_or_future, loop=loop)


def rejects_awaitables(coro_or_future, *, loop=None):
    """Accepts only coroutines and futures, as before 3.5.1."""
    if not asyncio.isfuture(coro_or_future) and not asyncio.iscoroutine(coro_or_future):
        raise TypeError("An asyncio.Future, a coroutine or an awaitable is required")
    return impl.ensure_future(coro_or_future, loop=loop)


def ignores_loop_mismatch(coro_or_future, *, loop=None):
    """Returns a future of another loop than loop= without complaint."""
    if asyncio.isfuture(coro_or_future):
        return coro_or_future
    return impl.ensure_future(coro_or_future, loop=loop)


def rejects_duck_futures(coro_or_future, *, loop=None):
    """Checks isinstance(asyncio.Future) instead of the Future protocol."""
    if not isinstance(coro_or_future, asyncio.Future) and asyncio.isfuture(coro_or_future):
        raise TypeError("An asyncio.Future, a coroutine or an awaitable is required")
    return impl.ensure_future(coro_or_future, loop=loop)


# -- Task ------------------------------------------------------------------------
#
# Some mistakes are easiest to put back in a method of impl.Task; those inside the step
# are put back in the Task's declaration, one row changed, and compiled as impl.Task is.

def _task_declared(name: str, change: Callable[[list[dict]], None]) -> type:
    """impl.Task compiled from the Task declaration with ``change`` applied to its rows."""
    raw = copy.deepcopy(dict(DECLARATIONS["task"]))
    raw["transitions"] = copy.deepcopy(list(raw["transitions"]))
    change(raw["transitions"])
    cls = task_class(load(declarations={**DECLARATIONS, "task": raw})["task"], impl.Future,
                     name=name, module=__name__)
    globals()[name] = cls
    return cls


def _rows(rows: list[dict], trigger: str, *conditions: str) -> list[dict]:
    """The PENDING row of ``trigger`` guarded by exactly ``conditions``."""
    found = [r for r in rows if r["trigger"] == trigger and r["source"] == "PENDING"
             and tuple(r.get("conditions", ())) == conditions]
    assert found, (trigger, conditions)
    return found


def _edit(trigger: str, *conditions: str, **changes: Any) -> Callable[[list[dict]], None]:
    def change(rows: list[dict]) -> None:
        for row in _rows(rows, trigger, *conditions):
            row.update(changes)
    return change


def _effects(trigger: str, *conditions: str, keep: Callable[[dict], bool]) -> Callable[[list[dict]], None]:
    def change(rows: list[dict]) -> None:
        for row in _rows(rows, trigger, *conditions):
            row["effects"] = [e for e in row.get("effects", ()) if keep(e)]
    return change


class CancelDoneTrueTask(_Task):
    """cancel() of a done task answers True."""

    def cancel(self, msg=None):
        return super().cancel(msg) or self.done()


class DropsCancelMessageTask(_Task):
    """cancel(msg) forgets the message."""

    def cancel(self, msg=None):
        return super().cancel()


class SkipsWaiterTask(_Task):
    """cancel() only requests cancellation for the next step: the future the task waits on is left alone."""

    def cancel(self, msg=None):
        if self.done():
            return super().cancel(msg)
        self._Future__log_traceback = False
        self._num_cancels_requested += 1
        self._must_cancel = True
        self._cancel_message = msg
        return True


class UncountedCancelTask(_Task):
    """cancel() does not count its request: cancelling() stays 0."""

    def cancel(self, msg=None):
        count = self._num_cancels_requested
        taken = super().cancel(msg)
        self._num_cancels_requested = count
        return taken


class UncancelKeepsCountTask(_Task):
    """uncancel() answers the count without decrementing it."""

    def uncancel(self):
        return self._num_cancels_requested


class SetResultAllowedTask(_Task):
    """set_result() completes the task, as a Future's does."""

    set_result = _Future.set_result


class NamesNotStrTask(_Task):
    """set_name() keeps the value as given, not str(value)."""

    def set_name(self, value):
        self._name = value


class ForgetsCoroutineTask(_Task):
    """get_coro() answers None."""

    def get_coro(self):
        return None


class SilentPendingTask(_Task):
    """A task collected while pending is never reported."""

    def __del__(self):
        if not self.done():
            return
        super().__del__()


def _step_without_entering(rows: list[dict]) -> None:
    for row in _rows(rows, "_step"):
        row["effects"] = [{"do": "self._step_run_and_handle_result(exc)"} if "finally" in e else e
                          for e in row["effects"] if "enter_task" not in e.get("do", "")]


def _steps_in_the_callers_context(rows: list[dict]) -> None:
    for row in rows:
        for effect in row.get("effects", ()):
            if "self._step" in effect.get("do", "") and "call_soon" in effect.get("do", ""):
                effect["do"] = effect["do"].replace(", context=context", "")


_FAULTY_STEPS = {
    "AwaitsItselfTask": _edit("_step_run_and_handle_result", "yielded_future", "blocking", "awaits_itself",
                              effects=[{"do": "yielded.add_done_callback(self._wakeup, context=context)"},
                                       {"set": "fut_waiter", "to": "yielded"}]),
    "BareYieldStallsTask": _effects("_step_run_and_handle_result", "yielded_none", keep=lambda e: False),
    "BadYieldIgnoredTask": _edit("_step_run_and_handle_result",
                                 effects=[{"do": "loop.call_soon(self._step, context=context)"}]),
    "OtherLoopAcceptedTask": _edit("_step_run_and_handle_result", "yielded_future", "other_loop",
                                   effects=[{"do": "yielded.add_done_callback(self._wakeup, context=context)"},
                                            {"set": "fut_waiter", "to": "yielded"}]),
    "FinishesDespiteCancelTask": _edit("_step_run_and_handle_result", "raised", "stopped", "must_cancel", dest="FINISHED",
                                       effects=[{"set": "result", "to": "error.value"},
                                                {"for_each": "callbacks", "take": True,
                                                 "do": "loop.call_soon(item[0], self, context=item[1])"}]),
    "SwallowsExitTask": _edit("_step_run_and_handle_result", "raised", "raised_fatal", raises=None, returns="None"),
    "ForgetsCancellationTask": _effects("_step_run_and_handle_result", "raised", "raised_cancelled",
                                        keep=lambda e: e.get("set") != "cancelled_exc"),
    "IgnoresMustCancelTask": _edit("_step", let={"exc": "exc"}),
    "InvisibleStepTask": _step_without_entering,
    "ContextlessStepTask": _steps_in_the_callers_context,
}
for _name, _change in _FAULTY_STEPS.items():
    _task_declared(_name, _change)


FAULTS: tuple[Fault, ...] = (
    Fault("sync-callbacks", "future", SyncCallbacksFuture, ("F-SCHEDULE-CALLBACKS",),
          "callbacks run synchronously inside set_result()"),
    Fault("cancel-done-true", "future", CancelDoneTrueFuture, ("F-CANCEL-DONE",),
          "cancel() on a done future returns True"),
    Fault("drops-cancel-message", "future", DropsCancelMessageFuture, ("F-CANCEL-MSG",),
          "the cancel message is lost"),
    Fault("removes-first-only", "future", RemovesFirstOnlyFuture, ("F-REMOVE-CALLBACK",),
          "remove_done_callback() removes only the first match"),
    Fault("removes-by-identity", "future", RemovesByIdentityFuture, ("F-REMOVE-CALLBACK",),
          "remove_done_callback() compares with `is`, not =="),
    Fault("lifo-callbacks", "future", LifoCallbacksFuture, ("F-SCHEDULE-CALLBACKS",),
          "callbacks scheduled last in, first out"),
    Fault("one-handle", "future", OneHandleFuture, ("F-SCHEDULE-CALLBACKS",),
          "all callbacks share one loop handle"),
    Fault("ignores-context", "future", IgnoresContextFuture, ("F-CALLBACK-CONTEXT",),
          "callbacks do not run in the context captured when they were added"),
    Fault("drops-late-callback", "future", DropsLateCallbackFuture, ("F-ADD-CALLBACK-DONE",),
          "a callback added after completion is never scheduled"),
    Fault("overwrites-result", "future", OverwritesResultFuture, ("F-SET-RESULT",),
          "set_result() on a done future overwrites instead of raising"),
    Fault("stores-exception-class", "future", StoresExceptionClassFuture,
          ("F-SET-EXCEPTION-CLASS", "F-RESULT-EXCEPTION", "F-EXC-RETURN"),
          "set_exception(SomeError) keeps the class"),
    Fault("accepts-stop-iteration", "future", AcceptsStopIterationFuture,
          ("F-SET-EXCEPTION-STOPITERATION-REJECTED", "F-SET-EXCEPTION-STOPITERATION-CONVERTED"),
          "set_exception(StopIteration()) keeps it as it is"),
    Fault("pending-result-none", "future", PendingResultNoneFuture, ("F-RESULT-NOT-READY",),
          "result() of a pending future returns None"),
    Fault("cancelled-exception-returned", "future", CancelledExceptionReturnedFuture, ("F-EXC-CANCELLED",),
          "exception() of a cancelled future returns instead of raising"),
    Fault("never-logs", "future", NeverLogsFuture, ("F-NEVER-RETRIEVED",),
          "an unretrieved exception is never reported"),
    Fault("retrieval-keeps-log", "future", RetrievalKeepsLogFuture, ("F-RETRIEVED", "F-NEVER-RETRIEVED"),
          "exception() does not mark the exception retrieved"),
    Fault("threadsafe-scheduling", "future", ThreadsafeSchedulingFuture, ("F-CB-VIA-CALL-SOON",),
          "callbacks scheduled with call_soon_threadsafe()"),
    Fault("await-never-yields", "future", AwaitNeverYieldsFuture, ("F-AWAIT",),
          "awaiting a pending future fails instead of suspending"),
    Fault("no-protocol-marker", "future", NoProtocolMarkerFuture, ("F-ISFUTURE", "F-ENSURE-FUTURE-AS-IS"),
          "_asyncio_future_blocking defaults to None: isfuture() and ensure_future() refuse the object"),
    Fault("not-generic", "future", NotGenericFuture, ("F-GENERIC",), "Future[int] raises TypeError"),
    Fault("ignores-loop-argument", "future", IgnoresLoopArgumentFuture, ("F-CLASS", "F-GET-LOOP"),
          "Future(loop=other) binds to the current loop"),
    Fault("no-source-traceback", "future", NoSourceTracebackFuture, ("F-REPR", "F-NEVER-RETRIEVED"),
          "debug mode records no creation stack"),
    Fault("broken-iter", "future", BrokenIterFuture, ("F-AWAIT",), "the __iter__ alias answers result()"),
    Fault("concurrent-cancelled-error", "future", ConcurrentCancelledErrorFuture, ("F-RESULT-CANCELLED",),
          "a cancelled future's result() raises concurrent.futures.CancelledError (same name, another class)"),
    Fault("rechecking-wait", "event", RecheckingEvent, ("E-SET-WAKES-CURRENT", "E-WAIT-OTHERWISE"),
          "wait() re-checks the flag after waking: set(); clear() loses the wakeup"),
    Fault("leaves-waiter", "event", LeavesWaiterEvent, ("E-WAIT-CANCELLED", "E-REPR"),
          "a cancelled wait() leaves its waiter behind"),
    Fault("yields-when-set", "event", YieldsWhenSetEvent, ("E-WAIT-NO-YIELD",),
          "wait() on a set event yields to the loop"),
    Fault("wakes-first-only", "event", WakesFirstOnlyEvent, ("E-SET-WAKES",),
          "set() wakes only the first waiter"),
    Fault("never-binds", "event", NeverBindsEvent, ("E-LOOP-BINDING",),
          "the event never binds to a loop"),
    Fault("clear-cancels-waiters", "event", ClearCancelsWaitersEvent, ("E-SET-WAKES-CURRENT", "E-CLEAR"),
          "clear() cancels waiters that set() woke"),
    Fault("wraps-future-in-task", "ensure_future", wraps_future_in_task, ("EF-FUTURE",),
          "a future is wrapped in a new Task"),
    Fault("leaves-coroutine-open", "ensure_future", leaves_coroutine_open, ("EF-CLOSED-LOOP",),
          "the coroutine is not closed when the loop refuses the task"),
    Fault("rejects-awaitables", "ensure_future", rejects_awaitables, ("EF-AWAITABLE",),
          "awaitables other than coroutines are rejected"),
    Fault("ignores-loop-mismatch", "ensure_future", ignores_loop_mismatch, ("EF-FUTURE-OTHER-LOOP",),
          "a future of another loop than loop= is returned"),
    Fault("rejects-duck-futures", "ensure_future", rejects_duck_futures, ("EF-DUCK",),
          "a duck-typed future is rejected"),
    Fault("task-cancel-done-true", "task", CancelDoneTrueTask, ("T-CANCEL-DONE",),
          "cancel() of a done task answers True"),
    Fault("drops-task-cancel-message", "task", DropsCancelMessageTask,
          ("T-CANCEL-MSG", "T-MSG-TO-AWAITER", "F-CANCEL-MSG"), "cancel(msg) forgets the message"),
    Fault("skips-waiter", "task", SkipsWaiterTask, ("T-CANCEL-WAITER",),
          "cancel() does not reach the future the task waits on"),
    Fault("uncounted-cancel", "task", UncountedCancelTask, ("T-CANCELLING-COUNTS", "T-CANCELLING"),
          "cancellation requests are not counted"),
    Fault("uncancel-keeps-count", "task", UncancelKeepsCountTask, ("T-UNCANCEL",),
          "uncancel() does not decrement the count"),
    Fault("task-set-result", "task", SetResultAllowedTask, ("T-NO-SET",),
          "set_result() completes a task"),
    Fault("name-not-str", "task", NamesNotStrTask, ("T-SET-NAME",), "set_name(7) keeps the int"),
    Fault("forgets-coroutine", "task", ForgetsCoroutineTask, ("T-GET-CORO",), "get_coro() answers None"),
    Fault("silent-pending", "task", SilentPendingTask, ("T-DESTROYED-PENDING",),
          "a task collected pending is never reported"),
    Fault("awaits-itself", "task", globals()["AwaitsItselfTask"], ("T-AWAITS-ITSELF",),
          "a task may await itself, and then waits forever"),
    Fault("bare-yield-stalls", "task", globals()["BareYieldStallsTask"], ("T-BARE-YIELD",),
          "a bare yield is not rescheduled"),
    Fault("bad-yield-ignored", "task", globals()["BadYieldIgnoredTask"], ("T-BAD-YIELD",),
          "a bad yield is stepped over without an error"),
    Fault("other-loop-accepted", "task", globals()["OtherLoopAcceptedTask"], ("T-OTHER-LOOP",),
          "a future of another loop is awaited"),
    Fault("finishes-despite-cancel", "task", globals()["FinishesDespiteCancelTask"], ("T-CANCEL-BEFORE-STOP",),
          "a coroutine that returns after a cancel request finishes the task instead of cancelling it"),
    Fault("swallows-exit", "task", globals()["SwallowsExitTask"], ("T-RAISES-FATAL",),
          "SystemExit from the coroutine is kept, not raised on to the loop"),
    Fault("forgets-cancellation", "task", globals()["ForgetsCancellationTask"],
          ("T-MSG-TO-AWAITER", "T-RAISES-CANCELLED", "T-RESULT-CANCELLED", "T-EXCEPTION-CANCELLED"),
          "the coroutine's own CancelledError is not handed to the awaiter (bpo-45390)"),
    Fault("ignores-must-cancel", "task", globals()["IgnoresMustCancelTask"], ("T-MUST-CANCEL",),
          "a requested cancellation is never thrown into the coroutine"),
    Fault("invisible-step", "task", globals()["InvisibleStepTask"], ("T-CURRENT-TASK",),
          "current_task() does not see the task while its step runs"),
    Fault("contextless-step", "task", globals()["ContextlessStepTask"], ("T-STEP-CONTEXT",),
          "steps run in the loop's context, not the task's"),
)
