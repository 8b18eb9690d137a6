"""asyncio.Task: a Future that runs a coroutine, one step at a time.

The Task *extends* the Future machine: it keeps the Future's three states
(PENDING, FINISHED, CANCELLED) and every Future row it does not restate. Where
a Task differs (``cancel`` requests rather than cancels, ``set_result`` and
``set_exception`` are refused, a cancelled task may hand its awaiter the
CancelledError its coroutine raised), its own rows replace the Future's.

Within PENDING, what a user can tell apart is what the task is doing, in the
documentation's words: *scheduled* (a step is waiting in the loop's ready
queue; a new task starts so), *running* (a step is running: the task is
``current_task()``), *waiting* (blocked on a future, ``_fut_waiter``), and with
a *cancel requested* (``cancelling()`` counts requests; the next step throws
CancelledError in). These phases are the guards of the step's rows below:
the step is the ``_step`` callback the task schedules on its loop, and what
the coroutine does when resumed decides which row fires.
"""

from __future__ import annotations

from .future import SCHEDULE_CALLBACKS

DOCS = "https://docs.python.org/3/library/asyncio-task.html"
SOURCE = "https://github.com/python/cpython/blob/3.13/Lib/asyncio/tasks.py"
FUTURES = "https://github.com/python/cpython/blob/3.13/Lib/asyncio/futures.py"
C_SOURCE = "https://github.com/python/cpython/blob/3.13/Modules/_asynciomodule.c"

_STATES = ("PENDING", "FINISHED", "CANCELLED")
_DONE = ("FINISHED", "CANCELLED")
#: CPython's pure-Python Task, which departs from the C one where ``differences`` says.
_PY_TASK = "asyncio.tasks._PyTask"

# The step again, soon, in the task's context: with an exception to throw in, or none.
_STEP_SOON = "loop.call_soon(self._step, {exc}, context=context)"
_STEP_AGAIN = "loop.call_soon(self._step, context=context)"
_STEP_FIRST = "loop.call_soon(self._step, context=task_context)"
_CANCELLED_ERROR = "CancelledError() if cancel_message is None else CancelledError(cancel_message)"
_FINISH_WITH = [
    {"set": "exception", "to": "error"},
    {"set": "exception_tb", "to": "error.__traceback__"},
    SCHEDULE_CALLBACKS,
    {"set": "log_traceback", "to": "True"},
]
# The step resumes the coroutine: what it yielded, or what it raised (StopIteration when it returned).
_RESUME = {"yielded": {"try": "coro.send(None) if exc is None else coro.throw(exc)", "except": "error"}}
# The wake-up asks the awaited future for its answer: the exception to throw in, or None.
_ANSWER = {"answer": {"try": "future.result()", "except": "error"}}
_UNREACHABLE_DONE = ("A done task schedules no step and waits on no future: only a direct call of the "
                     "internal callback reaches it.")
_STEP_DONE = "InvalidStateError(f'_step(): already done: {self!r}, {exc!r}')"


def _each(states, row):
    """The same row, declared from each of ``states``."""
    return [dict(row, source=s) for s in states]


def _cancelled_answers(trigger, output, clause):
    """A cancelled task's answer: the CancelledError its coroutine raised, once (3.11+, bpo-45390);
    then, and always before 3.11, a new one."""
    common = {"trigger": trigger, "source": "CANCELLED", "dest": None, "let": {"saved": "cancelled_exc"}}
    return [
        {**common, "conditions": ["saved_cancellation"], "effects": [{"set": "cancelled_exc", "to": "None"}],
         output: "saved", "clauses": [clause, "T-MSG-TO-AWAITER"], "python": ">=3.11"},
        {**common, output: _CANCELLED_ERROR, "clauses": [clause, "F-CANCEL-MSG"]},
    ]


def _since(version, row, before):
    """``row`` from Python ``version`` on, and before it the same row with each expression rewritten
    by ``before`` (``{"cancel(msg=msg)": "cancel()"}``: 3.8's cancel() takes no message)."""
    def rewrite(value):
        if isinstance(value, str):
            for old, new in before.items():
                value = value.replace(old, new)
            return value
        if isinstance(value, dict):
            return {k: rewrite(v) for k, v in value.items()}
        if isinstance(value, list):
            return [rewrite(v) for v in value]
        return value
    return [dict(row, python=f">={version}"), dict(rewrite(row), python=f"<{version}")]


#: 3.8: no cancel message to pass on, and no _make_cancelled_error() to ask.
_BEFORE_MSG = {"cancel(msg=msg)": "cancel()", "cancel(msg=cancel_message)": "cancel()",
               "self._make_cancelled_error()": "CancelledError()"}


#: What the constructor works out first (a variant overlays what differs in its version).
_LET = {"loop": "get_event_loop() if loop is None else loop",
        "is_coroutine": "iscoroutine(coro)",
        "task_context": "copy_context() if context is None else context"}


MACHINE = {
    "name": "task",
    "title": "asyncio.Task",
    "doc": "A Future-like object that runs a Python coroutine, one step per loop callback.",
    "extends": {"machine": "future", "shown_by": {"asyncio.futures._PyFuture": _PY_TASK}},
    "state_docs": {
        "PENDING": "The coroutine has not finished: scheduled, running a step, or waiting on a future; "
                   "possibly with a cancel requested.",
        "FINISHED": "The coroutine returned (the result) or raised (the exception).",
        "CANCELLED": "The coroutine let a CancelledError out, or was cancelled before it could run.",
    },
    "namespace": {
        "iscoroutine": "asyncio.coroutines:iscoroutine",
        "isgenerator": "inspect:isgenerator",
        "future_loop": "asyncio.futures:_get_loop",
        "task_name": "asyncio.tasks:_task_name_counter",
        "register_task": "asyncio.tasks:_register_task",
        "enter_task": "asyncio.tasks:_enter_task",
        "leave_task": "asyncio.tasks:_leave_task",
        "task_repr": "asyncspec.spec._prelude:task_repr",
        "task_get_stack": "asyncio.base_tasks:_task_get_stack",
        "run_eagerly": "asyncspec.spec._prelude:run_eagerly",
    },
    "constructor": {
        "params": "coro, *, loop=None, name=None, context=None",
        "doc": "Wrap the coroutine ``coro`` and schedule its first step on the loop.",
        # The one context every step runs in: its field, which the parameter's name shadows here.
        "let": _LET,
        "effects": [
            # Refused after the Future part is made, and never reported as destroyed pending.
            {"set": "log_destroy_pending", "to": "False", "if": "not is_coroutine"},
            {"check": "is_coroutine", "raises": "TypeError(f'a coroutine was expected, got {coro!r}')"},
            {"do": _STEP_FIRST},
            {"do": "register_task(self)"},
        ],
        "variants": [{
            # The context argument is 3.11's (bpo-46994): before, each step runs in a copy of the current one.
            "python": "<3.11",
            "params": "coro, *, loop=None, name=None",
            "let": {**_LET, "task_context": "copy_context()"},
        }, {
            "python": ">=3.12",
            "params": "coro, *, loop=None, name=None, context=None, eager_start=False",
            "let": {**_LET, "eager": "eager_start and loop.is_running()"},
            "effects": [
                {"set": "log_destroy_pending", "to": "False", "if": "not is_coroutine"},
                {"check": "is_coroutine", "raises": "TypeError(f'a coroutine was expected, got {coro!r}')"},
                {"do": "self._eager_start()", "if": "eager"},
                {"do": _STEP_FIRST, "if": "not eager"},
                {"do": "register_task(self)", "if": "not eager"},
            ],
        }],
    },
    "fields": {
        "coro": {"attr": "_coro", "default": "None", "init": "coro", "doc": "The coroutine the task runs."},
        "name": {"attr": "_name", "default": "None",
                 "init": "f'Task-{task_name()}' if name is None else str(name)",
                 "doc": "The task's name: given, or Task-N from asyncio's counter."},
        "context": {"attr": "_context", "default": "None",
                    "init": "task_context",
                    "doc": "The context every step runs in: given, or a copy of the current one."},
        "must_cancel": {"attr": "_must_cancel", "default": "False", "init": "False",
                        "doc": "A cancel is requested: the next step throws CancelledError in."},
        "fut_waiter": {"attr": "_fut_waiter", "default": "None", "init": "None",
                       "doc": "The future the task is waiting on, if any."},
        "num_cancels_requested": {"attr": "_num_cancels_requested", "default": "0", "init": "0",
                                  "doc": "cancel() calls less uncancel() calls (3.11+)."},
        "cancelled_exc": {"attr": "_cancelled_exc", "default": "None",
                          "doc": "The CancelledError the coroutine raised, for the first awaiter to get."},
        "log_destroy_pending": {"attr": "_Task__log_destroy_pending", "default": "True",
                                "doc": "Report the task if it is collected while pending."},
    },
    "operations": {
        "cancel": {"params": "msg=None", "gated_params": {"msg": ">=3.9"}, "doc": "Request that this task cancel itself."},
        "cancelling": {"kind": "query", "probe": True, "python": ">=3.11",
                       "doc": "Return the count of the task's cancellation requests."},
        "uncancel": {"python": ">=3.11", "doc": "Decrement the task's count of cancellation requests."},
        "get_coro": {"kind": "query", "doc": "Return the coroutine object wrapped by the Task."},
        "get_context": {"kind": "query", "python": ">=3.12",
                        "doc": "Return the contextvars.Context object associated with the task."},
        "get_name": {"kind": "query", "probe": True, "doc": "Return the name of the Task."},
        "set_name": {"params": "value", "doc": "Set the name of the Task."},
        "get_stack": {"kind": "query", "params": "*, limit=None",
                      "doc": "Return the list of stack frames for this task's coroutine."},
        "_log_destroy_pending": {"kind": "property", "params": "val", "field": "log_destroy_pending",
                                 "doc": "Whether the task is reported if collected pending; asyncio clears it "
                                        "on the tasks it makes for itself."},
        "_step": {"kind": "callback", "params": "exc=None",
                  "doc": "Run the coroutine one step: what the loop calls, from the handle the task scheduled."},
        "_step_run_and_handle_result": {
            "kind": "callback", "params": "exc",
            "doc": "Resume the coroutine (send None, or throw ``exc`` in) and act on what it did."},
        "_wakeup": {"kind": "callback", "params": "future",
                    "doc": "The done-callback on the future the task waits on: step again."},
        "_eager_start": {"kind": "callback", "python": ">=3.12",
                         "doc": "Run the first step now, the task current and eager, in its context."},
    },
    "guards": {
        "waiting": {"expr": "fut_waiter is not None", "doc": "The task is waiting on a future."},
        "has_requests": {"expr": "num_cancels_requested > 0", "doc": "Some cancellation request is pending."},
        "saved_cancellation": {"expr": "saved is not None",
                               "doc": "The coroutine raised the CancelledError that cancelled the task, "
                                      "and no one has been given it yet."},
        "must_cancel": {"expr": "must_cancel", "doc": "A cancel was requested and not yet delivered."},
        "stopped": {"expr": "isinstance(error, StopIteration)", "doc": "The coroutine returned."},
        "raised_cancelled": {"expr": "isinstance(error, CancelledError)",
                             "doc": "The coroutine let a CancelledError out."},
        "raised_fatal": {"expr": "isinstance(error, (KeyboardInterrupt, SystemExit))",
                         "doc": "The coroutine raised KeyboardInterrupt or SystemExit."},
        "raised": {"expr": "error is not None",
                   "doc": "Resuming the coroutine raised (StopIteration if it returned)."},
        "yielded_future": {"expr": "getattr(yielded, '_asyncio_future_blocking', None) is not None",
                           "doc": "The coroutine yielded a future (the Future protocol's marker)."},
        "other_loop": {"expr": "future_loop(yielded) is not loop",
                       "doc": "The future belongs to another loop than the task's."},
        "blocking": {"expr": "yielded._asyncio_future_blocking",
                     "doc": "The future was yielded by its __await__ (its blocking flag is set)."},
        "awaits_itself": {"expr": "yielded is self", "doc": "The future yielded is the task itself."},
        "yielded_none": {"expr": "yielded is None", "doc": "A bare yield: give up one loop iteration."},
        "yielded_generator": {"expr": "isgenerator(yielded)", "doc": "The coroutine yielded a generator."},
        "pending_destroyed": {"expr": "log_destroy_pending", "doc": "The task reports being collected pending."},
    },
    "transitions": [
        # -- the Future operations a Task restates ----------------------------------------------
        *_each(_STATES, {"trigger": "set_result", "dest": None,
                         "raises": "RuntimeError('Task does not support set_result operation')",
                         "clauses": ["T-INHERITS", "T-NO-SET"]}),
        *_each(_STATES, {"trigger": "set_exception", "dest": None,
                         "raises": "RuntimeError('Task does not support set_exception operation')",
                         "clauses": ["T-INHERITS", "T-NO-SET"]}),
        # 'cancelling' while a cancel is pending: a request counted and the task not done (3.11+), the flag before.
        {"trigger": "__repr__", "source": "PENDING", "dest": None, "python": ">=3.11",
         "returns": "task_repr(self, num_cancels_requested > 0)", "clauses": ["T-REPR"]},
        *_each(_DONE, {"trigger": "__repr__", "dest": None, "python": ">=3.11",
                       "returns": "task_repr(self, False)", "clauses": ["T-REPR"]}),
        *_each(_STATES, {"trigger": "__repr__", "dest": None, "python": "<3.11",
                         "returns": "task_repr(self, must_cancel)", "clauses": ["T-REPR"]}),
        # The first to ask of a task its coroutine cancelled gets that CancelledError (3.11+).
        *_cancelled_answers("result", "raises", "T-RESULT-CANCELLED"),
        *_cancelled_answers("exception", "raises", "T-EXCEPTION-CANCELLED"),
        *_cancelled_answers("_make_cancelled_error", "returns", "F-CANCELLED-ERROR"),
        # Pending, the error carries the message of the cancel() request the next step delivers.
        {"trigger": "_make_cancelled_error", "source": "PENDING", "dest": None, "returns": _CANCELLED_ERROR,
         "clauses": ["F-CANCELLED-ERROR", "T-CANCEL-MSG"]},
        {"trigger": "__del__", "source": "PENDING", "dest": None, "conditions": ["pending_destroyed"],
         "effects": [{"do": "loop.call_exception_handler({'task': self, "
                            "'message': 'Task was destroyed but it is pending!', "
                            "**({'source_traceback': source_traceback} if source_traceback else {})})"}],
         "clauses": ["T-DESTROYED-PENDING"]},
        {"trigger": "__del__", "source": "PENDING", "dest": None, "clauses": ["T-DESTROYED-PENDING"]},
        *_each(_STATES, {"trigger": "_log_destroy_pending", "dest": None,
                         "effects": [{"set": "log_destroy_pending", "to": "val"}],
                         "clauses": ["T-LOG-DESTROY-PENDING"]}),
        # -- cancellation -----------------------------------------------------------------------
        *_each(_DONE, {"trigger": "cancel", "dest": None, "effects": [{"set": "log_traceback", "to": "False"}],
                       "returns": "False", "clauses": ["T-CANCEL-DONE", "F-CANCEL-CLEARS-LOG"]}),
        *_since("3.9", {"trigger": "cancel", "source": "PENDING", "dest": None, "conditions": ["waiting"],
                        "effects": [
                            {"set": "log_traceback", "to": "False"},
                            {"set": "num_cancels_requested", "to": "num_cancels_requested + 1"},
                            {"do": "fut_waiter.cancel(msg=msg)", "bind": "taken"},
                            {"set": "must_cancel", "to": "True", "if": "not taken"},
                            {"set": "cancel_message", "to": "msg", "if": "not taken"},
                        ],
                        "returns": "True",
                        "clauses": ["T-CANCEL", "T-CANCEL-WAITER", "T-CANCEL-SIG", "T-CANCELLING-COUNTS",
                                    "T-CANCEL-MSG"]}, _BEFORE_MSG),
        {"trigger": "cancel", "source": "PENDING", "dest": None,
         "effects": [
             {"set": "log_traceback", "to": "False"},
             {"set": "num_cancels_requested", "to": "num_cancels_requested + 1"},
             {"set": "must_cancel", "to": "True"},
             {"set": "cancel_message", "to": "msg"},
         ],
         "returns": "True",
         "clauses": ["T-CANCEL", "T-CANCEL-REQUEST", "T-CANCEL-SIG", "T-CANCELLING-COUNTS", "T-CANCEL-MSG",
                     "T-CANCEL-NOT-YET"]},
        *_each(_STATES, {"trigger": "cancelling", "dest": None, "returns": "num_cancels_requested",
                         "clauses": ["T-CANCELLING"]}),
        *_each(_STATES, {"trigger": "uncancel", "dest": None, "conditions": ["has_requests"], "python": "<3.13",
                         "effects": [{"set": "num_cancels_requested", "to": "num_cancels_requested - 1"}],
                         "returns": "num_cancels_requested", "clauses": ["T-UNCANCEL"]}),
        *_each(_STATES, {"trigger": "uncancel", "dest": None, "conditions": ["has_requests"], "python": ">=3.13",
                         "effects": [{"set": "num_cancels_requested", "to": "num_cancels_requested - 1"},
                                     {"set": "must_cancel", "to": "False", "if": "num_cancels_requested == 0"}],
                         "returns": "num_cancels_requested", "clauses": ["T-UNCANCEL", "T-UNCANCEL-RESCINDS"]}),
        *_each(_STATES, {"trigger": "uncancel", "dest": None, "returns": "num_cancels_requested",
                         "clauses": ["T-UNCANCEL"]}),
        # -- what the task holds ----------------------------------------------------------------
        *_each(_STATES, {"trigger": "get_coro", "dest": None, "returns": "coro", "clauses": ["T-GET-CORO"]}),
        *_each(_STATES, {"trigger": "get_context", "dest": None, "returns": "context",
                         "clauses": ["T-GET-CONTEXT"]}),
        *_each(_STATES, {"trigger": "get_name", "dest": None, "returns": "name", "clauses": ["T-GET-NAME"]}),
        *_each(_STATES, {"trigger": "set_name", "dest": None, "effects": [{"set": "name", "to": "str(value)"}],
                         "returns": "None", "clauses": ["T-SET-NAME"]}),
        *_each(_STATES, {"trigger": "get_stack", "dest": None, "returns": "task_get_stack(self, limit)",
                         "clauses": ["T-GET-STACK"]}),
        # -- the step ----------------------------------------------------------------------------
        *_since("3.9", {"trigger": "_step", "source": "PENDING", "dest": None,
                        "let": {"exc": "(exc if isinstance(exc, CancelledError) else self._make_cancelled_error()) "
                                       "if must_cancel else exc"},
                        "effects": [
                            {"set": "must_cancel", "to": "False"},
                            {"set": "fut_waiter", "to": "None"},
                            {"do": "enter_task(loop, self)"},
                            {"do": "self._step_run_and_handle_result(exc)", "finally": "leave_task(loop, self)"},
                        ],
                        "returns": "None",
                        "clauses": ["T-STEP", "T-CURRENT-TASK", "T-STEP-CONTEXT", "T-MUST-CANCEL"]}, _BEFORE_MSG),
        *_each(_DONE, {"trigger": "_step", "dest": None, "raises": _STEP_DONE, "unreachable": _UNREACHABLE_DONE,
                       "clauses": ["T-STEP-DONE"]}),
        *_each(_DONE, {"trigger": "_step_run_and_handle_result", "dest": None, "raises": _STEP_DONE,
                       "unreachable": _UNREACHABLE_DONE, "clauses": ["T-STEP-DONE"]}),
        {"trigger": "_wakeup", "source": "PENDING", "dest": None, "let": _ANSWER, "effects": [{"do": "self._step(error)"}],
         "returns": "None", "clauses": ["T-WAKEUP"]},
        *_each(_DONE, {"trigger": "_wakeup", "dest": None, "let": _ANSWER, "effects": [{"do": "self._step(error)"}],
                       "returns": "None", "unreachable": _UNREACHABLE_DONE, "clauses": ["T-WAKEUP"]}),
        # Each outcome of resuming the coroutine, in the order the step tests them.
        *[dict(row, trigger="_step_run_and_handle_result", source="PENDING", let=_RESUME)
          for row in (
              {"dest": "CANCELLED", "conditions": ["raised", "stopped", "must_cancel"],
               "effects": [{"set": "must_cancel", "to": "False"}, {"set": "log_traceback", "to": "False"},
                           SCHEDULE_CALLBACKS],
               "returns": "None", "clauses": ["T-CANCEL-BEFORE-STOP", "F-SCHEDULE-CALLBACKS"]},
              {"dest": "FINISHED", "conditions": ["raised", "stopped"],
               "effects": [{"set": "result", "to": "error.value"}, SCHEDULE_CALLBACKS],
               "returns": "None", "clauses": ["T-RETURNS", "T-DONE", "F-SCHEDULE-CALLBACKS"]},
              {"dest": "CANCELLED", "conditions": ["raised", "raised_cancelled"],
               "effects": [{"set": "cancelled_exc", "to": "error"}, {"set": "log_traceback", "to": "False"},
                           {"set": "cancel_message", "to": "None"}, SCHEDULE_CALLBACKS],
               "returns": "None", "clauses": ["T-RAISES-CANCELLED", "T-CANCELLED", "F-SCHEDULE-CALLBACKS"]},
              {"dest": "FINISHED", "conditions": ["raised", "raised_fatal"], "effects": _FINISH_WITH, "raises": "error",
               "clauses": ["T-RAISES-FATAL", "F-SCHEDULE-CALLBACKS"]},
              {"dest": "FINISHED", "conditions": ["raised"], "effects": _FINISH_WITH, "returns": "None",
               "clauses": ["T-RAISES", "T-DONE", "F-SCHEDULE-CALLBACKS"]},
              {"dest": None, "conditions": ["yielded_future", "other_loop"],
               "effects": [{"do": _STEP_SOON.format(
                   exc="RuntimeError(f'Task {self!r} got Future {yielded!r} attached to a different loop')")}],
               "returns": "None", "clauses": ["T-OTHER-LOOP"]},
              {"dest": None, "conditions": ["yielded_future", "blocking", "awaits_itself"],
               "effects": [{"do": _STEP_SOON.format(exc="RuntimeError(f'Task cannot await on itself: {self!r}')")}],
               "returns": "None", "clauses": ["T-AWAITS-ITSELF"]},
              *_since("3.9", {"dest": None, "conditions": ["yielded_future", "blocking", "must_cancel"],
                              "effects": [{"do": "setattr(yielded, '_asyncio_future_blocking', False)"},
                                          {"do": "yielded.add_done_callback(self._wakeup, context=context)"},
                                          {"set": "fut_waiter", "to": "yielded"},
                                          {"set": "must_cancel", "to": "not fut_waiter.cancel(msg=cancel_message)"}],
                              "returns": "None", "clauses": ["T-WAITS", "T-CANCEL-WAITER", "T-SCHEDULE"]},
                      _BEFORE_MSG),
              {"dest": None, "conditions": ["yielded_future", "blocking"],
               "effects": [{"do": "setattr(yielded, '_asyncio_future_blocking', False)"},
                           {"do": "yielded.add_done_callback(self._wakeup, context=context)"},
                           {"set": "fut_waiter", "to": "yielded"}],
               "returns": "None", "clauses": ["T-WAITS", "T-SCHEDULE", "T-LOOP-ONE"]},
              {"dest": None, "conditions": ["yielded_future"],
               "effects": [{"do": _STEP_SOON.format(
                   exc="RuntimeError(f'yield was used instead of yield from in task {self!r} with {yielded!r}')")}],
               "returns": "None", "clauses": ["T-NOT-BLOCKING"]},
              {"dest": None, "conditions": ["yielded_none"], "effects": [{"do": _STEP_AGAIN}],
               "returns": "None", "clauses": ["T-BARE-YIELD"]},
              {"dest": None, "conditions": ["yielded_generator"],
               "effects": [{"do": _STEP_SOON.format(
                   exc="RuntimeError(f'yield was used instead of yield from for generator in task {self!r} "
                       "with {yielded!r}')")}],
               "returns": "None", "clauses": ["T-YIELDED-GENERATOR"]},
              {"dest": None, "effects": [{"do": _STEP_SOON.format(
                  exc="RuntimeError(f'Task got bad yield: {yielded!r}')")}],
               "returns": "None", "clauses": ["T-BAD-YIELD"]},
          )],
        # -- eager start (3.12+) -----------------------------------------------------------------
        {"trigger": "_eager_start", "source": "PENDING", "dest": None,
         "effects": [
             {"do": "run_eagerly(loop, self, context, self._step_run_and_handle_result)"},
             {"do": "self.done()", "bind": "finished"},
             {"set": "coro", "to": "None", "if": "finished"},
             {"do": "register_task(self)", "if": "not finished"},
         ],
         "returns": "None", "clauses": ["T-EAGER", "T-EAGER-CURRENT", "T-EAGER-DONE"]},
        *_each(_DONE, {"trigger": "_eager_start", "dest": None, "returns": "None",
                       "unreachable": "Eager start runs from the constructor, on a new (pending) task.",
                       "clauses": ["T-EAGER"]}),
    ],
    "clauses": [
        {"id": "T-TASK", "source": "cpython-docs", "cite": DOCS + "#asyncio.Task",
         "quote": "A Future-like object that runs a Python coroutine. Not thread-safe.",
         "rows": ["PENDING._step"]},
        {"id": "T-SCHEDULE", "source": "cpython-docs", "cite": DOCS + "#asyncio.Task",
         "quote": "If a coroutine awaits on a Future, the Task suspends the execution of the coroutine and waits "
                  "for the completion of the Future. When the Future is done, the execution of the wrapped "
                  "coroutine resumes."},
        {"id": "T-LOOP-ONE", "source": "cpython-docs", "cite": DOCS + "#asyncio.Task",
         "quote": "Event loops use cooperative scheduling: an event loop runs one Task at a time. While a Task "
                  "awaits for the completion of a Future, the event loop runs other Tasks, callbacks, or performs "
                  "IO operations."},
        {"id": "T-INHERITS", "source": "cpython-docs", "cite": DOCS + "#asyncio.Task",
         "quote": "asyncio.Task inherits from Future all of its APIs except Future.set_result() and "
                  "Future.set_exception()."},
        {"id": "T-NO-SET", "source": "cpython-source", "cite": SOURCE,
         "quote": "raise RuntimeError('Task does not support set_result operation')",
         "note": "set_exception() alike: 'Task does not support set_exception operation'."},
        {"id": "T-STEP-CONTEXT", "source": "cpython-docs", "cite": DOCS + "#asyncio.Task",
         "quote": "An optional keyword-only context argument allows specifying a custom contextvars.Context for "
                  "the coro to run in. If no context is provided, the Task copies the current context and later "
                  "runs its coroutine in the copied context.",
         "note": "Every step is scheduled with context=the task's context; so is the wake-up callback."},
        {"id": "T-CANCEL-SIG", "source": "cpython-docs", "cite": DOCS + "#asyncio.Task.cancel",
         "quote": "Changed in version 3.9: Added the msg parameter."},
        {"id": "T-CANCEL", "source": "cpython-docs", "cite": DOCS + "#asyncio.Task.cancel",
         "quote": "Request the Task to be cancelled. If the Task is already done or cancelled, return False, "
                  "otherwise, return True."},
        {"id": "T-CANCEL-DONE", "source": "cpython-docs", "cite": DOCS + "#asyncio.Task.cancel",
         "quote": "If the Task is already done or cancelled, return False, otherwise, return True."},
        {"id": "T-CANCEL-REQUEST", "source": "cpython-docs", "cite": DOCS + "#asyncio.Task.cancel",
         "quote": "This arranges for a CancelledError exception to be thrown into the wrapped coroutine on the "
                  "next cycle of the event loop.",
         "note": "Not waiting on a future, the task keeps the request (_must_cancel) and its message for the "
                 "next step."},
        {"id": "T-CANCEL-WAITER", "source": "cpython-docs", "cite": DOCS + "#task-cancellation",
         "quote": "If a coroutine is awaiting on a Future object during cancellation, the Future object will "
                  "be cancelled.",
         "note": "With the message. If that future refuses (it is done, or is a task that refuses), the request "
                 "is kept for the next step instead. A request made before the task waits reaches the future it "
                 "then waits on."},
        {"id": "T-CANCEL-NOT-YET", "source": "cpython-source", "cite": SOURCE,
         "quote": "Immediately after this method is called, Task.cancelled() will not return True (unless the "
                  "task was already cancelled)."},
        {"id": "T-CANCEL-MSG", "source": "cpython-docs", "cite": DOCS + "#asyncio.Task.cancel",
         "quote": "Changed in version 3.11: The msg parameter is propagated from cancelled task to its awaiter.",
         "note": "bpo-45390."},
        {"id": "T-CANCELLING-COUNTS", "source": "cpython-source", "cite": SOURCE,
         "quote": "This also increases the task's count of cancellation requests."},
        {"id": "T-CANCELLING", "source": "cpython-docs", "cite": DOCS + "#asyncio.Task.cancelling",
         "python": ">=3.11",
         "quote": "Return the number of pending cancellation requests to this Task, i.e., the number of calls "
                  "to cancel() less the number of uncancel() calls."},
        {"id": "T-UNCANCEL", "source": "cpython-docs", "cite": DOCS + "#asyncio.Task.uncancel", "python": ">=3.11",
         "quote": "Decrement the count of cancellation requests to this Task. Returns the remaining number of "
                  "cancellation requests.",
         "note": "It never goes below zero; up to 3.12 a pending request stays pending."},
        {"id": "T-UNCANCEL-RESCINDS", "source": "cpython-docs", "cite": DOCS + "#asyncio.Task.uncancel",
         "python": ">=3.13",
         "quote": "Changed in version 3.13: Changed to rescind pending cancellation requests upon reaching zero.",
         "note": "gh-116720."},
        {"id": "T-CANCELLED", "source": "cpython-docs", "cite": DOCS + "#task-cancellation",
         "quote": "The method returns True if the wrapped coroutine did not suppress the CancelledError "
                  "exception and was actually cancelled."},
        {"id": "T-RAISES-CANCELLED", "source": "cpython-source", "cite": SOURCE,
         "quote": "except exceptions.CancelledError as exc: self._cancelled_exc = exc; super().cancel()",
         "note": "A task is cancelled whenever its coroutine lets a CancelledError out, requested or not."},
        {"id": "T-MSG-TO-AWAITER", "source": "cpython-source", "cite": FUTURES, "python": ">=3.11",
         "quote": "if self._cancelled_exc is not None: exc = self._cancelled_exc; self._cancelled_exc = None; "
                  "return exc",
         "note": "The first result(), exception() or await of a task cancelled so gets the coroutine's own "
                 "CancelledError, message and all; later ones get a new one."},
        {"id": "T-RESULT-CANCELLED", "source": "cpython-docs", "cite": DOCS + "#asyncio.Task.result",
         "quote": "If the Task has been cancelled, this method raises a CancelledError exception."},
        {"id": "T-EXCEPTION-CANCELLED", "source": "cpython-docs", "cite": DOCS + "#asyncio.Task.exception",
         "quote": "If the Task has been cancelled, this method raises a CancelledError exception."},
        {"id": "T-DONE", "source": "cpython-docs", "cite": DOCS + "#asyncio.Task.done",
         "quote": "A Task is done when the wrapped coroutine either returned a value, raised an exception, or "
                  "the Task was cancelled."},
        {"id": "T-RETURNS", "source": "cpython-docs", "cite": DOCS + "#asyncio.Task.result",
         "quote": "If the Task is done, the result of the wrapped coroutine is returned (or if the coroutine "
                  "raised an exception, that exception is re-raised.)"},
        {"id": "T-RAISES", "source": "cpython-docs", "cite": DOCS + "#asyncio.Task.exception",
         "quote": "If the wrapped coroutine raised an exception that exception is returned."},
        {"id": "T-RAISES-FATAL", "source": "cpython-source", "cite": SOURCE,
         "quote": "except (KeyboardInterrupt, SystemExit) as exc: super().set_exception(exc); raise"},
        {"id": "T-CANCEL-BEFORE-STOP", "source": "cpython-source", "cite": SOURCE,
         "quote": "if self._must_cancel: # Task is cancelled right before coro stops. self._must_cancel = False; "
                  "super().cancel(msg=self._cancel_message)"},
        {"id": "T-MUST-CANCEL", "source": "cpython-source", "cite": SOURCE,
         "quote": "if self._must_cancel: if not isinstance(exc, exceptions.CancelledError): "
                  "exc = self._make_cancelled_error(); self._must_cancel = False"},
        {"id": "T-STEP", "source": "cpython-source", "cite": SOURCE,
         "quote": "self._loop.call_soon(self.__step, context=self._context)",
         "note": "A new task schedules its first step; each step resumes the coroutine once."},
        {"id": "T-STEP-DONE", "source": "cpython-source", "cite": SOURCE,
         "quote": "raise exceptions.InvalidStateError(f'_step(): already done: {self!r}, {exc!r}')"},
        {"id": "T-CURRENT-TASK", "source": "cpython-docs", "cite": DOCS + "#asyncio.current_task",
         "quote": "Return the currently running Task instance, or None if no task is running.",
         "note": "While a step runs, the task is its loop's current task (_enter_task / _leave_task)."},
        {"id": "T-WAITS", "source": "cpython-source", "cite": SOURCE,
         "quote": "result._asyncio_future_blocking = False; result.add_done_callback(self.__wakeup, "
                  "context=self._context); self._fut_waiter = result"},
        {"id": "T-WAKEUP", "source": "cpython-source", "cite": SOURCE,
         "quote": "try: future.result() except BaseException as exc: # This may also be a cancellation. "
                  "self.__step(exc) else: self.__step()"},
        {"id": "T-OTHER-LOOP", "source": "cpython-source", "cite": SOURCE,
         "quote": "f'Task {self!r} got Future {result!r} attached to a different loop'"},
        {"id": "T-AWAITS-ITSELF", "source": "cpython-source", "cite": SOURCE,
         "quote": "f'Task cannot await on itself: {self!r}'"},
        {"id": "T-NOT-BLOCKING", "source": "cpython-source", "cite": SOURCE,
         "quote": "f'yield was used instead of yield from in task {self!r} with {result!r}'"},
        {"id": "T-BARE-YIELD", "source": "cpython-source", "cite": SOURCE,
         "quote": "# Bare yield relinquishes control for one event loop iteration."},
        {"id": "T-YIELDED-GENERATOR", "source": "cpython-source", "cite": SOURCE,
         "quote": "f'yield was used instead of yield from for generator in task {self!r} with {result!r}'"},
        {"id": "T-BAD-YIELD", "source": "cpython-source", "cite": SOURCE,
         "quote": "f'Task got bad yield: {result!r}'"},
        {"id": "T-GET-CORO", "source": "cpython-docs", "cite": DOCS + "#asyncio.Task.get_coro",
         "quote": "Return the coroutine object wrapped by the Task."},
        {"id": "T-GET-CONTEXT", "source": "cpython-docs", "cite": DOCS + "#asyncio.Task.get_context",
         "python": ">=3.12", "quote": "Return the contextvars.Context object associated with the task."},
        {"id": "T-GET-NAME", "source": "cpython-docs", "cite": DOCS + "#asyncio.Task.get_name",
         "quote": "Return the name of the Task. If no name has been explicitly assigned to the Task, the default "
                  "asyncio Task implementation generates a default name during instantiation."},
        {"id": "T-SET-NAME", "source": "cpython-docs", "cite": DOCS + "#asyncio.Task.set_name",
         "quote": "Set the name of the Task. The value argument can be any object, which is then converted to "
                  "a string."},
        {"id": "T-GET-STACK", "source": "cpython-docs", "cite": DOCS + "#asyncio.Task.get_stack",
         "quote": "Return the list of stack frames for this Task."},
        {"id": "T-REPR", "source": "cpython-source",
         "cite": "https://github.com/python/cpython/blob/3.13/Lib/asyncio/base_tasks.py",
         "quote": "def __repr__(self): return base_tasks._task_repr(self)"},
        {"id": "T-DESTROYED-PENDING", "source": "cpython-source", "cite": SOURCE,
         "quote": "'message': 'Task was destroyed but it is pending!'",
         "note": "Reported through loop.call_exception_handler, unless _log_destroy_pending is false (a task "
                 "whose constructor refused its argument, or one asyncio made for itself)."},
        {"id": "T-LOG-DESTROY-PENDING", "source": "cpython-source",
         "cite": "https://github.com/python/cpython/blob/3.13/Lib/asyncio/base_events.py",
         "quote": "# An exception is raised if the future didn't complete, so there is no need to log the "
                  "\"destroy pending task\" message future._log_destroy_pending = False",
         "note": "asyncio itself (run_until_complete, gather) clears the flag on tasks it makes; both Tasks "
                 "keep what is assigned (the C Task as a byte member)."},
        {"id": "T-EAGER", "source": "cpython-docs", "cite": DOCS + "#asyncio.eager_task_factory", "python": ">=3.12",
         "quote": "When using this factory (via loop.set_task_factory(asyncio.eager_task_factory)), coroutines "
                  "begin execution synchronously during Task construction. Tasks are only scheduled on the event "
                  "loop if they block."},
        {"id": "T-EAGER-CURRENT", "source": "cpython-source", "cite": SOURCE, "python": ">=3.12",
         "quote": "prev_task = _swap_current_task(self._loop, self)",
         "note": "During the eager step, current_task() is the new task; afterwards, the task that created it."},
        {"id": "T-EAGER-DONE", "source": "cpython-docs", "cite": DOCS + "#asyncio.Task.get_coro", "python": ">=3.12",
         "quote": "This will return None for Tasks which have already completed eagerly."},
    ],
}
