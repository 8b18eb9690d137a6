"""Rendering an audit: text, JSON, markdown, HTML and JUnit.

The JSON document is the source for every other format. Its schema (stable;
new keys may be added, none removed or renamed):

    {"asyncspec": VERSION, "profile": "cpython"|"seed", "python": "3.11.7", "seed": 0,
     "loop": "asyncio", "seconds": 12.3,
     "targets": [{"target": "MODULE:ATTR", "kind": "future"|"event"|"ensure_future",
                  "loop": "asyncio",
                  "summary": {"pass": n, "deviation": n, "not-applicable": n, "error": n,
                              "clauses": n, "states": n, "transitions": n, "max_depth": n,
                              "examples": n, "seconds": s, "rows_exercised": n, "rows": n},
                  "known_differences": {"D-...": count},
                  "error": null | {"step": n, "action": "...", "what": "..."},
                  "rows": {"ROW-ID": "pass"|"deviation"|"not-exercised"},
                  "clauses": [{"id": "F-...", "status": "pass"|"deviation"|"not-applicable"|"error",
                               "source": "seed"|"cpython-docs"|..., "quote": "...",
                               "counterexample"?: {"text", "script", "aspect", "expected",
                                                   "observed", "path": [{"action", "rows"}],
                                                   "rows", "clauses"},
                               "evidence"?: {...}, "why"?: "...", "error"?: {...}}]}],
     "unauditable": [{"target": "...", "error": "..."}]}
"""

from __future__ import annotations

import html
import json
from collections import OrderedDict
from typing import TYPE_CHECKING
from xml.sax.saxutils import escape, quoteattr

if TYPE_CHECKING:
    from .diagrams import Graph, Style

MARK = {"pass": "\u2713", "deviation": "\u2717", "known": "k", "not-applicable": "\u2013", "error": "!"}
MD_MARK = {"pass": "\u2705", "deviation": "\u274c", "known": "\U0001f7e1", "not-applicable": "\u2796",
           "error": "\u26a0\ufe0f"}
COLOUR = {"pass": "#1a7f37", "deviation": "#cf222e", "not-exercised": "#8c959f"}


def render(document: dict, fmt: str) -> str:
    return {"text": text, "json": as_json, "markdown": markdown, "html": page, "junit": junit}[fmt](document)


def as_json(document: dict) -> str:
    return json.dumps(document, indent=2, sort_keys=False, default=repr) + "\n"


def _by_kind(document: dict) -> "OrderedDict[str, list[dict]]":
    groups: OrderedDict[str, list[dict]] = OrderedDict()
    for t in document["targets"]:
        groups.setdefault(t["kind"], []).append(t)
    return groups


def clauses_of(targets: list[dict]) -> dict[str, dict]:
    """The clauses of a kind's targets, in order: every target's, each once (a target that broke has none)."""
    return {c["id"]: c for t in targets for c in t["clauses"]}


def matrix_rows(targets: list[dict]) -> list[tuple[str, list[str]]]:
    """Clauses against targets: one row per clause, one status per target."""
    ids = list(clauses_of(targets))
    by_target = [{c["id"]: c["status"] for c in t["clauses"]} for t in targets]
    return [(cid, [m.get(cid, "error") for m in by_target]) for cid in ids]


def _header(document: dict) -> str:
    n = len(document["targets"]) + len(document.get("unauditable", []))
    where = f"Python {document['python']}"
    if document.get("interpreters"):
        where = f"the model on Python {document['python']}, targets on " + ", ".join(
            i["label"] for i in document["interpreters"])
    return (f"asyncspec audit: profile {document['profile']}, {where}, "
            f"seed {document['seed']}, {n} target(s) in {document['seconds']:.1f}s")


def _name(t: dict) -> str:
    """A target as a report names it: with its interpreter, when it ran on another."""
    return t["target"] + (f" on {t['interpreter']['label']}" if t.get("interpreter") else "")


def text(document: dict) -> str:
    out = [_header(document), ""]
    across = bool(document.get("interpreters"))
    if across:
        from . import matrix
        out += matrix.text(document)
    for kind, targets in ([] if across else _by_kind(document).items()):
        names = [t["target"] for t in targets]
        clauses = clauses_of(targets)
        width = max(map(len, clauses), default=0) + 2
        out.append(f"Compliance matrix: {kind} ({len(clauses)} clauses; "
                   f"{MARK['pass']} pass, {MARK['deviation']} deviation, {MARK['not-applicable']} not "
                   f"applicable, {MARK['error']} error)")
        for i, name in enumerate(names):
            out.append(" " * width + "\u2502 " * i + "\u250c " + name)
        for cid, statuses in matrix_rows(targets):
            out.append(cid.ljust(width) + " ".join(MARK[s] for s in statuses))
        out.append("")
    out.append(f"{'target':<34} {'kind':<14} {'pass':>4} {'dev':>4} {'n/a':>4} {'err':>4} "
               f"{'states':>7} {'trans.':>7} {'ex.':>4} {'secs':>6}")
    for t in document["targets"]:
        s = t["summary"]
        out.append(f"{_name(t):<34} {t['kind']:<14} {s['pass']:>4} {s['deviation']:>4} "
                   f"{s['not-applicable']:>4} {s['error']:>4} {s.get('states', 0):>7} "
                   f"{s.get('transitions', 0):>7} {s.get('examples', 0):>4} {s.get('seconds', 0):>6.1f}")
    for u in document.get("unauditable", []):
        out.append(f"{u['target']:<34} cannot be audited: {u['error']}")
    known = [(t["target"], t["known_differences"]) for t in document["targets"] if t.get("known_differences")]
    if known:
        out += ["", "Known differences, declared with their evidence and normalised:"]
        for name, diffs in known:
            out.append(f"  {name}: " + ", ".join(sorted(diffs)))
    for t in document["targets"]:
        if t.get("error"):
            e = t["error"]
            out += ["", f"ERROR {_name(t)}: {e['what']} (at step {e.get('step')}: {e.get('action')})"]
            out += [f"  after: {' -> '.join(e['path'])}"] if e.get("path") else []
            out += ["  its last output:"] + [f"    {line}" for line in e.get("output_tail", ())]
        if t.get("isolated"):
            e = t["isolated"]
            out += ["", f"NOTE {_name(t)}: the in-process audit broke ({e['what']}, at step {e.get('step')}: "
                        f"{e.get('action')}); re-run with the target in a worker of its own, each step a request"]
        out += [f"\nNOTE {t['target']}: {note}" for note in t.get("notes", ())]
        for ce, ids, evidence in distinct_counterexamples(t):
            out += ["", f"DEVIATION {_name(t)}: {', '.join(ids)}"]
            if evidence:
                out.append(f"  evidence: {evidence['why']} ({evidence['cite']}); deviating: {evidence['deviates']}")
            out.append("  " + ce["text"].replace("\n", "\n  "))
    return "\n".join(out) + "\n"


def distinct_counterexamples(t: dict) -> list[tuple[dict, list[str], dict | None]]:
    """Each distinct counterexample of a target once, with every clause it breaks (one root cause)."""
    out: dict[str, tuple[dict, list[str], dict | None]] = {}
    for c in t["clauses"]:
        ce = c.get("counterexample")
        if c["status"] != "deviation" or ce is None:
            continue
        found = out.setdefault(ce["text"], (ce, [], c.get("evidence")))
        found[1].append(c["id"])
    return list(out.values())


def markdown(document: dict) -> str:
    out = [f"## {_header(document)}", ""]
    across = bool(document.get("interpreters"))
    if across:
        from . import matrix
        out += matrix.markdown(document)
    for kind, targets in ([] if across else _by_kind(document).items()):
        out.append(f"### {kind}")
        out.append("")
        out.append("| clause | " + " | ".join(f"`{t['target']}`" for t in targets) + " |")
        out.append("|---|" + "---|" * len(targets))
        for cid, statuses in matrix_rows(targets):
            out.append(f"| {cid} | " + " | ".join(MD_MARK[s] for s in statuses) + " |")
        out.append("")
    out.append("| target | kind | pass | deviation | n/a | error |")
    out.append("|---|---|---:|---:|---:|---:|")
    for t in ([] if across else document["targets"]):
        s = t["summary"]
        out.append(f"| `{t['target']}` | {t['kind']} | {s['pass']} | {s['deviation']} | "
                   f"{s['not-applicable']} | {s['error']} |")
    for t in document["targets"]:
        for c in t["clauses"]:
            if c["status"] == "deviation" and c.get("counterexample"):
                out += ["", f"<details><summary>{_name(t)}: {c['id']}</summary>", "", "```",
                        c["counterexample"]["text"], "```", "</details>"]
    return "\n".join(out) + "\n"


def junit(document: dict) -> str:
    out = ['<?xml version="1.0" encoding="UTF-8"?>', '<testsuites name="asyncspec audit">']
    for t in document["targets"]:
        s = t["summary"]
        out.append(f'  <testsuite name={quoteattr(t["target"])} tests="{len(t["clauses"])}" '
                   f'failures="{s["deviation"]}" errors="{s["error"]}" skipped="{s["not-applicable"]}" '
                   f'time="{s.get("seconds", 0)}">')
        for c in t["clauses"]:
            name = quoteattr(f"{c['id']}: {c['quote'][:80]}")
            out.append(f'    <testcase classname={quoteattr(t["target"])} name={name}>')
            if c["status"] == "deviation":
                ce = c.get("counterexample") or {}
                out.append(f'      <failure message={quoteattr("deviates from " + c["id"])}>'
                           f'{escape(ce.get("text", ""))}</failure>')
            elif c["status"] == "error":
                e = c.get("error") or {}
                out.append(f'      <error message={quoteattr(e.get("what", "error"))}>'
                           f'{escape(json.dumps(e, default=repr))}</error>')
            elif c["status"] == "not-applicable":
                out.append(f'      <skipped message={quoteattr(c.get("why", "not applicable"))}/>')
            out.append("    </testcase>")
        out.append("  </testsuite>")
    for u in document.get("unauditable", []):
        out.append(f'  <testsuite name={quoteattr(u["target"])} tests="1" failures="0" errors="1">')
        out.append(f'    <testcase classname={quoteattr(u["target"])} name="audit">'
                   f'<error message={quoteattr(u["error"])}/></testcase>')
        out.append("  </testsuite>")
    out.append("</testsuites>")
    return "\n".join(out) + "\n"


# -- HTML --------------------------------------------------------------------------

_STYLE = """
body{font:14px/1.4 system-ui,sans-serif;margin:2em;color:#1f2328}
table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #d0d7de;padding:2px 8px}
th{background:#f6f8fa}td.pass{background:#dafbe1}td.deviation{background:#ffebe9}
td.not-applicable{background:#f6f8fa;color:#57606a}td.error{background:#fff8c5}
pre{background:#f6f8fa;padding:1em;overflow:auto}.legend span{margin-right:1em}
svg{max-width:100%;height:auto}
"""


def page(document: dict) -> str:
    out = ["<!DOCTYPE html>", '<html lang="en"><head><meta charset="utf-8">',
           f"<title>{html.escape(_header(document))}</title><style>{_STYLE}</style></head><body>",
           f"<h1>asyncspec audit</h1><p>{html.escape(_header(document))}</p>",
           '<p class="legend"><span style="color:#1a7f37">&#9632; passed</span>'
           '<span style="color:#cf222e">&#9632; deviated</span>'
           '<span style="color:#8c959f">&#9632; not exercised</span></p>']
    across = bool(document.get("interpreters"))
    if across:
        from . import matrix
        out += matrix.html_table(document)
    for kind, targets in ([] if across else _by_kind(document).items()):
        out.append(f"<h2>Compliance matrix: {html.escape(kind)}</h2><table><tr><th>clause</th>")
        out += [f"<th>{html.escape(t['target'])}</th>" for t in targets]
        out.append("</tr>")
        quotes = {cid: c["quote"] for cid, c in clauses_of(targets).items()}
        for cid, statuses in matrix_rows(targets):
            out.append(f'<tr><td title="{html.escape(quotes[cid])}">{html.escape(cid)}</td>')
            out += [f'<td class="{s}">{MARK[s]} {s}</td>' for s in statuses]
            out.append("</tr>")
        out.append("</table>")
    for t in document["targets"]:
        out.append(f"<h2>{html.escape(_name(t))} ({html.escape(t['kind'])})</h2>")
        s = t["summary"]
        out.append(f"<p>{s['pass']} pass, {s['deviation']} deviation, {s['not-applicable']} not "
                   f"applicable, {s['error']} error; {s.get('states', 0)} states, "
                   f"{s.get('transitions', 0)} transitions, {s.get('examples', 0)} random examples.</p>")
        if t.get("error"):
            e = t["error"]
            out.append(f"<p><b>Error</b> at step {e.get('step')} ({html.escape(str(e.get('action')))}): "
                       f"{html.escape(e['what'])}</p>")
            if e.get("path") or e.get("output_tail"):
                out.append("<details><summary>the path to it, and the worker's last output</summary><pre>"
                           + html.escape(" -> ".join(e.get("path", ())) + "\n\n" + "\n".join(e.get("output_tail", ())))
                           + "</pre></details>")
        out += [f"<p><i>Note: {html.escape(note)}</i></p>" for note in t.get("notes", ())]
        out.append(target_diagram(t, document.get("profile", "cpython")))
        quotes = {c["id"]: c["quote"] for c in t["clauses"]}
        # Each distinct counterexample once, folded: a page stays short however many clauses deviate.
        if across:
            from .matrix import anchor
            for c in t["clauses"]:
                if c["status"] in ("known", "error"):
                    why = c["known"]["issue"] + ": " + c["known"]["what"] if c["status"] == "known" else \
                        (c.get("error") or {}).get("what", "")
                    out.append(f'<p id="{anchor(t, c["id"])}"><b>{html.escape(c["id"])}</b>: {c["status"]}. '
                               f"{html.escape(why)}</p>")
        for ce, ids, _ in distinct_counterexamples(t):
            said = html.escape(" ".join(ce.get("explanation", ())) or ce.get("aspect", ""))
            if across:
                from .matrix import anchor
                out.append("".join(f'<a id="{anchor(t, i)}"></a>' for i in ids))
            out.append(f"<details><summary><b>{html.escape(', '.join(ids))}</b>: deviation. {said}</summary>"
                       + "".join(f"<blockquote>{html.escape(i)}: {html.escape(quotes.get(i, ''))}</blockquote>"
                                 for i in ids)
                       + f"<pre>{html.escape(ce['text'])}</pre></details>")
    out.append("</body></html>")
    return "\n".join(out) + "\n"


def target_diagram(t: dict, profile: str = "cpython") -> str:
    """The target's state diagram: every row coloured by its result, the first counterexample's rows bold."""
    try:
        from . import diagrams
        graph = diagrams.extract(t["kind"], profile)
        rows = _row_styles(graph, t)
        styled = graph.styled(rows=rows, states=_state_styles(graph, rows))
        svg = diagrams.render_svg(diagrams.render_dot(styled)).decode()
        return svg[svg.index("<svg"):]
    except Exception as e:  # a diagram is a nicety; the report stands without it
        return f"<p>(diagram unavailable: {html.escape(str(e))})</p>"


def _row_styles(graph: Graph, t: dict) -> dict[str, Style]:
    """Style every row the graph draws by its result in target ``t``; those on the first counterexample bold."""
    from .diagrams import Style
    results = t.get("rows") or {}
    path: set[str] = set()
    for c in t["clauses"]:
        ce = c.get("counterexample")
        if ce:
            path = {r for step in ce["path"] for r in step["rows"]}
            break
    return {r: Style(COLOUR.get(results.get(r, "not-exercised"), COLOUR["not-exercised"]), bold=r in path)
            for r in graph.row_ids()}


def _state_styles(graph: Graph, rows: dict[str, Style]) -> dict[str, Style]:
    """Colour a state's border when every row that keeps it has the same colour."""
    from .diagrams import Style
    out = {}
    for node in graph.nodes:
        colours = {rows[r].colour for e in graph.internal(node.id) for r in e.rows if r in rows}
        if len(colours) == 1:
            out[node.id] = Style(colours.pop())
    return out
