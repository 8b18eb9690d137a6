"""``transitions`` as the row selector, at the edge.

The design card keeps the ``transitions`` library as the reference for which
row fires: :func:`transitions_choice` loads a machine's state part into a
``transitions.Machine``, unchanged, and asks it which transition fires in a
state for given guard values. The plan's own choice (``Decision.choose``) is
what the model and the compiler use; a test holds the two equal for every
(state, operation, guard valuation).
"""

from __future__ import annotations

import functools
from typing import Any, Mapping

import transitions

from ..spec import Machine


class _Valuation:
    """The model ``transitions`` sees: each guard name answers from the current valuation."""

    def __init__(self, guards: Mapping[str, Any]) -> None:
        self.values: Mapping[str, bool] = {}
        for name in guards:
            setattr(self, name, functools.partial(self._value, name))
        self.fired: str | None = None

    def _value(self, name: str, *args: Any, **kwargs: Any) -> bool:
        return self.values[name]


_LOADED: dict[int, tuple[Machine, transitions.Machine, _Valuation]] = {}


def _library_machine(machine: Machine) -> tuple[transitions.Machine, _Valuation]:
    loaded = _LOADED.get(id(machine))
    if loaded is not None and loaded[0] is machine:
        return loaded[1], loaded[2]
    model = _Valuation(machine.guards)
    fsm = transitions.Machine(model=model, auto_transitions=False, model_attribute="fsm_state",
                              **machine.state_part())
    # transitions keeps each (trigger, source)'s transitions in declaration order, as the rows are.
    for trigger in {r.trigger for r in machine.rows}:
        for state in machine.states:
            rows = machine.rows_for(state.name, trigger)
            for library, row in zip(fsm.get_transitions(trigger, state.name), rows, strict=True):
                library.after.append(functools.partial(setattr, model, "fired", row.id))
    _LOADED[id(machine)] = (machine, fsm, model)
    return fsm, model


def transitions_choice(machine: Machine, state: str, operation: str, valuation: Mapping[str, bool]) -> str | None:
    """The id of the row ``transitions`` fires for ``operation`` in ``state`` (None: none fires)."""
    fsm, model = _library_machine(machine)
    fsm.set_state(state, model)
    model.values = valuation
    model.fired = None
    # Not getattr(model, operation): transitions will not bind a trigger named like a dunder the model has.
    fsm.events[operation].trigger(model)
    return model.fired
