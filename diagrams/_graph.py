"""The intermediate form of a diagram: what to draw, extracted once, read by every renderer.

A :class:`Graph` holds one machine's states (:class:`Node`), its drawn rows
(:class:`Edge`: an arrow when the row moves the state, a line inside the
state's box when it keeps it), the answers an uninitialized object gives, and
the machines it composes (:class:`Composed`). Styles are data on the nodes and
edges: :meth:`Graph.styled` attaches them by row ID and state name, and the
renderers draw whatever style they find. Nothing here reads a declaration.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Mapping

Python = tuple[int, int]

#: Every generated file, and every diagram drawn from the spec, says so.
HEADER = "generated from spec/; do not edit"


@dataclass(frozen=True)
class Style:
    """How to draw a row or a state beyond its shape: a colour (None: the default) and emphasis."""

    colour: str | None = None
    bold: bool = False


#: The style of everything no one styled.
PLAIN = Style()


@dataclass(frozen=True)
class Edge:
    """One drawn row, or rows drawn as one: an arrow to ``dest``, or, without one, a line in ``source``'s box.

    ``label`` is the drawn text, ``trigger [guard] / output``, ending with the
    Python versions that have the row when not every covered one does.
    """

    source: str
    dest: str | None
    label: str
    rows: tuple[str, ...]
    pythons: tuple[Python, ...]
    style: Style = PLAIN

    @property
    def internal(self) -> bool:
        """Whether the row keeps the state: drawn inside its source's box, not as an arrow."""
        return self.dest is None


@dataclass(frozen=True)
class Node:
    """One state. ``id`` is unique in the drawing; ``is_a`` names the composed machine's state it stands for."""

    id: str
    name: str
    initial: bool = False
    final: bool = False
    doc: str = ""
    is_a: str = ""
    style: Style = PLAIN


@dataclass(frozen=True)
class Composed:
    """A machine the host keeps instances of in a list ``field``, drawn as its lifecycle inside the host's diagram.

    ``edges`` are the composed machine's moves that the host drives (or that
    cancel it); ``parks`` are the host rows that create one, each an arrow from
    the host's state to the composed machine's initial node.
    """

    role: str
    title: str
    field: str
    nodes: tuple[Node, ...]
    edges: tuple[Edge, ...]
    parks: tuple[Edge, ...]

    @property
    def initial(self) -> Node:
        return next(n for n in self.nodes if n.initial)


@dataclass(frozen=True)
class Graph:
    """One machine's diagram over the covered Python versions, renderer-neutral."""

    name: str
    title: str
    nodes: tuple[Node, ...]
    edges: tuple[Edge, ...]
    uninitialized: tuple[Edge, ...]
    composed: tuple[Composed, ...]
    pythons: tuple[Python, ...]
    #: Facts observed on every initialized object, whatever its state.
    observed: tuple[Edge, ...] = ()

    @property
    def initial(self) -> Node:
        return next(n for n in self.nodes if n.initial)

    @property
    def transitions(self) -> tuple[Edge, ...]:
        """The edges drawn as arrows between states, in declaration order."""
        return tuple(e for e in self.edges if not e.internal)

    def internal(self, node: str) -> tuple[Edge, ...]:
        """Return the rows that keep state ``node``, in declaration order: the lines of its box."""
        return tuple(e for e in self.edges if e.internal and e.source == node)

    def row_ids(self) -> tuple[str, ...]:
        """Return the ID of every row of this machine that the graph draws, each once."""
        drawn = self.edges + self.uninitialized + self.observed + tuple(p for c in self.composed for p in c.parks)
        return tuple(dict.fromkeys(r for e in drawn for r in e.rows))

    def styled(self, rows: Mapping[str, Style] | None = None, states: Mapping[str, Style] | None = None) -> Graph:
        """Return the graph with ``rows`` styling the edges that draw them and ``states`` the nodes.

        An edge drawn for several rows takes the style of the first that has one.
        The composed machines' own moves are rows of another machine and keep
        their style; the host rows that park one are styled like any other.
        """
        rows, states = rows or {}, states or {}

        def edge(e: Edge) -> Edge:
            found = next((rows[r] for r in e.rows if r in rows), None)
            return e if found is None else replace(e, style=found)

        def node(n: Node) -> Node:
            return replace(n, style=states[n.id]) if n.id in states else n

        return replace(
            self,
            nodes=tuple(map(node, self.nodes)),
            edges=tuple(map(edge, self.edges)),
            uninitialized=tuple(map(edge, self.uninitialized)),
            observed=tuple(map(edge, self.observed)),
            composed=tuple(replace(c, nodes=tuple(map(node, c.nodes)), parks=tuple(map(edge, c.parks)))
                           for c in self.composed),
        )
