"""Extract a :class:`Graph` from the declarations, over every covered Python version.

A machine is loaded once per covered Python; rows that look the same on
several versions are drawn once, marked with the versions when not all have
them, so the diagrams do not depend on the interpreter that generates them.

What a diagram shows of a row is read in one place, :func:`_row_facts`; the
rest of this module, and every renderer, sees only :class:`_RowFacts` and the
graph built from them.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from typing import Hashable, Iterable, Mapping, TypeVar

from ..spec import DECLARATIONS, Call, ForEach, Machine, Park, Row, Spec, load
from ._graph import Composed, Edge, Graph, Node, Python

#: The Python versions a diagram covers; rows that only some have are marked.
PYTHONS: tuple[Python, ...] = ((3, 11), (3, 12), (3, 13), (3, 14))

_LONGEST = 64
_ITEM_CALL = re.compile(r"\bitem\.(\w+)\(")
_T = TypeVar("_T")
_K = TypeVar("_K", bound=Hashable)


@dataclass(frozen=True)
class _RowFacts:
    """What a diagram shows of one row."""

    id: str
    trigger: str
    source: str
    dest: str | None
    #: ``trigger [guard] / output``: the row as drawn, before any Python versions.
    caption: str
    #: The list fields the row parks a new waiter in.
    parks: tuple[str, ...]
    #: ``(list field, method)``: the row calls ``method`` on each item of the field.
    drives: tuple[tuple[str, str], ...]


#: How a row inherited unchanged from the machine a declaration extends is marked, and an unreachable one.
INHERITED = "\u2191"
UNREACHABLE = " (unreachable)"


def _row_facts(row: Row, inherited: frozenset[str] = frozenset()) -> _RowFacts:
    """Read a row for a diagram: its output (or, when it has none, its first call), guard, parks and drives.

    A row whose id and caption are in ``inherited`` is the extended machine's,
    unchanged: it is marked so, and the machine's own rows stand out.
    """
    if row.output is not None:
        answer = _shorten_within(row.output.label(), [x.text for x in row.output.expressions()])
    else:
        calls = [e.do for e in row.effects if isinstance(e, (Call, ForEach))]
        answer = _short(calls[0]) if calls else "nothing"
    guard = f" [{row.guard_label}]" if row.guard_label else ""
    caption = f"{row.trigger}{guard} / {answer}"
    if f"{row.id} {caption}" in inherited:
        caption = f"{INHERITED} {caption}"
    return _RowFacts(
        id=row.id, trigger=row.trigger, source=row.source, dest=row.dest,
        caption=caption + (UNREACHABLE if row.unreachable else ""),
        parks=tuple(e.field for e in row.effects if isinstance(e, Park)),
        drives=tuple((e.field, method) for e in row.effects if isinstance(e, ForEach)
                     for method in _ITEM_CALL.findall(e.do)),
    )


def _shorten_within(label: str, expressions: list[str]) -> str:
    # Shorten a label's one trailing expression and keep the verb's words before it ("raise ...").
    if len(expressions) == 1 and label.endswith(expressions[0]):
        return label[: len(label) - len(expressions[0])] + _short(expressions[0])
    return _short(label)


def _short(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= _LONGEST else text[: _LONGEST - 1] + "\u2026"


@functools.lru_cache(maxsize=None)
def _spec(profile: str, python: Python) -> Spec:
    return load(profile, python)


def extract(name: str, profile: str = "cpython", pythons: tuple[Python, ...] = PYTHONS) -> Graph:
    """Return the graph of machine ``name`` in ``profile``, over the Python versions ``pythons``.

    The states, the composed machines and the uninitialized answers are those
    of the newest version; the rows are those of every version, each once.
    """
    machines = {python: _spec(profile, python)[name] for python in pythons}
    newest = machines[pythons[-1]]
    base = DECLARATIONS[name].get("extends", {}).get("machine")
    inherited = {python: frozenset(f"{f.id} {f.caption}" for f in map(_row_facts, _spec(profile, python)[base].rows))
                 if base else frozenset() for python in pythons}
    facts = {python: [_row_facts(r, inherited[python]) for r in m.rows] for python, m in machines.items()}
    rows = _over_pythons(((f.id, f.dest, f.caption), python, f) for python, found in facts.items() for f in found)
    unset = _over_pythons(((f.id, f.dest, f.caption), python, f) for python, m in machines.items()
                          for f in map(_row_facts, m.uninitialized.values()))
    observed = _over_pythons(((f.id, f.dest, f.caption), python, f) for python, m in machines.items()
                             for f in (_row_facts(o.row) for o in m.observed))

    def edge(row: str, dest: str | None, caption: str, found: list[_RowFacts], on: tuple[Python, ...]) -> Edge:
        return Edge(found[0].source, dest, caption + _versions(on, pythons), (row,), on)

    extends = f", extending {_spec(profile, pythons[-1])[base].title} ({INHERITED}: its row, unchanged)" if base else ""
    return Graph(
        name=newest.name,
        title=newest.title + extends,
        nodes=tuple(Node(s.name, s.name, initial=s.name == newest.initial, final=s.final, doc=s.doc)
                    for s in newest.states),
        edges=tuple(edge(*key, found, on) for key, found, on in rows),
        uninitialized=tuple(edge(*key, found, on) for key, found, on in unset),
        observed=tuple(edge(*key, found, on) for key, found, on in observed),
        composed=tuple(_composed(role, decl, profile, machines, facts, pythons)
                       for role, decl in newest.compose.items()),
        pythons=pythons,
    )


def _composed(role: str, decl: Mapping, profile: str, hosts: Mapping[Python, Machine],
              facts: Mapping[Python, list[_RowFacts]], pythons: tuple[Python, ...]) -> Composed:
    """Extract the lifecycle of a composed machine: the moves the host drives, cancellation, and parking."""
    field, words = decl["field"], {state: word for word, state in decl["states"].items()}
    outside = decl.get("driven_by", {})
    inner = _spec(profile, pythons[-1])[decl["machine"]]

    def node_id(state: str) -> str:
        return f"{role}_{words[state]}"

    moves = []
    for python in pythons:
        driven = {method: f"{hosts[python].name}.{f.trigger}()"
                  for f in facts[python] for drives, method in f.drives if drives == field}
        for f in map(_row_facts, _spec(profile, python)[decl["machine"]].rows):
            if f.dest is None or f.source not in words:
                continue
            by = driven.get(f.trigger) or outside.get(f.trigger)
            if by:
                moves.append(((f.source, f.dest, f.trigger, by), python, f))
    parks = _over_pythons(((f.source, f.trigger), python, f) for python in pythons
                          for f in facts[python] if field in f.parks)
    return Composed(
        role=role, title=inner.title, field=field,
        nodes=tuple(Node(node_id(state), word, initial=state == inner.initial, final=inner.state(state).final,
                         doc=inner.state(state).doc, is_a=state) for state, word in words.items()),
        edges=tuple(Edge(node_id(source), node_id(dest), f"{trigger}() by {by}" + _versions(on, pythons),
                         _ids(found), on)
                    for (source, dest, trigger, by), found, on in _over_pythons(moves)),
        parks=tuple(Edge(source, node_id(inner.initial), f"{trigger}() parks one" + _versions(on, pythons),
                         _ids(found), on)
                    for (source, trigger), found, on in parks),
    )


def _ids(found: list[_RowFacts]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(f.id for f in found))


def _over_pythons(found: Iterable[tuple[_K, Python, _T]]) -> list[tuple[_K, list[_T], tuple[Python, ...]]]:
    """Group what is drawn the same on several Pythons: each key with its items and versions, in first-seen order."""
    groups: dict[_K, tuple[list[_T], list[Python]]] = {}
    for key, python, item in found:
        items, versions = groups.setdefault(key, ([], []))
        items.append(item)
        if python not in versions:
            versions.append(python)
    return [(key, items, tuple(versions)) for key, (items, versions) in groups.items()]


def _versions(versions: tuple[Python, ...], covered: tuple[Python, ...]) -> str:
    if len(versions) == len(covered):
        return ""
    if versions == covered[: len(versions)]:
        return f" (Python \u2264{versions[-1][0]}.{versions[-1][1]})"
    if versions == covered[-len(versions):]:
        return f" (Python {versions[0][0]}.{versions[0][1]}+)"
    return " (Python " + ", ".join(f"{a}.{b}" for a, b in versions) + ")"
