"""The executable model: a machine's plan, interpreted.

The model walks the same plan as the compiler (``spec.lower``) and asks each
verb to ``run()`` itself, so the two backends cannot mean different things by
one declaration. A model object keeps its fields under the declared attribute
names, so it is a duck-typed Future or Event that a real event loop and real
Tasks can use; it is slow, and that is fine: the model is the oracle, not the
product.

Every row that fires is reported to the :class:`Recorder` the model classes
were built with: that is what coverage counts. An object keeps the recorder
of the classes that made it, so a late finalizer of an object from an earlier
run never counts in the current one.
"""

from __future__ import annotations

import ast
import contextlib
import weakref
from types import GeneratorType
from typing import Any, Callable, Generator, Iterator

from ..spec import Attempt, Let, Machine, Observed, OperationPlan, Plan, Returns, RowPlan, Spec, State, \
    class_attribute, compiled, plan_of, resolve_namespace


class Recorder:
    """The ids of the rows the model fired, in order, and the objects that fired them."""

    def __init__(self) -> None:
        self.fired: list[str] = []
        self.objects: list[Any] = []
        #: While the harness acts on the model (runs its loop), what fires is not the step's.
        self.paused = False

    @contextlib.contextmanager
    def pause(self) -> Iterator[None]:
        paused, self.paused = self.paused, True
        try:
            yield
        finally:
            self.paused = paused

    def record(self, row_id: str, obj: Any = None) -> None:
        if self.paused:
            return
        self.fired.append(row_id)
        # Weakly: the record must not keep an object from being freed (and finalized) when its user lets go.
        self.objects.append(weakref.ref(obj) if obj is not None else None)

    def mark(self) -> int:
        """Where the record stands now, for :meth:`since`."""
        return len(self.fired)

    def since(self, mark: int, until: int | None = None) -> tuple[str, ...]:
        return tuple(self.fired[mark:until])

    def objects_since(self, mark: int) -> tuple[Any, ...]:
        """The objects that fired the rows since ``mark`` and are still alive."""
        alive = (ref() for ref in self.objects[mark:] if ref is not None)
        return tuple(obj for obj in alive if obj is not None)


class _Scope(dict):
    """An expression's names: the call's bindings, then the object's fields, read only when named."""

    __slots__ = ("obj", "fields")
    obj: Any
    fields: dict[str, str]

    def __missing__(self, name: str) -> Any:
        attr = self.fields.get(name)
        if attr is None or self.obj is None:
            raise KeyError(name)
        return getattr(self.obj, attr, None)


def _arguments(op: OperationPlan, args: tuple, kwargs: dict) -> dict[str, Any]:
    """The call's arguments by name, defaults filled in (without arguments: the defaults, bound once)."""
    if args and not kwargs:
        simple = _once(_POSITIONAL, op, lambda: _positional(op))
        if simple is not None and simple[1] <= len(args) <= len(simple[0]):
            # Positional arguments a signature without */** takes: bound as ``bind`` would, at less cost.
            given = dict(zip(simple[0], args))
            return {name: given[name] if name in given else default for name, default in simple[2]}
    if args or kwargs:
        bound = op.signature.bind(*args, **kwargs)
        bound.apply_defaults()
        return dict(bound.arguments)
    return dict(_once(_DEFAULTS, op, lambda: _bound_defaults(op)))


def _positional(op: OperationPlan) -> tuple[tuple[str, ...], int, tuple[tuple[str, Any], ...]] | None:
    """The positional parameters, how many of them are required, and every parameter with its default;
    None for a signature with ``*args``, ``**kwargs`` or a keyword-only parameter without a default."""
    params = list(op.signature.parameters.values())
    if any(p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD) or (p.kind is p.KEYWORD_ONLY and p.default is p.empty)
           for p in params):
        return None
    positional = [p for p in params if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    return (tuple(p.name for p in positional), sum(p.default is p.empty for p in positional),
            tuple((p.name, p.default) for p in params))


_POSITIONAL: dict[int, tuple[OperationPlan, Any]] = {}


def _constant_answers(op: OperationPlan) -> dict[str, tuple[RowPlan, Any]]:
    """By state: the one row of an argument-free call that binds, tests, does and moves nothing and
    returns a literal, with that literal."""
    if any(p.default is p.empty and p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)
           for p in op.signature.parameters.values()):
        return {}
    answers = {}
    for decision in op.decisions:
        if decision.lets or len(decision.branches) != 1:
            continue
        (branch,) = decision.branches
        row = branch.row
        if branch.tests or row is None or row.effects or row.dest is not None or not isinstance(row.output, Returns):
            continue
        literal = _simple(row.output.expr)
        if literal is not None and not literal[0]:
            answers[decision.state.name] = (row, literal[1])
    return answers


_CONSTANT: dict[int, tuple[OperationPlan, Any]] = {}


def _bound_defaults(op: OperationPlan) -> dict[str, Any]:
    bound = op.signature.bind()
    bound.apply_defaults()
    return dict(bound.arguments)


def _once(table: dict[int, tuple[Any, Any]], owner: Any, make: Callable[[], Any]) -> Any:
    """What ``make()`` gives for ``owner``, made once while ``owner`` lives (``table`` is keyed by its id)."""
    cached = table.get(id(owner))
    if cached is None or cached[0] is not owner:
        cached = table[id(owner)] = (owner, make())
    return cached[1]


_DEFAULTS: dict[int, tuple[OperationPlan, dict[str, Any]]] = {}


#: For each expression seen: (False, the value) for a literal, (True, the name) for one name, else None.
_SIMPLE: dict[str, tuple[bool, Any] | None] = {}


def _simple(expr: str) -> tuple[bool, Any] | None:
    body = ast.parse(expr, mode="eval").body
    if isinstance(body, ast.Constant):
        return False, body.value
    if isinstance(body, ast.Name):
        return True, body.id
    return None


class _Call:
    """The scope of one operation call on one model object: an ``Interpreter`` for the verbs."""

    def __init__(self, obj: "ModelObject", env: dict[str, Any]) -> None:
        self.obj = obj
        self.env = env
        self.guards: dict[str, bool] = {}
        self.raised: BaseException | None = None

    def eval(self, expr: str, **extra: Any) -> Any:
        if expr not in _SIMPLE:
            _SIMPLE[expr] = _simple(expr)
        simple = _SIMPLE[expr]
        if simple is not None and not extra:
            # Most expressions a row holds are a constant or one name: looked up as eval would.
            is_name, value = simple
            if not is_name:
                return value
            if value == "self":
                return self.obj
            if value in self.env:
                return self.env[value]
            attr = self.obj.asyncspec_fields.get(value) if self.obj is not None else None
            if attr is not None:
                return getattr(self.obj, attr, None)
        scope = _Scope(self.env)
        scope["self"] = self.obj
        scope.update(extra)
        scope.obj, scope.fields = self.obj, self.obj.asyncspec_fields
        try:
            return eval(compiled(expr), self.obj.asyncspec_globals, scope)
        finally:
            # The expression's frame may outlive it (in a traceback through it): it keeps nothing.
            scope.clear()
            scope.obj = None

    def let(self, let: Let) -> None:
        """Bind a ``let``: its value; a 'try' let, its value or what it raised."""
        if not let.error:
            self.env[let.name] = self.eval(let.expr)
            return
        try:
            value = self.eval(let.expr)
        except BaseException as e:
            # Its traceback starts where it was raised: below this frame, eval's and the expression's own.
            tb = e.__traceback__
            evaluating = (_Call.let.__code__, _Call.eval.__code__, compiled(let.expr))
            while tb is not None and tb.tb_frame.f_code in evaluating:
                tb = tb.tb_next
            self.env[let.name], self.env[let.error] = None, e.with_traceback(tb)
        else:
            self.env[let.name], self.env[let.error] = value, None

    def let_go(self) -> None:
        """Forget the object and the bindings: frames that outlive the call keep this scope, not the object."""
        self.obj = None  # type: ignore[assignment]
        self.env.clear()

    def get(self, field: str) -> Any:
        return getattr(self.obj, self.obj.asyncspec_machine.field(field).attr)

    def put(self, field: str, value: Any) -> None:
        setattr(self.obj, self.obj.asyncspec_machine.field(field).attr, value)

    def bind(self, name: str, value: Any) -> None:
        self.env[name] = value

    def delegate(self, operation: str) -> Any:
        return getattr(self.obj, operation)()

    def holds(self, name: str, expr: str) -> bool:
        # Guards are pure: each is evaluated at most once per call.
        if name not in self.guards:
            self.guards[name] = bool(self.eval(expr))
        return self.guards[name]


class ModelObject:
    """Base of the classes :func:`model_class` builds."""

    asyncspec_machine: Machine
    asyncspec_plan: Plan
    #: The machine's field names, each to its attribute.
    asyncspec_fields: dict[str, str]
    asyncspec_globals: dict[str, Any]
    asyncspec_recorder: Recorder

    def asyncspec_observe(self, observed: Observed) -> Any:
        """What the spec answers for an observed fact about this object (and the row, recorded)."""
        self.asyncspec_recorder.record(observed.row.id, self)
        assert observed.row.output is not None
        return observed.row.output.run(_Call(self, {}))

    def _select(self, op: OperationPlan, args: tuple, kwargs: dict) -> tuple[RowPlan, _Call]:
        """Pick the row that fires, as the plan orders the branches, and record it."""
        call = _Call(self, _arguments(op, args, kwargs))
        state = self._current_state()
        if state is None and op.operation.kind == "property":
            # A property does not read the state: an uninitialized object answers as a new one.
            state = self.asyncspec_plan.constructor.initial
        if state is None:
            if op.uninitialized is None:
                raise AttributeError(
                    f"{type(self).__name__!r} object has no attribute {self.asyncspec_machine.state_attr!r}")
            row = op.uninitialized
        else:
            row = _choose(op, state.name, call, self.asyncspec_globals)
        self._fired(op, row)
        del self  # this frame may outlive the call, in a traceback through the row's let
        return row, call

    def _current_state(self) -> State | None:
        """The declared state this object is in (None: uninitialized)."""
        return self.asyncspec_plan.state_of(getattr(self, self.asyncspec_machine.state_attr, None))

    def _fired(self, op: OperationPlan, row: RowPlan) -> None:
        """Record that ``row`` fired, unless it is a query an operation of this object asks of it while
        deciding or acting (a loop's Handle asking get_debug()): that is part of the operation's row."""
        if not (op.operation.kind == "query" and getattr(self, "_asyncspec_busy", False)):
            self.asyncspec_recorder.record(row.id, self)

    def _steps(self, row: RowPlan, call: _Call) -> Generator[tuple[str, Any], None, None]:
        """Run the row's effects, moving the state where the plan says; yield what they wait on."""
        try:
            for i, effect in enumerate(row.effects):
                if i == row.move_at:
                    self._move(row)
                yield from effect.run(call)
            if row.move_at == len(row.effects):
                self._move(row)
        finally:
            del self

    def _move(self, row: RowPlan) -> None:
        assert row.dest is not None
        setattr(self, self.asyncspec_machine.state_attr, row.dest.value)

    def _run_plain(self, op: OperationPlan, args: tuple, kwargs: dict) -> Any:
        if not args and not kwargs:
            constant = _once(_CONSTANT, op, lambda: _constant_answers(op))
            if constant:
                # A state whose one row answers a constant and does nothing else (done(), cancelled()):
                # the row fires as _select would record it, without interpreting it again.
                state = self._current_state()
                answer = constant.get(state.name) if state is not None else None
                if answer is not None:
                    self._fired(op, answer[0])
                    return answer[1]
        kind = op.operation.kind
        busy = getattr(self, "_asyncspec_busy", False)
        if kind in ("command", "callback"):
            self._asyncspec_busy = True
        call: _Call | None = None
        try:
            row, call = self._select(op, args, kwargs)
            for _ in self._steps(row, call):
                raise RuntimeError(f"{op.name} suspended outside a generator or coroutine")
            return row.output.run(call)
        finally:
            if kind in ("command", "callback"):
                self._asyncspec_busy = busy
            if kind == "callback":
                # As the compiled callback does (``_letting_go``): what the loop runs lets go of the object.
                if call is not None:
                    call.let_go()
                del self

    def _run_generator(self, op: OperationPlan, args: tuple, kwargs: dict) -> Any:
        row, call = self._select(op, args, kwargs)
        for _, value in self._steps(row, call):
            yield value
        return row.output.run(call)

    async def _run_coroutine(self, op: OperationPlan, args: tuple, kwargs: dict) -> Any:
        row, call = self._select(op, args, kwargs)
        steps = self._steps(row, call)
        try:
            for _, value in steps:
                try:
                    await value
                except BaseException as e:
                    steps.throw(e)
                    raise
        finally:
            steps.close()
        return row.output.run(call)


def _choose(op: OperationPlan, state: str, call: _Call, globals_: dict[str, Any]) -> RowPlan:
    decision = op.decision(state)
    for let in decision.lets:
        call.let(let)

    def refuses(attempt: Attempt) -> bool:
        guard = attempt.guard
        for let in guard.let:
            call.let(let)
        # Matched by class, as ``except`` matches: the name means what it means in the declaration.
        expected = eval(compiled(guard.raises), globals_)
        try:
            call.bind(guard.bind, call.eval(guard.attempt))
        except expected as e:
            call.raised = e
            return True
        return False

    return decision.choose(lambda guard: call.holds(guard.name, guard.expr), refuses)




def model_class(machine: Machine, recorder: Recorder) -> type:
    """A class whose instances behave as ``machine`` declares, reporting the rows they fire to ``recorder``.

    The class is built once per loaded machine; each recorder gets a thin subclass of it.
    """
    base = _once(_CLASSES, machine, lambda: _interpreted_class(machine))
    return type(base.__name__, (base,), {"asyncspec_recorder": recorder, "__module__": __name__,
                                         "__qualname__": base.__qualname__})


_CLASSES: dict[int, tuple[Machine, type]] = {}


def _interpreted_class(machine: Machine) -> type:
    plan = plan_of(machine)
    globals_ = resolve_namespace(machine)
    namespace: dict[str, Any] = {
        "asyncspec_machine": machine,
        "asyncspec_plan": plan,
        "asyncspec_fields": {f.name: f.attr for f in machine.fields},
        "asyncspec_globals": globals_,
        "__module__": __name__,
        "__qualname__": machine.title.rsplit(".", 1)[-1],
        "__doc__": f"{machine.title}, interpreted from its declaration.",
    }
    for attr, expr in plan.class_defaults:
        namespace[attr] = eval(expr, globals_)
    ctor = plan.constructor

    def __init__(self: ModelObject, *args: Any, **kwargs: Any) -> None:
        bound = ctor.signature.bind(*args, **kwargs)
        bound.apply_defaults()
        call = _Call(self, dict(bound.arguments))
        for let in ctor.lets:
            call.let(let)
        for init in ctor.inits:
            if init.condition is None or call.eval(init.condition):
                setattr(self, init.field.attr, call.eval(init.value))
        setattr(self, machine.state_attr, ctor.initial.value)
        for effect in ctor.effects:
            for _ in effect.run(call):
                raise RuntimeError("a constructor suspended")

    namespace["__init__"] = __init__
    for op in plan.operations:
        function = _operation(op)
        function.__qualname__ = f"{namespace['__qualname__']}.{op.name}"
        namespace[op.name] = class_attribute(machine, op, function)
    for alias, op_name in plan.aliases:
        namespace[alias] = namespace[op_name]
    return type(namespace["__qualname__"], (ModelObject,), namespace)


def _operation(op: OperationPlan) -> Callable[..., Any]:
    kind = op.operation.kind
    if kind == "generator":
        def operation(self: ModelObject, *args: Any, **kwargs: Any) -> GeneratorType:
            return self._run_generator(op, args, kwargs)
    elif kind == "coroutine":
        def operation(self: ModelObject, *args: Any, **kwargs: Any) -> Any:  # type: ignore[misc]
            return self._run_coroutine(op, args, kwargs)
    elif kind == "callback":
        def operation(self: ModelObject, *args: Any, **kwargs: Any) -> Any:  # type: ignore[misc]
            try:
                return self._run_plain(op, args, kwargs)
            finally:
                del self
    else:
        def operation(self: ModelObject, *args: Any, **kwargs: Any) -> Any:  # type: ignore[misc]
            return self._run_plain(op, args, kwargs)
    operation.__name__ = op.name
    return operation


def model_function(machine: Machine, recorder: Recorder) -> Callable[..., Any]:
    """Build the function a ``function``-kind machine declares (one fresh instance per call)."""
    cls = model_class(machine, recorder)
    (op,) = plan_of(machine).operations

    def function(*args: Any, **kwargs: Any) -> Any:
        return getattr(cls(), op.name)(*args, **kwargs)

    function.__name__ = op.name
    function.asyncspec_class = cls  # type: ignore[attr-defined]
    return function


class _Models(dict):
    """The models of a spec's machines by name, each built when first asked for (a world uses one or two)."""

    def __init__(self, spec: Spec, recorder: Recorder) -> None:
        super().__init__()
        self.spec, self.recorder = spec, recorder

    def __missing__(self, name: str) -> Any:
        m = self.spec.machines[name]
        made = self[name] = model_function(m, self.recorder) if plan_of(m).function else model_class(m, self.recorder)
        return made


def build(spec: Spec, recorder: Recorder) -> dict[str, Any]:
    """The models of ``spec``'s machines by name, each a class, or a function for a function machine,
    built when first asked for."""
    return _Models(spec, recorder)


