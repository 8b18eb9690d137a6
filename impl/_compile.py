"""Compile a declaration into Python source, the way dataclasses and attrs generate methods.

Each operation becomes one function. Its body dispatches on the state
attribute, and each state's branch is that (state, operation) pair's rows:
guards become ``if`` tests, effects become statements, and the output becomes
``return`` or ``raise``. Field names in expressions are rewritten to the
declared attributes (``result`` -> ``self._result``). Nothing here names a
particular machine, state or operation: a declaration that needs a new word
needs a new verb in the format (``spec/_schema.py``), and then a case here and
in the model interpreter.

The generated source is kept on the class as ``__asyncspec_source__``.
"""

from __future__ import annotations

import ast
import linecache
import itertools
from typing import Any, Callable, Iterable

from ..spec import Machine, Operation, Row
from .._names import resolve_namespace

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


def _item_indices(exprs: Iterable[str]) -> set[int] | None:
    """The constant indices ``item`` is subscripted with, or None if it is used otherwise."""
    indices: set[int] = set()
    for expr in exprs:
        tree = ast.parse(expr, mode="eval")
        parents = {id(child): node for node in ast.walk(tree) for child in ast.iter_child_nodes(node)}
        for node in ast.walk(tree):
            if isinstance(node, ast.Name) and node.id == "item":
                parent = parents.get(id(node))
                if not (isinstance(parent, ast.Subscript) and parent.value is node
                        and isinstance(parent.slice, ast.Constant) and isinstance(parent.slice.value, int)):
                    return None
                indices.add(parent.slice.value)
    return indices


class _Writer:
    def __init__(self) -> None:
        self.lines: list[str] = []
        self.depth = 1

    def emit(self, line: str) -> None:
        self.lines.append("    " * self.depth + line)

    def indented(self) -> "_Indent":
        return _Indent(self)

    def try_finally(self, body: list[str], cleanup: list[str]) -> None:
        self.emit("try:")
        with self.indented():
            for line in body:
                self.emit(line)
        self.emit("finally:")
        with self.indented():
            for line in cleanup:
                self.emit(line)


class _Indent:
    def __init__(self, w: _Writer) -> None:
        self.w = w

    def __enter__(self) -> None:
        self.w.depth += 1

    def __exit__(self, *exc: object) -> None:
        self.w.depth -= 1


class Compiler:
    """Generate the source of one machine's class (or function)."""

    def __init__(self, machine: Machine) -> None:
        self.m = machine
        self.fields = {f.name: f.attr for f in machine.fields}

    # -- expressions ----------------------------------------------------------
    def expr(self, text: str, local: Iterable[str], unpacked: bool = False) -> str:
        tree = ast.parse(text, mode="eval")
        tree = _Rewrite(self.fields, set(local), unpacked).visit(tree)
        return ast.unparse(tree)

    def _value(self, state: str) -> str:
        return repr(self.m.state(state).value)

    def _test(self, state: str, subject: str = "state") -> str:
        value = self.m.state(state).value
        if isinstance(value, bool):
            return subject if value else f"not {subject}"
        if value is None:
            return f"{subject} is None"
        return f"{subject} == {value!r}"

    # -- operations -----------------------------------------------------------
    def operation(self, op: Operation) -> str:
        w = _Writer()
        method = op.kind != "function"
        params = ", ".join(p for p in (("self" if method else ""), op.params) if p)
        keyword = "async def" if op.kind == "coroutine" else "def"
        header = f"{keyword} {op.name}({params}):"
        w.emit(f'"""{_docstring(op.doc)}"""' if op.doc else "pass")
        local = set(op.param_names)
        non_final = [s.name for s in self.m.states if not (op.kind == "function" and s.final)]
        if not method:
            (state,) = non_final
            self.group(w, state, op, local)
            return _function(header, w)
        branches = _merge([(s, self._group_source(s, op, local)) for s in non_final])
        uninitialized = self.m.uninitialized.get(op.name)
        tests = len(branches) - (uninitialized is None)
        if tests == 1 and uninitialized is None:
            # Two ways to go: the shorter falls through first (a query's answer, not the work).
            branches.sort(key=lambda branch: len(branch[1]))
        # One test reads the attribute in place; several share a local.
        subject = f"self.{self.m.state_attr}" if tests == 1 else "state"
        if tests > 1:
            w.emit(f"state = self.{self.m.state_attr}")
        for i, (states, body) in enumerate(branches):
            last = i == len(branches) - 1 and uninitialized is None
            test = " or ".join(self._test(s, subject) for s in states)
            w.emit("else:" if last else f"{'if' if i == 0 else 'elif'} {test}:")
            w.lines.extend("    " + line for line in body)
        if uninitialized is not None:
            w.emit("else:")
            with w.indented():
                self.row_body(w, uninitialized, op, set(local), moves=False)
        return _function(header, w)

    def _group_source(self, state: str, op: Operation, local: set[str]) -> list[str]:
        w = _Writer()
        self.group(w, state, op, set(local))
        return w.lines

    def group(self, w: _Writer, state: str, op: Operation, local: set[str]) -> None:
        rows = self.m.rows_for(state, op.name)
        for name, expr in rows[0].let:
            w.emit(f"{name} = {self.expr(expr, local)}")
            local.add(name)
        self._cached = _cacheable_guards(rows, self.m)
        self._evaluated: set[str] = set()
        i = 0
        while i < len(rows):
            row = rows[i]
            attempt = next((g for g in row.conditions if self.m.guards[g].is_attempt), None)
            plain = [self._guard(g, local) for g in row.conditions if g != attempt]
            if attempt is not None:
                guard = self.m.guards[attempt]
                success = rows[i + 1]
                w.emit(f"if {' and '.join(plain)}:" if plain else "if True:")
                with w.indented():
                    for name, expr in guard.let:
                        w.emit(f"{name} = {self.expr(expr, local)}")
                        local.add(name)
                    w.emit("try:")
                    with w.indented():
                        w.emit(f"{guard.bind} = {self.expr(guard.attempt, local)}")
                    w.emit(f"except {guard.raises}:")
                    with w.indented():
                        self.row_body(w, row, op, set(local))
                    self.row_body(w, success, op, set(local) | {guard.bind})
                i += 2
                continue
            tests = plain + [f"not {self._guard(g, local)}" for g in row.unless]
            if tests:
                w.emit(f"if {' and '.join(tests)}:")
                with w.indented():
                    self.row_body(w, row, op, set(local))
            else:
                self.row_body(w, row, op, set(local))
            i += 1

    def _guard(self, name: str, local: set[str]) -> str:
        expr = f"({self.expr(self.m.guards[name].expr, local)})"
        if name not in self._cached:
            return expr
        # A guard several rows test is evaluated once, where the first of them tests it first.
        if name in self._evaluated:
            return f"_guard_{name}"
        self._evaluated.add(name)
        return f"(_guard_{name} := {expr})"

    def row_body(self, w: _Writer, row: Row, op: Operation, local: set[str], moves: bool = True) -> None:
        moved = row.dest is None or not moves or op.kind == "function"
        for effect in row.effects:
            if not moved and "set" not in effect:
                w.emit(f"self.{self.m.state_attr} = {self._value(row.dest)}")
                moved = True
            self.effect(w, effect, local)
        if not moved:
            w.emit(f"self.{self.m.state_attr} = {self._value(row.dest)}")
        if row.returns is not None:
            w.emit(f"return {self.expr(row.returns, local)}")
        elif row.raises is not None and not self._reads_fields(row.raises, local):
            w.emit(f"raise {self.expr(row.raises, local)}")
        elif row.raises is not None:
            # Raising a stored exception: drop the frame's references once raised. Its
            # traceback keeps this frame alive, and a frame that kept ``self`` would tie
            # the object that stores the exception into a reference cycle.
            w.emit(f"_exc = {self.expr(row.raises, local)}")
            w.try_finally(["raise _exc"], ["del _exc" + (", self" if op.kind != "function" else "")])
        elif row.reraises:
            w.emit("raise")
        elif row.delegates is not None:
            w.emit(f"return self.{row.delegates}()")
        else:
            w.emit("return None")

    def _reads_fields(self, text: str, local: set[str]) -> bool:
        names = {n.id for n in ast.walk(ast.parse(text, mode="eval")) if isinstance(n, ast.Name)}
        return bool((names - local) & set(self.fields))

    def effect(self, w: _Writer, e: dict, local: set[str]) -> None:
        if "set" in e:
            w.emit(f"self.{self.fields[e['set']]} = {self.expr(e['to'], local)}")
        elif "append" in e:
            w.emit(f"self.{self.fields[e['append']]}.append({self.expr(e['item'], local)})")
        elif "keep" in e:
            attr = self.fields[e["keep"]]
            count = e.get("count", "_removed")
            # Filter the list as the operation found it: a predicate that mutates the
            # list (an __eq__ that clears or grows it, gh-125966, gh-126405) can neither
            # make the count negative nor keep the filter running.
            w.emit(f"_items = self.{attr}")
            w.emit("_found = _items[:]")
            w.emit(f"_kept = [item for item in _found if {self.expr(e['where'], local | {'item'})}]")
            w.emit(f"{count} = len(_found) - len(_kept)")
            w.emit(f"if {count} > 0:")
            with w.indented():
                w.emit("_items[:] = _kept")
            w.emit("else:")
            with w.indented():
                w.emit(f"{count} = 0")
            local.add(count)
        elif "for_each" in e:
            attr = self.fields[e["for_each"]]
            exprs = [e["do"]] + ([e["skip"]] if "skip" in e else [])
            indices = _item_indices(exprs)
            target = ", ".join(f"item_{k}" for k in range(max(indices) + 1)) if indices else "item"
            unpacked = bool(indices)
            inner = local | {"item"}
            if e.get("take"):
                w.emit(f"_taken = self.{attr}")
                w.emit("if _taken:")
                with w.indented():
                    w.emit(f"self.{attr} = []")
                    w.emit(f"for {target} in _taken:")
                    with w.indented():
                        self._each(w, e, inner, unpacked)
            else:
                w.emit(f"for {target} in self.{attr}:")
                with w.indented():
                    self._each(w, e, inner, unpacked)
        elif "do" in e:
            w.emit(self.expr(e["do"], local))
        elif "suspend" in e:
            w.emit(f"yield {self.expr(e['suspend'], local)}")
        elif "park" in e:
            attr = self.fields[e["park"]]
            w.emit(f"_waiter = {self.expr(e['waiter'], local)}")
            w.emit(f"self.{attr}.append(_waiter)")
            w.try_finally(["await _waiter"], [f"self.{attr}.remove(_waiter)"])
        else:  # pragma: no cover - the validator rejects unknown verbs
            raise AssertionError(e)

    def _each(self, w: _Writer, e: dict, local: set[str], unpacked: bool) -> None:
        if "skip" in e:
            w.emit(f"if not ({self.expr(e['skip'], local, unpacked)}):")
            with w.indented():
                w.emit(self.expr(e["do"], local, unpacked))
        else:
            w.emit(self.expr(e["do"], local, unpacked))

    # -- construction ---------------------------------------------------------
    def constructor(self) -> str:
        m = self.m
        c = m.constructor
        params = ", ".join(p for p in ("self", c.params if c else "") if p)
        w = _Writer()
        w.emit(f'"""{_docstring(c.doc)}"""' if c and c.doc else "pass")
        local = set(c.param_names) if c else set()
        for name, expr in m.constructor_let:
            w.emit(f"{name} = {self.expr(expr, local)}")
            local.add(name)
        for f in m.fields:
            if f.init is None:
                continue
            line = f"self.{f.attr} = {self.expr(f.init, local)}"
            if f.init_if is not None:
                w.emit(f"if {self.expr(f.init_if, local)}:")
                with w.indented():
                    w.emit(line)
            else:
                w.emit(line)
        w.emit(f"self.{m.state_attr} = {self._value(m.initial)}")
        return _function(f"def __init__({params}):", w)

    def class_source(self) -> str:
        parts = [self.constructor()]
        parts += [self.operation(op) for op in self.m.operations]
        return "\n\n".join(parts) + "\n"


def _cacheable_guards(rows: tuple[Row, ...], m: Machine) -> set[str]:
    """Guards tested by several rows whose first test is a row's first condition (always evaluated)."""
    first_use: dict[str, Row] = {}
    uses: dict[str, int] = {}
    for row in rows:
        for g in row.conditions + row.unless:
            if m.guards[g].is_attempt:
                continue
            uses[g] = uses.get(g, 0) + 1
            first_use.setdefault(g, row)
    return {g for g, n in uses.items()
            if n > 1 and (first_use[g].conditions[:1] == (g,) or
                          (not first_use[g].conditions and first_use[g].unless[:1] == (g,)))}


def _docstring(text: str) -> str:
    return text.replace('"""', "'''").replace("\\", "\\\\")


def _function(header: str, w: _Writer) -> str:
    return header + "\n" + "\n".join(w.lines)


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
    source = compiler.class_source()
    namespace = _exec(source, resolve_namespace(machine), f"{machine.name} class")
    body: dict[str, Any] = {"__module__": module, "__qualname__": name,
                            "__doc__": f"{machine.title}, compiled from its declaration.\n\n{machine.doc}",
                            "__asyncspec_source__": source, "__asyncspec_machine__": machine}
    if machine.uninitialized:
        body[machine.state_attr] = None
    for f in machine.fields:
        if f.default is not None:
            body[f.attr] = eval(f.default, dict(namespace))
    body["__init__"] = namespace["__init__"]
    for op in machine.operations:
        function = namespace[op.name]
        function.__qualname__ = f"{name}.{op.name}"
        function.__module__ = module
        body[op.name] = function
        for alias in op.aliases:
            body[alias] = function
    namespace["__init__"].__qualname__ = f"{name}.__init__"
    namespace["__init__"].__module__ = module
    body.update(extra or {})
    return type(name, bases, body)


def compile_function(machine: Machine, module: str) -> Callable[..., Any]:
    """Return the function a ``function``-kind machine declares."""
    (op,) = machine.operations
    source = Compiler(machine).operation(op) + "\n"
    namespace = _exec(source, resolve_namespace(machine), f"{machine.name} function")
    function = namespace[op.name]
    function.__module__ = module
    function.__asyncspec_source__ = source
    return function
