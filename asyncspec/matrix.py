"""An audit across interpreters: known deviations applied, and clauses laid out against interpreters.

Each machine gets one table: a row per clause (the seed's own sentences
first, then the documentation's, then CPython's source and behaviour), a
column per interpreter and target. A cell is a pass, a deviation, a known
deviation (with its issue, from ``spec/known_deviations.py``), not applicable
(with why: a clause that exists only from some version on is drawn as such)
or an error.
"""

from __future__ import annotations

import re
from typing import Iterable

from .spec import DECLARATIONS
from .spec.known_deviations import KNOWN_DEVIATIONS

#: The order clauses are shown in: the seed's sentences, then what the documentation and CPython add.
SOURCE_ORDER = ("seed", "cpython-docs", "cpython-source", "cpython-behaviour", "asyncspec")
#: A cell for a clause the interpreter's version does not have.
ABSENT = "absent"


def natural(text: str) -> list:
    """``3.10`` after ``3.9``: numbers compared as numbers."""
    return [int(part) if part.isdigit() else part for part in re.split(r"(\d+)", text)]


def _version(text: str) -> tuple[int, ...]:
    return tuple(int(p) for p in re.findall(r"\d+", text)[:3])


def known_deviation(target: str, clause: str, interpreter: dict) -> dict | None:
    """The entry of ``spec/known_deviations.py`` for ``clause`` of ``target`` on ``interpreter``, if any."""
    version = _version(interpreter["python"])
    for entry in KNOWN_DEVIATIONS:
        first, _, last = entry["python"].partition("-")
        if (target in entry["targets"] and clause in entry["clauses"]
                and entry.get("implementation", "cpython") == interpreter["implementation"]
                and _version(first) <= version <= _version(last or first)):
            return entry
    return None


def apply_known(reports: Iterable[dict], here: dict) -> list[dict]:
    """Mark each deviation or error a known deviation names as ``known``, with its issue; recount.

    ``here`` is the interpreter of reports that ran on the tool's own. Returns
    the entries that named a clause the target passed: known bugs not shown
    (fixed in that release, or the entry is wrong), for the report to say.
    """
    unmet = []
    for report in reports:
        interpreter = report.get("interpreter") or here
        for clause in report["clauses"]:
            entry = known_deviation(report["target"], clause["id"], interpreter)
            if entry is None:
                continue
            if clause["status"] in ("deviation", "error"):
                clause["known"] = {"issue": entry["issue"], "what": entry["what"], "was": clause["status"]}
                clause["status"] = "known"
            elif clause["status"] == "pass":
                unmet.append({"target": report["target"], "clause": clause["id"],
                              "interpreter": interpreter["label"], "issue": entry["issue"]})
        summary = report["summary"]
        for status in ("pass", "deviation", "known", "not-applicable", "error"):
            summary[status] = sum(c["status"] == status for c in report["clauses"])
        if report.get("error") and not summary["error"] and not summary["known"]:
            summary["error"] = 1  # a worker that broke outside any clause still fails the audit
    return unmet


def clause_gate(kind: str, clause: str) -> str:
    """The version gate a clause is declared with (``>=3.11``), or ""."""
    raw = DECLARATIONS.get(kind, {})
    for c in raw.get("clauses", ()):
        if c.get("id") == clause:
            return str(c.get("python", ""))
    base = raw.get("extends")
    return clause_gate(base["machine"], clause) if base else ""


def columns(document: dict, kind: str) -> list[dict]:
    """A kind's reports, by interpreter (naturally sorted, CPython first), then in the order audited."""
    reports = [r for r in document["targets"] if r["kind"] == kind]
    order = {id(r): i for i, r in enumerate(reports)}
    return sorted(reports, key=lambda r: (*_interpreter_key(r.get("interpreter")), order[id(r)]))


def _interpreter_key(interpreter: dict | None) -> tuple:
    if not interpreter:
        return (0, "", [])
    return (interpreter["implementation"] != "cpython", interpreter["implementation"], natural(interpreter["python"]))


def rows(document: dict, kind: str) -> list[dict]:
    """The kind's clauses, each with a cell per column: ``{"id", "source", "gate", "quote", "cells"}``."""
    cols = columns(document, kind)
    found: dict[str, dict] = {}
    for report in cols:
        for c in report["clauses"]:
            found.setdefault(c["id"], {"id": c["id"], "source": c["source"], "quote": c["quote"],
                                       "gate": clause_gate(kind, c["id"])})
    out = []
    for cid, row in found.items():
        cells = []
        for report in cols:
            clause = next((c for c in report["clauses"] if c["id"] == cid), None)
            if clause is None:
                why = (f"not in Python {report['interpreter']['python']}: the clause is {row['gate']}"
                       if row["gate"] and report.get("interpreter") else "the target's report has no such clause")
                cells.append({"status": ABSENT, "why": why})
            else:
                cells.append({"status": clause["status"], "why": _why(clause), "anchor": anchor(report, cid),
                              **({"issue": clause["known"]["issue"]} if clause["status"] == "known" else {})})
        out.append({**row, "cells": cells})
    out.sort(key=lambda r: SOURCE_ORDER.index(r["source"]) if r["source"] in SOURCE_ORDER else len(SOURCE_ORDER))
    return out


def _why(clause: dict) -> str:
    if clause["status"] == "known":
        return f"known deviation, {clause['known']['issue']}: {clause['known']['what']}"
    if clause["status"] == "not-applicable":
        return clause.get("why", "")
    if clause["status"] == "error":
        return (clause.get("error") or {}).get("what", "")
    if clause["status"] == "deviation":
        return " ".join((clause.get("counterexample") or {}).get("explanation", ()))[:300]
    return ""


def anchor(report: dict, clause: str) -> str:
    """The HTML anchor of one clause's finding in one report."""
    where = (report.get("interpreter") or {}).get("label", "here")
    return re.sub(r"[^\w.-]+", "-", f"{where}-{report['target']}-{clause}")


def column_label(report: dict) -> tuple[str, str]:
    """The interpreter and the target of a column, short: ``3.8.18``, ``_PyFuture``."""
    interpreter = (report.get("interpreter") or {}).get("label", "here")
    return interpreter, report["target"].rpartition(":")[2]


def counts(document: dict) -> list[tuple[str, dict[str, int]]]:
    """Per interpreter, how many cells of each status (pass, known, not-applicable, deviation, error)."""
    out: dict[str, dict[str, int]] = {}
    for report in document["targets"]:
        label = (report.get("interpreter") or {}).get("label", "here")
        tally = out.setdefault(label, {s: 0 for s in ("pass", "known", "not-applicable", "deviation", "error")})
        for c in report["clauses"]:
            tally[c["status"]] = tally.get(c["status"], 0) + 1
    return sorted(out.items(), key=lambda item: natural(item[0]))


# -- rendering ----------------------------------------------------------------------------------

MARK = {"pass": "\u2713", "deviation": "\u2717", "known": "k", "not-applicable": "\u2013", "error": "!",
        ABSENT: "\u00b7"}
LEGEND = ("\u2713 pass, k known deviation, \u2013 not applicable, \u00b7 not in that version (gated), "
          "\u2717 deviation, ! error")


def _kinds(document: dict) -> list[str]:
    return list(dict.fromkeys(r["kind"] for r in document["targets"]))


def text(document: dict) -> list[str]:
    """The matrix as text lines: per machine, a row per clause, a column per interpreter and target."""
    out = [f"Compliance matrix across interpreters ({LEGEND})", ""]
    for kind in _kinds(document):
        cols = columns(document, kind)
        labels = [" ".join(column_label(r)) for r in cols]
        table = rows(document, kind)
        width = max([len(_clause_label(r)) for r in table] + [10]) + 2
        out.append(f"{kind} ({len(table)} clauses)")
        for i, label in enumerate(labels):
            out.append(" " * width + "\u2502 " * i + "\u250c " + label)
        for r in table:
            out.append(_clause_label(r).ljust(width) + " ".join(MARK[c["status"]] for c in r["cells"]))
        out.append("")
    out += _counts_text(document)
    return out


def _clause_label(row: dict) -> str:
    return row["id"] + (f" ({row['gate']})" if row["gate"] else "")


def _counts_text(document: dict) -> list[str]:
    out = [f"{'interpreter':<16} {'pass':>5} {'known':>5} {'n/a':>5} {'dev':>5} {'err':>5}"]
    for label, tally in counts(document):
        out.append(f"{label:<16} {tally['pass']:>5} {tally['known']:>5} {tally['not-applicable']:>5} "
                   f"{tally['deviation']:>5} {tally['error']:>5}")
    for m in document.get("missing_interpreters", ()):
        out.append(f"{m['asked']:<16} not found: {m['why']}")
    known, unmet = _known_lines(document)
    if known:
        out += ["", "Known deviations:"] + [f"  {line}" for line in known]
    out += [f"  expected and not shown: {line}" for line in unmet]
    return out + [""]


def _known_lines(document: dict) -> tuple[list[str], list[str]]:
    """The known deviations shown (``issue: what``), and those expected and not shown."""
    known = sorted({(c["known"]["issue"], c["known"]["what"]) for r in document["targets"] for c in r["clauses"]
                    if c["status"] == "known"})
    unmet = [f"{u['issue']} on {u['interpreter']} ({u['target']}, {u['clause']})"
             for u in document.get("unmet_known", ())]
    return [f"{issue}: {what}" for issue, what in known], unmet


def markdown(document: dict) -> list[str]:
    out = ["### Compliance matrix across interpreters", "", LEGEND, ""]
    for kind in _kinds(document):
        cols = columns(document, kind)
        out += [f"#### {kind}", ""]
        out.append("| clause | " + " | ".join(f"{i}<br>`{t}`" for i, t in map(column_label, cols)) + " |")
        out.append("|---|" + ":-:|" * len(cols))
        table = rows(document, kind)
        for r in table:
            cells = [MARK[c["status"]] + (f" {_short(c['issue'])}" if c["status"] == "known" else "")
                     for c in r["cells"]]
            out.append(f"| {_clause_label(r)} | " + " | ".join(cells) + " |")
        out.append("")
        # Why each not-applicable cell is: the clause, the columns, the reason.
        why: dict[tuple[str, str], list[str]] = {}
        for r in table:
            for report, c in zip(cols, r["cells"]):
                if c["status"] == "not-applicable":
                    why.setdefault((r["id"], c["why"]), []).append(" ".join(column_label(report)))
        if why:
            out += ["Not applicable:", ""] + [f"- {cid} ({', '.join(where)}): {reason}"
                                              for (cid, reason), where in why.items()] + [""]
    out += ["| interpreter | pass | known | n/a | deviation | error |", "|---|---:|---:|---:|---:|---:|"]
    for label, tally in counts(document):
        out.append(f"| {label} | {tally['pass']} | {tally['known']} | {tally['not-applicable']} | "
                   f"{tally['deviation']} | {tally['error']} |")
    out += [f"| {m['asked']} | not found: {m['why']} | | | | |" for m in document.get("missing_interpreters", ())]
    known, unmet = _known_lines(document)
    if known:
        out += ["", "Known deviations:", ""] + [f"- {line}" for line in known]
    if unmet:
        out += ["", "Known deviations expected and not shown (fixed there, or the entry is wrong):", ""]
        out += [f"- {line}" for line in unmet]
    return out + [""]


def _short(issue: str) -> str:
    """An issue as a cell shows it: ``gh-NNNNN`` as is, a URL by its host (the list below gives it whole)."""
    return re.sub(r"^https?://([^/]+)/.*$", r"\1", issue)


def html_table(document: dict) -> list[str]:
    import html
    out = [f"<h2>Compliance matrix across interpreters</h2><p>{html.escape(LEGEND)}</p>"]
    for kind in _kinds(document):
        cols = columns(document, kind)
        out.append(f"<h3>{html.escape(kind)}</h3><table><tr><th>clause</th>")
        out += [f"<th>{html.escape(i)}<br>{html.escape(t)}</th>" for i, t in map(column_label, cols)]
        out.append("</tr>")
        for r in rows(document, kind):
            out.append(f'<tr><td title="{html.escape(r["quote"])}">{html.escape(_clause_label(r))}</td>')
            for c in r["cells"]:
                mark = html.escape(MARK[c["status"]])
                if c.get("anchor") and c["status"] in ("deviation", "known", "error"):
                    mark = f'<a href="#{c["anchor"]}">{mark}</a>'
                out.append(f'<td class="{c["status"]}" title="{html.escape(c.get("why", ""))}">{mark}</td>')
            out.append("</tr>")
        out.append("</table>")
    return out
