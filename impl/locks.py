"""A drop-in asyncio.Event compiled from ``spec/event.py``."""

from __future__ import annotations

from ..spec import Machine
from ._compile import compile_class
from ._profiles import machines


def event_class(machine: Machine, name: str = "Event", module: str = __name__) -> type:
    """Compile an Event class from an Event declaration."""
    return compile_class(machine, name, module)


Event = event_class(machines("cpython")["event"])
