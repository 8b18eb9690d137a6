"""State diagrams generated from the declarations: Graphviz DOT, SVG and Mermaid.

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

from ._build import (
    FORMATS, HEADER, PYTHONS, Diagram, EdgeStyle, diagrams, render_svg, stale, write,
)

__all__ = ["Diagram", "EdgeStyle", "FORMATS", "HEADER", "PYTHONS", "diagrams", "render_svg",
           "stale", "write"]
