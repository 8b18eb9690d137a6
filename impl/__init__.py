"""asyncio's Future, Event, Task and ensure_future, compiled from the declarations in ``spec/``.

``Future``, ``Event``, ``Task`` and ``ensure_future`` follow the ``cpython`` profile.
``asyncspec.impl.seed`` holds the same three compiled from the ``seed`` profile,
which schedules done-callbacks with ``call_soon_threadsafe()`` as the seed
document says. :func:`compile_profile` compiles any profile.
"""

from __future__ import annotations

from asyncio import isfuture
from types import SimpleNamespace

from ._compile import compile_class, compile_function
from ._profiles import machines
from .futures import Future, future_class, wrap_future
from .locks import Event, event_class
from .tasks import Task, ensure_future, task_class, task_factory

__all__ = [
    "Event", "Future", "Task", "compile_class", "compile_function", "compile_profile", "ensure_future",
    "event_class", "future_class", "isfuture", "task_class", "task_factory", "wrap_future",
]


def compile_profile(profile: str) -> SimpleNamespace:
    """Return ``Future``, ``Event``, ``Task`` and ``ensure_future`` compiled for ``profile``."""
    m = machines(profile)
    module = f"{__name__}.{profile}"
    future = future_class(m["future"], module=module)
    return SimpleNamespace(
        Future=future,
        Task=task_class(m["task"], future, module=module),
        Event=event_class(m["event"], module=module),
        ensure_future=compile_function(m["ensure_future"], module),
    )
