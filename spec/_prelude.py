"""Small pure helpers that declarations name in their ``namespace``.

They exist so that an expression in a declaration can say in one call what
CPython does in a few statements. Standard library only.
"""

from __future__ import annotations

import sys
import threading
import types
from typing import Any


def chained(new: BaseException, cause: BaseException) -> BaseException:
    """Return ``new`` with ``__cause__`` and ``__context__`` set to ``cause``."""
    new.__cause__ = cause
    new.__context__ = cause
    return new


def creation_stack() -> Any:
    """Return the stack as asyncio's debug mode records it at construction: up to the constructor's caller.

    The caller is the frame below the nearest ``__init__``, however the
    constructor evaluates this call (compiled, or interpreted by the model).
    """
    from asyncio import format_helpers

    frame = sys._getframe(1)
    while frame.f_back is not None and frame.f_code.co_name != "__init__":
        frame = frame.f_back
    return format_helpers.extract_stack(frame.f_back or frame)


def resolve_loop(loop: Any) -> Any:
    """Return ``loop``, or asyncio's current event loop when it is None."""
    if loop is not None:
        return loop
    from asyncio import events

    return events.get_event_loop()


def running_loop() -> Any:
    """Return the running event loop, or None."""
    from asyncio import events

    return events._get_running_loop()


def task_repr(task: Any, cancelling: bool) -> str:
    """Return a Task's representation as ``asyncio.base_tasks._task_repr`` does, the same on every
    host: ``cancelling`` replaces the status (the version's own test of it), and a task without a
    coroutine (finished eagerly, 3.12+) shows none. A task inside its own representation is ``...``."""
    from asyncio import base_futures, coroutines

    key = (id(task), threading.get_ident())
    if key in _IN_REPR:
        return "..."
    _IN_REPR.add(key)
    try:
        info = base_futures._future_repr_info(task)
        if cancelling:
            info[0] = "cancelling"
        info.insert(1, f"name={task.get_name()!r}")
        if task._fut_waiter is not None:
            info.insert(2, f"wait_for={task._fut_waiter!r}")
        if task._coro:
            info.insert(2, f"coro=<{coroutines._format_coroutine(task._coro)}>")  # type: ignore[attr-defined]
    finally:
        _IN_REPR.discard(key)
    return f"<{task.__class__.__name__} {' '.join(info)}>"


_IN_REPR: set[tuple[int, int]] = set()


def object_repr(obj: Any) -> str:
    """Return ``object.__repr__(obj)`` without its angle brackets."""
    return object.__repr__(obj)[1:-1]


async def _wrap_awaitable(awaitable: Any) -> Any:
    return await awaitable


def wrap_awaitable(awaitable: Any) -> Any:
    """Return a coroutine that awaits ``awaitable``, as ensure_future wraps one."""
    return _wrap_awaitable(awaitable)


@types.coroutine
def wrap_awaitable_generator(awaitable: Any) -> Any:
    """Return a generator-based coroutine awaiting ``awaitable``, as 3.11 and earlier wrap one."""
    return (yield from awaitable.__await__())


def run_eagerly(loop: Any, task: Any, context: Any, step: Any) -> None:
    """Run a Task's first step now, as asyncio's eager start does (3.12+).

    The task is the loop's current task and one of its eager tasks while
    ``step(None)`` runs in the task's context; then the previous current task
    is restored, whatever the step did. (On an asyncio before 3.12, the model of
    a newer one does this through the table of current tasks and the registry
    of all tasks, which is what ``current_task()`` and ``all_tasks()`` read.)
    """
    swap, register, unregister = _EAGER or _eager_hooks()
    previous = swap(loop, task)
    try:
        register(task)
        try:
            context.run(step, None)
        finally:
            unregister(task)
    finally:
        swap(loop, previous)


#: asyncio's hooks for an eager step (swap the current task, register and unregister an eager task), once found.
_EAGER: tuple[Any, Any, Any] | None = None


def _eager_hooks() -> tuple[Any, Any, Any]:
    global _EAGER
    from asyncio import tasks

    _EAGER = (getattr(tasks, "_swap_current_task", None) or _swap_current_task,
              getattr(tasks, "_register_eager_task", tasks._register_task),
              getattr(tasks, "_unregister_eager_task", tasks._unregister_task))
    return _EAGER


def _swap_current_task(loop: Any, task: Any) -> Any:
    """asyncio 3.12's ``_swap_current_task``, for the model of 3.12+ run on an older asyncio."""
    from asyncio import tasks

    current = tasks._current_tasks  # type: ignore[attr-defined]
    previous = current.get(loop)
    if task is None:
        current.pop(loop, None)
    else:
        current[loop] = task
    return previous
