"""asyncspec: asyncio's Future, Event and ensure_future as an executable specification.

* ``asyncspec.spec``: the declarations (the only source of truth);
* ``asyncspec.impl``: a drop-in Future, Event and ensure_future compiled from them;
* ``asyncspec.model_tests``: the lockstep engine and its Hypothesis machines;
* ``asyncspec.diagrams``: state diagrams generated from the declarations.
"""

from __future__ import annotations

from .spec.errors import AsyncSpecError, Deviation, InvalidSpec, TargetError, UsageError

__all__ = ["Adapter", "AsyncSpecError", "Deviation", "InvalidSpec", "TargetError", "UsageError", "__version__"]
__version__ = "0.1.0"


def __getattr__(name: str):  # the adapter protocol, without importing the engine eagerly
    if name == "Adapter":
        from .adapters import Adapter
        return Adapter
    raise AttributeError(f"module 'asyncspec' has no attribute {name!r}")
