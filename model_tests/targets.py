"""The built-in targets: the model, asyncspec.impl, and the standard library."""

from __future__ import annotations

import importlib
from typing import Any, Sequence

from .. import impl
from .engine import DEFAULT_LOOP, Target, class_target, function_target, loop_target, model_target
from .lockstep import KNOWN_DIFFERENCES, KnownDifference, World
from .machines import TABLE, facts, kinds, spec_for
from .model import Recorder, build

KINDS = kinds()




def model_for(kind: str, profile: str = "cpython", loop_class: type | None = None,
              python: tuple[int, int] | None = None) -> tuple[Target, Recorder]:
    """The model target of ``kind`` for a new world, and the recorder of the rows it fires.

    The model runs on ``loop_class`` (asyncio's loop by default): the loop the
    audited targets run on, so that what the loop does differently is the same
    on both sides and a comparison sees only the object's own behaviour.
    """
    recorder = Recorder()
    spec = spec_for(profile, python)
    models = build(spec, recorder)
    target = model_target(kind, models[kind])
    target.recorder = recorder
    if facts(kind).is_loop:
        return target, recorder
    base = loop_class or DEFAULT_LOOP
    target.loop_factory = loop_class
    # What a machine composes comes from the loop (an Event's waiters are loop.create_future()):
    # on the model's loop, from the model, so that the composed machine is interpreted too.
    for decl in spec[kind].compose.values():
        target.loop_factory = _model_loop(models[decl["machine"]], base)
    return target, recorder


def _model_loop(made: type, base: type) -> type:
    class ModelLoop(base):
        def create_future(self):
            return made(loop=self)
    return ModelLoop


def shared_loop_class(targets: Sequence[Target]) -> type | None:
    """The loop class every target runs on, when they all name the same one (``--loop``)."""
    factories = {t.loop_factory for t in targets}
    (factory,) = factories if len(factories) == 1 else (None,)
    return factory if isinstance(factory, type) else None


def target_for(kind: str, name: str, obj: Any, source: str) -> Target:
    """A target for an implementation of ``kind``: a class, the function of a function machine, or a loop factory."""
    if facts(kind).is_loop:
        return loop_target(name, kind, obj, source)
    if facts(kind).function:
        return function_target(name, obj, source, kind=kind)
    return class_target(name, kind, obj, source)


def builtin_targets(kind: str, profile: str = "cpython") -> list[Target]:
    """The implementations checked by default, besides the model: ours, then the standard library's."""
    entry = TABLE[kind]
    targets = []
    if entry.ours:
        ours = getattr(impl if profile == "cpython" else impl.compile_profile(profile), entry.ours)
        targets.append(target_for(kind, f"asyncspec.impl.{entry.ours}", ours, f"asyncspec.impl:{entry.ours}"))
    for source in entry.stdlib:
        module, _, attr = source.partition(":")
        targets.append(target_for(kind, f"{module}.{attr}", getattr(importlib.import_module(module), attr), source))
    return targets


def new_world(kind: str, targets: Sequence[Target], profile: str = "cpython",
              known: Sequence[KnownDifference] = KNOWN_DIFFERENCES, step_guard: Any = None,
              python: tuple[int, int] | None = None) -> World:
    """A lockstep world: the model of ``kind`` for ``profile`` on ``python`` (the running one by default)
    first, then ``targets``."""
    model, recorder = model_for(kind, profile, shared_loop_class(targets), python)
    return World(spec_for(profile, python)[kind], [model, *targets], recorder, known=known, step_guard=step_guard)
