"""The verbs of the declaration format: every effect and every output is one class.

A row's ``effects`` and its output are parsed once, when a declaration loads,
into the frozen dataclasses below. Each class owns everything about its verb:
the keys it is declared with, the expressions it holds and the names they see,
the fields it names, its diagram label and, side by side, its two meanings:

* ``run(call)`` interprets it for the model, through an :class:`Interpreter`;
* ``emit(out)`` writes it as Python for the compiler, through an :class:`Emitter`.

``run`` is a generator: it yields what the operation waits on (a ``suspend``
yields a value from a generator, a ``park`` awaits a waiter), and the model
drives it. An output's ``run`` returns the operation's answer or raises.

A new verb is one class here, registered in :data:`EFFECTS` or :data:`OUTPUTS`.
Nothing here names a machine, a state or an operation.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from typing import Any, Callable, ClassVar, ContextManager, Iterator, Mapping, Protocol

from .errors import InvalidSpec

#: What a list verb binds while it visits an item.
ITEM = "item"


class Interpreter(Protocol):
    """What the model gives a verb to run with: the scope of one operation call."""

    raised: BaseException | None

    def eval(self, expr: str, **extra: Any) -> Any: ...
    def get(self, field: str) -> Any: ...
    def put(self, field: str, value: Any) -> None: ...
    def bind(self, name: str, value: Any) -> None: ...
    def delegate(self, operation: str) -> Any: ...


class Emitter(Protocol):
    """What the compiler gives a verb to write with: one method body being generated."""

    method: bool

    def line(self, text: str) -> None: ...
    def block(self) -> ContextManager[None]: ...
    def expr(self, text: str, extra: tuple[str, ...] = (), unpacked: bool = False) -> str: ...
    def statement(self, text: str) -> str: ...
    def attr(self, field: str) -> str: ...
    def bind(self, name: str) -> None: ...
    def delegate(self, operation: str) -> None: ...
    def reads_fields(self, text: str) -> bool: ...
    def try_finally(self, body: list[str], cleanup: list[str]) -> None: ...


Substitute = Callable[[str], str]


@dataclass(frozen=True)
class Expression:
    """An expression a verb holds: its role (the declaration key), its text, and extra names it sees."""

    role: str
    text: str
    extra: tuple[str, ...] = ()


# --------------------------------------------------------------------------
# Effects
# --------------------------------------------------------------------------

@dataclass(frozen=True)
class Effect:
    """One step of a row's effects."""

    key: ClassVar[str]
    #: The other keys a declaration may give this verb, and which of them it must give.
    optional: ClassVar[tuple[str, ...]] = ()
    required: ClassVar[tuple[str, ...]] = ()
    #: Whether the verb changes only a field (the state moves before the first verb that does more).
    field_only: ClassVar[bool] = False
    #: The operation kinds the verb may appear in (None: any).
    kinds: ClassVar[tuple[str, ...] | None] = None

    @classmethod
    def parse(cls, raw: Mapping[str, Any], sub: Substitute, where: str) -> "Effect":
        allowed = {cls.key, *cls.required, *cls.optional}
        unknown = sorted(set(raw) - allowed)
        if unknown:
            raise InvalidSpec(where, f"an effect {cls.key!r} with only the keys {sorted(allowed)}", unknown)
        missing = [k for k in cls.required if k not in raw]
        if missing:
            raise InvalidSpec(where, f"an effect {cls.key!r} with the keys {list(cls.required)}", dict(raw))
        values = {k: (sub(v) if isinstance(v, str) else v) for k, v in raw.items()}
        return cls.build(values)

    @classmethod
    def build(cls, values: Mapping[str, Any]) -> "Effect":
        raise NotImplementedError

    def expressions(self) -> tuple[Expression, ...]:
        return ()

    def fields(self) -> tuple[str, ...]:
        """The fields the verb names (each must be declared)."""
        return ()

    def binds(self) -> tuple[str, ...]:
        """Names the verb binds for what follows it in the row."""
        return ()

    def label(self) -> str:
        raise NotImplementedError

    def run(self, call: Interpreter) -> Iterator[tuple[str, Any]]:
        raise NotImplementedError

    def emit(self, out: Emitter) -> None:
        raise NotImplementedError


@dataclass(frozen=True)
class Set(Effect):
    """``set`` a field ``to`` a value."""

    field: str
    to: str
    key: ClassVar[str] = "set"
    required: ClassVar[tuple[str, ...]] = ("to",)
    field_only: ClassVar[bool] = True

    @classmethod
    def build(cls, values: Mapping[str, Any]) -> Effect:
        return cls(values["set"], values["to"])

    def expressions(self) -> tuple[Expression, ...]:
        return (Expression("to", self.to),)

    def fields(self) -> tuple[str, ...]:
        return (self.field,)

    def label(self) -> str:
        return f"{self.field} = {self.to}"

    def run(self, call: Interpreter) -> Iterator[tuple[str, Any]]:
        call.put(self.field, call.eval(self.to))
        yield from ()

    def emit(self, out: Emitter) -> None:
        out.line(f"{out.attr(self.field)} = {out.expr(self.to)}")


@dataclass(frozen=True)
class Append(Effect):
    """``append`` an ``item`` to a list field."""

    field: str
    item: str
    key: ClassVar[str] = "append"
    required: ClassVar[tuple[str, ...]] = ("item",)

    @classmethod
    def build(cls, values: Mapping[str, Any]) -> Effect:
        return cls(values["append"], values["item"])

    def expressions(self) -> tuple[Expression, ...]:
        return (Expression("item", self.item),)

    def fields(self) -> tuple[str, ...]:
        return (self.field,)

    def label(self) -> str:
        return f"{self.field}.append({self.item})"

    def run(self, call: Interpreter) -> Iterator[tuple[str, Any]]:
        call.get(self.field).append(call.eval(self.item))
        yield from ()

    def emit(self, out: Emitter) -> None:
        out.line(f"{out.attr(self.field)}.append({out.expr(self.item)})")


@dataclass(frozen=True)
class Keep(Effect):
    """``keep`` the items of a list field ``where`` a predicate holds, binding the removed ``count``.

    The predicate is judged on the list as the operation found it: a predicate
    that mutates the list (an ``__eq__`` that clears or grows it, gh-125966,
    gh-126405) can neither make the count negative nor keep the filter running.
    """

    field: str
    where: str
    count: str = ""
    key: ClassVar[str] = "keep"
    required: ClassVar[tuple[str, ...]] = ("where",)
    optional: ClassVar[tuple[str, ...]] = ("count",)

    @classmethod
    def build(cls, values: Mapping[str, Any]) -> Effect:
        return cls(values["keep"], values["where"], values.get("count", ""))

    def expressions(self) -> tuple[Expression, ...]:
        return (Expression("where", self.where, (ITEM,)),)

    def fields(self) -> tuple[str, ...]:
        return (self.field,)

    def binds(self) -> tuple[str, ...]:
        return (self.count,) if self.count else ()

    def label(self) -> str:
        return f"keep {self.field} where {self.where}"

    def run(self, call: Interpreter) -> Iterator[tuple[str, Any]]:
        items = call.get(self.field)
        found = list(items)
        kept = [item for item in found if call.eval(self.where, item=item)]
        removed = len(found) - len(kept)
        if removed > 0:
            items[:] = kept
        if self.count:
            call.bind(self.count, removed)
        yield from ()

    def emit(self, out: Emitter) -> None:
        count = self.count or "_removed"
        out.line(f"_items = {out.attr(self.field)}")
        out.line("_found = _items[:]")
        out.line(f"_kept = [item for item in _found if {out.expr(self.where, (ITEM,))}]")
        out.line(f"{count} = len(_found) - len(_kept)")
        out.line(f"if {count} > 0:")
        with out.block():
            out.line("_items[:] = _kept")
        out.line("else:")
        with out.block():
            out.line(f"{count} = 0")
        out.bind(count)


@dataclass(frozen=True)
class ForEach(Effect):
    """``for_each`` item of a list field, ``do`` a call (unless ``skip`` holds for it).

    Without ``take`` the verb walks the live list, as CPython's ``Event.set()``
    walks ``self._waiters``: a body that changes the list meets what the list
    type does about it (a deque raises RuntimeError). With ``take``, a non-empty
    list is first replaced by a new empty one and the verb walks the list it
    took, as ``Future.__schedule_callbacks`` does, so calls made meanwhile see
    the field empty. With ``until`` as well, taking and walking repeat until the
    condition holds after a walk, as ``run_forever()`` repeats ``_run_once()``
    until ``stop()`` was called: what a walk appends waits for the next one.
    """

    field: str
    do: str
    skip: str = ""
    take: bool = False
    until: str = ""
    key: ClassVar[str] = "for_each"
    required: ClassVar[tuple[str, ...]] = ("do",)
    optional: ClassVar[tuple[str, ...]] = ("skip", "take", "until")

    @classmethod
    def parse(cls, raw: Mapping[str, Any], sub: Substitute, where: str) -> Effect:
        if raw.get("until") and not raw.get("take"):
            raise InvalidSpec(where, "'until' only with 'take' (each walk takes what is there)", dict(raw))
        return super().parse(raw, sub, where)

    @classmethod
    def build(cls, values: Mapping[str, Any]) -> Effect:
        return cls(values["for_each"], values["do"], values.get("skip", ""), bool(values.get("take")),
                   values.get("until", ""))

    def expressions(self) -> tuple[Expression, ...]:
        out = [Expression("do", self.do, (ITEM,))]
        if self.skip:
            out.append(Expression("skip", self.skip, (ITEM,)))
        if self.until:
            out.append(Expression("until", self.until))
        return tuple(out)

    def fields(self) -> tuple[str, ...]:
        return (self.field,)

    def label(self) -> str:
        skip = f" unless {self.skip}" if self.skip else ""
        walk = f"for each in {self.field}{skip}: {self.do}"
        return f"repeat ({walk}) until {self.until}" if self.until else walk

    def run(self, call: Interpreter) -> Iterator[tuple[str, Any]]:
        while True:
            self._walk(call)
            if not self.until or call.eval(self.until):
                break
        yield from ()

    def _walk(self, call: Interpreter) -> None:
        items = call.get(self.field)
        if self.take:
            if not items:
                return
            call.put(self.field, [])
        for item in items:
            if self.skip and call.eval(self.skip, item=item):
                continue
            call.eval(self.do, item=item)

    def emit(self, out: Emitter) -> None:
        if not self.until:
            self._emit_walk(out)
            return
        out.line("while True:")
        with out.block():
            self._emit_walk(out)
            out.line(f"if {out.expr(self.until)}:")
            with out.block():
                out.line("break")

    def _emit_walk(self, out: Emitter) -> None:
        exprs = [self.do] + ([self.skip] if self.skip else [])
        indices = _item_indices(exprs)
        # An item only ever subscripted with constants is unpacked in the loop header.
        target = ", ".join(f"item_{k}" for k in range(max(indices) + 1)) if indices else ITEM
        if self.take:
            out.line(f"_taken = {out.attr(self.field)}")
            out.line("if _taken:")
            with out.block():
                out.line(f"{out.attr(self.field)} = []")
                out.line(f"for {target} in _taken:")
                with out.block():
                    self._visit(out, bool(indices))
        else:
            out.line(f"for {target} in {out.attr(self.field)}:")
            with out.block():
                self._visit(out, bool(indices))

    def _visit(self, out: Emitter, unpacked: bool) -> None:
        do = out.expr(self.do, (ITEM,), unpacked)
        if self.skip:
            out.line(f"if not ({out.expr(self.skip, (ITEM,), unpacked)}):")
            with out.block():
                out.line(do)
        else:
            out.line(do)


@dataclass(frozen=True)
class Call(Effect):
    """``do`` a call for its effect on the world (the loop, an argument).

    With ``bind``, the call's value is bound to that name for what follows in
    the row (a Task's ``fut_waiter.cancel(msg)`` says whether the waiter took
    the cancellation). With ``finally``, a second call runs however the first
    ends, as a ``try``/``finally`` does (a Task leaves the current-task
    registry after its step, even when the step raises).
    """

    do: str
    bind_to: str = ""
    cleanup: str = ""
    key: ClassVar[str] = "do"
    optional: ClassVar[tuple[str, ...]] = ("bind", "finally")

    @classmethod
    def build(cls, values: Mapping[str, Any]) -> Effect:
        return cls(values["do"], values.get("bind", ""), values.get("finally", ""))

    def expressions(self) -> tuple[Expression, ...]:
        out = [Expression("do", self.do)]
        if self.cleanup:
            out.append(Expression("finally", self.cleanup))
        return tuple(out)

    def binds(self) -> tuple[str, ...]:
        return (self.bind_to,) if self.bind_to else ()

    def label(self) -> str:
        call = f"{self.bind_to} = {self.do}" if self.bind_to else self.do
        return f"{call} finally {self.cleanup}" if self.cleanup else call

    def run(self, call: Interpreter) -> Iterator[tuple[str, Any]]:
        try:
            value = call.eval(self.do)
        finally:
            if self.cleanup:
                call.eval(self.cleanup)
        if self.bind_to:
            call.bind(self.bind_to, value)
        yield from ()

    def emit(self, out: Emitter) -> None:
        line = f"{self.bind_to} = {out.expr(self.do)}" if self.bind_to else out.statement(self.do)
        if self.cleanup:
            out.try_finally([line], [out.expr(self.cleanup)])
        else:
            out.line(line)
        if self.bind_to:
            out.bind(self.bind_to)


@dataclass(frozen=True)
class Check(Effect):
    """``check`` that a condition holds, else raise what ``raises`` gives (a constructor refusing its argument)."""

    condition: str
    raises: str
    key: ClassVar[str] = "check"
    required: ClassVar[tuple[str, ...]] = ("raises",)

    @classmethod
    def build(cls, values: Mapping[str, Any]) -> Effect:
        return cls(values["check"], values["raises"])

    def expressions(self) -> tuple[Expression, ...]:
        return (Expression("check", self.condition), Expression("raises", self.raises))

    def label(self) -> str:
        return f"unless {self.condition}: raise {self.raises}"

    def run(self, call: Interpreter) -> Iterator[tuple[str, Any]]:
        if not call.eval(self.condition):
            raise call.eval(self.raises)
        yield from ()

    def emit(self, out: Emitter) -> None:
        out.line(f"if not ({out.expr(self.condition)}):")
        with out.block():
            out.line(f"raise {out.expr(self.raises)}")


@dataclass(frozen=True)
class When(Effect):
    """Any verb given ``if``: it takes effect only when the condition holds, evaluated when its turn comes."""

    condition: str
    effect: Effect
    key: ClassVar[str] = "if"

    @property
    def field_only(self) -> bool:  # type: ignore[override]
        return self.effect.field_only

    def expressions(self) -> tuple[Expression, ...]:
        return (Expression("if", self.condition),) + self.effect.expressions()

    def fields(self) -> tuple[str, ...]:
        return self.effect.fields()

    def label(self) -> str:
        return f"if {self.condition}: {self.effect.label()}"

    def run(self, call: Interpreter) -> Iterator[tuple[str, Any]]:
        if call.eval(self.condition):
            yield from self.effect.run(call)

    def emit(self, out: Emitter) -> None:
        out.line(f"if {out.expr(self.condition)}:")
        with out.block():
            self.effect.emit(out)


@dataclass(frozen=True)
class Suspend(Effect):
    """``suspend``: yield a value from a generator operation; it resumes where it stopped."""

    value: str
    key: ClassVar[str] = "suspend"
    kinds: ClassVar[tuple[str, ...] | None] = ("generator",)

    @classmethod
    def build(cls, values: Mapping[str, Any]) -> Effect:
        return cls(values["suspend"])

    def expressions(self) -> tuple[Expression, ...]:
        return (Expression("suspend", self.value),)

    def label(self) -> str:
        return f"yield {self.value}"

    def run(self, call: Interpreter) -> Iterator[tuple[str, Any]]:
        yield ("yield", call.eval(self.value))

    def emit(self, out: Emitter) -> None:
        out.line(f"yield {out.expr(self.value)}")


@dataclass(frozen=True)
class Park(Effect):
    """``park``: await a new ``waiter``, kept in a list field until it completes."""

    field: str
    waiter: str
    key: ClassVar[str] = "park"
    required: ClassVar[tuple[str, ...]] = ("waiter",)
    kinds: ClassVar[tuple[str, ...] | None] = ("coroutine",)

    @classmethod
    def build(cls, values: Mapping[str, Any]) -> Effect:
        return cls(values["park"], values["waiter"])

    def expressions(self) -> tuple[Expression, ...]:
        return (Expression("waiter", self.waiter),)

    def fields(self) -> tuple[str, ...]:
        return (self.field,)

    def label(self) -> str:
        return f"await {self.waiter} in {self.field}"

    def run(self, call: Interpreter) -> Iterator[tuple[str, Any]]:
        items = call.get(self.field)
        waiter = call.eval(self.waiter)
        items.append(waiter)
        try:
            yield ("await", waiter)
        finally:
            items.remove(waiter)

    def emit(self, out: Emitter) -> None:
        attr = out.attr(self.field)
        out.line(f"_waiter = {out.expr(self.waiter)}")
        out.line(f"{attr}.append(_waiter)")
        out.try_finally(["await _waiter"], [f"{attr}.remove(_waiter)"])


# --------------------------------------------------------------------------
# Outputs
# --------------------------------------------------------------------------

@dataclass(frozen=True)
class Output:
    """How a row answers: at most one per row."""

    key: ClassVar[str]

    @classmethod
    def parse(cls, value: Any, sub: Substitute, where: str) -> "Output":
        raise NotImplementedError

    def expressions(self) -> tuple[Expression, ...]:
        return ()

    def label(self) -> str:
        raise NotImplementedError

    def run(self, call: Interpreter) -> Any:
        raise NotImplementedError

    def emit(self, out: Emitter) -> None:
        raise NotImplementedError


@dataclass(frozen=True)
class _OneExpression(Output):
    """An output declared as one expression."""

    expr: str

    @classmethod
    def parse(cls, value: Any, sub: Substitute, where: str) -> Output:
        return cls(sub(_text(value, where, cls.key)))

    def expressions(self) -> tuple[Expression, ...]:
        return (Expression(self.key, self.expr),)


@dataclass(frozen=True)
class Returns(_OneExpression):
    """``returns`` the value of an expression."""

    key: ClassVar[str] = "returns"

    def label(self) -> str:
        return self.expr

    def run(self, call: Interpreter) -> Any:
        return call.eval(self.expr)

    def emit(self, out: Emitter) -> None:
        out.line(f"return {out.expr(self.expr)}")


@dataclass(frozen=True)
class Raises(_OneExpression):
    """``raises`` the exception an expression gives."""

    key: ClassVar[str] = "raises"

    def label(self) -> str:
        return f"raise {self.expr}"

    def run(self, call: Interpreter) -> Any:
        raise call.eval(self.expr)

    def emit(self, out: Emitter) -> None:
        if not out.reads_fields(self.expr):
            out.line(f"raise {out.expr(self.expr)}")
            return
        # Raising a stored exception: drop the frame's references once raised. Its
        # traceback keeps this frame alive, and a frame that kept ``self`` would tie
        # the object that stores the exception into a reference cycle.
        out.line(f"_exc = {out.expr(self.expr)}")
        out.try_finally(["raise _exc"], ["del _exc" + (", self" if out.method else "")])


@dataclass(frozen=True)
class Reraises(Output):
    """``reraises`` what the row's attempt raised."""

    key: ClassVar[str] = "reraises"

    @classmethod
    def parse(cls, value: Any, sub: Substitute, where: str) -> Output:
        if value is not True:
            raise InvalidSpec(where, "'reraises': true", value)
        return cls()

    def label(self) -> str:
        return "re-raise"

    def run(self, call: Interpreter) -> Any:
        raised = call.raised
        if raised is None:  # pragma: no cover - the validator pairs reraises with an attempt
            raise RuntimeError("reraises without an attempt that raised")
        raise raised

    def emit(self, out: Emitter) -> None:
        out.line("raise")


@dataclass(frozen=True)
class Delegates(Output):
    """``delegates``: answer as another operation of the same object answers now."""

    operation: str
    key: ClassVar[str] = "delegates"

    @classmethod
    def parse(cls, value: Any, sub: Substitute, where: str) -> Output:
        return cls(_text(value, where, cls.key))

    def label(self) -> str:
        return f"as {self.operation}()"

    def run(self, call: Interpreter) -> Any:
        return call.delegate(self.operation)

    def emit(self, out: Emitter) -> None:
        out.delegate(self.operation)


#: The verbs, by the declaration key that names them.
EFFECTS: Mapping[str, type[Effect]] = {v.key: v for v in (Set, Append, Keep, ForEach, Call, Check, Suspend, Park)}
OUTPUTS: Mapping[str, type[Output]] = {v.key: v for v in (Returns, Raises, Reraises, Delegates)}

#: What a row without an output answers.
SILENT = Returns("None")


def parse_effect(raw: Any, sub: Substitute, where: str) -> Effect:
    """Parse one declared effect, keyed by exactly one verb, and taking effect only ``if`` a condition holds."""
    if isinstance(raw, Mapping) and When.key in raw:
        inner = parse_effect({k: v for k, v in raw.items() if k != When.key}, sub, where)
        if inner.binds():
            raise InvalidSpec(where, "'if' on a verb that binds no name (a name bound under 'if' may be unbound)",
                              dict(raw))
        return When(sub(_text(raw[When.key], where, When.key)), inner)
    verbs = [k for k in EFFECTS if isinstance(raw, Mapping) and k in raw]
    # ``do`` is both a verb and the body of ``for_each``: the verb that is not a body wins.
    if "for_each" in verbs:
        verbs.remove("do")
    if len(verbs) != 1:
        raise InvalidSpec(where, f"an effect keyed by one of {list(EFFECTS)}", raw)
    return EFFECTS[verbs[0]].parse(raw, sub, where)


def parse_output(row: Mapping[str, Any], sub: Substitute, where: str) -> Output | None:
    """Parse a row's output: at most one of the output keys."""
    given = [k for k in OUTPUTS if row.get(k) not in (None, False)]
    if len(given) > 1:
        raise InvalidSpec(where, "at most one of " + ", ".join(OUTPUTS), given,
                          "A row answers one way: return, raise, re-raise or delegate.")
    if not given:
        return None
    return OUTPUTS[given[0]].parse(row[given[0]], sub, where)


def _text(value: Any, where: str, key: str) -> str:
    if not isinstance(value, str):
        raise InvalidSpec(where, f"a string for {key!r}", value)
    return value


def _item_indices(exprs: list[str]) -> set[int] | None:
    """The constant indices ``item`` is subscripted with, or None if it is used otherwise."""
    indices: set[int] = set()
    for expr in exprs:
        tree = ast.parse(expr, mode="eval")
        parents = {id(child): node for node in ast.walk(tree) for child in ast.iter_child_nodes(node)}
        for node in ast.walk(tree):
            if isinstance(node, ast.Name) and node.id == ITEM:
                parent = parents.get(id(node))
                if not (isinstance(parent, ast.Subscript) and parent.value is node
                        and isinstance(parent.slice, ast.Constant) and isinstance(parent.slice.value, int)):
                    return None
                indices.add(parent.slice.value)
    return indices
