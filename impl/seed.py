"""Future, Event and ensure_future compiled from the ``seed`` profile.

The only difference from the default: done-callbacks are scheduled with the
loop's ``call_soon_threadsafe()``, as the seed document says.
"""

from __future__ import annotations

from . import compile_profile

_compiled = compile_profile("seed")
Future = _compiled.Future
Event = _compiled.Event
ensure_future = _compiled.ensure_future

__all__ = ["Event", "Future", "ensure_future"]
