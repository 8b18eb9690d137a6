"""State diagrams generated from the declarations: Graphviz DOT, SVG and Mermaid.

Extract, then render: :func:`extract` reads a machine's declarations (over
every covered Python version) into a :class:`Graph` of frozen dataclasses,
and :func:`render_dot` and :func:`render_mermaid` read only that graph.
Styles (a colour, emphasis) are data on the graph: :meth:`Graph.styled`
attaches them by row ID and state name, which is how the audit's HTML report
colours rows by their result.

Transitions between states are edges labelled ``trigger [guard] / output``;
operations that keep the state are listed inside the state, in the same
notation (UML's internal transitions). Final states have a double border.
A row that only some Python versions have is marked with them, so the
diagrams are the same whichever interpreter generates them. The Event
diagram draws the waiter lifecycle it composes from the Future machine.

The generated files in this folder say "generated from spec/; do not edit";
``asyncspec diagrams --check`` fails when they are stale.
"""

from __future__ import annotations

from ._extract import PYTHONS, extract
from ._files import FORMATS, diagrams, stale, write
from ._graph import HEADER, PLAIN, Composed, Edge, Graph, Node, Style
from ._render import render_dot, render_mermaid, render_svg

__all__ = [
    "Composed", "Edge", "FORMATS", "Graph", "HEADER", "Node", "PLAIN", "PYTHONS", "Style",
    "diagrams", "extract", "render_dot", "render_mermaid", "render_svg", "stale", "write",
]
