"""Scripted coroutines: what a coroutine does at each resumption, as data.

A Task's behaviour is decided by what its coroutine does when resumed, so the
engine gives each task a coroutine made of *moves*, one per resumption: await
the run's waiter future, give up one loop iteration, return, raise, let a
CancelledError out, raise SystemExit, yield something a task refuses, await the
task itself, withdraw a cancellation request, cancel its own task, await a
future no one else holds (so the task can be collected pending), ask not to be
reported if it is (as asyncio does for the tasks it makes itself). ``catch`` before a move catches a
CancelledError thrown into it and goes on. Every resumption notes which task is
current and the context it runs in, so a step run outside its task's context
or unseen by ``current_task()`` shows.

The coroutine's code is one text (:data:`SOURCE`): the engine executes it, and
a reproduction script prints it verbatim, with ``note`` printing.
"""

from __future__ import annotations

from typing import Any, Callable

#: The moves, in the order the value domains present them (``catch`` prefixes another move).
MOVES = ("await_waiter", "yield_none", "return_value", "raise_error", "raise_cancelled", "yield_value",
         "await_itself", "await_elsewhere", "yield_unblocked", "yield_generator", "withdraw", "cancel_itself",
         "raise_fatal", "await_forgotten", "unlogged")

SOURCE = '''\
import asyncio
import types


@types.coroutine
def _yield(value):
    return (yield value)


def _generator():
    yield


async def _move(move, waiter, elsewhere):
    if move == "await_waiter":
        return await waiter
    if move == "yield_none":
        return await _yield(None)
    if move == "raise_error":
        raise ValueError("from the coroutine")
    if move == "raise_cancelled":
        raise asyncio.CancelledError("from the coroutine")
    if move == "yield_value":
        return await _yield(42)
    if move == "await_itself":
        return await asyncio.current_task()
    if move == "await_elsewhere":
        return await elsewhere
    if move == "yield_unblocked":
        return await _yield(waiter)
    if move == "yield_generator":
        return await _yield(_generator())
    if move == "withdraw":
        return asyncio.current_task().uncancel()
    if move == "cancel_itself":
        return asyncio.current_task().cancel()
    if move == "raise_fatal":
        raise SystemExit("from the coroutine")
    if move == "await_forgotten":
        return await asyncio.get_running_loop().create_future()
    if move == "unlogged":
        asyncio.current_task()._log_destroy_pending = False
        return None
    raise AssertionError(move)


async def scripted(moves, note, waiter=None, elsewhere=None):
    """Make each move in turn; return at return_value (or after the last move)."""
    moves = list(moves)
    while moves:
        move = moves.pop(0)
        catching = move == "catch"
        if catching:
            move = moves.pop(0)
        note("resumed for", move)
        if move == "return_value":
            return "returned"
        try:
            value = await _move(move, waiter, elsewhere)
        except asyncio.CancelledError as e:
            if not catching:
                raise
            note("caught CancelledError", e.args)
            continue
        note(move, value)
    return "ran out of moves"
'''

#: Where the scripted coroutine's frames say their code is.
FILENAME = "<asyncspec scripted coroutine>"

_CODE: dict[str, Any] = {}
exec(compile(SOURCE, FILENAME, "exec"), _CODE)


def scripted(moves: tuple[str, ...], note: Callable[..., None], waiter: Any = None, elsewhere: Any = None) -> Any:
    """A new coroutine that makes ``moves``, noting each resumption with ``note``."""
    return _CODE["scripted"](moves, note, waiter, elsewhere)
