"""First-order mutants of CPython's own pure-Python Future, Event and ensure_future.

Design: each object under test is a stretch of one standard-library module (a
class, or a few functions). The module is first *prepared* as a standalone copy
that imports from ``asyncio`` instead of ``.`` and, for futures.py, keeps its
pure-Python ``Future`` (the tail that swaps in the C accelerator is cut). The
copy keeps the interpreter's line numbers, so a mutant's line is the line in
the interpreter's own file.

The copy is parsed with libcst, and every node inside the object's code is
offered to two sets of operators, in one walk:

- mutmut 3's node mutation functions (``mutmut.mutation.mutators``), used as
  a library: each takes a node and yields mutated nodes;
- the operators mutmut lacks, defined here: statement deletion, return-None,
  not-insertion and argument drop.

A mutant is one node replaced. Mutants whose code equals the original's, or an
earlier mutant's (compared as ASTs), are dropped; so are mutants that do not
compile or whose module does not import ("stillborn"). A mutant's id is
``OBJECT:LINE:OPERATOR:INDEX``, INDEX counting that operator's mutants on that
line in walk order, so ids are stable from one run to the next on the same
Python version.
"""

from __future__ import annotations

import ast
import difflib
import importlib
import re
import types
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator

import libcst as cst
from libcst.metadata import MetadataWrapper, PositionProvider
from mutmut.mutation.mutators import mutation_operators


@dataclass(frozen=True)
class ObjectUnderTest:
    """The stretch of a standard-library module that one benchmark object mutates."""

    name: str
    module: str
    #: The module-level classes and functions whose code is mutated.
    scope: tuple[str, ...]
    #: What the mutant module exports for the detectors, and the audit's kind.
    attr: str
    kind: str
    #: Cut the module's trailing ``try: import _asyncio`` (it would rebind ``attr`` to the C object).
    cut_accelerator: bool = False


OBJECTS: dict[str, ObjectUnderTest] = {o.name: o for o in (
    # Future's methods call nothing else in futures.py (only base_futures, events, format_helpers).
    ObjectUnderTest("future", "asyncio.futures", ("Future",), "Future", "future", cut_accelerator=True),
    ObjectUnderTest("event", "asyncio.locks", ("Event",), "Event", "event"),
    # _wrap_awaitable is what _ensure_future wraps a non-coroutine awaitable with.
    ObjectUnderTest("ensure_future", "asyncio.tasks", ("ensure_future", "_ensure_future", "_wrap_awaitable"),
                    "ensure_future", "ensure_future"),
)}


@dataclass(frozen=True)
class Mutant:
    """One node of the object's code replaced: a module source that differs from the prepared copy in one place."""

    id: str
    object: str
    line: int
    operator: str
    #: The changed lines, before and after (whole lines, stripped and joined).
    before: str
    after: str
    source: str
    #: Where the original lives, for the description (``futures.py``).
    filename: str

    def describe(self) -> str:
        return f"{self.filename}:{self.line} {self.operator}: `{self.before}` -> `{self.after}`"


@dataclass(frozen=True)
class Stillborn:
    """A mutant left out because its module does not compile or import."""

    id: str
    why: str


@dataclass(frozen=True)
class Mutants:
    """Every first-order mutant of one object, and the prepared copy they differ from."""

    object: ObjectUnderTest
    path: Path
    original: str
    mutants: tuple[Mutant, ...]
    stillborn: tuple[Stillborn, ...]
    #: First and last line of each scope name in the interpreter's file.
    spans: dict[str, tuple[int, int]]


# -- the prepared copy -------------------------------------------------------------

_RELATIVE_IMPORT = re.compile(r"^(\s*)from \.(\w*) import", re.M)
_ACCELERATOR_TAIL = re.compile(r"\ntry:\n    import _asyncio\n(.|\n)*\Z")


def prepare(obj: ObjectUnderTest) -> tuple[Path, str]:
    """Return the module's path and its standalone copy, line for line the same up to any cut tail."""
    path = Path(importlib.import_module(obj.module).__file__ or "")
    source = path.read_text(encoding="utf-8")
    source = _RELATIVE_IMPORT.sub(lambda m: f"{m.group(1)}from asyncio{'.' + m.group(2) if m.group(2) else ''} import",
                                  source)
    if obj.cut_accelerator:
        cut, n = _ACCELERATOR_TAIL.subn("\n", source)
        if n != 1:
            raise RuntimeError(f"{path}: expected one trailing `try: import _asyncio` block to cut, found {n}")
        source = cut
    return path, source


# -- the operators mutmut lacks ------------------------------------------------------

def _pass_line(leading_lines: Iterable[cst.EmptyLine] = ()) -> cst.SimpleStatementLine:
    return cst.SimpleStatementLine(body=[cst.Pass()], leading_lines=tuple(leading_lines))


def _is_docstring(statement: cst.CSTNode) -> bool:
    return (isinstance(statement, cst.SimpleStatementLine) and len(statement.body) == 1
            and isinstance(statement.body[0], cst.Expr) and isinstance(statement.body[0].value, cst.BaseString))


def operator_statement_deletion(node: cst.IndentedBlock) -> Iterator[tuple[cst.CSTNode, cst.CSTNode]]:
    """Replace each statement of a block by ``pass`` (not nested defs, docstrings or ``pass`` itself)."""
    for statement in node.body:
        if isinstance(statement, (cst.FunctionDef, cst.ClassDef)) or _is_docstring(statement):
            continue
        if isinstance(statement, cst.SimpleStatementLine):
            if all(isinstance(s, cst.Pass) for s in statement.body):
                continue
            yield statement, statement.with_changes(body=[cst.Pass()])
        else:
            yield statement, _pass_line(getattr(statement, "leading_lines", ()))


def operator_return_none(node: cst.Return) -> Iterator[cst.CSTNode]:
    """``return x`` -> ``return None``."""
    if node.value is not None and not (isinstance(node.value, cst.Name) and node.value.value == "None"):
        yield node.with_changes(value=cst.Name("None"))


_ATOMS = (cst.Name, cst.Attribute, cst.Call, cst.Subscript)


def operator_not_insertion(node: cst.If | cst.While) -> Iterator[cst.CSTNode]:
    """Negate the condition of an ``if``, ``elif`` or ``while``: ``not (c)``, or ``c`` for ``not c``."""
    test = node.test
    if isinstance(test, cst.UnaryOperation) and isinstance(test.operator, cst.Not):
        yield node.with_changes(test=test.expression)
        return
    if not isinstance(test, _ATOMS) and not test.lpar:
        test = test.with_changes(lpar=[cst.LeftParen()], rpar=[cst.RightParen()])
    yield node.with_changes(test=cst.UnaryOperation(operator=cst.Not(), expression=test))


def operator_argument_drop(node: cst.Call) -> Iterator[cst.CSTNode]:
    """Drop one argument of a call (each in turn)."""
    for i in range(len(node.args)):
        args = [*node.args[:i], *node.args[i + 1:]]
        if args and i == len(node.args) - 1:
            args[-1] = args[-1].with_changes(comma=cst.MaybeSentinel.DEFAULT)
        yield node.with_changes(args=args)


#: (name, node type, function). A function yields mutated nodes, or (node, mutated node) pairs
#: when it mutates a child (statement deletion works on a block's statements).
Operator = tuple[str, type, Callable[[Any], Iterable[Any]]]

OPERATORS: tuple[Operator, ...] = (
    *((fn.__name__.removeprefix("operator_"), node_type, fn) for node_type, fn in mutation_operators),
    ("statement_deletion", cst.IndentedBlock, operator_statement_deletion),
    ("return_none", cst.Return, operator_return_none),
    ("not_insertion", cst.If, operator_not_insertion),
    ("not_insertion", cst.While, operator_not_insertion),
    ("argument_drop", cst.Call, operator_argument_drop),
)


# -- the walk ---------------------------------------------------------------------

@dataclass(frozen=True)
class _Candidate:
    line: int
    operator: str
    #: The scope definition the node is in: a mutant re-renders only that definition.
    definition: cst.ClassDef | cst.FunctionDef
    original: cst.CSTNode
    mutated: cst.CSTNode


class _MutationSites(cst.CSTVisitor):
    """Offer every node under the scope's definitions to every operator, in source order.

    Decorators, annotations and docstrings are not mutated: decorators and
    annotations run when the class is made, and a docstring is not behaviour.
    """

    METADATA_DEPENDENCIES = (PositionProvider,)

    def __init__(self, scope: tuple[str, ...], operators: tuple[Operator, ...]) -> None:
        super().__init__()
        self._scope = scope
        self._operators = operators
        self._inside: cst.ClassDef | cst.FunctionDef | None = None
        self.candidates: list[_Candidate] = []
        self.spans: dict[str, tuple[int, int]] = {}

    def _line(self, node: cst.CSTNode) -> int:
        return self.get_metadata(PositionProvider, node).start.line

    def on_visit(self, node: cst.CSTNode) -> bool:
        if self._inside is None:
            if isinstance(node, cst.Module):
                return True
            if isinstance(node, (cst.ClassDef, cst.FunctionDef)) and node.name.value in self._scope:
                position = self.get_metadata(PositionProvider, node)
                self.spans[node.name.value] = (position.start.line, position.end.line)
                self._inside = node
                return True
            return False
        if isinstance(node, (cst.Decorator, cst.Annotation)) or _is_docstring(node):
            return False
        for name, node_type, fn in self._operators:
            if not isinstance(node, node_type):
                continue
            for made in fn(node):
                original, mutated = made if isinstance(made, tuple) else (node, made)
                self.candidates.append(_Candidate(self._line(original), name, self._inside, original, mutated))
        return True

    def on_leave(self, original_node: cst.CSTNode) -> None:
        if original_node is self._inside:
            self._inside = None


def _changed_lines(original: str, mutated: str) -> tuple[str, str, int]:
    """The one changed stretch of lines, before and after, and how many stretches changed."""
    a, b = original.splitlines(), mutated.splitlines()
    changes = [op for op in difflib.SequenceMatcher(None, a, b, autojunk=False).get_opcodes() if op[0] != "equal"]
    if not changes:
        return "", "", 0
    _, i1, i2, j1, j2 = changes[0]
    return (" / ".join(s.strip() for s in a[i1:i2]), " / ".join(s.strip() for s in b[j1:j2]), len(changes))


def module_name(mutant_id: str) -> str:
    """The importable module name a mutant is written under."""
    return "asyncspec_mutant_" + re.sub(r"\W", "_", mutant_id)


def _imports(source: str, filename: str, name: str) -> str | None:
    """Execute the module's code in a fresh namespace; say why not if that fails."""
    try:
        code = compile(source, filename, "exec")
    except SyntaxError as e:
        return f"does not compile: {e.msg} (line {e.lineno})"
    module = types.ModuleType(name)
    module.__file__ = filename
    try:
        exec(code, module.__dict__)
    except Exception as e:  # a stillborn mutant: any exception at import time
        return f"does not import: {type(e).__name__}: {e}"
    return None


def _shape(text: str) -> str:
    """What a definition does, formatting aside: two mutants with one shape are one mutant."""
    try:
        return ast.dump(ast.parse(text))
    except SyntaxError:
        return text


def generate(obj: ObjectUnderTest, operators: tuple[Operator, ...] = OPERATORS) -> Mutants:
    """Every first-order mutant of ``obj``'s code, in source order, each with its stable id."""
    path, original = prepare(obj)
    wrapper = MetadataWrapper(cst.parse_module(original))
    sites = _MutationSites(obj.scope, operators)
    wrapper.visit(sites)
    missing = set(obj.scope) - set(sites.spans)
    if missing:
        raise RuntimeError(f"{path}: no module-level definition of {sorted(missing)}")
    module = wrapper.module
    # A mutant re-renders only its definition and splices it into the copy: re-rendering the
    # whole module for each one would take most of the generation time.
    where: dict[int, tuple[int, int, str]] = {}
    seen: set[tuple[int, str]] = set()
    for c in sites.candidates:
        if id(c.definition) not in where:
            text = module.code_for_node(c.definition)
            if original.count(text) != 1:
                raise RuntimeError(f"{path}: cannot locate the definition of {c.definition.name.value} in the copy")
            start = original.index(text)
            where[id(c.definition)] = (start, start + len(text), text)
            seen.add((id(c.definition), _shape(text)))
    per_site: dict[tuple[int, str], int] = {}
    mutants: list[Mutant] = []
    stillborn: list[Stillborn] = []
    for c in sites.candidates:
        start, end, text = where[id(c.definition)]
        mutated = module.code_for_node(c.definition.deep_replace(c.original, c.mutated))
        shape = (id(c.definition), _shape(mutated))
        if shape in seen:
            continue
        seen.add(shape)
        index = per_site.get((c.line, c.operator), 0)
        per_site[(c.line, c.operator)] = index + 1
        mutant_id = f"{obj.name}:{c.line}:{c.operator}:{index}"
        source = original[:start] + mutated + original[end:]
        why = _imports(source, str(path), module_name(mutant_id))
        if why:
            stillborn.append(Stillborn(mutant_id, why))
            continue
        before, after, _ = _changed_lines(text, mutated)
        mutants.append(Mutant(mutant_id, obj.name, c.line, c.operator, before, after, source, path.name))
    return Mutants(obj, path, original, tuple(mutants), tuple(stillborn), sites.spans)


def changed_stretches(original: str, mutated: str) -> int:
    """How many separate stretches of lines differ between two sources."""
    return _changed_lines(original, mutated)[2]


def write_module(folder: Path, name: str, source: str) -> str:
    """Write ``source`` as ``folder/name.py``; return the module name."""
    (folder / f"{name}.py").write_text(source, encoding="utf-8")
    return name
