"""asyncio.ensure_future: a decision over the kind of argument.

The machine has one step: from ARGUMENT, the first row whose guards hold
decides the outcome. Creating a task is an *attempt*: when the loop refuses
it with RuntimeError (a closed loop), a coroutine argument is closed.
"""

from __future__ import annotations

DOCS = "https://docs.python.org/3/library/asyncio-future.html#asyncio.ensure_future"
SOURCE = "https://github.com/python/cpython/blob/3.13/Lib/asyncio/tasks.py"

_ARGS = "coro_or_future, *, loop=None"

MACHINE = {
    "name": "ensure_future",
    "title": "asyncio.ensure_future",
    "doc": "Wrap a coroutine or an awaitable in a Task; return a future as it is.",
    "states": [
        {"name": "ARGUMENT"},
        {"name": "RETURNED", "final": True},
        {"name": "TASK", "final": True},
        {"name": "MISMATCH", "final": True},
        {"name": "REFUSED", "final": True},
        {"name": "REJECTED", "final": True},
    ],
    "initial": "ARGUMENT",
    "state_docs": {
        "ARGUMENT": "The argument has not been looked at yet.",
        "RETURNED": "A future, returned as it is.",
        "TASK": "A new Task wraps the coroutine or awaitable.",
        "MISMATCH": "ValueError: the future belongs to another loop than loop=.",
        "REFUSED": "The loop could not create the task; its RuntimeError propagates.",
        "REJECTED": "TypeError: neither a future, a coroutine nor an awaitable.",
    },
    "namespace": {
        "CoroutineType": "types:CoroutineType",
        "GeneratorType": "types:GeneratorType",
        "Coroutine": "collections.abc:Coroutine",
        "isawaitable": "inspect:isawaitable",
        "future_loop": "asyncio.futures:_get_loop",
        "get_event_loop": "asyncio.events:get_event_loop",
        "wrap_awaitable": "asyncspec.spec._prelude:wrap_awaitable",
        "wrap_awaitable_generator": "asyncspec.spec._prelude:wrap_awaitable_generator",
    },
    "operations": {
        "ensure_future": {"kind": "function", "params": _ARGS,
                          "doc": "Wrap a coroutine or an awaitable in a future."},
    },
    "guards": {
        "is_future": {
            "expr": "hasattr(type(coro_or_future), '_asyncio_future_blocking') "
                    "and coro_or_future._asyncio_future_blocking is not None",
            "doc": "asyncio.isfuture(): the Future protocol marker, so duck-typed futures count.",
        },
        "other_loop": {"expr": "loop is not None and loop is not future_loop(coro_or_future)",
                       "doc": "loop= names another loop than the future's."},
        "is_coroutine": {
            "doc": "asyncio.iscoroutine().",
            "variants": [
                {"python": "<3.12", "expr": "isinstance(coro_or_future, (CoroutineType, GeneratorType, Coroutine))"},
                {"python": ">=3.12", "expr": "isinstance(coro_or_future, (CoroutineType, Coroutine))"},
            ],
        },
        "is_awaitable": {"expr": "isawaitable(coro_or_future)", "doc": "inspect.isawaitable()."},
        "coroutine_refused": {
            "let": {"target_loop": "get_event_loop() if loop is None else loop"},
            "attempt": "target_loop.create_task(coro_or_future)",
            "raises": "RuntimeError", "bind": "task",
            "doc": "The loop's create_task() raised RuntimeError for the coroutine.",
        },
        "awaitable_refused": {
            "doc": "The loop's create_task() raised RuntimeError for the wrapped awaitable. The "
                   "wrapper is a generator-based coroutine up to 3.11, a native one from 3.12.",
            "variants": [
                {"python": "<3.12",
                 "let": {"wrapped": "wrap_awaitable_generator(coro_or_future)",
                         "target_loop": "get_event_loop() if loop is None else loop"},
                 "attempt": "target_loop.create_task(wrapped)", "raises": "RuntimeError", "bind": "task"},
                {"python": ">=3.12",
                 "let": {"wrapped": "wrap_awaitable(coro_or_future)",
                         "target_loop": "get_event_loop() if loop is None else loop"},
                 "attempt": "target_loop.create_task(wrapped)", "raises": "RuntimeError", "bind": "task"},
            ],
        },
    },
    "transitions": [
        {"trigger": "ensure_future", "source": "ARGUMENT", "dest": "MISMATCH",
         "conditions": ["is_future", "other_loop"],
         "raises": "ValueError('The future belongs to a different loop than the one specified as the loop argument')",
         "clauses": ["EF-FUTURE-OTHER-LOOP"]},
        {"trigger": "ensure_future", "source": "ARGUMENT", "dest": "RETURNED", "conditions": ["is_future"],
         "returns": "coro_or_future", "clauses": ["EF-FUTURE", "EF-SIG", "EF-DUCK"]},
        {"trigger": "ensure_future", "source": "ARGUMENT", "dest": "REFUSED",
         "conditions": ["is_coroutine", "coroutine_refused"],
         "effects": [{"do": "coro_or_future.close()"}], "reraises": True,
         "clauses": ["EF-CLOSED-LOOP", "EF-SEE-ALSO"]},
        {"trigger": "ensure_future", "source": "ARGUMENT", "dest": "TASK",
         "conditions": ["is_coroutine"], "unless": ["coroutine_refused"], "returns": "task",
         "clauses": ["EF-SCHEDULE", "EF-TASK", "EF-SEE-ALSO", "EF-NEW"]},
        {"trigger": "ensure_future", "source": "ARGUMENT", "dest": "REFUSED",
         "conditions": ["is_awaitable", "awaitable_refused"], "reraises": True,
         "clauses": ["EF-CLOSED-LOOP"]},
        {"trigger": "ensure_future", "source": "ARGUMENT", "dest": "TASK",
         "conditions": ["is_awaitable"], "unless": ["awaitable_refused"], "returns": "task",
         "clauses": ["EF-AWAITABLE", "EF-TASK"]},
        {"trigger": "ensure_future", "source": "ARGUMENT", "dest": "REJECTED",
         "raises": "TypeError('An asyncio.Future, a coroutine or an awaitable is required')",
         "clauses": ["EF-TYPE-ERROR"]},
    ],
    "clauses": [
        {"id": "EF-SIG", "source": "seed", "section": "asyncio.ensure_future()",
         "quote": "asyncio.ensure_future(coro_or_future, *, loop=None)"},
        {"id": "EF-SCHEDULE", "source": "seed", "section": "asyncio.ensure_future()",
         "quote": "Schedule the execution of a coroutine object: wrap it in a future."},
        {"id": "EF-TASK", "source": "seed", "section": "asyncio.ensure_future()", "quote": "Return a Task object."},
        {"id": "EF-FUTURE", "source": "seed", "section": "asyncio.ensure_future()",
         "quote": "If the argument is a Future, it is returned directly."},
        {"id": "EF-NEW", "source": "seed", "section": "asyncio.ensure_future()", "quote": "New in version 3.4.4."},
        {"id": "EF-AWAITABLE", "source": "seed", "section": "asyncio.ensure_future()",
         "quote": "Changed in version 3.5.1: The function accepts any awaitable object."},
        {"id": "EF-SEE-ALSO", "source": "seed", "section": "asyncio.ensure_future()",
         "quote": "See also The AbstractEventLoop.create_task() method.",
         "note": "The task is made by the loop's create_task(), so a loop's task factory applies."},
        {"id": "EF-DUCK", "source": "cpython-docs", "cite": "https://docs.python.org/3/library/asyncio-future.html#asyncio.isfuture",
         "quote": "Return True if obj is either of: an instance of asyncio.Future, an instance of asyncio.Task, "
                  "a Future-like object with a _asyncio_future_blocking attribute."},
        {"id": "EF-FUTURE-OTHER-LOOP", "source": "cpython-source", "cite": SOURCE,
         "quote": "The future belongs to a different loop than the one specified as the loop argument"},
        {"id": "EF-TYPE-ERROR", "source": "cpython-docs", "cite": DOCS,
         "quote": "Raises a TypeError if the argument is neither a coroutine, a Future nor an awaitable; "
                  "message 'An asyncio.Future, a coroutine or an awaitable is required'.",
         "note": "Generators count as coroutines up to 3.11 and are rejected from 3.12 (gh-102748)."},
        {"id": "EF-CLOSED-LOOP", "source": "cpython-source", "cite": SOURCE,
         "quote": "except RuntimeError: if should_close: coro_or_future.close(); raise",
         "note": "bpo-26552: a coroutine that cannot become a task is closed, so it is not reported as never awaited."},
    ],
}
