"""The traceability matrix: seed sentence -> clauses -> rows."""

from __future__ import annotations

import textwrap

from .spec import PROFILES, Spec, load


def machine_summary(spec: Spec) -> list[str]:
    lines = []
    for m in spec.machines.values():
        moves = sum(1 for r in m.rows if r.dest is not None)
        lines.append(
            f"  {m.name}: {len(m.states)} states ({', '.join(s.name for s in m.states)}), "
            f"{len(m.operations)} operations, {len(m.rows)} rows "
            f"({moves} change state, {len(m.rows) - moves} keep it)"
            + (f" + {len(m.uninitialized)} answers when uninitialized" if m.uninitialized else "")
            + (f" + {len(m.observed)} observed facts" if m.observed else "")
            + f", {len(m.clauses)} clauses"
        )
    return lines


def traceability_report(profile: str = "cpython", spec: Spec | None = None) -> tuple[str, list[str]]:
    """Return the printable matrix and the list of gaps (empty when fully traced)."""
    spec = spec or load(profile)
    out = [f"Traceability of the seed document (profile {spec.profile}, "
           f"Python {spec.python[0]}.{spec.python[1]})", ""]
    gaps = []
    for sid, section, text, clauses in spec.coverage_of_seed():
        out.append(f"{sid}  {section}")
        out.append(textwrap.indent(textwrap.fill(f"\u201c{text}\u201d", 96), "     "))
        if not clauses:
            out.append("     GAP: no clause quotes this sentence")
            gaps.append(f"{sid}: no clause")
        for m, c in clauses:
            rows = [r.id for r in m.formalized_by(c.id)]
            if not rows:
                gaps.append(f"{c.id}: no row")
            out.append(textwrap.fill(f"{c.id} -> {m.name}: {', '.join(rows) or 'GAP: no row'}", 100,
                                     initial_indent="     ", subsequent_indent="         "))
    out += ["", "Clauses beyond the seed (CPython documentation, source and behaviour)", ""]
    for m, c in spec.clauses():
        if c.source == "seed":
            continue
        rows = [r.id for r in m.formalized_by(c.id)]
        out.append(textwrap.fill(f"{c.id} [{c.source}] -> {m.name}: {', '.join(rows)}", 100,
                                 subsequent_indent="    "))
    evidence = PROFILES[spec.profile]["evidence"] or [
        e for p in PROFILES.values() for e in p["evidence"]]
    out += ["", "Where the seed and CPython disagree"]
    for e in evidence:
        out.append(textwrap.fill(
            f"{e['parameter']}: seed says \u201c{e['seed']}\u201d; CPython: {e['cpython']} "
            f"Deviating: {e['deviates']}. {e['why']} ({e['cite']})", 100,
            initial_indent="  ", subsequent_indent="    "))
    seed_total = len(spec.coverage_of_seed())
    covered = sum(1 for *_, clauses in spec.coverage_of_seed() if clauses)
    all_clauses = spec.clauses()
    out += ["", "Summary",
            f"  seed sentences: {covered}/{seed_total} quoted by a clause",
            f"  clauses: {len(all_clauses)} ({sum(1 for _, c in all_clauses if c.source == 'seed')} "
            f"quote the seed), every one formalized by at least one row",
            *machine_summary(spec),
            f"  gaps: {len(gaps)}"]
    return "\n".join(out), gaps


def operations_report(kinds: list[str], profile: str = "cpython") -> str:
    """What an adapter writer needs: each operation of each kind, its parameters, its kind and its clauses.

    Then the facts observed after every step, which an adapter cannot map:
    the audit evaluates them on the object itself.
    """
    spec = load(profile)
    out: list[str] = []
    for kind in kinds:
        m = spec[kind]
        out.append(f"{kind}: {m.title} (Python {m.python[0]}.{m.python[1]}, profile {spec.profile})")
        if m.constructor is not None:
            out.append(f"  {'__init__(' + m.constructor.params + ')':<40} constructor   make it (an adapter's create(loop))")
        for op in m.operations:
            clauses = sorted({c for r in m.all_rows if r.trigger == op.name and r.source != "<observed>"
                              for c in r.clauses})
            aliases = f" (also {', '.join(op.aliases)})" if op.aliases else ""
            call = f"{op.name}({op.params}){aliases}" if op.kind != "property" else f"{op.name} = {op.params}"
            prefix = {"property": "assign_", "coroutine": "start_", "query": "call_", "command": "call_",
                      "function": "call_"}.get(op.kind)
            reach = (f"adapter: {prefix}{op.name.strip('_')}(obj, ...), or list it in absent" if prefix else
                     "the engine reaches it itself (await, iterate, collect)")
            out.append(f"  {call:<40} {op.kind:<13} {', '.join(clauses)}")
            out.append(f"  {'':<40} {'':<13} {reach}")
        for o in m.observed:
            out.append(f"  {o.expr:<40} {'observed':<13} {', '.join(o.row.clauses)}")
        out.append("")
    return "\n".join(out).rstrip()
