"""The built-in targets: the model, asyncspec.impl, and the standard library."""

from __future__ import annotations

import asyncio
import functools
from typing import Any

from .. import impl
from ..model import model_class, model_function
from ..spec import Spec, load
from .engine import Target, _DEFAULT_LOOP, class_target, function_target, model_target

KINDS = ("future", "event", "ensure_future")


@functools.lru_cache(maxsize=None)
def _spec(profile: str) -> Spec:
    return load(profile)


@functools.lru_cache(maxsize=None)
def model_classes(profile: str) -> dict[str, Any]:
    """The model classes of a profile. Worlds share them, and mark where their record of fired rows starts."""
    spec = _spec(profile)
    future = model_class(spec["future"])
    event = model_class(spec["event"])
    return {"future": future, "event": event, "ensure_future": model_function(spec["ensure_future"])}


def model_for(kind: str, profile: str = "cpython") -> tuple[Target, list[list]]:
    """The model target of ``kind``, and the lists its classes record fired rows in."""
    classes = model_classes(profile)
    spec = _spec(profile)
    model = classes[kind]
    # A fresh record of fired rows for this world; objects keep the record they were made under.
    for cls in (classes["future"], classes["event"], classes["ensure_future"].asyncspec_class):
        cls.asyncspec_fired = []
    target = model_target(kind, model, spec[kind])
    if kind == "event":
        # The waiters an Event parks are futures of its loop: on the model's loop,
        # model futures, so the composed Future machine is interpreted too.
        target.loop_factory = _model_loop(profile)
        sinks = [model.asyncspec_fired, classes["future"].asyncspec_fired]
    elif kind == "ensure_future":
        sinks = [model.asyncspec_class.asyncspec_fired]
    else:
        sinks = [model.asyncspec_fired]
    return target, sinks


@functools.lru_cache(maxsize=None)
def _model_loop(profile: str) -> type:
    future = model_classes(profile)["future"]

    class ModelLoop(_DEFAULT_LOOP):  # type: ignore[misc, valid-type]
        def create_future(self):  # type: ignore[override]
            return future(loop=self)
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
