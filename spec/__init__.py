"""The formal specification of asyncio's Future, Event, ensure_future and Task, and the loop contract they rely on.

Declarations are plain data, one module per machine; :func:`load` resolves
them for a profile and a Python version and validates them. This package
imports nothing from the rest of asyncspec.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from typing import Mapping

from . import ensure_future as _ensure_future
from . import event as _event
from . import future as _future
from . import loop as _loop
from . import task as _task
from . import seed
from ._names import compiled, resolve_namespace
from ._plan import (
    DECISIONS, Attempt, Branch, Constructor, Decision, GuardTest, OperationPlan, Plan, RowPlan, class_attribute, lower,
    plan_of,
)
from ._schema import (
    Clause, DeclaredDifference, Field, Guard, Let, Machine, Observed, Operation, Row, State, load_machine, normalise,
    extended, row_matches, state_part,
)
from ._verbs import (
    EFFECTS, OUTPUTS, Append, Call, Delegates, Effect, Emitter, ForEach, Interpreter, Keep, Output, Park,
    Raises, Reraises, Returns, Set, Suspend,
)
from .errors import AsyncSpecError, InvalidSpec
from .profiles import DEFAULT_PROFILE, PROFILES

__all__ = [
    "AsyncSpecError", "Append", "Attempt", "Branch", "Call", "Clause", "Constructor", "DECISIONS",
    "DECLARATIONS", "DEFAULT_PROFILE", "Decision", "Delegates", "DeclaredDifference", "Observed", "EFFECTS", "Effect", "Emitter", "Field",
    "ForEach", "Guard", "GuardTest", "Let", "Interpreter", "InvalidSpec", "Keep", "Machine", "OUTPUTS", "Operation",
    "OperationPlan", "Output", "PROFILES", "Park", "Plan", "Raises", "Reraises", "Returns", "Row", "RowPlan",
    "Set", "Spec", "State", "Suspend", "class_attribute", "compiled", "extended", "load", "lower", "plan_of", "resolve_namespace", "row_matches", "seed",
    "state_part",
]

#: The raw declarations, by machine name, in the order they are presented.
DECLARATIONS: Mapping[str, Mapping] = {
    "future": _future.MACHINE,
    "event": _event.MACHINE,
    "ensure_future": _ensure_future.MACHINE,
    "task": _task.MACHINE,
    "event_loop": _loop.MACHINE,
}


@dataclass(frozen=True)
class Spec:
    """The machines of one profile, resolved for one Python version."""

    profile: str
    python: tuple[int, int]
    machines: Mapping[str, Machine]

    def __getitem__(self, name: str) -> Machine:
        return self.machines[name]

    def clauses(self) -> list[tuple[Machine, Clause]]:
        return [(m, c) for m in self.machines.values() for c in m.clauses]

    def coverage_of_seed(self) -> list[tuple[str, str, str, list[tuple[Machine, Clause]]]]:
        """Return each seed sentence with the clauses that quote it."""
        by_quote: dict[str, list[tuple[Machine, Clause]]] = {}
        for m, c in self.clauses():
            if c.source == "seed":
                by_quote.setdefault(normalise(c.quote), []).append((m, c))
        return [(sid, section, text, by_quote.get(normalise(text), []))
                for sid, section, text in seed.sentences()]


def load(profile: str = DEFAULT_PROFILE, python: tuple[int, int] | None = None,
         declarations: Mapping[str, Mapping] | None = None) -> Spec:
    """Resolve and validate every declaration for ``profile`` on ``python``.

    Raises InvalidSpec when a declaration is malformed, when the profile is
    unknown, or when a seed sentence is quoted by no clause.
    """
    if profile not in PROFILES:
        raise InvalidSpec("profile", f"one of {sorted(PROFILES)}", profile)
    python = python or sys.version_info[:2]
    declarations = declarations or DECLARATIONS
    overrides: dict[str, dict[str, str]] = {}
    for key, value in PROFILES[profile]["parameters"].items():
        machine, _, parameter = key.partition(".")
        if machine not in declarations:
            raise InvalidSpec(f"profile {profile!r}", f"parameters named MACHINE.PARAMETER with MACHINE in "
                              f"{sorted(declarations)}", key)
        overrides.setdefault(machine, {})[parameter] = value
    texts = [text for _, _, text in seed.sentences()]
    machines = {
        name: load_machine(extended(raw, declarations), python, overrides.get(name), texts)
        for name, raw in declarations.items()
    }
    spec = Spec(profile, python, machines)
    if set(declarations) == set(DECLARATIONS):
        uncovered = [f"{sid} {text!r}" for sid, _, text, clauses in spec.coverage_of_seed() if not clauses]
        if uncovered:
            raise InvalidSpec("seed", "every seed sentence quoted by at least one clause", uncovered)
    return spec
