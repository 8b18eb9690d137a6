"""The generated files in diagrams/: one DOT, SVG and Mermaid file per machine, and their staleness check."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Iterable

from ..spec import DECLARATIONS
from ._extract import extract
from ._graph import HEADER
from ._render import render_dot, render_mermaid, render_svg

FORMATS = ("dot", "svg", "mmd")


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
        graph = extract(name, profile)
        dot = render_dot(graph)
        for fmt in formats:
            if fmt == "dot":
                out[f"{name}.dot"] = f"// {HEADER}\n{dot}".encode()
            elif fmt == "mmd":
                out[f"{name}.mmd"] = render_mermaid(graph).encode()
            elif fmt == "svg":
                out[f"{name}.svg"] = _svg_with_header(dot)
            else:
                raise ValueError(f"expected a format in {FORMATS}, found {fmt!r}")
    return out


def write(out_dir: Path, formats: Iterable[str] = FORMATS) -> list[Path]:
    """Write the generated files into ``out_dir``, leaving those already up to date untouched."""
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
    if "svg" in formats:
        for name in DECLARATIONS:
            fresh[f"{name}.svg"] = f"dot source sha256 {_fingerprint(render_dot(extract(name)))}".encode()
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
