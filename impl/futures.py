"""A drop-in asyncio.Future compiled from ``spec/future.py``."""

from __future__ import annotations

import concurrent.futures
from asyncio import futures as _asyncio_futures
from asyncio import isfuture
from typing import Any

from ..spec import Machine
from ._compile import compile_class
from ._profiles import machines


def future_class(machine: Machine, name: str = "Future", module: str = __name__) -> type:
    """Compile a Future class from a Future declaration."""
    return compile_class(machine, name, module)


Future = future_class(machines("cpython")["future"])


def wrap_future(future: Any, *, loop: Any = None) -> Any:
    """Wrap a concurrent.futures.Future in one of our Futures, as asyncio.wrap_future does."""
    if isfuture(future):
        return future
    if not isinstance(future, concurrent.futures.Future):
        raise AssertionError(f"concurrent.futures.Future is expected, got {future!r}")
    if loop is None:
        from asyncio import events

        loop = events.get_event_loop()
    new_future = Future(loop=loop)
    _asyncio_futures._chain_future(future, new_future)  # type: ignore[attr-defined]  # asyncio's own, untyped
    return new_future
