"""Resolve a declaration's ``namespace`` to the objects its expressions use."""

from __future__ import annotations

import builtins
import importlib
from typing import Any

from ._schema import Machine
from .errors import InvalidSpec


def resolve_namespace(machine: Machine, lenient: bool = False) -> dict[str, Any]:
    """Return the globals that ``machine``'s expressions are evaluated in.

    ``lenient``: leave out what this interpreter lacks (a name a later Python
    added), rather than refuse: for the engine's side of an audit on an older
    Python, which evaluates only what the version's declarations observe.
    """
    names: dict[str, Any] = {"__builtins__": builtins}
    for name, target in machine.namespace.items():
        module_name, _, attr = target.partition(":")
        try:
            names[name] = getattr(importlib.import_module(module_name), attr)
        except (ImportError, AttributeError) as e:
            if lenient:
                continue
            raise InvalidSpec(f"{machine.name}: namespace {name!r}", "an importable 'module:attr'",
                              target, str(e)) from None
    return names


_COMPILED: dict[str, Any] = {}


def compiled(expr: str) -> Any:
    """A declaration's expression, compiled once for ``eval`` (the model's and the engine's one cache)."""
    code = _COMPILED.get(expr)
    if code is None:
        code = _COMPILED[expr] = compile(expr, "<spec>", "eval")
    return code
