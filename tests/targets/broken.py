"""Deliberately broken targets for the audit's isolation tests (imported by worker processes)."""

from __future__ import annotations

import ctypes
import os
import sys

import asyncspec
from asyncspec.impl import Event, Future


class HangingFuture(Future):
    """set_result() never returns."""

    def set_result(self, result):
        while True:
            pass


class HangingCallbackFuture(Future):
    """Once awaited and woken, the Task's step (a loop callback) never returns."""

    def __await__(self):
        result = yield from Future.__await__(self)
        while True:
            pass
        return result  # pragma: no cover

    __iter__ = __await__


class ExitingFuture(Future):
    def set_result(self, result):
        os._exit(3)


class SegfaultFuture(Future):
    def set_result(self, result):
        ctypes.string_at(0)


class FindsThenSegfaultsFuture(Future):
    """A deviation found early (result() of a pending future answers None), then a crash (set_result)."""

    def result(self):
        if not self.done():
            return None
        return super().result()

    def set_result(self, result):
        ctypes.string_at(0)


class RecursiveFuture(Future):
    def done(self):
        return self.done()


class MemoryHogFuture(Future):
    def set_result(self, result):
        self.hoard = bytearray(64 * 1024 ** 3)


class InitRaisesFuture(Future):
    def __init__(self, *, loop=None):
        raise ValueError("broken on purpose")


class ReprRaisesFuture(Future):
    def __repr__(self):
        raise ValueError("no repr for you")


class EqRaisesFuture(Future):
    def __eq__(self, other):
        raise ValueError("no equality for you")

    __hash__ = Future.__hash__


class NoisyFuture(Future):
    """Prints garbage on stdout and stderr from every method."""

    def __getattribute__(self, name):
        sys.stdout.write('{"event": "done", "report": "forged"}\n\x00\xff garbage\n')
        sys.stdout.flush()
        os.write(2, b"\x1b[31m more garbage\n")
        return super().__getattribute__(name)


NOT_A_TARGET = 42


class FlagAdapter(asyncspec.Adapter):
    """An Event-like object waited on with `await flag`, and without clear()."""

    kind = "event"
    absent = frozenset({"clear", "__repr__"})  # no clear(); its repr is not asyncio's

    def create(self, loop):
        return Flag()

    def start_wait(self, flag):
        return flag

    def call_is_set(self, flag):
        return flag.is_set


class Flag:
    def __init__(self):
        self._event = Event()

    @property
    def is_set(self):
        return self._event.is_set()

    def set(self):
        self._event.set()

    def __await__(self):
        return self._event.wait().__await__()

    def __repr__(self):
        return repr(self._event)


class NoMsgFuture(Future):
    """A future whose cancel() predates 3.9: it takes no msg."""

    def cancel(self):  # type: ignore[override]
        return super().cancel()


class NoMsgAdapter(asyncspec.Adapter):
    """Says so: cancel() takes no msg; the rest of cancel() is still audited."""

    kind = "future"
    absent_parameters = {"cancel": frozenset({"msg"})}

    def create(self, loop):
        return NoMsgFuture(loop=loop)


class TypoAdapter(asyncspec.Adapter):
    kind = "future"
    absent_parameters = {"cancel": frozenset({"mesage"})}

    def create(self, loop):
        return NoMsgFuture(loop=loop)
