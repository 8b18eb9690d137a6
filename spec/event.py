"""asyncio.Event: a flag, CLEAR or SET, and the waiters blocked on it.

Each waiter is a future from the event's loop, so its lifecycle is the Future
machine's (``compose``): blocked is PENDING, woken is FINISHED, cancelled is
CANCELLED. The Event machine only creates waiters and finishes them.
"""

from __future__ import annotations

DOCS = "https://docs.python.org/3/library/asyncio-sync.html"
SOURCE = "https://github.com/python/cpython/blob/3.13/Lib/asyncio/locks.py"
MIXINS = "https://github.com/python/cpython/blob/3.13/Lib/asyncio/mixins.py"

_REPR = ("'<%s [%s%s]>' % (object_repr(self), '{word}', "
         "', waiters:%d' % len(waiters) if waiters else '')")

MACHINE = {
    "name": "event",
    "title": "asyncio.Event",
    "doc": "A flag that coroutines can wait for.",
    "states": [{"name": "CLEAR"}, {"name": "SET"}],
    "initial": "CLEAR",
    "state_attr": "_value",
    "state_values": {"CLEAR": False, "SET": True},
    "state_docs": {
        "CLEAR": "The internal flag is false; wait() blocks.",
        "SET": "The internal flag is true; wait() returns at once.",
    },
    "namespace": {
        "deque": "collections:deque",
        "running_loop": "asyncspec.spec._prelude:running_loop",
        "object_repr": "asyncspec.spec._prelude:object_repr",
        "get_event_loop": "asyncio.events:get_event_loop",
    },
    "constructor": {
        "params": "", "doc": "Create an event whose flag is false.",
        # Before 3.10 the event took its loop when made (get_event_loop()), not when wait() first blocked.
        "variants": [{"python": "<3.10", "effects": [{"set": "loop", "to": "get_event_loop()"}]}],
    },
    "fields": {
        "waiters": {"attr": "_waiters", "init": "deque()",
                    "doc": "Futures of the coroutines blocked in wait(), first in first out."},
        "loop": {"attr": "_loop", "default": "None",
                 "doc": "The loop the event is bound to: the first one on which wait() blocked."},
    },
    "compose": {
        "waiter": {
            "field": "waiters", "machine": "future",
            "states": {"blocked": "PENDING", "woken": "FINISHED", "cancelled": "CANCELLED"},
            # What moves a waiter from outside the event: the task awaiting it, when cancelled.
            "driven_by": {"cancel": "Task.cancel()"},
            "clauses": ["E-WAITER-IS-A-FUTURE"],
        },
    },
    "operations": {
        "is_set": {"kind": "query", "probe": True, "doc": "Return True if and only if the internal flag is true."},
        "set": {"doc": "Set the internal flag to true and wake every waiter."},
        "clear": {"doc": "Reset the internal flag to false."},
        "wait": {"kind": "coroutine", "doc": "Block until the internal flag is true."},
        "__repr__": {"kind": "query", "doc": "Return the standard library's representation."},
    },
    "guards": {
        "bound_elsewhere": {
            "doc": "The event is already bound to a loop other than the running one.",
            "variants": [
                # Before 3.10 nothing checked: the waiter was made on the event's loop, and a task on another
                # loop that awaited it failed ("got Future attached to a different loop").
                {"python": "<3.10", "expr": "False"},
                {"python": ">=3.10", "expr": "loop is not None and loop is not running_loop()"},
            ],
        },
    },
    "transitions": [
        {"trigger": "is_set", "source": "CLEAR", "dest": None, "returns": "False",
         "clauses": ["E-IS-SET", "E-IS-SET-SIG"]},
        {"trigger": "is_set", "source": "SET", "dest": None, "returns": "True", "clauses": ["E-IS-SET"]},
        {"trigger": "set", "source": "CLEAR", "dest": "SET",
         "effects": [{"for_each": "waiters", "skip": "item.done()", "do": "item.set_result(True)"}],
         "returns": "None",
         "clauses": ["E-SET", "E-SET-WAKES", "E-SET-SIG", "E-WAIT-OTHERWISE", "E-SET-WAKES-CURRENT"]},
        {"trigger": "set", "source": "SET", "dest": None, "returns": "None", "clauses": ["E-SET"]},
        {"trigger": "clear", "source": "SET", "dest": "CLEAR", "returns": "None",
         "clauses": ["E-CLEAR", "E-CLEAR-SIG", "E-CLEAR-SUBSEQUENTLY", "E-SET-WAKES-CURRENT"]},
        {"trigger": "clear", "source": "CLEAR", "dest": None, "returns": "None", "clauses": ["E-CLEAR"]},
        {"trigger": "wait", "source": "SET", "dest": None, "returns": "True",
         "clauses": ["E-WAIT-TRUE-ON-ENTRY", "E-SET-NO-BLOCK", "E-WAIT-SIG", "E-WAIT-COROUTINE",
                     "E-WAIT-NO-YIELD"]},
        {"trigger": "wait", "source": "CLEAR", "dest": None, "conditions": ["bound_elsewhere"],
         "raises": "RuntimeError(f'{self!r} is bound to a different event loop')",
         "clauses": ["E-LOOP-BINDING"]},
        {"trigger": "wait", "source": "CLEAR", "dest": None,
         "effects": [
             {"set": "loop", "to": "running_loop() if loop is None else loop"},
             {"park": "waiters", "waiter": "loop.create_future()"},
         ],
         "returns": "True",
         "clauses": ["E-WAIT-BLOCK", "E-WAIT-OTHERWISE", "E-CLEAR-SUBSEQUENTLY", "E-WAIT-COROUTINE",
                     "E-LOOP-BINDING", "E-WAIT-CANCELLED", "E-WAITER-IS-A-FUTURE"]},
        {"trigger": "__repr__", "source": "CLEAR", "dest": None, "returns": _REPR.format(word="unset"),
         "clauses": ["E-REPR"]},
        {"trigger": "__repr__", "source": "SET", "dest": None, "returns": _REPR.format(word="set"),
         "clauses": ["E-REPR"]},
    ],
    "clauses": [
        {"id": "E-WAIT-SIG", "source": "seed", "section": "asyncio.Event.wait()", "quote": "coroutine wait()"},
        {"id": "E-WAIT-BLOCK", "source": "seed", "section": "asyncio.Event.wait()",
         "quote": "Block until the internal flag is true."},
        {"id": "E-WAIT-TRUE-ON-ENTRY", "source": "seed", "section": "asyncio.Event.wait()",
         "quote": "If the internal flag is true on entry, return True immediately."},
        {"id": "E-WAIT-OTHERWISE", "source": "seed", "section": "asyncio.Event.wait()",
         "quote": "Otherwise, block until another coroutine calls set() to set the flag to true, then return True."},
        {"id": "E-WAIT-COROUTINE", "source": "seed", "section": "asyncio.Event.wait()",
         "quote": "This method is a coroutine."},
        {"id": "E-CLEAR-SIG", "source": "seed", "section": "asyncio.Event.clear()", "quote": "clear()"},
        {"id": "E-CLEAR", "source": "seed", "section": "asyncio.Event.clear()",
         "quote": "Reset the internal flag to false."},
        {"id": "E-CLEAR-SUBSEQUENTLY", "source": "seed", "section": "asyncio.Event.clear()",
         "quote": "Subsequently, coroutines calling wait() will block until set() is called to set the "
                  "internal flag to true again."},
        {"id": "E-SET-SIG", "source": "seed", "section": "asyncio.Event.set()", "quote": "set()"},
        {"id": "E-SET", "source": "seed", "section": "asyncio.Event.set()", "quote": "Set the internal flag to true."},
        {"id": "E-SET-WAKES", "source": "seed", "section": "asyncio.Event.set()",
         "quote": "All coroutines waiting for it to become true are awakened."},
        {"id": "E-SET-NO-BLOCK", "source": "seed", "section": "asyncio.Event.set()",
         "quote": "Coroutine that call wait() once the flag is true will not block at all."},
        {"id": "E-IS-SET-SIG", "source": "seed", "section": "asyncio.Event.is_set()", "quote": "is_set()"},
        {"id": "E-IS-SET", "source": "seed", "section": "asyncio.Event.is_set()",
         "quote": "Return True if and only if the internal flag is true."},
        {"id": "E-SET-WAKES-CURRENT", "source": "cpython-source", "cite": SOURCE,
         "quote": "for fut in self._waiters: if not fut.done(): fut.set_result(True)",
         "note": "set() finishes every current waiter with True at once; a clear() before they run "
                 "does not take the wakeup back, and wait() does not re-check the flag."},
        {"id": "E-WAIT-NO-YIELD", "source": "cpython-source", "cite": SOURCE,
         "quote": "if self._value: return True",
         "note": "wait() on a set event returns before any await: it never yields to the loop."},
        {"id": "E-WAIT-CANCELLED", "source": "cpython-source", "cite": SOURCE,
         "quote": "try: await fut; return True finally: self._waiters.remove(fut)",
         "note": "A cancelled wait() raises CancelledError and leaves no waiter behind."},
        {"id": "E-LOOP-BINDING", "source": "cpython-source", "cite": MIXINS,
         "quote": "raise RuntimeError(f'{self!r} is bound to a different event loop')",
         "note": "Since 3.10 the event binds to the running loop the first time wait() blocks; "
                 "set(), clear() and a wait() that does not block never bind."},
        {"id": "E-WAITER-IS-A-FUTURE", "source": "cpython-source", "cite": SOURCE,
         "quote": "fut = self._get_loop().create_future()",
         "note": "A waiter is a future of the bound loop: blocked (PENDING), woken (FINISHED) or cancelled."},
        {"id": "E-REPR", "source": "cpython-source", "cite": SOURCE,
         "quote": "extra = 'set' if self._value else 'unset'; if self._waiters: extra = f'{extra}, waiters:{len(self._waiters)}'"},
    ],
}
