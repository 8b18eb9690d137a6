"""Known deviations: released interpreters known to break a clause, each with the issue that records it.

The spec keeps the correct behaviour. An entry here lets an audit show a
known bug of a given release as *known*, with its issue, distinct from a new
deviation (as test262's expectations files do for JavaScript engines). An
entry matches a clause's deviation or error when the target, the clause, the
implementation and the full version all match:

* ``targets``: TARGET strings as the audit names them (``asyncio:Task``);
* ``clauses``: clause IDs;
* ``python``: the versions it applies to, ``FIRST-LAST`` inclusive (``3.12.0-3.12.1``);
* ``implementation``: ``cpython`` (the default) or ``pypy``;
* ``issue``: where it is recorded (``gh-NNNNN``, ``bpo-NNNNN``, or a URL);
* ``what``: what the interpreter does instead, in one sentence.
"""

from __future__ import annotations

from typing import Any

KNOWN_DEVIATIONS: tuple[dict[str, Any], ...] = (
    {"targets": ["asyncio:Task"], "clauses": ["T-EAGER", "T-EAGER-CURRENT", "T-EAGER-DONE"],
     "python": "3.12.0-3.13.0", "issue": "gh-154695",
     "what": "the C Task(coro, eager_start=True) without loop= raises AttributeError: 'NoneType' object has no "
             "attribute 'is_running' (it asks the loop argument, not its own loop); _PyTask is right"},
    {"targets": ["asyncio:ensure_future"], "clauses": ["EF-CLOSED-LOOP", "EF-SEE-ALSO"],
     "python": "3.8.0-3.10.1", "issue": "bpo-26552",
     "what": "ensure_future(coro, loop=closed_loop) raises RuntimeError and leaves the coroutine open (never "
             "awaited); fixed by GH-30288 in 3.10.2 and 3.11, not backported to 3.9"},
    {"targets": ["asyncio:ensure_future"], "clauses": ["EF-CLOSED-LOOP", "EF-SEE-ALSO"],
     "python": "3.9.0-3.9.99", "implementation": "pypy", "issue": "bpo-26552",
     "what": "PyPy 3.9 ships CPython 3.9's asyncio: ensure_future(coro, loop=closed_loop) leaves the coroutine "
             "open"},
    {"targets": ["asyncio:SelectorEventLoop"], "implementation": "pypy", "python": "3.9.0-3.9.99",
     "clauses": ["L-CALL-HANDLER", "L-CLOSE", "L-CLOSE-DISCARDS", "L-HANDLER-CONTEXT", "L-HANDLER-SIGNATURE"],
     "issue": "https://doc.pypy.org/en/latest/cpython_differences.html"
              "#differences-related-to-garbage-collection-strategies",
     "what": "close() drops a pending task the loop held, and PyPy, without reference counting, finalizes it at "
             "a later collection: 'Task was destroyed but it is pending!' comes after the step, not during close()"},
    # (The C Task class never finishes eagerly there: gh-154695 stops it first, unless given loop=.)
    {"targets": ["asyncio:eager_task_factory"], "clauses": ["T-GET-CORO"],
     "python": "3.12.0-3.12.4", "issue": "gh-122332",
     "what": "get_coro() of a C Task that finished eagerly (its coroutine cleared) crashes the interpreter "
             "(a missing NULL check, fixed by gh-122338 in July 2024) instead of returning None"},
)
