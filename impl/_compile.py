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
from dataclasses import dataclass
from typing import Any, Callable, Iterator, Union

from ..spec import Branch, Decision, Guard, GuardTest, Let, Machine, OperationPlan, Plan, RowPlan, class_attribute, plan_of, \
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

    def statement(self, text: str) -> str:
        """An expression run for its effect; ``setattr(obj, 'name', value)`` written as the assignment it is."""
        call = ast.parse(text, mode="eval").body
        if (isinstance(call, ast.Call) and isinstance(call.func, ast.Name) and call.func.id == "setattr"
                and len(call.args) == 3 and not call.keywords and isinstance(call.args[1], ast.Constant)
                and isinstance(call.args[1].value, str) and call.args[1].value.isidentifier()
                and "setattr" not in self.compiler.namespace):
            obj, _, value = (self.expr(ast.unparse(a)) for a in call.args)
            return f"{obj}.{call.args[1].value} = {value}"
        return self.expr(text)

    def attr(self, field: str) -> str:
        return f"self.{self.compiler.fields[field]}"

    def bind(self, name: str) -> None:
        self.local.add(name)

    def let(self, let: Let) -> None:
        """Bind a ``let``: its value; a 'try' let, its value or what it raised, inline."""
        if not let.error:
            value = ast.parse(let.expr, mode="eval").body
            if (isinstance(value, ast.IfExp) and isinstance(value.orelse, ast.Name) and value.orelse.id == let.name
                    and let.name in self.local):
                # ``x = a if c else x``, x a local already, is ``if c: x = a``.
                self.line(f"if {self.expr(ast.unparse(value.test))}:")
                with self.block():
                    self.line(f"{let.name} = {self.expr(ast.unparse(value.body))}")
            else:
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

    def delegate(self, operation: str) -> None:
        self.compiler.delegate(self, operation)

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
        self.namespace = resolve_namespace(machine)

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
        else:
            self.dispatch(body, op)
        return _function(header, finish(out))

    def dispatch(self, body: _Body, op: OperationPlan) -> None:
        """Write what ``op`` does, by state, where ``body`` stands."""
        indent = "    " * (body.out.depth - 1)
        branches = _merge([(d.state.name, self._decision_source(d, body.local)) for d in op.decisions])
        uninitialized = op.uninitialized
        if len(branches) == 1 and uninitialized is None:
            # Every state does the same: nothing to test.
            body.out.lines.extend(indent + line for line in branches[0][1])
            return
        tests = len(branches) - (uninitialized is None)
        if tests == 1 and uninitialized is None:
            # Two ways to go: test the one with fewer states (fewer comparisons); if even, the
            # shorter falls through first (a query's answer, not the work).
            branches.sort(key=lambda branch: (len(branch[0]), len(branch[1])))
        # One test reads the attribute in place; several share a local.
        subject = f"self.{self.m.state_attr}" if tests == 1 else "state"
        if tests > 1:
            body.line(f"state = self.{self.m.state_attr}")
        for i, (states, lines) in enumerate(branches):
            last = i == len(branches) - 1 and uninitialized is None
            test = " or ".join(self._test(s, subject) for s in states)
            body.line("else:" if last else f"{'if' if i == 0 else 'elif'} {test}:")
            body.out.lines.extend(indent + "    " + line for line in lines)
        if uninitialized is not None:
            body.line("else:")
            with body.block():
                self.row(body.scope(), uninitialized)

    def delegate(self, body: _Body, name: str) -> None:
        """Answer as operation ``name`` answers; a continuation (resumed only from here) is written in place."""
        try:
            op = self.plan.operation(name)
        except KeyError:  # not an operation of this plan: the call, as written
            op = None
        if op is not None and op.operation.kind == "continuation" and not op.signature.parameters and body.method:
            self.dispatch(body, op)
        else:
            body.line(f"return self.{name}()")

    def _decision_source(self, decision: Decision, local: set[str]) -> list[str]:
        out = _Lines()
        self.decision(_Body(self, out, set(local), True), decision)
        return out.lines

    def decision(self, body: _Body, decision: Decision) -> None:
        for let in decision.lets:
            body.let(let)
        items = _nest([_Leaf(b.tests, b) for b in decision.branches])
        self._items(body, items, _Guards(_cacheable_guards(items)))

    def _items(self, body: _Body, items: list[_Item], guards: _Guards) -> None:
        for item in items:
            if isinstance(item, _Group):
                body.line(f"if {guards.test(item.head, body)}:")
                with body.block():
                    self._items(body, item.items, guards)
                continue
            tests = [guards.test(t, body) for t in item.tests]
            branch = item.branch
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


@dataclass(frozen=True)
class _Leaf:
    """A branch, and the tests of it not yet made by the groups around it."""

    tests: tuple[GuardTest, ...]
    branch: Branch


@dataclass(frozen=True)
class _Group:
    """Consecutive branches that test the same guard first: one ``if``, the branches nested in it."""

    head: GuardTest
    items: list[_Item]


_Item = Union[_Leaf, _Group]


def _nest(leaves: list[_Leaf]) -> list[_Item]:
    """Nest consecutive branches that make the same first test under one test of it, as one would by hand.

    Every row ends in a return or a raise, so a nested branch that does not
    hold falls through to the next, exactly as the flat chain of tests did.
    A group ends after a branch with no test of its own (the rest could never
    be reached); a branch with an attempt stays where it is.
    """
    items: list[_Item] = []
    i = 0
    while i < len(leaves):
        first = leaves[i]
        j = i + 1
        if first.branch.attempt is None and first.tests:
            while (j < len(leaves) and len(leaves[j - 1].tests) > 1 and leaves[j].branch.attempt is None
                   and leaves[j].tests[:1] == first.tests[:1]):
                j += 1
        if j - i > 1:
            items.append(_Group(first.tests[0], _nest([_Leaf(leaf.tests[1:], leaf.branch) for leaf in leaves[i:j]])))
        else:
            items.append(first)
        i = j
    return items


def _cacheable_guards(items: list[_Item]) -> set[str]:
    """Guards tested more than once whose first test is always made before the others.

    That first test must open a branch or a group (not follow an ``and``), and
    every later test must lie in the same group, where it can only run after it.
    """
    uses: list[tuple[str, tuple[int, ...], bool]] = []  # (guard, the groups around the test, opens its item)

    def walk(level: list[_Item], path: tuple[int, ...]) -> None:
        for item in level:
            if isinstance(item, _Group):
                uses.append((item.head.guard.name, path, True))
                walk(item.items, (*path, id(item)))
            else:
                uses.extend((t.guard.name, path, k == 0) for k, t in enumerate(item.tests))

    walk(items, ())
    cached = set()
    for name in {u[0] for u in uses}:
        mine = [u for u in uses if u[0] == name]
        _, where, opens = mine[0]
        if len(mine) > 1 and opens and all(path[:len(where)] == where for _, path, _ in mine[1:]):
            cached.add(name)
    return cached


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
    namespace = _exec(source, compiler.namespace, f"{machine.name} class")
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
    namespace = _exec(source, compiler.namespace, f"{machine.name} function")
    function = namespace[op.name]
    function.__module__ = module
    function.__asyncspec_source__ = source
    return function
