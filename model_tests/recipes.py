"""Arguments described as data, so that every run can make its own copy of them.

A recipe names a kind of argument and its parameters; the engine's runs make
the values (each with its own loop and objects) and the reproduction scripts
print them as Python.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any, Callable

#: A keyword parameter left at its default.
OMITTED = None

#: The exception classes recipes may name.
EXCEPTIONS: dict[str, type[BaseException]] = {
    "ValueError": ValueError, "KeyError": KeyError, "StopIteration": StopIteration,
    "CancelledError": asyncio.CancelledError, "RuntimeError": RuntimeError, "TypeError": TypeError,
}


@dataclass(frozen=True)
class Recipe:
    """An argument: a ``kind`` (see :data:`PYTHON`), with its value and arguments."""

    kind: str
    value: Any = None
    args: tuple = ()

    def python(self) -> str:
        """The argument as the reproduction script writes it."""
        return PYTHON[self.kind](self)


def _exception_name(name: str) -> str:
    return "asyncio.CancelledError" if name == "CancelledError" else name


#: Every recipe kind, and how a script writes it.
PYTHON: dict[str, Callable[[Recipe], str]] = {
    "value": lambda r: repr(r.value),
    "error": lambda r: f"{_exception_name(r.value)}({', '.join(map(repr, r.args))})",
    "error_class": lambda r: _exception_name(r.value),
    "callback": lambda r: str(r.value),
    "raising_callback": lambda r: str(r.value),
    "chaining_callback": lambda r: str(r.value),
    "loop_calling_callback": lambda r: str(r.value),
    "handler": lambda r: str(r.value),
    "task_factory": lambda r: str(r.value),
    "handler_context": lambda r: "{'message': 'm'%s}" % (f", 'exception': {r.value}('e')" if r.value else ""),
    "equal_callback": lambda r: f"Callback({r.value!r})",
    "context": lambda r: f"marked_context({r.value!r})",
    "object": lambda r: str(r.value),
    "coroutine": lambda r: "returns_done()",
    "generator": lambda r: "plain_generator()",
    "awaitable": lambda r: "Awaitable()",
    "duck_future": lambda r: "DuckFuture(loop)",
    "asyncio_future": lambda r: f"asyncio.Future(loop={'loop' if r.value == 'same' else 'other_loop'})",
    "function": lambda r: "returns_done",
    "script": lambda r: f"scripted({r.args!r}, note, w, elsewhere)",
    "loop": lambda r: {None: "None", "same": "loop", "other": "other_loop", "closed": "closed_loop"}[r.value],
}
