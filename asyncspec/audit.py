"""``asyncspec audit``: check implementations clause by clause, each in its own worker process.

The parent resolves nothing itself: each TARGET goes to a worker
(``python -m asyncspec._worker``), which imports it, runs the lockstep engine
against the model (exhaustive exploration, collecting the shortest
counterexample of every deviating row, then random sequences), and reports
one JSON object per clause. A worker that hangs is killed; one that dies is
reported with the last step it announced. The other targets' results are
never lost.

What crosses the process boundary is an :class:`AuditRequest`, as JSON, one
way, and JSON event lines the other (see ``_worker``).
"""

from __future__ import annotations

import dataclasses
import json
import os
import re
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Sequence

from . import __version__
from .spec import PROFILES
from .spec.errors import Deviation, HarnessAbort, TargetError, UsageError

if TYPE_CHECKING:
    from .model_tests.engine import Target

#: The built-in default set: our implementation and the standard library.
DEFAULT_TARGETS: tuple[str, ...] = (
    "asyncspec.impl:Future", "asyncio:Future", "asyncio.futures:_PyFuture",
    "asyncspec.impl:Event", "asyncio:Event",
    "asyncspec.impl:ensure_future", "asyncio:ensure_future",
    "asyncspec.impl:Task", "asyncio:Task", "asyncio.tasks:_PyTask",
    *(("asyncio:eager_task_factory",) if sys.version_info >= (3, 12) else ()),
    "asyncio:SelectorEventLoop",
)
def default_targets_on(version: tuple[int, int]) -> tuple[str, ...]:
    """The built-in set on another interpreter (``--python``): the standard library's, as that version has it.

    asyncspec.impl needs the tool's own Python (3.11+); an audit across interpreters is of theirs.
    Listed longest first (``asyncspec audit --python 3.12 --format json``: each target's ``seconds``):
    run_audit starts every interpreter's first target before any one's second, so that the
    shortest are left for the end and no long audit runs alone there.
    """
    return ("asyncio:Future", "asyncio.futures:_PyFuture",
            *(("asyncio:eager_task_factory",) if version >= (3, 12) else ()), "asyncio.tasks:_PyTask",
            "asyncio:Task", "asyncio:Event", "asyncio:SelectorEventLoop", "asyncio:ensure_future")


DEFAULT_EXAMPLES = 20
STATUSES = ("pass", "deviation", "known", "not-applicable", "error")


@dataclass(frozen=True)
class AuditRequest:
    """One target to audit, and how: the request a worker reads, as JSON, on its stdin.

    ``results`` and ``cwd`` are the worker's side of the exchange: the file it
    appends its events to, and the folder it imports the target from.
    :func:`audit_one` and :func:`run_audit` set both when they start a worker.
    """

    target: str
    kind: str | None = None
    loop: str = "asyncio"
    profile: str = "cpython"
    examples: int = DEFAULT_EXAMPLES
    depth: int | None = None
    seed: int = 0
    timeout: float = 10.0
    #: Compare exception messages exactly: no declared difference that only rewords one applies.
    strict_messages: bool = False
    #: Processes the worker may split its exhaustive exploration across.
    jobs: int = 1
    #: The interpreter the target runs on, when not this one (``--python``): ``remote.Interpreter.as_dict()``.
    #: The model runs in the worker, on the spec resolved for that interpreter's version.
    interpreter: dict | None = None
    results: str = ""
    cwd: str = ""

    @property
    def version(self) -> tuple[int, int] | None:
        """The Python version the spec is resolved for: the target's interpreter's (None: this one)."""
        if not self.interpreter:
            return None
        major, minor = self.interpreter["version"]
        return (major, minor)

    @property
    def stall(self) -> float:
        """How long the parent waits for a sign of life before it kills the worker, in seconds."""
        return max(3 * self.timeout, 15.0)

    def to_json(self) -> str:
        return json.dumps(dataclasses.asdict(self))

    @classmethod
    def from_json(cls, text: str) -> AuditRequest:
        """Read a request; a key left out takes its default, a key not known here is ignored."""
        data = json.loads(text)
        known = {f.name for f in dataclasses.fields(cls)}
        return cls(**{key: value for key, value in data.items() if key in known})


# -- in the worker: one target's report ----------------------------------------------

def audit_target(target: Target, request: AuditRequest,
                 on_step: Callable[[int, Sequence[Any]], None] | None = None, step_guard: Any = None,
                 on_finding: Callable[[dict], None] | None = None) -> dict:
    """Audit ``target`` (resolved from ``request.target``) as ``request`` asks; return its report, JSON-ready.

    ``on_step`` hears of each step the exhaustive run takes; ``step_guard``
    wraps every step, of the exhaustive and of the random runs alike (see
    ``World``); ``on_finding`` hears of each counterexample as soon as it is
    kept, with the rows it is the first for (a worker streams them, so that a
    crash later loses none).
    """
    from .model_tests.check import Coverage
    from .model_tests.explore import DEFAULT_BOUNDS, explore
    from .model_tests.lockstep import World, known_differences
    from .model_tests.stateful import RandomTally, lockstep_machine, run_random_sequences
    from .model_tests.targets import new_world, spec_for

    started = time.perf_counter()
    kind, profile, depth, python = target.kind, request.profile, request.depth, request.version
    machine = spec_for(profile, python)[kind]
    known = known_differences(spec_for(profile, python), strict_messages=request.strict_messages)

    def make_world() -> World:
        return new_world(kind, [target], profile, known, step_guard=step_guard, python=python)

    bounds = DEFAULT_BOUNDS[kind]
    if depth is not None:
        bounds = dataclasses.replace(bounds, depth=depth)
    if target.make_uninitialized is None:
        bounds = dataclasses.replace(bounds, uninitialized=False)
    def found(ce: Any, rows: list[str]) -> None:
        if on_finding is not None:
            on_finding({"rows": rows, "counterexample": counterexample_json(ce)})

    exploration = explore(machine, make_world, bounds, collect_all=True,
                          offers=lambda action: target.offers(action, machine),
                          on_step=on_step, jobs=request.jobs, on_found=found)
    rows: Counter = Counter(exploration.coverage)
    counterexamples = dict(exploration.counterexamples)
    random_examples = 0
    aborted = exploration.aborted
    broken = {step[3]: step[:3] for step in exploration.broken.values()}
    # Random sequences run whether or not exploration found deviations: they may find others; not what broke
    # the target in exploration (its clauses are errors already).
    randomly = _without_broken(target, broken)
    if aborted is None and request.examples > 0:
        tally = RandomTally()
        machine_cls = lockstep_machine(kind, lambda: [randomly], profile, known,
                                       name=f"audit:{target.name}", tally=tally, step_guard=step_guard,
                                       python=python)
        try:
            # Where exploration already found the shortest counterexamples, do not spend the budget shrinking.
            run_random_sequences(machine_cls, request.examples, request.seed, shrink=not counterexamples)
        except Deviation as e:
            new = [row for row in e.counterexample.rows if row not in counterexamples]
            for row in new:
                counterexamples[row] = e.counterexample
            if new:
                found(e.counterexample, new)
        except HarnessAbort as e:
            aborted = (0, "a random sequence", f"{type(e).__name__}: {e}")
        random_examples = tally.examples
        rows.update(tally.rows)
    coverage = Coverage(machine, rows)
    clauses = clause_statuses(machine, target, coverage, counterexamples, aborted, profile, broken)
    summary = Counter(c["status"] for c in clauses)
    return {
        "target": target.name, "kind": kind, "loop": request.loop, "interpreter": request.interpreter,
        "summary": {
            **{s: summary.get(s, 0) for s in STATUSES},
            "clauses": len(clauses), "states": exploration.states,
            "transitions": exploration.transitions, "max_depth": exploration.max_depth,
            "examples": random_examples, "seconds": round(time.perf_counter() - started, 2),
            "rows_exercised": len(machine.all_rows) - len(coverage.missing_rows),
            "rows": len(machine.all_rows),
        },
        "known_differences": dict(sorted(exploration.known_used.items())),
        "rows": {r.id: ("deviation" if r.id in counterexamples else
                        "pass" if coverage.rows.get(r.id) else "not-exercised") for r in machine.all_rows},
        # What broke the run: what stopped it, else the first step that broke the target (its clauses say more).
        "error": ({"step": aborted[0], "action": aborted[1], "what": aborted[2]} if aborted is not None else
                  next(({"step": s, "action": d, "what": w} for s, d, w in broken.values()), None)),
        "broken": [{"step": step, "action": described, "what": what} for step, described, what in broken.values()],
        "clauses": clauses,
    }


def _without_broken(target: Any, broken: dict) -> Any:
    """``target``, with what broke it in exploration left out: those operations, those constructor arguments."""
    if not broken:
        return target
    absent = set(target.absent) | {a.operation for a in broken if a.verb != "new"}
    parameters = {op: set(ps) for op, ps in target.absent_parameters.items()}
    for a in broken:
        if a.verb == "new":
            parameters.setdefault(a.operation, set()).update(k for k, _ in a.kwargs)
    return dataclasses.replace(target, absent=frozenset(absent),
                               absent_parameters={op: frozenset(ps) for op, ps in parameters.items()})


def broken_clauses(machine: Any, broken: dict) -> dict[str, dict]:
    """The clauses of the steps that broke the target, each with the first break: an operation's rows
    (an uninitialized object's, or the others'), or the clauses naming the constructor argument passed."""
    from .model_tests.actions import PREFIXES
    out: dict[str, dict] = {}
    # The constructor arguments every way of making it that broke passed: what broke it.
    made = [{k for k, _ in a.kwargs} for a in broken if a.verb == "new"]
    culprits = set.intersection(*made) if made else set()
    for action, (step, described, what) in broken.items():
        error = {"step": step, "action": described, "what": what}
        if action.verb == "new":
            ids = [c.id for c in machine.clauses if any(
                re.search(rf"\b{re.escape(n)}\b", c.quote + c.note) or
                any(n in r.trigger for r in machine.formalized_by(c.id)) for n in culprits)]
        else:
            on_uninitialized = action.obj.rstrip("0123456789") == PREFIXES["uninitialized"]
            rows = [r for r in machine.all_rows if r.trigger == action.operation
                    and (r.source == "<uninitialized>") == on_uninitialized]
            ids = [cid for r in rows for cid in r.clauses]
        for cid in ids:
            out.setdefault(cid, error)
    return out


def clause_statuses(machine: Any, target: Any, coverage: Any, counterexamples: dict, aborted: Any,
                    profile: str, broken: dict | None = None) -> list[dict]:
    from .model_tests.lockstep import HARNESS_CLAUSE, HARNESS_ROW

    evidence = {c: e for e in PROFILES[profile]["evidence"] for c in e.get("clauses", ())}
    crashed = broken_clauses(machine, broken or {})
    out = []
    for clause in machine.clauses:
        rows = machine.formalized_by(clause.id)
        applicable = [r for r in rows if r.trigger not in target.absent
                      and not (r.source == "<uninitialized>" and target.make_uninitialized is None)]
        entry: dict[str, Any] = {"id": clause.id, "source": clause.source, "quote": clause.quote,
                                 "rows": [r.id for r in rows]}
        missing = _absent_parameters_of(machine, clause, rows, target)
        if missing:
            entry["status"] = "not-applicable"
            entry["why"] = "the target's " + ", ".join(missing) + " not taken"
            out.append(entry)
            continue
        found = _finding_for(clause.id, [r.id for r in applicable], counterexamples,
                             lambda ce: {cid for cid, _ in ce.clauses()})
        if not applicable:
            entry["status"] = "not-applicable"
            entry["why"] = "the target does not offer " + ", ".join(
                sorted({r.trigger for r in rows if r.trigger in target.absent}) or ["an uninitialized object"])
        elif found is None and all(r.unreachable for r in applicable):
            entry["status"] = "not-applicable"
            entry["why"] = "no public call reaches its rows: " + applicable[0].unreachable
        elif found is not None:
            entry["status"] = "deviation"
            entry["counterexample"] = counterexample_json(found)
            if clause.id in evidence:
                entry["evidence"] = evidence[clause.id]
        elif clause.id in crashed:
            entry["status"] = "error"
            entry["error"] = crashed[clause.id]
        elif any(coverage.rows.get(r.id) for r in applicable):
            entry["status"] = "pass"
        else:
            entry["status"] = "error"
            entry["error"] = ({"step": aborted[0], "action": aborted[1], "what": aborted[2]} if aborted
                              else {"what": "not exercised within the budget (raise --depth or --examples)"})
        out.append(entry)
    harness = counterexamples.get(HARNESS_ROW)
    if harness is not None:
        # A difference no row can be named for still deviates, on a clause of its own.
        clause_id, quote = HARNESS_CLAUSE
        out.append({"id": clause_id, "source": "asyncspec", "quote": quote, "rows": [HARNESS_ROW],
                    "status": "deviation", "counterexample": counterexample_json(harness)})
    return out


def _absent_parameters_of(machine: Any, clause: Any, rows: Sequence[Any], target: Any) -> list[str]:
    """The parameters a clause is about that the target's operations do not take (``cancel() msg``).

    A clause is about a parameter when one of its rows is of that operation and its
    quote names the parameter: the rest of the operation is still audited.
    """
    from .model_tests.engine import not_yet
    python = ".".join(map(str, machine.python))
    out = []
    for row in rows:
        gated = {p: f" (not yet in Python {python})" for p in not_yet(machine, row.trigger)}
        for param in sorted(set(target.absent_parameters.get(row.trigger, ())) | set(gated)):
            shown = f"{row.trigger}() {param}{gated.get(param, '')}"
            # Named where the quote is about it, not only in a signature it quotes (``def cancel(self, msg=None)``).
            about = re.sub(r"\bdef \w+\([^)]*\)", "", clause.quote)
            if re.search(rf"\b{re.escape(param)}\b", about) and shown not in out:
                out.append(shown)
    return out


def _finding_for(clause_id: str, rows: Sequence[str], by_row: dict, clauses_of: Callable[[Any], Any]) -> Any:
    """The counterexample a clause deviates by: the first of its rows', else one that names the clause."""
    found = next((by_row[r] for r in rows if r in by_row), None)
    if found is None:
        found = next((ce for ce in by_row.values() if clause_id in clauses_of(ce)), None)
    return found


def counterexample_json(ce: Any) -> dict:
    d = ce.differences[0]
    return {
        "text": ce.text(), "script": ce.script(), "aspect": d.aspect, "explanation": ce.explanation(),
        "expected": _jsonable(d.expected), "observed": _jsonable(d.observed),
        "path": [{"action": s.action.describe(), "rows": list(s.rows)} for s in ce.steps],
        "rows": list(ce.rows), "clauses": [cid for cid, _ in ce.clauses()],
    }


def _jsonable(value: Any) -> Any:
    return json.loads(json.dumps(value, default=repr))


# -- in the parent: workers, progress, the report ------------------------------------

@dataclass
class Job:
    """One worker: the request it was given, and what the parent has learnt of it so far."""

    request: AuditRequest
    report: dict | None = None
    unauditable: str = ""
    progress: int = 0
    done: bool = False
    killed: bool = False
    #: The worker died or hung before it reported (its report is ``_died``'s).
    died: bool = False
    proc: Any = None

    @property
    def results(self) -> Path:
        return Path(self.request.results)


def _job(request: AuditRequest, folder: str, number: int) -> Job:
    """A job for ``request``, whose worker writes its events in ``folder`` and runs where we run."""
    return Job(dataclasses.replace(request, results=str(Path(folder) / f"target{number}.jsonl"),
                                   cwd=os.getcwd()))


#: How the worker starts: the working directory leaves sys.path before asyncspec is imported.
_WORKER = ("import runpy, sys; sys.path[:] = [p for p in sys.path if p not in ('', '.')]; "
           "runpy.run_module('asyncspec._worker', run_name='__main__', alter_sys=True)")


def _run_worker(job: Job) -> None:
    """Run ``job``'s worker to its report. A worker on this interpreter that dies or hangs (a target that
    segfaults in one step) is run again with the target in a worker of its own, stepped one request at a
    time, where such a step is an error on its own operation's clauses and the others stay audited."""
    _run_worker_once(job)
    request = job.request
    if not job.died or request.interpreter or request.loop != "asyncio":
        return
    from .remote import running_here
    again = Job(dataclasses.replace(request, interpreter=running_here().as_dict(),
                                    results=str(job.results.with_suffix(".isolated.jsonl"))))
    job.proc = None
    _run_worker_once(again)
    if again.report is not None and not again.died:
        first = job.report.get("error") if job.report else None
        job.report = {**again.report, "interpreter": None, "isolated": first}
    elif again.unauditable:
        job.unauditable = again.unauditable
    job.done = True


def _run_worker_once(job: Job) -> None:
    stall = job.request.stall
    log = job.results.with_suffix(".out")
    with open(log, "wb") as out:
        # Not ``-m``: that puts the working directory first on sys.path, where a folder named
        # asyncspec (the parent of a clone has one) would shadow the installed tool.
        proc = subprocess.Popen([sys.executable, "-c", _WORKER], stdin=subprocess.PIPE,
                                stdout=out, stderr=subprocess.STDOUT, cwd=job.request.cwd)
        job.proc = proc
        assert proc.stdin is not None
        proc.stdin.write(job.request.to_json().encode())
        proc.stdin.close()
        last_size, last_change = -1, time.monotonic()
        heartbeat = Path(str(job.results) + ".step")
        while True:
            try:
                proc.wait(0.1)  # (returns as soon as the worker ends: the next job starts at once)
                break
            except subprocess.TimeoutExpired:
                pass
            size = heartbeat.stat().st_mtime_ns if heartbeat.exists() else 0
            if size != last_size:
                last_size, last_change = size, time.monotonic()
                job.progress = _last_progress(job.results)
            elif time.monotonic() - last_change > stall:
                job.killed = True
                proc.kill()
                proc.wait()
                break
    events = _read_events(job.results)
    for e in events:
        if e.get("event") == "unauditable":
            job.unauditable = e["what"]
        elif e.get("event") == "done":
            job.report = e["report"]
    if job.report is None and not job.unauditable:
        job.report = _died(job, events, proc.returncode)
        job.died = True
    job.done = True


def audit_one(request: AuditRequest) -> dict:
    """Audit ``request.target`` in a worker process of its own; return its report.

    Raises TargetError when the target cannot be audited: it cannot be
    imported, or it is of no auditable kind.
    """
    with tempfile.TemporaryDirectory(prefix="asyncspec-audit-") as tmp:
        job = _job(request, tmp, 0)
        _run_worker(job)
    if job.unauditable:
        raise TargetError(job.unauditable)
    assert job.report is not None
    return job.report


def _read_events(path: Path) -> list[dict]:
    if not path.exists():
        return []
    events = []
    for line in path.read_text(errors="replace").splitlines():
        try:
            events.append(json.loads(line))
        except ValueError:
            continue
    return events


def _last_progress(path: Path) -> int:
    heartbeat = Path(str(path) + ".step")
    try:
        step = heartbeat.read_text(errors="replace").partition("\t")[0]
    except OSError:
        return 0
    return int(step) if step.isdigit() else 0


#: How many of the last lines a dead worker printed its report shows.
TAIL_LINES = 15


def _died(job: Job, events: list[dict], code: int | None) -> dict:
    """The report of a worker that never finished.

    What it found before it died stays found: each finding it streamed makes
    its clauses deviations. Every other clause is an error saying why it died,
    at which step, after which path, with the tail of what it printed.
    """
    import signal
    last: dict[str, Any] = {"step": 0, "action": "(before the first step)"}
    heartbeat = Path(str(job.results) + ".step")
    if heartbeat.exists():
        step, _, rest = heartbeat.read_text(errors="replace").partition("\t")
        action, _, path = rest.partition("\t")
        if step.isdigit():
            last = {"step": int(step), "action": action}
            if path:
                last["path"] = path.split("\t")
    if job.killed:
        what = f"hung: no progress for {job.request.stall:.0f}s, so the worker was killed"
    elif code is not None and code < 0:
        try:
            what = f"the worker process died of signal {signal.Signals(-code).name}"
        except ValueError:
            what = f"the worker process died of signal {-code}"
    else:
        what = f"the worker process exited with status {code} before finishing"
    # The kind, if the worker got as far as resolving the target; else nothing is known of its clauses.
    kind = next((e["kind"] for e in events if e.get("event") == "resolved"), job.request.kind)
    from .model_tests.targets import spec_for
    error = {**last, "what": what}
    tail = _tail(job.results.with_suffix(".out"))
    if tail:
        error["output_tail"] = tail
    findings: dict[str, dict] = {}
    for e in events:
        if e.get("event") == "finding":
            for row in e["rows"]:
                findings.setdefault(row, e["counterexample"])
    clauses = []
    machine = spec_for(job.request.profile, job.request.version)[kind] if kind else None
    for c in (machine.clauses if machine is not None else ()):
        rows = [r.id for r in machine.formalized_by(c.id)] if machine is not None else []
        found = _finding_for(c.id, rows, findings, lambda ce: ce.get("clauses", ()))
        entry: dict[str, Any] = {"id": c.id, "source": c.source, "quote": c.quote, "rows": rows}
        if found is not None:
            entry.update(status="deviation", counterexample=found)
        else:
            entry.update(status="error", error=error)
        clauses.append(entry)
    summary = Counter(c["status"] for c in clauses)
    return {"target": job.request.target, "kind": kind or "unknown", "loop": job.request.loop,
            "interpreter": job.request.interpreter,
            "summary": {**{s: summary.get(s, 0) for s in STATUSES}, "error": max(1, summary.get("error", 0)),
                        "clauses": len(clauses)},
            "known_differences": {}, "error": error, "clauses": clauses}


def _tail(path: Path) -> list[str]:
    """What a worker printed last: from its fatal error, if it had one (the crashing frame comes first), else
    its last lines."""
    try:
        lines = path.read_text(errors="replace").splitlines()
    except OSError:
        return []
    fatal = next((i for i in range(len(lines) - 1, -1, -1) if lines[i].startswith("Fatal Python error")), None)
    shown = lines[fatal:fatal + TAIL_LINES] if fatal is not None else lines[-TAIL_LINES:]
    return [line[:300] for line in shown]


def _progress_bar(jobs: Sequence[Job], started: float, stream: Any) -> None:
    done = sum(j.done for j in jobs)
    steps = sum(j.progress for j in jobs)
    width = 30
    filled = int(width * done / len(jobs))
    stream.write(f"\raudit [{'#' * filled}{'.' * (width - filled)}] {done}/{len(jobs)} targets, "
                 f"{steps} transitions, {time.monotonic() - started:.0f}s ")
    stream.flush()


def _round_robin(jobs: Sequence[Job]) -> list[Job]:
    """The order to start ``jobs`` in: each interpreter's first, then each one's second, and so on.

    The reports keep the requests' order; this only decides which worker starts when.
    """
    place: Counter = Counter()
    ranked = []
    for i, job in enumerate(jobs):
        label = (job.request.interpreter or {}).get("label", "")
        ranked.append((place[label], i, job))
        place[label] += 1
    return [job for _, _, job in sorted(ranked, key=lambda r: r[:2])]


def _loop_kind() -> str:
    from .model_tests.machines import KINDS_OF_LOOPS
    return KINDS_OF_LOOPS[0]


def _loop_first(requests: Sequence[AuditRequest], loop: str) -> list[AuditRequest]:
    """Under ``--loop``, the loop's own audit, first, unless it is a target already.

    Its row says where the loop deviates from the loop contract; the objects run
    on it are compared with a model on the same loop, so that is not blamed on them.
    """
    if loop in ("asyncio", "", None) or any(r.target == loop for r in requests):
        return []
    first = requests[0]
    return [dataclasses.replace(first, target=loop, kind=_loop_kind())]


def _note_the_loop(reports: list[dict], loop: str) -> None:
    """Under ``--loop``, a note on every object's report when the loop itself deviates."""
    audited = next((r for r in reports if r["target"] == loop and r["kind"] == _loop_kind()), None)
    if audited is None:
        return
    deviating = [c["id"] for c in audited["clauses"] if c["status"] == "deviation"]
    if not deviating:
        return
    for report in reports:
        if report is not audited:
            report.setdefault("notes", []).append(
                f"the loop {loop} deviates from the loop contract ({', '.join(deviating)}; see its row). This "
                f"{report['kind']} was compared with the model run on the same loop, so what the loop does "
                f"differently is not blamed on it.")


def run_audit(requests: Sequence[AuditRequest], workers: int | None = None, out: Path | None = None,
              report_format: str = "text", diagrams_folder: Path | None = None,
              missing: Sequence[tuple[str, str]] = ()) -> int:
    """Audit each request's target, ``workers`` at a time; write the report and return the exit status.

    The requests share one profile, seed and loop, which the report states
    once. ``missing``: the interpreters asked for (``--python``) and not found,
    with why; the report says so. The report goes to ``out``, or else to stdout; the state diagrams to
    ``diagrams_folder`` when one is given. The exit status is 2 when a target
    cannot be audited, 1 on a deviation or an error, else 0.
    """
    from .report import render

    shared = {(r.profile, r.seed, r.loop) for r in requests}
    if len(shared) != 1:
        raise ValueError(f"expected requests that share one profile, seed and loop, found {sorted(shared)}")
    profile, seed, loop = shared.pop()
    for request in requests:
        if request.timeout <= 0:
            raise UsageError(f"expected --timeout SECONDS above 0, found {request.timeout}")
    if out is not None and out.parent and not out.parent.exists():
        raise UsageError(f"expected --out in an existing folder, found no folder {str(out.parent)!r}")
    requests = _loop_first(requests, loop) + list(requests)
    workers = workers or os.cpu_count() or 1
    # Cores no target's worker would use go to exploring, split evenly.
    spare = max(1, workers // max(1, len(requests)))
    # (A target on another interpreter is stepped through one worker there: its exploration is not split.)
    requests = [dataclasses.replace(r, jobs=spare) if r.jobs == 1 and not r.interpreter else r for r in requests]
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="asyncspec-audit-") as tmp:
        jobs = [_job(r, tmp, i) for i, r in enumerate(requests)]
        pending = _round_robin(jobs)
        running: list[threading.Thread] = []
        show = sys.stderr.isatty()  # the progress bar goes to stderr, the report to stdout or --out
        ended = threading.Semaphore(0)  # released as each job ends: the next one starts at once
        finished: set[threading.Thread] = set()

        def run(job: Job) -> None:
            try:
                _run_worker(job)
            finally:
                finished.add(threading.current_thread())
                ended.release()

        try:
            while pending or running:
                running = [t for t in running if t not in finished and t.is_alive()]
                while pending and len(running) < workers:
                    thread = threading.Thread(target=run, args=(pending.pop(0),), daemon=True)
                    thread.start()
                    running.append(thread)
                if show:
                    _progress_bar(jobs, started, sys.stderr)
                ended.acquire(timeout=0.2)
        finally:
            for job in jobs:  # interrupted: no worker outlives the audit
                if job.proc is not None and job.proc.poll() is None:
                    job.proc.kill()
        if show:
            _progress_bar(jobs, started, sys.stderr)
            sys.stderr.write("\n")
    elapsed = time.monotonic() - started
    for job in jobs:
        if job.unauditable:
            where = f" (on {job.request.interpreter['label']})" if job.request.interpreter else ""
            print(f"asyncspec audit: error{where}: {job.unauditable}", file=sys.stderr)
    reports = [j.report for j in jobs if j.report is not None]
    _note_the_loop(reports, loop)
    from .matrix import apply_known
    from .remote import running_here
    unmet = apply_known(reports, running_here().as_dict())
    document = {
        "asyncspec": __version__, "profile": profile, "python": sys.version.split()[0],
        "seed": seed, "loop": loop, "seconds": round(elapsed, 2), "targets": reports,
        "unauditable": [{"target": j.request.target, "error": j.unauditable,
                         **({"interpreter": j.request.interpreter} if j.request.interpreter else {})}
                        for j in jobs if j.unauditable],
    }
    interpreters = {r.interpreter["label"]: r.interpreter for r in requests if r.interpreter}
    if unmet:
        document["unmet_known"] = unmet
    if interpreters or missing:
        document["interpreters"] = list(interpreters.values())
        document["missing_interpreters"] = [{"asked": asked, "why": why} for asked, why in missing]
    if diagrams_folder is not None:
        from . import diagrams
        diagrams.write(diagrams_folder)
    text = render(document, report_format)
    if out is not None:
        out.write_text(text)
        print(f"asyncspec audit: wrote the {report_format} report to {out}", file=sys.stderr)
    else:
        sys.stdout.write(text)
    if any(j.unauditable for j in jobs):
        return 2
    if any(r["summary"]["deviation"] or r["summary"]["error"] for r in reports):
        return 1
    return 0
