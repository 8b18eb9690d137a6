"""The executable model: the declarations, interpreted.

``model_class(machine)`` returns a class whose instances behave as the
declaration says, operation by operation. Each instance carries a
``transitions.Machine`` loaded with the declaration's state part: the
interpreter evaluates guards lazily as that machine's conditions, so the
library decides which transition fires, and the interpreter runs the fired
row's effects and output. Instances keep their fields under the declared
attribute names, so they are duck-typed Futures and Events that a real event
loop and real Tasks can use; they are slow, and that is fine: the model is
the oracle, not the product.

Every fired row is recorded in ``ModelObject.asyncspec_trace`` as
``(operation, row id)``, which is what coverage counts.
"""

from __future__ import annotations

import functools
import inspect
from types import GeneratorType
from typing import Any, Callable, Iterator

import transitions

from ._names import resolve_namespace
from .spec import Machine, Row, Spec, load

_UNSET = object()


class _Call:
    """The scope of one operation call: parameters, lets and guard values."""

    def __init__(self, obj: "ModelObject", env: dict[str, Any]) -> None:
        self.obj = obj
        self.env = env
        self.guard_values: dict[str, bool] = {}
        self.raised: BaseException | None = None


class ModelObject:
    """Base of the classes :func:`model_class` builds."""

    asyncspec_machine: Machine
    asyncspec_globals: dict[str, Any]

    # -- scope ----------------------------------------------------------------
    def _scope(self, env: dict[str, Any]) -> dict[str, Any]:
        m = self.asyncspec_machine
        scope = {f.name: getattr(self, f.attr, None) for f in m.fields}
        scope["self"] = self
        scope.update(env)
        return scope

    def _eval(self, expr: str, env: dict[str, Any], **extra: Any) -> Any:
        scope = self._scope(env)
        scope.update(extra)
        return eval(_compiled(expr), self.asyncspec_globals, scope)

    # -- the transitions machine ---------------------------------------------
    def _machine(self) -> transitions.Machine:
        # One library machine per class: every call sets its state from the object first.
        cls = type(self)
        machine = cls.__dict__.get("_asyncspec_fsm")
        if machine is None:
            machine = _fsm_for(cls)
            setattr(cls, "_asyncspec_fsm", machine)
        return machine

    def _guard(self, name: str) -> bool:
        call: _Call = self.__dict__["_asyncspec_call"]
        if name not in call.guard_values:
            guard = self.asyncspec_machine.guards[name]
            if guard.is_attempt:
                for bound, expr in guard.let:
                    call.env[bound] = self._eval(expr, call.env)
                try:
                    call.env[guard.bind] = self._eval(guard.attempt, call.env)
                    call.guard_values[name] = False
                except BaseException as e:
                    if not _is_instance_named(e, guard.raises):
                        raise
                    call.raised = e
                    call.guard_values[name] = True
            else:
                call.guard_values[name] = bool(self._eval(guard.expr, call.env))
        return call.guard_values[name]

    # -- dispatch -------------------------------------------------------------
    def _select(self, op: str, args: tuple, kwargs: dict) -> tuple[Row, _Call]:
        m = self.asyncspec_machine
        signature = _signature(m, op)
        bound = signature.bind(None, *args, **kwargs)
        bound.apply_defaults()
        env = dict(bound.arguments)
        env.pop("self")
        state_value = getattr(self, m.state_attr, _UNSET)
        state = next((s.name for s in m.states if s.value is state_value or
                      (type(s.value) is type(state_value) and s.value == state_value)), None)
        call = _Call(self, env)
        if state is None:
            if op not in m.uninitialized:
                raise AttributeError(f"{type(self).__name__!r} object has no attribute {m.state_attr!r}")
            row = m.uninitialized[op]
            self.__dict__.setdefault("asyncspec_trace", []).append((op, row.id))
            self.__dict__.setdefault("asyncspec_sink", type(self).asyncspec_fired)
            self._sink().append(row.id)
            return row, call
        rows = m.rows_for(state, op)
        for name, expr in rows[0].let:
            env[name] = self._eval(expr, env)
        fsm = self._machine()
        carrier = fsm.models[0]
        # A guard may call another object of this class: keep the shared machine's place.
        outer, outer_state = carrier.current, carrier.fsm_state
        fsm.set_state(state)
        self.__dict__["_asyncspec_call"] = call
        self.__dict__["_asyncspec_fired"] = None
        carrier.current = self
        try:
            getattr(self, "asyncspec_trigger_" + op)()
        finally:
            carrier.current = outer
            fsm.set_state(outer_state)
            del self.__dict__["_asyncspec_call"]
        fired = self.__dict__.pop("_asyncspec_fired")
        return fired, call

    def _record(self, row: Row) -> None:
        self.__dict__["_asyncspec_fired"] = row
        self.asyncspec_trace.append((row.trigger, row.id))
        self._sink().append(row.id)

    def _sink(self) -> list:
        # The record in force when the object was made: a late finalizer of an object from
        # an earlier run must not count in the current one.
        return self.__dict__.get("asyncspec_sink") or type(self).asyncspec_fired

    def _apply(self, row: Row, call: _Call) -> Iterator[Any]:
        """Run the row's effects; yields whatever a ``suspend`` or ``park`` waits on."""
        moved = row.dest is None
        for effect in row.effects:
            if not moved and "set" not in effect:
                self._enter(row)
                moved = True
            yield from self._effect(effect, call)
        if not moved:
            self._enter(row)

    def _enter(self, row: Row) -> None:
        m = self.asyncspec_machine
        setattr(self, m.state_attr, m.state(row.dest).value)

    def _effect(self, effect: dict, call: _Call) -> Iterator[Any]:
        m = self.asyncspec_machine
        env = call.env
        if "set" in effect:
            setattr(self, m.field(effect["set"]).attr, self._eval(effect["to"], env))
        elif "append" in effect:
            getattr(self, m.field(effect["append"]).attr).append(self._eval(effect["item"], env))
        elif "keep" in effect:
            items = getattr(self, m.field(effect["keep"]).attr)
            found = list(items)
            kept = [item for item in found if self._eval(effect["where"], env, item=item)]
            removed = len(found) - len(kept)
            if removed:
                items[:] = kept
            if "count" in effect:
                env[effect["count"]] = removed
        elif "for_each" in effect:
            attr = m.field(effect["for_each"]).attr
            items = getattr(self, attr)
            snapshot = list(items)
            if effect.get("take") and items:
                setattr(self, attr, type(items)())
            for item in snapshot:
                if "skip" in effect and self._eval(effect["skip"], env, item=item):
                    continue
                self._eval(effect["do"], env, item=item)
        elif "do" in effect:
            self._eval(effect["do"], env)
        elif "suspend" in effect:
            yield ("yield", self._eval(effect["suspend"], env))
        elif "park" in effect:
            items = getattr(self, m.field(effect["park"]).attr)
            waiter = self._eval(effect["waiter"], env)
            items.append(waiter)
            try:
                yield ("await", waiter)
            finally:
                items.remove(waiter)

    def _output(self, row: Row, call: _Call) -> Any:
        if row.returns is not None:
            return self._eval(row.returns, call.env)
        if row.raises is not None:
            raise self._eval(row.raises, call.env)
        if row.reraises:
            raised = call.raised
            assert raised is not None
            raise raised
        if row.delegates is not None:
            return getattr(self, row.delegates)()
        return None

    def _run_plain(self, op: str, args: tuple, kwargs: dict) -> Any:
        row, call = self._select(op, args, kwargs)
        for _ in self._apply(row, call):
            raise RuntimeError(f"{op} suspended outside a generator or coroutine")
        return self._output(row, call)

    def _run_generator(self, op: str, args: tuple, kwargs: dict) -> Any:
        row, call = self._select(op, args, kwargs)
        for kind, value in self._apply(row, call):
            yield value
        return self._output(row, call)

    async def _run_coroutine(self, op: str, args: tuple, kwargs: dict) -> Any:
        row, call = self._select(op, args, kwargs)
        steps = self._apply(row, call)
        try:
            for kind, value in steps:
                try:
                    await value
                except BaseException as e:
                    steps.throw(e)
                    raise
        finally:
            steps.close()
        return self._output(row, call)


def _is_instance_named(e: BaseException, name: str) -> bool:
    return any(k.__name__ == name for k in type(e).__mro__)


_COMPILED: dict[str, Any] = {}


def _compiled(expr: str) -> Any:
    code = _COMPILED.get(expr)
    if code is None:
        code = _COMPILED[expr] = compile(expr, "<spec>", "eval")
    return code


def _signature(m: Machine, op: str) -> inspect.Signature:
    return _signature_from(m.operation(op).params)


def _fsm_for(cls: type) -> transitions.Machine:
    m = cls.asyncspec_machine
    carrier = _Carrier(m)
    fsm = transitions.Machine(model=carrier, auto_transitions=False, model_attribute="fsm_state",
                              **m.state_part())
    # The library keeps each (trigger, source)'s transitions in declaration order,
    # as the rows are; tie each to its row to learn which one fired.
    for trigger in {r.trigger for r in m.rows}:
        for source in m.states:
            lib = fsm.get_transitions(trigger, source.name)
            rows = m.rows_for(source.name, trigger)
            for lib_t, row in zip(lib, rows, strict=True):
                lib_t.after.append(lambda row=row: carrier.current._record(row))
    return fsm


class _Carrier:
    """The model object ``transitions`` sees: guard names resolve to guard evaluations."""

    def __init__(self, machine: Machine) -> None:
        # The object whose operation runs is held only while it runs: a model object must
        # be freed when its last user lets go, as a C future is, so that its finalizer
        # runs at a step the engine can tell, not whenever the cycle collector runs.
        self.guards = machine.guards
        self.current: Any = None

    def __getattr__(self, name: str) -> Callable[..., bool]:
        if name in self.__dict__.get("guards", ()):
            return lambda *a, **k: self.current._guard(name)
        raise AttributeError(name)


def model_class(machine: Machine) -> type:
    """Build a class whose instances behave as ``machine`` declares."""
    namespace: dict[str, Any] = {
        "asyncspec_machine": machine,
        "asyncspec_globals": resolve_namespace(machine),
        "__module__": __name__,
        "__qualname__": machine.title.rsplit(".", 1)[-1],
        "__doc__": f"{machine.title}, interpreted from its declaration.",
        # Every row any instance fires, in order: what coverage counts.
        "asyncspec_fired": [],
    }
    m = machine
    if m.uninitialized:
        namespace[m.state_attr] = None
    for f in m.fields:
        if f.default is not None:
            namespace[f.attr] = eval(f.default, namespace["asyncspec_globals"])

    def __init__(self: ModelObject, *args: Any, **kwargs: Any) -> None:
        self.__dict__["asyncspec_trace"] = []
        self.__dict__["asyncspec_sink"] = type(self).asyncspec_fired
        env: dict[str, Any] = {}
        if m.constructor is not None:
            sig = _signature_from(m.constructor.params)
            bound = sig.bind(None, *args, **kwargs)
            bound.apply_defaults()
            env = dict(bound.arguments)
            env.pop("self")
            for name, expr in m.constructor_let:
                env[name] = self._eval(expr, env)
        for f in m.fields:
            if f.init is None:
                continue
            if f.init_if is not None and not self._eval(f.init_if, env):
                continue
            setattr(self, f.attr, self._eval(f.init, env))
        setattr(self, m.state_attr, m.state(m.initial).value)

    namespace["__init__"] = __init__
    for op in m.operations:
        namespace[op.name] = _operation(op.name, op.kind)
        for alias in op.aliases:
            namespace[alias] = namespace[op.name]
        namespace["asyncspec_trigger_" + op.name] = _trigger(op.name)
    if "__class_getitem__" not in namespace:
        namespace["__class_getitem__"] = classmethod(lambda cls, item: cls)
    cls = type(namespace["__qualname__"], (ModelObject,), namespace)
    return cls


def _trigger(op: str) -> Callable[[ModelObject], None]:
    def fire(self: ModelObject) -> None:
        fsm = self._machine()
        # Not getattr(carrier, op): transitions will not bind a trigger named like a dunder it has.
        fsm.events[op].trigger(fsm.models[0])
    return fire


@functools.lru_cache(maxsize=None)
def _signature_from(params: str) -> inspect.Signature:
    """The signature of a method with these parameters (built once per parameter list)."""
    namespace: dict[str, Any] = {}
    exec(f"def f(self{', ' if params else ''}{params}): pass", namespace)
    return inspect.signature(namespace["f"])


def _operation(op: str, kind: str) -> Callable[..., Any]:
    if kind == "generator":
        def operation(self: ModelObject, *args: Any, **kwargs: Any) -> GeneratorType:
            return self._run_generator(op, args, kwargs)
    elif kind == "coroutine":
        def operation(self: ModelObject, *args: Any, **kwargs: Any) -> Any:  # type: ignore[misc]
            return self._run_coroutine(op, args, kwargs)
    elif kind == "finalizer":
        def operation(self: ModelObject, *args: Any, **kwargs: Any) -> Any:  # type: ignore[misc]
            return self._run_plain(op, args, kwargs)
    else:
        def operation(self: ModelObject, *args: Any, **kwargs: Any) -> Any:  # type: ignore[misc]
            return self._run_plain(op, args, kwargs)
    operation.__name__ = op
    return operation


def model_function(machine: Machine) -> Callable[..., Any]:
    """Build the function a ``function``-kind machine declares (one fresh instance per call)."""
    cls = model_class(machine)
    (op,) = machine.operations

    def function(*args: Any, **kwargs: Any) -> Any:
        return getattr(cls(), op.name)(*args, **kwargs)

    function.__name__ = op.name
    function.asyncspec_class = cls  # type: ignore[attr-defined]
    return function


def build(spec: Spec | None = None) -> dict[str, Any]:
    """Return the model's Future class, Event class and ensure_future function by machine name."""
    spec = spec or load()
    out: dict[str, Any] = {}
    for name, machine in spec.machines.items():
        kinds = {op.kind for op in machine.operations}
        out[name] = model_function(machine) if kinds == {"function"} else model_class(machine)
    return out
