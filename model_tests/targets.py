"""The built-in targets: the model, asyncspec.impl, and the standard library."""

from __future__ import annotations

import asyncio
import functools
from typing import Any, Sequence

from .. import impl
from ..spec import Spec, load
from .engine import DEFAULT_LOOP, Target, class_target, function_target, model_target
from .lockstep import KNOWN_DIFFERENCES, KnownDifference, World
from .model import Recorder, build

KINDS = ("future", "event", "ensure_future")


@functools.lru_cache(maxsize=None)
def spec_for(profile: str) -> Spec:
    """The declarations of ``profile`` for the running Python, loaded once."""
    return load(profile)


_spec = spec_for


def model_for(kind: str, profile: str = "cpython") -> tuple[Target, Recorder]:
    """The model target of ``kind`` for a new world, and the recorder of the rows it fires."""
    recorder = Recorder()
    spec = spec_for(profile)
    models = build(spec, recorder)
    target = model_target(kind, models[kind])
    # What a machine composes comes from the loop (an Event's waiters are loop.create_future()):
    # on the model's loop, from the model, so that the composed machine is interpreted too.
    for decl in spec[kind].compose.values():
        target.loop_factory = _model_loop(models[decl["machine"]])
    return target, recorder


def _model_loop(made: type) -> type:
    class ModelLoop(DEFAULT_LOOP):  # type: ignore[misc, valid-type]
        def create_future(self):  # type: ignore[override]
            return made(loop=self)
    return ModelLoop


def builtin_targets(kind: str, profile: str = "cpython") -> list[Target]:
    """The implementations checked by default, besides the model."""
    if kind == "future":
        ours = impl.Future if profile == "cpython" else impl.compile_profile(profile).Future
        return [
            class_target("asyncspec.impl.Future", "future", ours, "asyncspec.impl:Future"),
            class_target("asyncio.Future", "future", asyncio.Future, "asyncio:Future"),
            class_target("asyncio.futures._PyFuture", "future", asyncio.futures._PyFuture,
                         "asyncio.futures:_PyFuture"),
        ]
    if kind == "event":
        ours_event = impl.Event if profile == "cpython" else impl.compile_profile(profile).Event
        return [
            class_target("asyncspec.impl.Event", "event", ours_event, "asyncspec.impl:Event"),
            class_target("asyncio.Event", "event", asyncio.Event, "asyncio:Event"),
        ]
    ours_ef = impl.ensure_future if profile == "cpython" else impl.compile_profile(profile).ensure_future
    return [
        function_target("asyncspec.impl.ensure_future", ours_ef, "asyncspec.impl:ensure_future"),
        function_target("asyncio.ensure_future", asyncio.ensure_future, "asyncio:ensure_future"),
    ]


def new_world(kind: str, targets: Sequence[Target], profile: str = "cpython",
              known: Sequence[KnownDifference] = KNOWN_DIFFERENCES, step_guard: Any = None) -> World:
    """A lockstep world: the model of ``kind`` for ``profile`` first, then ``targets``."""
    model, recorder = model_for(kind, profile)
    return World(spec_for(profile)[kind], [model, *targets], recorder, known=known, step_guard=step_guard)
