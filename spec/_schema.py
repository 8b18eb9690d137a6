"""The declaration format, its loader and its validator.

A machine is declared as plain data in the ``transitions`` library's format
(``states``, ``initial``, ``transitions`` with ``trigger``/``source``/``dest``/
``conditions``/``unless``), extended with what ``transitions`` lacks:

* ``operations``: every public operation with its signature and kind; a
  query without parameters marked ``probe`` is part of the observable state,
  asked after every step of a lockstep run.
  ``kind`` is one of ``query`` (never changes state), ``command``,
  ``generator`` (its body may ``suspend``), ``coroutine`` (its body may
  ``park``), ``continuation`` (what a suspended operation does when resumed;
  reached only through it), ``finalizer``, ``function`` (a machine over the
  arguments of a module-level function, such as ``ensure_future``),
  ``property`` (an attribute: reading answers its ``field``, assigning runs
  its rows with the value) and ``callback`` (what the object schedules on the
  loop or hands to a future, such as a Task's step and wake-up: run by the
  loop, never called by a user). An operation may carry a ``python`` gate;
  gated out, it and its rows are not there on that version.
* ``fields``: the data a transition may change, with the attribute that holds
  it, its class default and how the constructor initialises it.
* ``guards``: named predicates, Python expressions over the names in scope.
  A guard may instead be an *attempt*: true when evaluating an expression
  raises a given exception; otherwise the value is bound for later rows. An
  attempt's ``let`` bindings are evaluated first, outside the attempt.
* per row outputs: ``returns`` (an expression), ``raises`` (an expression
  giving the exception), ``reraises`` (re-raise what an attempt raised) or
  ``delegates`` (answer as another operation answers now);
* per row ``effects``, each a one-key verb: ``set`` a field, ``append`` to a
  list field, ``keep`` the items of a list field that satisfy a predicate,
  judged on the list as the operation found it (binding the removed count), ``for_each`` item of a list field ``do`` a call
  (``take`` first replaces a non-empty list with a new empty one, so calls
  made meanwhile see it empty), ``do`` a call, ``suspend`` (yield a value
  from a generator) and ``park`` (await a new waiter kept in a list field until
  it completes). A row changes only the fields it names (and the state, when
  ``dest`` is not None), by omission leaving everything else alone. The state
  changes just before the first effect that is not a ``set`` (or after the
  last effect), which is where CPython changes it.
  Any effect may carry ``if`` (it happens only when the expression holds); a
  ``do`` may ``bind`` its value to a name for the later effects, and name a
  ``finally`` call made however it ends; ``check`` raises the given
  exception unless its expression holds.
* ``let`` on a row: names evaluated before its guards (the guards see them).
  A name's value is an expression, or ``{"try": expr, "except": name}``: the
  expression's outcome, as a Task's step resumes its coroutine. The let's own
  name gets the value (None if it raised) and ``except``'s name the exception
  it raised (None if it returned), its traceback starting where it was raised.
* ``unreachable`` on a row: why no public call reaches it (a done Task's
  step). Coverage does not ask for it, the audit reports its clause not
  applicable when it has no other row, and diagrams mark it.
* ``constructor``: its ``params``, ``let`` and, besides the fields' own
  ``init``, ``effects`` run after the fields are set (a Task schedules its
  first step), with ``variants`` gated by Python version.
* ``extends``: ``{"machine": base, "shown_by": {base target: this one}}``.
  The declaration is the base machine's with its own on top (``extended``):
  it keeps the base's states, inherits fields, operations, guards, observed
  facts, namespace and parameters by name, and replaces the base's rows for
  every (state, operation) pair it declares; base clauses and declared
  differences come along as far as their rows remain.
* ``clauses``: the documented sentences, each with a stable ID; every row
  names the clauses it formalizes.
* ``python``: a version gate (``">=3.13"``) on a row, a guard variant, an
  operation (its rows and uninitialized answer go with it), a clause or an
  observed fact.
* ``gated_params`` on an operation: ``{"msg": ">=3.9"}``, parameters a Python
  outside the gate does not take. The model keeps them at their defaults,
  nothing passes them there, and the clauses about them are not applicable.
* ``$name`` in an expression is a profile parameter, declared in
  ``parameters`` with its default; profiles override it.

Expressions see ``self``, the fields (by field name), the operation's
parameters and ``let`` bindings (which shadow fields), ``item`` inside list
verbs, the declared ``namespace`` and the builtins.

``load_machine`` resolves a declaration for one Python version and one set of
parameter values, then validates it: each check is a small function below.
Nothing here names a particular machine, state or trigger.
"""

from __future__ import annotations

import ast
import builtins
import fnmatch
import inspect
import re
import string
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable, Mapping

from ._verbs import OUTPUTS, Delegates, Effect, Output, Reraises, parse_effect, parse_output
from .errors import InvalidSpec

#: Keys of a transition dict that ``transitions.Machine`` understands.
STATE_PART_KEYS = ("trigger", "source", "dest", "conditions", "unless")
ROW_KEYS = STATE_PART_KEYS + tuple(OUTPUTS) + ("effects", "clauses", "python", "let", "unreachable")
OPERATION_KEYS = ("kind", "params", "doc", "aliases", "probe", "field", "python", "gated_params")
CONSTRUCTOR_KEYS = ("params", "let", "effects", "doc", "variants")
#: A ``property`` is an attribute: reading it answers its ``field``, assigning it runs its rows with the value.
#: A ``callback`` is what the object schedules on its loop (a Task's step): the loop runs it, never a caller.
OPERATION_KINDS = ("query", "command", "generator", "coroutine", "finalizer", "function", "continuation",
                   "property", "callback")
CLAUSE_SOURCES = ("seed", "cpython-docs", "cpython-source", "cpython-behaviour")
OTHERWISE = "otherwise"


# --------------------------------------------------------------------------
# The resolved form
# --------------------------------------------------------------------------

@dataclass(frozen=True)
class Clause:
    id: str
    source: str
    quote: str
    section: str = ""
    cite: str = ""
    note: str = ""
    rows: tuple[str, ...] = ()


@dataclass(frozen=True)
class Let:
    """A name bound before a decision's guards: to ``expr``'s value, or, with ``error``, to its outcome.

    With ``error``, ``name`` gets the value (None if evaluating ``expr`` raised)
    and ``error`` the exception it raised (None if it returned), with its
    traceback starting where it was raised: not in the frame that evaluated it.
    """

    name: str
    expr: str
    error: str = ""

    @property
    def names(self) -> tuple[str, ...]:
        return (self.name, self.error) if self.error else (self.name,)


def parse_lets(raw: Any, sub: Callable[[str], str], where: str) -> tuple[Let, ...]:
    """A declaration's ``let``: each name to an expression, or to ``{"try": expr, "except": name}``."""
    if not isinstance(raw, dict):
        raise InvalidSpec(where, "'let': a dict of names", raw)
    lets = []
    for name, value in raw.items():
        if isinstance(value, str):
            lets.append(Let(name, sub(value)))
        elif isinstance(value, dict) and set(value) == {"try", "except"} and isinstance(value["except"], str):
            lets.append(Let(name, sub(value["try"]), value["except"]))
        else:
            raise InvalidSpec(f"{where} let {name!r}", "an expression, or {'try': expression, 'except': name}",
                              value)
    return tuple(lets)


@dataclass(frozen=True)
class Guard:
    name: str
    expr: str = ""
    doc: str = ""
    attempt: str = ""
    raises: str = ""
    bind: str = ""
    let: tuple[Let, ...] = ()

    @property
    def is_attempt(self) -> bool:
        return bool(self.attempt)


@dataclass(frozen=True)
class Operation:
    name: str
    params: str
    kind: str
    doc: str = ""
    aliases: tuple[str, ...] = ()
    #: A query without parameters whose answer is part of the observable state.
    probe: bool = False
    #: The signature without ``self``: the one reading of ``params``.
    signature: inspect.Signature = field(default_factory=inspect.Signature, compare=False)
    #: A ``property``: the field reading the attribute answers.
    field: str = ""
    #: Parameters this Python's operation does not take yet (``gated_params``): the model keeps them at
    #: their defaults, nothing passes them, and the clauses about them are not applicable here.
    not_yet: frozenset[str] = frozenset()

    @property
    def param_names(self) -> tuple[str, ...]:
        return tuple(self.signature.parameters)


@dataclass(frozen=True)
class DeclaredDifference:
    """A behaviour some implementation shows instead of a row's, recorded with its evidence.

    Where one of ``rows`` fires, an implementation may answer as ``instead``
    says rather than as the row says: ``raises`` an exception of that type
    (whose message matches the ``message`` pattern, when one is given),
    ``returns`` where the row raises, hands the loop a ``context`` of
    ``"none"`` where the row hands it a copy of the context current at the
    call, or ``any`` way at all. ``then`` says what follows: ``compare``
    (the rest of the run is compared as usual), ``drop-object`` (the object is
    compared no more) or ``drop-target`` (the implementation is compared no
    more in this run). ``shown_by`` names who shows it, for the reader: the
    comparison accepts the behaviour from any implementation. A ``python``
    gate keeps a difference to the versions that show it.
    """

    id: str
    rows: tuple[str, ...]
    instead: Mapping[str, Any]
    evidence: str
    then: str = "compare"
    shown_by: tuple[str, ...] = ()

    @property
    def message(self) -> str | None:
        return self.instead.get("message")


DIFFERENCE_KEYS = ("id", "rows", "instead", "then", "evidence", "shown_by", "python")
INSTEAD_KEYS = ("raises", "message", "returns", "context", "any")
THEN = ("compare", "drop-object", "drop-target")


@dataclass(frozen=True)
class Field:
    name: str
    attr: str
    default: str | None = None
    init: str | None = None
    init_if: str | None = None
    doc: str = ""


@dataclass(frozen=True)
class Row:
    """One transition: an operation in a state, under guards, with its output."""

    id: str
    trigger: str
    source: str
    dest: str | None
    conditions: tuple[str, ...] = ()
    unless: tuple[str, ...] = ()
    effects: tuple[Effect, ...] = ()
    let: tuple[Let, ...] = ()
    output: Output | None = None
    clauses: tuple[str, ...] = ()
    #: Why no public use of the object reaches the row ("" for a row that is reachable): it is
    #: declared for completeness, and coverage does not ask for it.
    unreachable: str = ""

    @property
    def guarded(self) -> bool:
        return bool(self.conditions or self.unless)

    @property
    def internal(self) -> bool:
        return self.dest is None

    @property
    def guard_label(self) -> str:
        parts = list(self.conditions) + [f"not {g}" for g in self.unless]
        return " and ".join(parts)

    @property
    def output_label(self) -> str:
        return self.output.label() if self.output is not None else ""


@dataclass(frozen=True)
class State:
    name: str
    value: Any
    final: bool = False
    doc: str = ""


@dataclass(frozen=True)
class Observed:
    """A fact observed on every initialized object after every step, outside the operations.

    ``expr`` is what the engine evaluates on an implementation's object
    (``self``), with the machine's namespace; ``row`` says what the spec
    answers (its output), with the clauses it formalizes. Its id is
    ``<observed>.NAME``.
    """

    name: str
    expr: str
    row: Row
    doc: str = ""


OBSERVED_KEYS = ("expr", "returns", "clauses", "doc", "python")


@dataclass(frozen=True)
class Machine:
    name: str
    title: str
    states: tuple[State, ...]
    initial: str
    state_attr: str
    fields: tuple[Field, ...]
    operations: tuple[Operation, ...]
    guards: Mapping[str, Guard]
    rows: tuple[Row, ...]
    clauses: tuple[Clause, ...]
    namespace: Mapping[str, str]
    parameters: Mapping[str, str]
    constructor: Operation | None = None
    constructor_let: tuple[Let, ...] = ()
    #: What the constructor does once the fields are initialised and the state is the initial one.
    constructor_effects: tuple[Effect, ...] = ()
    uninitialized: Mapping[str, Row] = field(default_factory=dict)
    compose: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    differences: tuple[DeclaredDifference, ...] = ()
    #: Facts observed after every step (``observed``), and class attributes set as declared.
    observed: tuple[Observed, ...] = ()
    class_attributes: tuple[tuple[str, str], ...] = ()
    doc: str = ""
    python: tuple[int, int] = (3, 11)
    raw: Mapping[str, Any] = field(default_factory=dict, repr=False, compare=False)
    #: The declaration's transition dicts that apply to this Python, aligned with ``rows``.
    active: tuple[Mapping[str, Any], ...] = field(default=(), repr=False, compare=False)

    # -- lookups -----------------------------------------------------------
    def state(self, name: str) -> State:
        for s in self.states:
            if s.name == name:
                return s
        raise KeyError(name)

    def operation(self, name: str) -> Operation:
        for op in self.operations:
            if op.name == name:
                return op
        raise KeyError(name)

    def field(self, name: str) -> Field:
        for f in self.fields:
            if f.name == name:
                return f
        raise KeyError(name)

    def rows_for(self, state: str, trigger: str) -> tuple[Row, ...]:
        return tuple(r for r in self.rows if r.source == state and r.trigger == trigger)

    def row(self, row_id: str) -> Row:
        for r in self.rows:
            if r.id == row_id:
                return r
        raise KeyError(row_id)

    @property
    def final_states(self) -> tuple[str, ...]:
        return tuple(s.name for s in self.states if s.final)

    def clause(self, clause_id: str) -> Clause:
        for c in self.clauses:
            if c.id == clause_id:
                return c
        raise KeyError(clause_id)

    def formalized_by(self, clause_id: str) -> tuple[Row, ...]:
        """Return the rows that formalize a clause: those naming it and those it names."""
        patterns = self.clause(clause_id).rows
        return tuple(
            r for r in self.all_rows
            if clause_id in r.clauses or any(row_matches(r.id, p) for p in patterns)
        )

    @property
    def all_rows(self) -> tuple[Row, ...]:
        return self.rows + tuple(self.uninitialized.values()) + tuple(o.row for o in self.observed)

    def state_part(self) -> dict[str, Any]:
        """Return the part of the declaration that ``transitions.Machine`` loads.

        The values are the declaration's own, unchanged; only the extension keys
        and the rows gated out for this Python are left out.
        """
        return state_part({**self.raw, "transitions": self.active})


def row_matches(row: str, pattern: str) -> bool:
    """Match a row ID against a pattern: ``*`` is a wildcard, brackets are literal."""
    if "*" not in pattern:
        return row == pattern
    return fnmatch.fnmatchcase(row, pattern.replace("[", "[[]"))


def state_part(raw: Mapping[str, Any]) -> dict[str, Any]:
    """Return ``states``, ``initial`` and ``transitions`` in the ``transitions`` library's format."""
    # Copies with the same contents: transitions.Machine writes defaults into the dicts it is given.
    return {
        "states": [dict(s) if isinstance(s, Mapping) else s for s in raw["states"]],
        "initial": raw["initial"],
        "transitions": [
            {k: t[k] for k in STATE_PART_KEYS if k in t} for t in raw["transitions"]
        ],
    }


# --------------------------------------------------------------------------
# Loading
# --------------------------------------------------------------------------

_GATE = re.compile(r"^(>=|<=|==|<|>)\s*(\d+)\.(\d+)$")


def version_matches(gate: str | None, python: tuple[int, int], where: str) -> bool:
    if gate is None:
        return True
    found = _GATE.match(gate.strip())
    if not found:
        raise InvalidSpec(where, "a version gate such as '>=3.13'", gate)
    op, major, minor = found.group(1), int(found.group(2)), int(found.group(3))
    target = (major, minor)
    return {
        ">=": python >= target, "<=": python <= target, "==": python == target,
        "<": python < target, ">": python > target,
    }[op]


def signature_of(params: str, where: str) -> inspect.Signature:
    """Read a declared parameter list, once: the one parser of ``params``.

    Defaults must be literals, so that the signature needs no evaluation.
    """
    try:
        fn = ast.parse(f"def f({params}): pass").body[0]
    except SyntaxError:
        raise InvalidSpec(where, "a Python parameter list in 'params'", params) from None
    assert isinstance(fn, ast.FunctionDef)
    a = fn.args
    P = inspect.Parameter

    def literal(node: ast.expr | None) -> Any:
        if node is None:
            return P.empty
        try:
            return ast.literal_eval(node)
        except ValueError:
            raise InvalidSpec(where, "literal defaults in 'params'", ast.unparse(node)) from None

    positional = a.posonlyargs + a.args
    defaults = [None] * (len(positional) - len(a.defaults)) + list(a.defaults)
    out = [P(x.arg, P.POSITIONAL_ONLY if x in a.posonlyargs else P.POSITIONAL_OR_KEYWORD, default=literal(d))
           for x, d in zip(positional, defaults)]
    if a.vararg:
        out.append(P(a.vararg.arg, P.VAR_POSITIONAL))
    out += [P(x.arg, P.KEYWORD_ONLY, default=literal(d)) for x, d in zip(a.kwonlyargs, a.kw_defaults)]
    if a.kwarg:
        out.append(P(a.kwarg.arg, P.VAR_KEYWORD))
    return inspect.Signature(out)


def row_id(t: Mapping[str, Any], siblings: int) -> str:
    base = f"{t['source']}.{t['trigger']}"
    if siblings == 1:
        return base
    guards = list(t.get("conditions", ())) + [f"!{g}" for g in t.get("unless", ())]
    return f"{base}[{'&'.join(guards) or OTHERWISE}]"


class _Params(string.Template):
    idpattern = r"[a-z_][a-z0-9_]*"


def substitute(expr: str | None, parameters: Mapping[str, str], where: str) -> str | None:
    if expr is None:
        return None
    try:
        return _Params(expr).substitute(parameters)
    except KeyError as missing:
        raise InvalidSpec(
            where, f"a declared parameter (one of {sorted(parameters)})", f"${missing.args[0]}",
            "Declare it under 'parameters' or fix the name.",
        ) from None
    except ValueError:
        raise InvalidSpec(where, "'$' only before a parameter name", expr) from None


def _as_tuple(value: Any, where: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        return (value,)
    if isinstance(value, (list, tuple)) and all(isinstance(v, str) for v in value):
        return tuple(value)
    raise InvalidSpec(where, "a name or a list of names", value)


def _constructor_for(c: Any, python: tuple[int, int], where: str) -> Mapping[str, Any]:
    """The constructor's declaration for ``python``: its keys, overlaid by the one variant gated for it, if any."""
    if not isinstance(c, Mapping):
        raise InvalidSpec(where, "a dict", c)
    unknown = sorted(set(c) - set(CONSTRUCTOR_KEYS))
    if unknown:
        raise InvalidSpec(where, f"only the keys {CONSTRUCTOR_KEYS}", unknown)
    chosen = [v for v in c.get("variants", ()) if version_matches(v.get("python"), python, where)]
    if len(chosen) > 1:
        raise InvalidSpec(where, f"at most one variant for Python {python[0]}.{python[1]}",
                          [v.get("python") for v in chosen])
    return {**c, **{k: v for k, v in (chosen[0] if chosen else {}).items() if k != "python"}}


#: What an extending declaration inherits from the one it extends, merged by name; the rest is its own.
_INHERITED_BY_NAME = ("namespace", "parameters", "fields", "operations", "guards", "observed", "class_attributes")


def extended(raw: Mapping[str, Any], declarations: Mapping[str, Mapping[str, Any]]) -> Mapping[str, Any]:
    """A declaration with ``extends`` resolved: the base machine's, with the extension's own on top.

    The extension keeps the base's states, and inherits its fields, operations,
    guards, observed facts, namespace and parameters, each overridden by name.
    Its rows replace the base's for every (source, trigger) pair it declares a
    row for, in any Python version; the base's other rows stay. The base's
    clauses come along as far as a row, an observed fact or a parameter still
    names them; its declared differences as far as their rows remain, with
    ``shown_by`` renamed as ``extends.shown_by`` maps it. The constructor, the
    answers of an uninitialized object and the composed machines are the
    extension's own.
    """
    spec = raw.get("extends")
    if spec is None:
        return raw
    where = f"{raw.get('name')}: extends"
    if not isinstance(spec, Mapping) or spec.get("machine") not in declarations:
        raise InvalidSpec(where, f"{{'machine': one of {sorted(declarations)}, 'shown_by': {{...}}}}", spec)
    base = extended(declarations[spec["machine"]], declarations)
    out: dict[str, Any] = {k: v for k, v in base.items() if k not in ("uninitialized", "compose", "differences")}
    out.update({k: v for k, v in raw.items() if k != "extends"})
    for key in _INHERITED_BY_NAME:
        out[key] = {**base.get(key, {}), **raw.get(key, {})}
    out["states"] = raw.get("states", base["states"])
    out["state_docs"] = {**base.get("state_docs", {}), **raw.get("state_docs", {})}
    replaced = {(t["source"], t["trigger"]) for t in raw.get("transitions", ())}
    out["transitions"] = [t for t in base["transitions"] if (t["source"], t["trigger"]) not in replaced] + \
        list(raw.get("transitions", ()))
    named = {c for t in out["transitions"] for c in t.get("clauses", ())}
    named |= {c for o in out["observed"].values() for c in o.get("clauses", ())}
    named |= {c for p in out["parameters"].values() for c in p.get("clauses", ())}
    own = {c["id"] for c in raw.get("clauses", ())}
    gone = {f"{s}.{t}" for s, t in replaced}

    def inherited(pattern: str) -> bool:
        """A base row pattern that still names a base row (not one the extension replaced)."""
        return pattern.split("[")[0] not in gone
    out["clauses"] = [{**c, "rows": [p for p in c.get("rows", ()) if inherited(p)]}
                      for c in base["clauses"] if c["id"] in named and c["id"] not in own] + \
        list(raw.get("clauses", ()))
    renamed = spec.get("shown_by", {})
    kept = []
    for d in base.get("differences", ()):
        rows = [r for r in d["rows"] if inherited(r) and not r.startswith("<uninitialized>")]
        if rows:
            kept.append({**d, "rows": rows, "shown_by": [renamed.get(x, x) for x in d.get("shown_by", ())]})
    out["differences"] = kept + list(raw.get("differences", ()))
    return out


def load_machine(
    raw: Mapping[str, Any],
    python: tuple[int, int],
    overrides: Mapping[str, str] | None = None,
    seed_texts: Iterable[str] | None = None,
) -> Machine:
    """Resolve one declaration for a Python version and parameter values, and validate it."""
    name = raw.get("name")
    if not isinstance(name, str) or not name:
        raise InvalidSpec("machine", "a 'name' string", name)
    for key in ("states", "initial", "transitions", "operations", "clauses"):
        if key not in raw:
            raise InvalidSpec(f"{name}", f"the key {key!r}", sorted(raw))

    declared_parameters = raw.get("parameters", {})
    parameters = {k: v["default"] for k, v in declared_parameters.items()}
    for key, value in (overrides or {}).items():
        if key not in parameters:
            raise InvalidSpec(
                f"{name}: profile parameter", f"one of {sorted(parameters)}", key,
            )
        parameters[key] = value

    state_attr = raw.get("state_attr", "state")
    values = raw.get("state_values", {})
    states = []
    for s in raw["states"]:
        if isinstance(s, str):
            s = {"name": s}
        if not isinstance(s, Mapping) or "name" not in s:
            raise InvalidSpec(f"{name}: state", "a name or a dict with 'name'", s)
        states.append(State(s["name"], values.get(s["name"], s["name"]), bool(s.get("final")),
                            raw.get("state_docs", {}).get(s["name"], "")))

    operations = []
    for op_name, op in raw["operations"].items():
        where = f"{name}: operation {op_name!r}"
        unknown = sorted(set(op) - set(OPERATION_KEYS))
        if unknown:
            raise InvalidSpec(where, f"only the keys {OPERATION_KEYS}", unknown)
        if not version_matches(op.get("python"), python, where):
            continue
        kind = op.get("kind", "command")
        if kind not in OPERATION_KINDS:
            raise InvalidSpec(where, f"a kind in {OPERATION_KINDS}", kind)
        params = op.get("params", "")
        probe = op.get("probe", False)
        if probe not in (True, False) or (probe and (kind != "query" or params)):
            raise InvalidSpec(where, "'probe' only on a query without parameters", {"kind": kind, "params": params})
        signature = signature_of(params, where)
        if (kind == "property") != bool(op.get("field")) or (kind == "property" and len(signature.parameters) != 1):
            raise InvalidSpec(where, "a 'field' and one parameter (the value assigned) exactly on a property",
                              {"kind": kind, "field": op.get("field"), "params": params})
        gated = op.get("gated_params", {})
        if not isinstance(gated, Mapping) or set(gated) - set(signature.parameters):
            raise InvalidSpec(where, "'gated_params': a dict of the operation's parameters and version gates", gated)
        not_yet = frozenset(p for p, gate in gated.items() if not version_matches(gate, python, where))
        operations.append(Operation(op_name, params, kind, op.get("doc", ""),
                                    tuple(op.get("aliases", ())), probe, signature, op.get("field", ""), not_yet))

    constructor = None
    constructor_let: tuple[Let, ...] = ()
    constructor_effects: tuple[Effect, ...] = ()
    if "constructor" in raw:
        where = f"{name}: constructor"
        c = _constructor_for(raw["constructor"], python, where)
        params = c.get("params", "")
        constructor = Operation("__init__", params, "command", c.get("doc", ""),
                                signature=signature_of(params, where))
        def sub(expr: str) -> str:
            return substitute(expr, parameters, where) or ""

        constructor_let = parse_lets(c.get("let", {}), sub, where)
        constructor_effects = tuple(parse_effect(e, sub, where) for e in c.get("effects", ()))

    fields = tuple(
        Field(f_name, f.get("attr", f"_{f_name}"), f.get("default"), f.get("init"),
              f.get("init_if"), f.get("doc", ""))
        for f_name, f in raw.get("fields", {}).items()
    )

    guards: dict[str, Guard] = {}
    for g_name, g in raw.get("guards", {}).items():
        where = f"{name}: guard {g_name!r}"
        variants = g.get("variants", [g])
        chosen = [v for v in variants if version_matches(v.get("python"), python, where)]
        if len(chosen) != 1:
            raise InvalidSpec(where, f"exactly one variant for Python {python[0]}.{python[1]}",
                              [v.get("python") for v in chosen])
        v = chosen[0]
        guards[g_name] = Guard(
            g_name, substitute(v.get("expr", ""), parameters, where) or "", g.get("doc", ""),
            substitute(v.get("attempt", ""), parameters, where) or "", v.get("raises", ""),
            v.get("bind", ""),
            parse_lets(v.get("let", {}), lambda x: substitute(x, parameters, where) or "", where),
        )

    # A row of an operation this Python does not have is not there either.
    gated_out = set(raw["operations"]) - {op.name for op in operations}
    active = [
        t for i, t in enumerate(raw["transitions"])
        if version_matches(t.get("python"), python, f"{name}: transition #{i}") and t.get("trigger") not in gated_out
    ]
    group_sizes: dict[tuple[str, str], int] = {}
    for t in active:
        for key in ("trigger", "source"):
            if not isinstance(t.get(key), str):
                raise InvalidSpec(f"{name}: transition {t!r}", f"a string {key!r}", t.get(key))
        group_sizes[(t["source"], t["trigger"])] = group_sizes.get((t["source"], t["trigger"]), 0) + 1
    rows = tuple(_load_row(name, t, group_sizes, parameters) for t in active)

    clauses = []
    for c in raw["clauses"]:
        where = f"{name}: clause {c.get('id')!r}"
        if not c.get("id") or not c.get("quote"):
            raise InvalidSpec(where, "an 'id' and a 'quote'", c)
        if c.get("source") not in CLAUSE_SOURCES:
            raise InvalidSpec(where, f"a source in {CLAUSE_SOURCES}", c.get("source"))
        if not version_matches(c.get("python"), python, where):
            continue
        clauses.append(Clause(c["id"], c["source"], c["quote"], c.get("section", ""),
                              c.get("cite", ""), c.get("note", ""),
                              _as_tuple(c.get("rows"), where + " rows")))

    uninitialized = {}
    for op_name, out in raw.get("uninitialized", {}).items():
        if op_name in gated_out:
            continue
        t = dict(out, trigger=op_name, source="<uninitialized>", dest=None)
        uninitialized[op_name] = _load_row(name, t, {}, parameters, "<uninitialized>." + op_name)

    # (What is not a dict is gated in, for _load_difference to refuse.)
    differences = tuple(_load_difference(name, d) for d in raw.get("differences", ())
                        if not isinstance(d, Mapping)
                        or version_matches(d.get("python"), python, f"{name}: difference {d.get('id')!r}"))
    observed = tuple(_load_observed(name, o_name, o, parameters) for o_name, o in raw.get("observed", {}).items()
                     if version_matches(o.get("python"), python, f"{name}: observed {o_name!r}"))
    class_attributes = tuple((attr, _class_attribute(name, attr, expr))
                             for attr, expr in raw.get("class_attributes", {}).items())

    machine = Machine(
        name=name, title=raw.get("title", name), states=tuple(states), initial=raw["initial"],
        state_attr=state_attr, fields=fields, operations=tuple(operations), guards=guards,
        rows=rows, clauses=tuple(clauses), namespace=dict(raw.get("namespace", {})),
        parameters=parameters, constructor=constructor, constructor_let=constructor_let,
        constructor_effects=constructor_effects,
        uninitialized=uninitialized, compose=dict(raw.get("compose", {})), differences=differences,
        observed=observed, class_attributes=class_attributes,
        doc=raw.get("doc", ""), python=python, raw=raw, active=tuple(active),
    )
    validate(machine, seed_texts)
    return machine


def _load_difference(machine: str, d: Any) -> DeclaredDifference:
    where = f"{machine}: difference {d.get('id') if isinstance(d, Mapping) else d!r}"
    if not isinstance(d, Mapping):
        raise InvalidSpec(where, "a dict", d)
    unknown = sorted(set(d) - set(DIFFERENCE_KEYS))
    if unknown:
        raise InvalidSpec(where, f"only the keys {DIFFERENCE_KEYS}", unknown)
    if not d.get("id") or not d.get("evidence") or not d.get("rows"):
        raise InvalidSpec(where, "an 'id', the 'rows' and the 'evidence'", dict(d))
    instead = d.get("instead")
    if not isinstance(instead, Mapping) or not instead or set(instead) - set(INSTEAD_KEYS):
        raise InvalidSpec(where, f"'instead': a dict of {INSTEAD_KEYS}", instead)
    if "message" in instead:
        try:
            re.compile(instead["message"])
        except (re.error, TypeError):
            raise InvalidSpec(where, "'message': a regular expression", instead["message"]) from None
    if instead.get("context", "none") != "none":
        raise InvalidSpec(where, "'context': 'none'", instead["context"])
    then = d.get("then", "compare")
    if then not in THEN:
        raise InvalidSpec(where, f"'then' one of {THEN}", then)
    return DeclaredDifference(d["id"], _as_tuple(d["rows"], where), dict(instead), d["evidence"], then,
                              _as_tuple(d.get("shown_by"), where))


def _load_observed(machine: str, name: str, o: Any, parameters: Mapping[str, str]) -> Observed:
    where = f"{machine}: observed {name!r}"
    if not isinstance(o, Mapping) or set(o) - set(OBSERVED_KEYS) or not o.get("expr") or "returns" not in o:
        raise InvalidSpec(where, f"a dict with 'expr' and 'returns' (keys {OBSERVED_KEYS})", o)
    _expression(where, o["expr"])
    t = {"trigger": name, "source": "<observed>", "dest": None, "returns": o["returns"],
         "clauses": o.get("clauses")}
    return Observed(name, o["expr"], _load_row(machine, t, {}, parameters, f"<observed>.{name}"), o.get("doc", ""))


def _class_attribute(machine: str, attr: str, expr: Any) -> str:
    where = f"{machine}: class attribute {attr!r}"
    if not isinstance(expr, str):
        raise InvalidSpec(where, "an expression string", expr)
    _expression(where, expr)
    return expr


def _expression(where: str, text: str) -> None:
    try:
        ast.parse(text, mode="eval")
    except SyntaxError:
        raise InvalidSpec(where, "a Python expression", text) from None


def _load_row(machine: str, t: Mapping[str, Any], group_sizes: Mapping, parameters: Mapping[str, str],
              rid: str | None = None) -> Row:
    rid = rid or row_id(t, group_sizes.get((t["source"], t["trigger"]), 1))
    where = f"{machine}: row {rid!r}"
    unknown = set(t) - set(ROW_KEYS)
    if unknown:
        raise InvalidSpec(where, f"only the keys {ROW_KEYS}", sorted(unknown))

    def sub(expr: str) -> str:
        return substitute(expr, parameters, where) or ""

    let = t.get("let", {})
    return Row(
        id=rid, trigger=t["trigger"], source=t["source"], dest=t.get("dest"),
        conditions=_as_tuple(t.get("conditions"), where + " conditions"),
        unless=_as_tuple(t.get("unless"), where + " unless"),
        effects=tuple(parse_effect(e, sub, where) for e in t.get("effects", ())),
        let=parse_lets(let, sub, where),
        output=parse_output(t, sub, where),
        clauses=_as_tuple(t.get("clauses"), where + " clauses"),
        unreachable=t.get("unreachable", ""),
    )


# --------------------------------------------------------------------------
# Validation: one small function per check, each naming what it rejects
# --------------------------------------------------------------------------

def check_one_initial_state(m: Machine) -> None:
    names = [s.name for s in m.states]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise InvalidSpec(f"{m.name}: states", "unique state names", duplicates)
    if not isinstance(m.initial, str) or m.initial not in names:
        raise InvalidSpec(f"{m.name}: initial", f"exactly one initial state, one of {names}",
                          m.initial, "Set 'initial' to the name of a declared state.")
    if m.state(m.initial).final:
        raise InvalidSpec(f"{m.name}: initial", "a non-final initial state", m.initial)


def check_names_resolve(m: Machine) -> None:
    states = {s.name for s in m.states}
    ops = {o.name for o in m.operations}
    clause_ids = {c.id for c in m.clauses}
    for r in m.rows:
        where = f"{m.name}: row {r.id!r}"
        if r.source not in states:
            raise InvalidSpec(where, f"a source state in {sorted(states)}", r.source)
        if r.dest is not None and r.dest not in states:
            raise InvalidSpec(where, f"a dest state in {sorted(states)} or None", r.dest,
                              "Fix the 'dest' of that row.")
        if r.trigger not in ops:
            raise InvalidSpec(where, f"a trigger declared under 'operations' ({sorted(ops)})",
                              r.trigger)
        for g in r.conditions + r.unless:
            if g not in m.guards:
                raise InvalidSpec(where, f"a guard declared under 'guards' ({sorted(m.guards)})", g)
        if isinstance(r.output, Delegates) and r.output.operation not in ops:
            raise InvalidSpec(where, f"'delegates' naming an operation in {sorted(ops)}", r.output.operation)
        if not r.clauses:
            raise InvalidSpec(where, "at least one clause it formalizes", r.clauses)
        for c in r.clauses:
            if c not in clause_ids:
                raise InvalidSpec(where, "clause IDs declared under 'clauses'", c)
    for o in m.observed:
        if not o.row.clauses or set(o.row.clauses) - clause_ids:
            raise InvalidSpec(f"{m.name}: observed {o.name!r}", "clause IDs declared under 'clauses'",
                              list(o.row.clauses))
    attrs = {f.name: f.attr for f in m.fields}
    for op in m.operations:
        if op.field and op.field not in attrs:
            raise InvalidSpec(f"{m.name}: operation {op.name!r}", "a declared field", op.field)
        if op.field and attrs[op.field] == op.name:
            raise InvalidSpec(f"{m.name}: operation {op.name!r}", "a field stored under another attribute "
                              "than the property's own name", attrs[op.field])
    for p, decl in m.raw.get("parameters", {}).items():
        for c in decl.get("clauses", ()):
            if c not in clause_ids:
                raise InvalidSpec(f"{m.name}: parameter {p!r}", "clause IDs declared under 'clauses'", c)
    for field_name, spec in m.raw.get("fields", {}).items():
        if not isinstance(spec, Mapping):
            raise InvalidSpec(f"{m.name}: field {field_name!r}", "a dict", spec)
    for target, spec in m.compose.items():
        if spec.get("field") not in {f.name for f in m.fields}:
            raise InvalidSpec(f"{m.name}: compose {target!r}", "a declared list field", spec.get("field"))
        unknown = sorted(set(spec) - {"field", "machine", "states", "driven_by", "clauses"})
        if unknown:
            raise InvalidSpec(f"{m.name}: compose {target!r}",
                              "only the keys field, machine, states, driven_by, clauses", unknown)


def check_finals_have_no_exits(m: Machine) -> None:
    for r in m.rows:
        if m.state(r.source).final and r.dest is not None and r.dest != r.source:
            raise InvalidSpec(
                f"{m.name}: row {r.id!r}", f"no exit from final state {r.source!r}",
                f"dest={r.dest!r}", "A final state only answers; make the row internal (dest None).",
            )


def check_every_state_reachable(m: Machine) -> None:
    reached = {m.initial}
    frontier = [m.initial]
    while frontier:
        here = frontier.pop()
        for r in m.rows:
            if r.source == here and r.dest is not None and r.dest not in reached:
                reached.add(r.dest)
                frontier.append(r.dest)
    unreachable = [s.name for s in m.states if s.name not in reached]
    if unreachable:
        raise InvalidSpec(f"{m.name}: states", f"every state reachable from {m.initial!r}",
                          unreachable, "Add a transition into it or remove it.")


def check_each_pair_defined_once(m: Machine) -> None:
    """Each (state, operation) is one complete decision: guarded rows, then one fallback."""
    for s in m.states:
        for op in m.operations:
            rows = m.rows_for(s.name, op.name)
            where = f"{m.name}: ({s.name}, {op.name})"
            if op.kind == "function" and s.final:
                # A function's final states are its outcomes: nothing is called in them.
                if rows:
                    raise InvalidSpec(where, "no row from an outcome state of a function", rows[0].id)
                continue
            if not rows:
                raise InvalidSpec(where, "a row for every (state, operation) pair", "none",
                                  "Declare what the operation does in that state.")
            fallbacks = [r for r in rows if not r.guarded]
            if len(fallbacks) != 1 or rows[-1].guarded:
                raise InvalidSpec(where, "exactly one unguarded row, placed last",
                                  [r.id for r in fallbacks] or "none")
            if len({r.let for r in rows}) > 1:
                raise InvalidSpec(where, "the same 'let' on every row (it is evaluated before the guards)",
                                  [r.let for r in rows])
            seen = set()
            for r in rows:
                key = (frozenset(r.conditions), frozenset(r.unless))
                if key in seen:
                    raise InvalidSpec(where, "distinct guards on each row", r.id)
                seen.add(key)
            if op.kind in ("query", "continuation") and any(r.dest is not None for r in rows):
                raise InvalidSpec(where, "a query operation to change no state", [r.dest for r in rows])
    for op_name, row in m.uninitialized.items():
        if op_name not in {o.name for o in m.operations}:
            raise InvalidSpec(f"{m.name}: uninitialized", "declared operations", op_name)
    if m.uninitialized:
        # A continuation runs only after its operation suspended, which an uninitialized object never does.
        # A property does not read the state: CPython's futures answer it alike, initialized or not.
        missing = [o.name for o in m.operations if o.name not in m.uninitialized
                   and o.kind not in ("continuation", "property")]
        if missing:
            raise InvalidSpec(f"{m.name}: uninitialized", "an answer for every operation", f"missing {missing}")


def check_outputs(m: Machine) -> None:
    for r in list(m.rows) + list(m.uninitialized.values()):
        where = f"{m.name}: row {r.id!r}"
        op = m.operation(r.trigger)
        if r.output is None and op.kind in ("query", "function", "continuation"):
            raise InvalidSpec(where, f"an output ('returns', 'raises', ...) for a {op.kind}", "none")
        attempts = [g for g in r.conditions if m.guards[g].is_attempt]
        if isinstance(r.output, Reraises) and not attempts:
            raise InvalidSpec(where, "'reraises' only on a row guarded by an attempt", r.conditions)
        for e in r.effects:
            for target in e.fields():
                if target not in {f.name for f in m.fields}:
                    raise InvalidSpec(where, f"{e.key!r} to name a declared field", target)
            if e.kinds is not None and op.kind not in e.kinds:
                raise InvalidSpec(where, f"{e.key!r} only in a {' or '.join(e.kinds)} operation", op.kind)
    for e in m.constructor_effects:
        for target in e.fields():
            if target not in {f.name for f in m.fields}:
                raise InvalidSpec(f"{m.name}: constructor", f"{e.key!r} to name a declared field", target)
        if e.kinds is not None:
            raise InvalidSpec(f"{m.name}: constructor", "effects that do not suspend", e.key)


def check_attempts_are_paired(m: Machine) -> None:
    """A row that passes an attempt (``unless``) must follow the row that makes it."""
    for s in m.states:
        for op in m.operations:
            rows = m.rows_for(s.name, op.name)
            for i, r in enumerate(rows):
                for g in r.unless:
                    if not m.guards[g].is_attempt:
                        continue
                    before = rows[i - 1] if i else None
                    if before is None or g not in before.conditions:
                        raise InvalidSpec(
                            f"{m.name}: row {r.id!r}",
                            f"the row just before it to be guarded by attempt {g!r}",
                            before.id if before else "none",
                        )
                    plain = [c for c in before.conditions if c != g]
                    if plain != list(r.conditions) or len(r.unless) != 1:
                        raise InvalidSpec(
                            f"{m.name}: row {r.id!r}",
                            f"the same other conditions as {before.id!r} and only 'unless: [{g}]'",
                            {"conditions": list(r.conditions), "unless": list(r.unless)},
                        )
                for g in r.conditions:
                    if m.guards[g].is_attempt and r.conditions[-1] != g:
                        raise InvalidSpec(f"{m.name}: row {r.id!r}", f"the attempt {g!r} as its last condition",
                                          list(r.conditions))


_BUILTINS = set(dir(builtins))


def _free_names(expr: str, where: str) -> set[str]:
    try:
        tree = ast.parse(expr, mode="eval")
    except SyntaxError as e:
        raise InvalidSpec(where, "a Python expression", expr, f"Syntax error: {e.msg}.") from None
    bound: set[str] = set()
    loads: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.NamedExpr):
            raise InvalidSpec(where, "an expression without assignment", expr,
                              "Fields change only through 'set' effects.")
        if isinstance(node, ast.Name):
            (loads if isinstance(node.ctx, ast.Load) else bound).add(node.id)
        elif isinstance(node, ast.arg):
            bound.add(node.arg)
    return loads - bound


def check_expressions(m: Machine) -> None:
    base = {f.name for f in m.fields} | set(m.namespace) | _BUILTINS | {"self"}
    binds = {g.bind for g in m.guards.values() if g.bind}
    # A guard is tested after its decision's ``let``s: it sees the names any row binds there.
    lets = {k for r in m.rows for let in r.let for k in let.names}
    for g in m.guards.values():
        scope = base | _all_param_names(m) | binds | lets
        for let in g.let:
            _check_expr(m, let.expr, scope, f"{m.name}: guard {g.name!r}")
        scope |= {k for let in g.let for k in let.names}
        for expr in (g.expr, g.attempt):
            if expr:
                _check_expr(m, expr, scope, f"{m.name}: guard {g.name!r}")
    for r in list(m.rows) + list(m.uninitialized.values()):
        where = f"{m.name}: row {r.id!r}"
        scope = base | set(m.operation(r.trigger).param_names) | {k for let in r.let for k in let.names} | binds
        for let in r.let:
            _check_expr(m, let.expr, scope, where)
        for e in r.effects:
            for x in e.expressions():
                _check_expr(m, x.text, scope | set(x.extra), f"{where} effect {x.role!r}")
            scope = scope | set(e.binds())
        for x in r.output.expressions() if r.output is not None else ():
            _check_expr(m, x.text, scope | set(x.extra), where)
    for o in m.observed:
        # What is observed sees the object and the namespace; what the spec answers sees the fields too.
        _check_expr(m, o.expr, set(m.namespace) | _BUILTINS | {"self"}, f"{m.name}: observed {o.name!r}")
        assert o.row.output is not None
        for x in o.row.output.expressions():
            _check_expr(m, x.text, base, f"{m.name}: observed {o.name!r}")
    for attr, expr in m.class_attributes:
        _check_expr(m, expr, set(m.namespace) | _BUILTINS, f"{m.name}: class attribute {attr!r}")
    if m.constructor is not None:
        scope = base | set(m.constructor.param_names) | {k for let in m.constructor_let for k in let.names}
        for f in m.fields:
            for value in (f.default, f.init, f.init_if):
                if value is not None:
                    _check_expr(m, value, scope, f"{m.name}: field {f.name!r}")
        for e in m.constructor_effects:
            for x in e.expressions():
                _check_expr(m, x.text, scope | set(x.extra), f"{m.name}: constructor effect {x.role!r}")
            scope = scope | set(e.binds())


def _all_param_names(m: Machine) -> set[str]:
    names: set[str] = set()
    for op in m.operations:
        names.update(op.param_names)
    return names


def _check_expr(m: Machine, expr: str, scope: set[str], where: str) -> None:
    unknown = sorted(_free_names(expr, where) - scope)
    if unknown:
        raise InvalidSpec(where, "names that are fields, parameters, namespace entries or builtins",
                          unknown, f"In {expr!r}; declare them under 'namespace' or fix the spelling.")


def check_every_clause_used(m: Machine) -> None:
    for c in m.clauses:
        for pattern in c.rows:
            if not any(row_matches(r.id, pattern) for r in m.all_rows):
                raise InvalidSpec(f"{m.name}: clause {c.id!r}", "row patterns that match some row",
                                  pattern, f"Row IDs look like {m.rows[0].id!r}.")
    used = {c.id for c in m.clauses if m.formalized_by(c.id)}
    for decl in m.raw.get("parameters", {}).values():
        used.update(decl.get("clauses", ()))
    for decl in m.compose.values():
        used.update(decl.get("clauses", ()))
    unused = [c.id for c in m.clauses if c.id not in used]
    if unused:
        raise InvalidSpec(f"{m.name}: clauses", "every clause formalized by some row", unused,
                          "Name it in the 'clauses' of the rows that formalize it.")
    ids = [c.id for c in m.clauses]
    duplicates = sorted({i for i in ids if ids.count(i) > 1})
    if duplicates:
        raise InvalidSpec(f"{m.name}: clauses", "unique clause IDs", duplicates)


def check_differences(m: Machine) -> None:
    gated = {f"{t['source']}.{t['trigger']}" for t in m.raw.get("transitions", ()) if isinstance(t, Mapping)}
    for d in m.differences:
        for pattern in d.rows:
            if not any(row_matches(r.id, pattern) for r in m.all_rows) and pattern.split("[")[0] not in gated:
                raise InvalidSpec(f"{m.name}: difference {d.id!r}", "row patterns that match some row", pattern)


def check_seed_quotes(m: Machine, seed_texts: Iterable[str] | None) -> None:
    if seed_texts is None:
        return
    known = {normalise(t) for t in seed_texts}
    for c in m.clauses:
        if c.source == "seed" and normalise(c.quote) not in known:
            raise InvalidSpec(f"{m.name}: clause {c.id!r}", "a quote that is a sentence of the seed document",
                              c.quote, "Quote the seed sentence exactly, or give the clause another source.")
        if c.source != "seed" and not c.cite:
            raise InvalidSpec(f"{m.name}: clause {c.id!r}", "a 'cite' (URL or source path) for a non-seed clause",
                              c.cite)


CHECKS = (
    check_one_initial_state,
    check_names_resolve,
    check_finals_have_no_exits,
    check_every_state_reachable,
    check_each_pair_defined_once,
    check_outputs,
    check_attempts_are_paired,
    check_expressions,
    check_every_clause_used,
    check_differences,
)


def validate(m: Machine, seed_texts: Iterable[str] | None = None) -> None:
    for check in CHECKS:
        check(m)
    check_seed_quotes(m, seed_texts)


def normalise(text: str) -> str:
    return " ".join(text.replace("\u2019", "'").split())
