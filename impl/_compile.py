"""Compile a machine's plan into Python source, the way dataclasses and attrs generate methods.

The compiler reads no declaration itself: it walks the plan that
``spec.lower`` made (the same plan the model walks) and asks each verb to
``emit()`` itself. Each operation becomes one function whose body dispatches
on the state attribute; each state's branch is that decision's branches,
guards becoming ``if`` tests. What is left here is how to write Python well:

* field names in expressions become the declared attributes (``result`` ->
  ``self._result``), and a list item only ever subscripted with constants is
  unpacked in the loop header;
* states whose branches are the same code share one test;
* a guard that several rows test is evaluated once, where it is first tested;
* a stored exception is raised from a frame that lets go of it (``Raises``).

The generated source is kept on the class as ``__asyncspec_source__``.
"""

from __future__ import annotations

import ast
import contextlib
import itertools
import linecache
from typing import Any, Callable, Iterator

from ..spec import Decision, Guard, GuardTest, Let, Machine, OperationPlan, Plan, RowPlan, class_attribute, plan_of, \
    resolve_namespace

_counter = itertools.count()


class _Rewrite(ast.NodeTransformer):
    """Rewrite free names: fields to ``self.<attr>``; ``item[k]`` to ``item_k`` where unpacked."""

    def __init__(self, fields: dict[str, str], local: set[str], unpacked: bool) -> None:
        self.fields = fields
        self.local = local
        self.unpacked = unpacked

    def visit_Name(self, node: ast.Name) -> ast.AST:
        if node.id in self.fields and node.id not in self.local and isinstance(node.ctx, ast.Load):
            return ast.copy_location(
                ast.Attribute(value=ast.Name("self", ast.Load()), attr=self.fields[node.id], ctx=ast.Load()),
                node)
        return node

    def visit_Subscript(self, node: ast.Subscript) -> ast.AST:
        if (self.unpacked and isinstance(node.value, ast.Name) and node.value.id == "item"
                and isinstance(node.slice, ast.Constant) and isinstance(node.slice.value, int)):
            return ast.copy_location(ast.Name(f"item_{node.slice.value}", ast.Load()), node)
        return self.generic_visit(node)


class _Lines:
    """The lines of one function being written, and how deep the next one goes."""

    def __init__(self) -> None:
        self.lines: list[str] = []
        self.depth = 1


class _Body:
    """An :class:`~asyncspec.spec.Emitter`: writes into shared lines, with its own local names."""

    def __init__(self, compiler: "Compiler", out: _Lines, local: set[str], method: bool) -> None:
        self.compiler = compiler
        self.out = out
        self.local = local
        self.method = method

    def scope(self, *extra: str) -> "_Body":
        """The same lines, with a copy of the local names (a row's bindings stay in its row)."""
        return _Body(self.compiler, self.out, set(self.local) | set(extra), self.method)

    def line(self, text: str) -> None:
        self.out.lines.append("    " * self.out.depth + text)

    @contextlib.contextmanager
    def block(self) -> Iterator[None]:
        self.out.depth += 1
        try:
            yield
        finally:
            self.out.depth -= 1

    def expr(self, text: str, extra: tuple[str, ...] = (), unpacked: bool = False) -> str:
        return self.compiler.expr(text, self.local | set(extra), unpacked)

    def attr(self, field: str) -> str:
        return f"self.{self.compiler.fields[field]}"

    def bind(self, name: str) -> None:
        self.local.add(name)

    def let(self, let: Let) -> None:
        """Bind a ``let``: its value; a 'try' let, its value or what it raised, inline."""
        if not let.error:
            self.line(f"{let.name} = {self.expr(let.expr)}")
        else:
            self.line("try:")
            with self.block():
                self.line(f"{let.name} = {self.expr(let.expr)}")
            self.line("except BaseException as _raised:")
            with self.block():
                self.line(f"{let.name} = None")
                # Its traceback starts where it was raised, not in this frame (which holds the object).
                self.line("_raised.__traceback__ = _raised.__traceback__.tb_next")
                self.line(f"{let.error} = _raised")
            self.line("else:")
            with self.block():
                self.line(f"{let.error} = None")
        for name in let.names:
            self.bind(name)

    def reads_fields(self, text: str) -> bool:
        names = {n.id for n in ast.walk(ast.parse(text, mode="eval")) if isinstance(n, ast.Name)}
        return bool((names - self.local) & set(self.compiler.fields))

    def try_finally(self, body: list[str], cleanup: list[str]) -> None:
        self.line("try:")
        with self.block():
            for text in body:
                self.line(text)
        self.line("finally:")
        with self.block():
            for text in cleanup:
                self.line(text)


class Compiler:
    """Generate the source of one machine's class (or function) from its plan."""

    def __init__(self, machine: Machine) -> None:
        self.m = machine
        self.plan: Plan = plan_of(machine)
        self.fields = {f.name: f.attr for f in machine.fields}

    def expr(self, text: str, local: set[str], unpacked: bool = False) -> str:
        tree = ast.parse(text, mode="eval")
        tree = _Rewrite(self.fields, local, unpacked).visit(tree)
        return ast.unparse(tree)

    def _test(self, state: str, subject: str) -> str:
        value = self.m.state(state).value
        if isinstance(value, bool):
            return subject if value else f"not {subject}"
        if value is None:
            return f"{subject} is None"
        return f"{subject} == {value!r}"

    # -- operations -----------------------------------------------------------
    def operation(self, op: OperationPlan) -> str:
        method = not self.plan.function
        keyword = "async def" if op.operation.kind == "coroutine" else "def"
        header = f"{keyword} {op.name}({_params(op.signature, method)}):"
        out = _Lines()
        body = _Body(self, out, set(op.signature.parameters), method)
        body.line(f'"""{_docstring(op.operation.doc)}"""' if op.operation.doc else "pass")
        finish = _letting_go if op.operation.kind == "callback" else (lambda lines: lines)
        if not method:
            (decision,) = op.decisions
            self.decision(body.scope(), decision)
            return _function(header, finish(out))
        branches = _merge([(d.state.name, self._decision_source(d, body.local)) for d in op.decisions])
        uninitialized = op.uninitialized
        if len(branches) == 1 and uninitialized is None:
            # Every state does the same: nothing to test.
            out.lines.extend(branches[0][1])
            return _function(header, finish(out))
        tests = len(branches) - (uninitialized is None)
        if tests == 1 and uninitialized is None:
            # Two ways to go: the shorter falls through first (a query's answer, not the work).
            branches.sort(key=lambda branch: len(branch[1]))
        # One test reads the attribute in place; several share a local.
        subject = f"self.{self.m.state_attr}" if tests == 1 else "state"
        if tests > 1:
            body.line(f"state = self.{self.m.state_attr}")
        for i, (states, lines) in enumerate(branches):
            last = i == len(branches) - 1 and uninitialized is None
            test = " or ".join(self._test(s, subject) for s in states)
            body.line("else:" if last else f"{'if' if i == 0 else 'elif'} {test}:")
            out.lines.extend("    " + line for line in lines)
        if uninitialized is not None:
            body.line("else:")
            with body.block():
                self.row(body.scope(), uninitialized)
        return _function(header, finish(out))

    def _decision_source(self, decision: Decision, local: set[str]) -> list[str]:
        out = _Lines()
        self.decision(_Body(self, out, set(local), True), decision)
        return out.lines

    def decision(self, body: _Body, decision: Decision) -> None:
        for let in decision.lets:
            body.let(let)
        guards = _Guards(_cacheable_guards(decision))
        for branch in decision.branches:
            tests = [guards.test(t, body) for t in branch.tests]
            if branch.attempt is not None:
                guard = branch.attempt.guard
                body.line(f"if {' and '.join(tests)}:" if tests else "if True:")
                with body.block():
                    for let in guard.let:
                        body.let(let)
                    body.line("try:")
                    with body.block():
                        body.line(f"{guard.bind} = {body.expr(guard.attempt)}")
                    body.line(f"except {guard.raises}:")
                    with body.block():
                        self.row(body.scope(), branch.attempt.refused)
                    self.row(body.scope(guard.bind), branch.attempt.passed)
                continue
            assert branch.row is not None
            if tests:
                body.line(f"if {' and '.join(tests)}:")
                with body.block():
                    self.row(body.scope(), branch.row)
            else:
                self.row(body.scope(), branch.row)

    def row(self, body: _Body, row: RowPlan) -> None:
        for i, effect in enumerate(row.effects):
            if i == row.move_at:
                self._move(body, row)
            effect.emit(body)
        if row.move_at == len(row.effects):
            self._move(body, row)
        row.output.emit(body)

    def _move(self, body: _Body, row: RowPlan) -> None:
        assert row.dest is not None
        body.line(f"self.{self.m.state_attr} = {row.dest.value!r}")

    # -- construction ---------------------------------------------------------
    def constructor(self) -> str:
        c = self.plan.constructor
        out = _Lines()
        body = _Body(self, out, set(c.signature.parameters), True)
        doc = c.operation.doc if c.operation else ""
        body.line(f'"""{_docstring(doc)}"""' if doc else "pass")
        for let in c.lets:
            body.let(let)
        for init in c.inits:
            line = f"self.{init.field.attr} = {body.expr(init.value)}"
            if init.condition is not None:
                body.line(f"if {body.expr(init.condition)}:")
                with body.block():
                    body.line(line)
            else:
                body.line(line)
        body.line(f"self.{self.m.state_attr} = {c.initial.value!r}")
        for effect in c.effects:
            effect.emit(body)
        return _function(f"def __init__({_params(c.signature, True)}):", out)

    def class_source(self) -> str:
        parts = [self.constructor()]
        parts += [self.operation(op) for op in self.plan.operations]
        return "\n\n".join(parts) + "\n"


class _Guards:
    """Writes guard tests; a guard that several rows test is kept in a local where first tested."""

    def __init__(self, cached: set[str]) -> None:
        self.cached = cached
        self.evaluated: set[str] = set()

    def test(self, test: GuardTest, body: _Body) -> str:
        expr = self._value(test.guard, body)
        return expr if test.holds else f"not {expr}"

    def _value(self, guard: Guard, body: _Body) -> str:
        expr = f"({body.expr(guard.expr)})"
        if guard.name not in self.cached:
            return expr
        if guard.name in self.evaluated:
            return f"_guard_{guard.name}"
        self.evaluated.add(guard.name)
        return f"(_guard_{guard.name} := {expr})"


def _cacheable_guards(decision: Decision) -> set[str]:
    """Guards tested by several rows whose first test is the first test of a branch (always evaluated)."""
    first: dict[str, bool] = {}
    uses: dict[str, int] = {}
    for branch in decision.branches:
        for i, t in enumerate(branch.tests):
            uses[t.guard.name] = uses.get(t.guard.name, 0) + len(branch.rows)
            first.setdefault(t.guard.name, i == 0)
    return {g for g, n in uses.items() if n > 1 and first[g]}


def _params(signature: Any, method: bool) -> str:
    params = str(signature)[1:-1]
    return ", ".join(p for p in (("self" if method else ""), params) if p)


def _docstring(text: str) -> str:
    return text.replace('"""', "'''").replace("\\", "\\\\")


def _function(header: str, out: _Lines) -> str:
    return header + "\n" + "\n".join(out.lines)


def _letting_go(out: _Lines) -> _Lines:
    """The body (after its docstring) in a ``try`` whose ``finally`` drops ``self``, as CPython's Task does.

    A callback's frame can outlive the call: a coroutine that raised keeps its
    callers' frames in its traceback, and the object keeps that exception. A
    frame that kept ``self`` would tie the object to itself, and it would be
    freed (and finalized) only by the cycle collector.
    """
    body = _Lines()
    body.lines = [out.lines[0], "    try:", *("    " + line for line in out.lines[1:]),
                  "    finally:", "        self = None"]
    return body


def _merge(branches: list[tuple[str, list[str]]]) -> list[tuple[list[str], list[str]]]:
    """Join states whose branches are the same code into one test."""
    merged: list[tuple[list[str], list[str]]] = []
    for state, body in branches:
        for states, existing in merged:
            if existing == body:
                states.append(state)
                break
        else:
            merged.append(([state], body))
    return merged


def _exec(source: str, namespace: dict[str, Any], label: str) -> dict[str, Any]:
    filename = f"<asyncspec generated {label} #{next(_counter)}>"
    # Register the source so tracebacks and inspect show the generated lines.
    linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
    exec(compile(source, filename, "exec"), namespace)
    return namespace


def compile_class(machine: Machine, name: str, module: str, bases: tuple[type, ...] = (),
                  extra: dict[str, Any] | None = None) -> type:
    """Return a class whose methods are generated from ``machine``."""
    compiler = Compiler(machine)
    plan = compiler.plan
    source = compiler.class_source()
    namespace = _exec(source, resolve_namespace(machine), f"{machine.name} class")
    body: dict[str, Any] = {"__module__": module, "__qualname__": name,
                            "__doc__": f"{machine.title}, compiled from its declaration.\n\n{machine.doc}",
                            "__asyncspec_source__": source, "__asyncspec_machine__": machine}
    for attr, expr in plan.class_defaults:
        body[attr] = eval(expr, dict(namespace))
    body["__init__"] = namespace["__init__"]
    for op in plan.operations:
        function = namespace[op.name]
        function.__qualname__ = f"{name}.{op.name}"
        function.__module__ = module
        body[op.name] = class_attribute(machine, op, function)
    for alias, op_name in plan.aliases:
        body[alias] = body[op_name]
    namespace["__init__"].__qualname__ = f"{name}.__init__"
    namespace["__init__"].__module__ = module
    body.update(extra or {})
    return type(name, bases, body)


def compile_function(machine: Machine, module: str) -> Callable[..., Any]:
    """Return the function a ``function``-kind machine declares."""
    compiler = Compiler(machine)
    (op,) = compiler.plan.operations
    source = compiler.operation(op) + "\n"
    namespace = _exec(source, resolve_namespace(machine), f"{machine.name} function")
    function = namespace[op.name]
    function.__module__ = module
    function.__asyncspec_source__ = source
    return function
