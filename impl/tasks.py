"""A drop-in asyncio.Task and asyncio.ensure_future compiled from ``spec/task.py`` and ``spec/ensure_future.py``.

``Task`` extends our ``Future`` as the Task machine extends the Future machine.
``task_factory`` makes one for ``loop.set_task_factory()``: then the loop's
``create_task()``, and so ``ensure_future()``, which the spec has create tasks
through the loop, return our Task.
"""

from __future__ import annotations

from asyncio import base_tasks
from typing import Any

from ..spec import Machine
from ._compile import compile_class, compile_function
from ._profiles import machines
from .futures import Future


def print_stack(self: Any, *, limit: Any = None, file: Any = None) -> None:
    """Print the stack or traceback for this task's coroutine (asyncio's own printer, over get_stack())."""
    return base_tasks._task_print_stack(self, limit, file)  # asyncio's own


def task_class(machine: Machine, future: type, name: str = "Task", module: str = __name__) -> type:
    """Compile a Task class from a Task declaration, as a subclass of ``future``."""
    return compile_class(machine, name, module, bases=(future,), extra={"print_stack": print_stack})


Task = task_class(machines("cpython")["task"], Future)


def task_factory(loop: Any, coro: Any, **kwargs: Any) -> Any:
    """A task factory for ``loop.set_task_factory()`` that makes our Task."""
    return Task(coro, loop=loop, **kwargs)


ensure_future = compile_function(machines("cpython")["ensure_future"], __name__)
