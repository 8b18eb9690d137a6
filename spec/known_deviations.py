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
)
