"""Mutation benchmark: which first-order mutants of CPython's own asyncio code does the audit kill?

Run:  python benchmarks/bench_mutation.py [--objects future,event,ensure_future] [--sample N]
                                          [--seed S] [--jobs J] [--json PATH] [--audit-args "..."]
                                          [--mutants ID,...] [--timeout S] [--workdir DIR]

Needs the ``bench`` extra (``pip install -e '.[bench]'``: mutmut 3, libcst).

The yardstick is CPython's pure-Python ``Future`` (asyncio/futures.py), ``Event``
(asyncio/locks.py) and ``ensure_future`` (asyncio/tasks.py), mutated one node at
a time (``_mutants.py``: mutmut 3's operators plus statement deletion,
return-None, not-insertion and argument drop). Each mutant is written as a
standalone module and given to two detectors, each in its own process with a
timeout:

- the audit: ``asyncspec audit MODULE:ATTR --kind K --format json``, default settings;
- CPython's own tests for the object (``_mutation_suite.py``).

Both detectors first run on the unmutated copy, the baseline. A detector kills a
mutant when it reports something it does not report on the baseline: for the
audit, a deviation on a clause that passes on the baseline, or an error; for the
suite, a failure or error of a test that passes on the baseline. A timeout or a
crash also kills, and is recorded as such. A baseline that is not clean is
reported loudly, with what it reports.

``mutation_reviewed.toml`` lists mutants inspected by hand and found equivalent
or out of scope, each with its reason; the second kill rate leaves them out.
"""

from __future__ import annotations

import argparse
import importlib.metadata
import importlib.util
import json
import os
import random
import shlex
import signal
import subprocess
import sys
import tempfile
import threading
import time
import tomllib
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Callable, Sequence

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from _mutants import OBJECTS, Mutant, Mutants, ObjectUnderTest, generate, module_name  # noqa: E402

SUITE_RUNNER = HERE / "_mutation_suite.py"
REVIEWED = HERE / "mutation_reviewed.toml"
DETECTORS = ("audit", "suite")
TITLE = {"audit": "audit", "suite": "CPython suite"}
#: Until measured otherwise, a detector's time limit is this many times its baseline time, and at least the floor.
TIMEOUT_FACTOR = 10
TIMEOUT_FLOOR = 10.0
#: Mutants per object when --sample is not given, so that the whole run fits in 30 minutes on 2 cores.
#: Measured on 2 cores, Python 3.11.7, --jobs 2: every mutant (--sample 0) took 48 minutes, 434
#: mutants: Future's 301 took 8.0s each (audit 6.8s, suite 1.3s, two jobs at once; about 11s of CPU),
#: Event's 61 and ensure_future's 72 took 7.4 minutes together. 120 Future mutants and all the others
#: then take about 24 minutes (16 minutes of CPU per core). From fbe9a93 to cda01bc the audit shrank
#: every deviation it had already found, and a killed mutant's audit took 2x to 30x longer.
DEFAULT_SAMPLE = 120


# -- running one detector on one module ---------------------------------------------

@dataclass(frozen=True)
class Process:
    """How a detector's process ended, and what it cost."""

    returncode: int | None
    stderr: str
    seconds: float
    #: CPU time of the process and the children it waited for (the audit's worker): unlike wall time,
    #: it does not grow when other work shares the machine. A timed-out run's killed children are not in it.
    cpu_seconds: float

    @property
    def timed_out(self) -> bool:
        return self.returncode is None

    def last_line(self) -> str:
        lines = [line for line in self.stderr.splitlines() if line.strip()]
        return lines[-1][:200] if lines else ""


def run_process(cmd: list[str], cwd: Path, timeout: float, log: Path) -> Process:
    """Run ``cmd`` in its own process group, stderr to ``log``; on timeout, kill the group (the audit has a worker).

    The process is reaped with ``os.wait4`` rather than by ``subprocess``, for its resource usage.
    """
    env = dict(os.environ, PYTHONDONTWRITEBYTECODE="1",
               PYTHONPATH=os.pathsep.join(filter(None, [str(cwd), os.environ.get("PYTHONPATH")])))
    started = time.perf_counter()
    with log.open("w", encoding="utf-8") as err:
        proc = subprocess.Popen(cmd, cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=err, start_new_session=True)
    timed_out = False
    while True:
        pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
        if pid:
            break
        if time.perf_counter() - started > timeout:
            os.killpg(proc.pid, signal.SIGKILL)
            _, status, usage = os.wait4(proc.pid, 0)
            timed_out = True
            break
        time.sleep(0.02)
    proc.returncode = os.waitstatus_to_exitcode(status)
    return Process(None if timed_out else proc.returncode, log.read_text(encoding="utf-8", errors="replace"),
                   time.perf_counter() - started, usage.ru_utime + usage.ru_stime)


@dataclass(frozen=True)
class Verdict:
    """What one detector concluded about one mutant."""

    killed: bool
    reason: str
    seconds: float
    cpu_seconds: float
    #: The clauses or tests that told (new deviations, errors, failing tests).
    evidence: tuple[str, ...] = ()
    #: Audit only: baseline-deviating clauses whose counterexample the mutant changed (not counted).
    masked: tuple[str, ...] = ()
    #: Audit only: declared known differences the audit applied more often than on the baseline, with how
    #: many more times ("D-CTX +84"): a difference it saw on the mutant, and then explained away.
    explained: tuple[str, ...] = ()

    @classmethod
    def of(cls, process: Process, reason: str | None, evidence: tuple[str, ...] = (),
           masked: tuple[str, ...] = (), explained: tuple[str, ...] = ()) -> Verdict:
        """Killed for ``reason``, or survived when there is none."""
        return cls(reason is not None, reason or "survived", process.seconds, process.cpu_seconds, evidence, masked,
                   explained)


@dataclass(frozen=True)
class AuditRun:
    """What the audit reported for one module: each clause's status, or why there is no report."""

    process: Process
    clauses: dict[str, str] = field(default_factory=dict)
    #: Each deviating clause's counterexample, reduced to what it showed.
    counterexamples: dict[str, str] = field(default_factory=dict)
    #: Why the target could not be audited to the end (unauditable, target-level error, no report).
    failure: str | None = None
    #: How many times each declared known difference explained an observation.
    known: dict[str, int] = field(default_factory=dict)

    def extent(self) -> str:
        return f"{sum(s == 'pass' for s in self.clauses.values())} of {len(self.clauses)} clauses pass"

    def problems(self) -> list[str]:
        """What this run reports although the module is the unmutated copy."""
        if self.failure:
            return [f"the audit could not audit the unmutated copy: {self.failure}"]
        return [f"{cid}: {status}" for cid, status in self.clauses.items() if status in ("deviation", "error")]

    def judge(self, mutant: AuditRun) -> Verdict:
        """Judge a mutant's run against this one, the baseline: a new deviation or any new error kills."""
        if mutant.failure:
            return Verdict.of(mutant.process, mutant.failure)
        told = tuple(cid for cid, status in mutant.clauses.items()
                     if (status == "error" and self.clauses.get(cid) != "error")
                     or (status == "deviation" and self.clauses.get(cid) not in ("deviation", "error")))
        masked = tuple(cid for cid, status in mutant.clauses.items()
                       if status == "deviation" and self.clauses.get(cid) == "deviation"
                       and mutant.counterexamples.get(cid) != self.counterexamples.get(cid))
        explained = tuple(f"{k} +{n - self.known.get(k, 0)}" for k, n in mutant.known.items()
                          if n > self.known.get(k, 0))
        if not told:
            return Verdict.of(mutant.process, None, (), masked, explained)
        kinds = " and ".join(sorted({mutant.clauses[c] for c in told}))
        return Verdict.of(mutant.process, f"{kinds} on {', '.join(told[:4])}{' ...' if len(told) > 4 else ''}",
                          told, masked, explained)


def run_audit(obj: ObjectUnderTest, module: str, folder: Path, timeout: float, extra: Sequence[str]) -> AuditRun:
    out = folder / f"{module}.audit.json"
    process = run_process([sys.executable, "-m", "asyncspec", "audit", f"{module}:{obj.attr}", "--kind", obj.kind,
                           "--format", "json", "--out", str(out), *extra], folder, timeout,
                          folder / f"{module}.audit.stderr")
    if process.timed_out:
        return AuditRun(process, failure=f"timeout after {process.seconds:.0f}s (no report: a hang, or a long "
                                         f"search after a deviation)")
    try:
        document = json.loads(out.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return AuditRun(process, failure=f"crash: exit {process.returncode}, no report: {process.last_line()}")
    if document.get("unauditable"):
        return AuditRun(process, failure=f"unauditable: {document['unauditable'][0]['error'][:200]}")
    if not document.get("targets"):
        return AuditRun(process, failure=f"crash: exit {process.returncode}, a report with no target: "
                                         f"{process.last_line()}")
    target = document["targets"][0]
    clauses = {c["id"]: c["status"] for c in target["clauses"]}
    shown = {c["id"]: json.dumps([c["counterexample"].get(k) for k in ("aspect", "expected", "observed", "path")],
                                 sort_keys=True, default=repr)
             for c in target["clauses"] if c.get("counterexample")}
    error = target.get("error")
    failure = f"error at step {error.get('step')}: {str(error.get('what'))[:200]}" if error else None
    return AuditRun(process, clauses, shown, failure, dict(target.get("known_differences") or {}))


_WORST = {"error": 3, "fail": 2}


@dataclass(frozen=True)
class SuiteRun:
    """What CPython's tests did against one module: each test's outcome, or why the run ended early."""

    process: Process
    outcomes: dict[str, str] = field(default_factory=dict)
    why: dict[str, str] = field(default_factory=dict)
    failure: str | None = None

    def extent(self) -> str:
        return f"{sum(o == 'pass' for o in self.outcomes.values())} of {len(self.outcomes)} tests pass"

    def problems(self) -> list[str]:
        """What this run reports although the module is the unmutated copy."""
        problems = [f"{t}: {o} ({self.why.get(t, '')[:100]})" for t, o in self.outcomes.items()
                    if o in ("fail", "error")]
        if self.failure or not self.outcomes:
            problems.insert(0, f"CPython's suite did not run to the end on the unmutated copy: "
                               f"{self.failure or 'no test ran'}")
        return problems

    def judge(self, mutant: SuiteRun) -> Verdict:
        """Judge a mutant's run against this one, the baseline: a test that passed here and no longer does kills."""
        passing = [t for t, o in self.outcomes.items() if o == "pass"]
        broken = tuple(t for t in passing if mutant.outcomes.get(t) in ("fail", "error"))
        if mutant.failure:
            return Verdict.of(mutant.process, mutant.failure, broken)
        if broken:
            first = broken[0]
            return Verdict.of(mutant.process, f"{len(broken)} test(s) fail, first {first}: "
                                              f"{mutant.why.get(first, '')[:120]}", broken)
        missing = tuple(t for t in passing if t not in mutant.outcomes)
        if missing:
            return Verdict.of(mutant.process, f"{len(missing)} test(s) did not run, first {missing[0]}", missing)
        return Verdict.of(mutant.process, None)


def run_suite(obj: ObjectUnderTest, module: str, folder: Path, timeout: float, extra: Sequence[str] = ()) -> SuiteRun:
    out = folder / f"{module}.suite.jsonl"
    process = run_process([sys.executable, str(SUITE_RUNNER), obj.name, f"{module}:{obj.attr}", str(out)],
                          folder, timeout, folder / f"{module}.suite.stderr")
    outcomes: dict[str, str] = {}
    why: dict[str, str] = {}
    running = None
    try:
        lines = out.read_text(encoding="utf-8").splitlines()
    except OSError:
        lines = []
    for line in lines:
        try:
            entry = json.loads(line)
        except ValueError:  # the last line, cut off by a kill
            continue
        if "start" in entry:
            running = entry["start"]
            continue
        name, outcome = entry["test"], entry["outcome"]
        if _WORST.get(outcome, 0) >= _WORST.get(outcomes.get(name, ""), 0):
            outcomes[name] = outcome
            if "why" in entry:
                why[name] = entry["why"]
        running = None
    failure = None
    where = f" in {running}" if running else ""
    if process.timed_out:
        failure = f"timeout after {process.seconds:.0f}s{where}"
    elif process.returncode != 0:
        failure = f"crash: exit {process.returncode}{where}: {process.last_line()}"
    return SuiteRun(process, outcomes, why, failure)


Run = AuditRun | SuiteRun
#: How each detector runs on one module: (object, module, folder, timeout, extra audit flags).
RUNNERS: dict[str, Callable[[ObjectUnderTest, str, Path, float, Sequence[str]], Run]] = {
    "audit": run_audit, "suite": run_suite}


# -- the reviewed file --------------------------------------------------------------

@dataclass(frozen=True)
class Review:
    """A mutant inspected by hand: equivalent, or out of the benchmark's scope, and why."""

    id: str
    verdict: str
    reason: str
    mutation: str


REVIEW_VERDICTS = ("equivalent", "out-of-scope")


def load_reviews(path: Path) -> dict[str, Review]:
    if not path.exists():
        return {}
    with path.open("rb") as f:
        data = tomllib.load(f)
    reviews = {}
    for mutant_id, entry in data.items():
        if entry.get("verdict") not in REVIEW_VERDICTS or not entry.get("reason") or not entry.get("mutation"):
            raise SystemExit(f"{path}: entry {mutant_id!r} needs verdict (one of {REVIEW_VERDICTS}), "
                             f"mutation and reason; found {sorted(entry)}")
        reviews[mutant_id] = Review(mutant_id, entry["verdict"], entry["reason"], entry["mutation"])
    return reviews


def mutation_text(m: Mutant) -> str:
    """How a review names a mutation, so an entry whose id now means another mutation is caught."""
    return f"{m.before} -> {m.after}"


# -- one object's benchmark ---------------------------------------------------------

@dataclass
class ObjectRun:
    """One object: its mutants, each detector's run on the baseline, and its verdict on each mutant."""

    obj: ObjectUnderTest
    generated: Mutants
    mutants: list[Mutant]
    baseline: dict[str, Run] = field(default_factory=dict)
    verdicts: dict[str, dict[str, Verdict]] = field(default_factory=lambda: {d: {} for d in DETECTORS})
    timeouts: dict[str, float] = field(default_factory=dict)

    @property
    def baseline_module(self) -> str:
        return module_name(f"{self.obj.name}-baseline")

    def usable(self, detector: str) -> bool:
        """Whether the detector ran to the end on the baseline, so that its runs on mutants can be judged."""
        run = self.baseline.get(detector)
        return run is not None and run.failure is None and bool(run.clauses if isinstance(run, AuditRun)
                                                                else run.outcomes)


def sample(mutants: Sequence[Mutant], n: int, seed: int) -> list[Mutant]:
    """``n`` mutants drawn with ``seed``, in source order; all of them when ``n`` is 0 or too large."""
    if n <= 0 or n >= len(mutants):
        return list(mutants)
    chosen = set(random.Random(seed).sample([m.id for m in mutants], n))
    return [m for m in mutants if m.id in chosen]


# -- the report ---------------------------------------------------------------------

def _rate(killed: int, total: int) -> str:
    return f"{killed}/{total} {100 * killed / total:5.1f}%" if total else "-"


def summarise(run: ObjectRun, reviews: dict[str, Review]) -> dict[str, Any]:
    ids = [m.id for m in run.mutants]
    counted = [i for i in ids if i not in reviews]
    summary: dict[str, Any] = {"mutants": len(ids), "reviewed": len(ids) - len(counted)}
    for d in DETECTORS:
        v = run.verdicts[d]
        if not v or not ids:
            continue
        killed = sum(v[i].killed for i in ids)
        summary[d] = {
            "killed": killed, "kill_rate": killed / len(ids),
            "killed_excluding_reviewed": sum(v[i].killed for i in counted),
            "kill_rate_excluding_reviewed": sum(v[i].killed for i in counted) / len(counted) if counted else None,
            "seconds_per_mutant": sum(v[i].seconds for i in ids) / len(ids),
            "cpu_seconds_per_mutant": sum(v[i].cpu_seconds for i in ids) / len(ids),
            "timeouts": sum(v[i].reason.startswith("timeout") for i in ids),
            "crashes": sum(v[i].reason.startswith(("crash", "unauditable")) for i in ids),
            "timeout_seconds": run.timeouts.get(d),
        }
    return summary


def _review_note(review: Review | None) -> str:
    return f" [reviewed: {review.verdict}: {review.reason}]" if review else ""


def report_baseline(run: ObjectRun, say: Callable[[str], None]) -> None:
    """Say whether each detector is clean on the unmutated copy; loudly, with what it reports, when not."""
    for detector, base in run.baseline.items():
        problems = base.problems()
        if not problems:
            say(f"baseline ({TITLE[detector]}): the unmutated copy is clean: {base.extent()} "
                f"({base.process.seconds:.1f}s)")
            continue
        bar = "!" * 78
        say(bar)
        say(f"!! BASELINE NOT CLEAN ({TITLE[detector]}): the UNMUTATED copy {run.baseline_module}:{run.obj.attr} "
            f"already shows {len(problems)} problem(s):")
        for problem in problems:
            say(f"!!   {problem}")
        if not run.usable(detector):
            say(f"!! The {TITLE[detector]} detector cannot judge {run.obj.name}'s mutants.")
        elif detector == "audit":
            say(f"!! Kills are counted only on the clauses that pass on the baseline ({base.extent()}), or an error.")
        else:
            say(f"!! Kills are counted only on the tests that pass on the baseline ({base.extent()}).")
        say(bar)


def report_object(run: ObjectRun, reviews: dict[str, Review], say: Callable[[str], None]) -> None:
    by_id = {m.id: m for m in run.mutants}
    spans = ", ".join(f"{name} (lines {a}-{b})" for name, (a, b) in run.generated.spans.items())
    say(f"\n=== {run.obj.name}: {run.generated.path} {spans} ===")
    stillborn = run.generated.stillborn
    say(f"mutants: {len(run.generated.mutants)} generated, {len(run.mutants)} run"
        + (f"; {len(stillborn)} stillborn (the module does not import), left out" if stillborn else ""))
    for dead in stillborn:
        say(f"  stillborn {dead.id}: {dead.why}")
    report_baseline(run, say)
    detectors = [d for d in DETECTORS if run.verdicts[d]]
    if not detectors:
        return
    summary = summarise(run, reviews)
    counted = summary["mutants"] - summary["reviewed"]
    rows: list[tuple[str, Callable[[dict[str, Any]], str]]] = [
        ("killed", lambda s: _rate(s["killed"], summary["mutants"])),
        (f"killed, {summary['reviewed']} reviewed left out", lambda s: _rate(s["killed_excluding_reviewed"], counted)),
        ("wall time per mutant (limit)", lambda s: f"{s['seconds_per_mutant']:.1f}s ({s['timeout_seconds']:.0f}s)"),
        ("CPU time per mutant", lambda s: f"{s['cpu_seconds_per_mutant']:.1f}s"),
        ("timeouts / crashes", lambda s: f"{s['timeouts']} / {s['crashes']}"),
    ]
    say(f"{'':<32}" + "".join(f"{TITLE[d]:<24}" for d in detectors))
    for label, cell in rows:
        say(f"{label:<32}" + "".join(f"{cell(summary[d]):<24}" for d in detectors))
    if len(detectors) == 2:
        audit, suite = run.verdicts["audit"], run.verdicts["suite"]
        for title, killer, other in (("the audit", audit, suite), ("CPython's suite", suite, audit)):
            only = [i for i in by_id if killer[i].killed and not other[i].killed]
            say(f"\nkilled only by {title} ({len(only)}):")
            for i in only:
                say(f"  {i:<36} {by_id[i].describe()}{_review_note(reviews.get(i))}")
                say(f"  {'':<36} {killer[i].reason}")
    if "audit" in detectors:
        survivors = [i for i in by_id if not run.verdicts["audit"][i].killed]
        say(f"\naudit survivors ({len(survivors)}):")
        for i in survivors:
            also = "" if "suite" not in detectors else \
                (" [CPython's suite kills it]" if run.verdicts["suite"][i].killed else " [CPython's suite misses it too]")
            verdict = run.verdicts["audit"][i]
            hidden = f" [changes the baseline's counterexample on {', '.join(verdict.masked)}: not counted]" \
                if verdict.masked else ""
            if verdict.explained:
                hidden += f" [known differences applied more often than on the clean copy: {', '.join(verdict.explained)}]"
            say(f"  {i:<36} {by_id[i].describe()}{also}{hidden}{_review_note(reviews.get(i))}")
    for i in by_id:
        review = reviews.get(i)
        killers = [d for d in detectors if run.verdicts[d][i].killed]
        if review and review.verdict == "equivalent" and killers:
            say(f"\nNOTE: {i} is reviewed as equivalent, yet killed by "
                + "; ".join(f"{TITLE[d]}: {run.verdicts[d][i].reason}" for d in killers))


def report_summary(runs: list[ObjectRun], reviews: dict[str, Review], say: Callable[[str], None]) -> None:
    say("\n=== summary ===")
    say(f"{'object':<15}{'mutants':>8}  {'detector':<15}{'kill rate':>16}  {'without reviewed':>16}  "
        f"{'wall s/mutant':>13}  {'CPU s/mutant':>12}")
    for run in runs:
        summary = summarise(run, reviews)
        for d in DETECTORS:
            if d in summary:
                s = summary[d]
                say(f"{run.obj.name:<15}{summary['mutants']:>8}  {TITLE[d]:<15}"
                    f"{_rate(s['killed'], summary['mutants']):>16}  "
                    f"{_rate(s['killed_excluding_reviewed'], summary['mutants'] - summary['reviewed']):>16}  "
                    f"{s['seconds_per_mutant']:>13.1f}  {s['cpu_seconds_per_mutant']:>12.1f}")


def as_document(runs: list[ObjectRun], reviews: dict[str, Review], meta: dict[str, Any]) -> dict[str, Any]:
    objects = {}
    for run in runs:
        objects[run.obj.name] = {
            "source": str(run.generated.path), "scope": run.generated.spans,
            "generated": len(run.generated.mutants),
            "stillborn": [asdict(s) for s in run.generated.stillborn],
            "baseline": {d: {"clean": not base.problems(), "problems": base.problems(),
                             "seconds": base.process.seconds, "cpu_seconds": base.process.cpu_seconds,
                             **({"clauses": base.clauses} if isinstance(base, AuditRun) else {"tests": base.outcomes})}
                         for d, base in run.baseline.items()},
            "summary": summarise(run, reviews),
            "mutants": [{
                "id": m.id, "line": m.line, "operator": m.operator, "file": m.filename,
                "before": m.before, "after": m.after,
                "review": asdict(reviews[m.id]) if m.id in reviews else None,
                **{d: asdict(run.verdicts[d][m.id]) for d in DETECTORS if m.id in run.verdicts[d]},
            } for m in run.mutants],
        }
    return {**meta, "objects": objects}


# -- the run ------------------------------------------------------------------------

class Progress:
    """One line per finished job on stderr."""

    def __init__(self, total: int) -> None:
        self.total, self.done, self.started = total, 0, time.perf_counter()
        self._lock = threading.Lock()

    def tick(self, what: str) -> None:
        with self._lock:
            self.done += 1
            elapsed = time.perf_counter() - self.started
            print(f"[{self.done}/{self.total} {elapsed:6.0f}s] {what}", file=sys.stderr, flush=True)


def _parse(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    p.add_argument("--objects", default=",".join(OBJECTS), help="comma-separated: " + ", ".join(OBJECTS))
    p.add_argument("--sample", type=int, default=DEFAULT_SAMPLE,
                   help="at most N mutants per object, drawn with --seed (0: all; default %(default)s)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--mutants", default="", help="comma-separated mutant ids: run only these (instead of --sample)")
    p.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    p.add_argument("--json", type=Path, help="also write every result as JSON to PATH")
    p.add_argument("--audit-args", default="", help="extra flags for asyncspec audit, as one string")
    p.add_argument("--timeout", type=float,
                   help=f"seconds one detector may take on one mutant (default: {TIMEOUT_FACTOR}x its baseline "
                        f"time, at least {TIMEOUT_FLOOR:.0f}s)")
    p.add_argument("--reviewed", type=Path, default=REVIEWED)
    p.add_argument("--workdir", type=Path, help="write the mutant modules and reports here, and keep them")
    p.add_argument("--no-suite", action="store_true", help="run the audit only")
    p.add_argument("--no-audit", action="store_true", help="run CPython's suite only")
    args = p.parse_args(argv)
    names = [n.strip() for n in args.objects.split(",") if n.strip()]
    unknown = [n for n in names if n not in OBJECTS]
    if unknown or not names:
        p.error(f"--objects: expected some of {', '.join(OBJECTS)}, got {args.objects!r}")
    args.objects = names
    args.mutants = {i.strip() for i in args.mutants.split(",") if i.strip()}
    strays = sorted(i for i in args.mutants if i.split(":")[0] not in names)
    if strays:
        p.error(f"--mutants: {', '.join(strays)} not of --objects {','.join(names)}")
    try:
        args.audit_args = shlex.split(args.audit_args)
    except ValueError as e:
        p.error(f"--audit-args: {e}")
    if args.jobs < 1:
        p.error("--jobs: expected at least 1")
    return args


def stale_reviews(runs: list[ObjectRun], reviews: dict[str, Review]) -> list[str]:
    """Drop (and return) review entries whose id now names another mutation: a review holds for one mutation."""
    stale = []
    for run in runs:
        for m in run.generated.mutants:
            review = reviews.get(m.id)
            if review and review.mutation != mutation_text(m):
                stale.append(f"{m.id}: reviewed as {review.mutation!r}, now {mutation_text(m)!r}")
                del reviews[m.id]
    return stale


def run_detectors(runs: list[ObjectRun], detectors: list[str], folder: Path, args: argparse.Namespace) -> None:
    """Each detector on each object's baseline, then on each mutant: every run its own process, --jobs at once."""
    for run in runs:
        (folder / f"{run.baseline_module}.py").write_text(run.generated.original, encoding="utf-8")
        for m in run.mutants:
            (folder / f"{module_name(m.id)}.py").write_text(m.source, encoding="utf-8")

    def detect(detector: str, run: ObjectRun, module: str, timeout: float) -> Run:
        return RUNNERS[detector](run.obj, module, folder, timeout, args.audit_args)

    with ThreadPoolExecutor(max_workers=args.jobs) as pool:
        baselines = {(run.obj.name, d): pool.submit(detect, d, run, run.baseline_module, args.timeout or 600.0)
                     for run in runs for d in detectors}
        for run in runs:
            for d in detectors:
                base = run.baseline[d] = baselines[(run.obj.name, d)].result()
                run.timeouts[d] = args.timeout or max(TIMEOUT_FLOOR, TIMEOUT_FACTOR * base.process.seconds)
                print(f"baseline {run.obj.name} ({TITLE[d]}): "
                      f"{'NOT CLEAN: ' + '; '.join(base.problems()) if base.problems() else 'clean'}",
                      file=sys.stderr, flush=True)
        jobs = [(run, m, d) for run in runs for d in detectors if run.usable(d) for m in run.mutants]
        progress = Progress(len(jobs))

        def job(run: ObjectRun, m: Mutant, detector: str) -> None:
            verdict = run.baseline[detector].judge(detect(detector, run, module_name(m.id),  # type: ignore[arg-type]
                                                          run.timeouts[detector]))
            run.verdicts[detector][m.id] = verdict
            progress.tick(f"{m.id} {detector}: {'killed: ' + verdict.reason if verdict.killed else 'survived'} "
                          f"({verdict.seconds:.1f}s)")

        for f in [pool.submit(job, *j) for j in jobs]:
            f.result()


def main(argv: list[str] | None = None) -> int:
    args = _parse(argv)
    started = time.perf_counter()
    command = shlex.join(["python", os.path.relpath(sys.argv[0]) if argv is None else "bench_mutation.py",
                          *(sys.argv[1:] if argv is None else argv)])

    def say(text: str = "") -> None:
        print(text, flush=True)

    say(f"$ {command}")
    has_suite = importlib.util.find_spec("test") is not None and \
        importlib.util.find_spec("test.test_asyncio") is not None
    detectors = [d for d in DETECTORS if not (d == "suite" and (args.no_suite or not has_suite))
                 and not (d == "audit" and args.no_audit)]
    mutmut_version = importlib.metadata.version("mutmut")
    asyncspec = importlib.util.find_spec("asyncspec")
    where = Path(asyncspec.origin).parent if asyncspec and asyncspec.origin else "?"
    selection = f"mutants {','.join(sorted(args.mutants))}" if args.mutants else f"sample {args.sample or 'all'}"
    say(f"Python {sys.version.split()[0]}, {os.cpu_count()} cores, --jobs {args.jobs}, seed {args.seed}, {selection}")
    say(f"mutants: mutmut {mutmut_version} operators + statement_deletion, return_none, not_insertion, "
        f"argument_drop; audit: asyncspec from {where} {shlex.join(args.audit_args)}".rstrip())
    if not has_suite:
        say("CPython's `test` package is absent from this Python: the CPython-suite detector is skipped.")
    reviews = load_reviews(args.reviewed)

    runs = []
    for name in args.objects:
        generated = generate(OBJECTS[name])
        chosen = [m for m in generated.mutants if m.id in args.mutants] if args.mutants \
            else sample(generated.mutants, args.sample, args.seed)
        runs.append(ObjectRun(OBJECTS[name], generated, chosen))
    unknown = sorted(args.mutants - {m.id for run in runs for m in run.mutants})
    if unknown:
        print(f"bench_mutation.py: error: --mutants: no such mutant on this Python: {', '.join(unknown)}",
              file=sys.stderr)
        return 2
    stale = stale_reviews(runs, reviews)
    for entry in stale:
        say(f"WARNING: stale review entry ignored (its id names another mutation on this Python): {entry}")

    with tempfile.TemporaryDirectory(prefix="asyncspec-mutants-") as tmp:
        folder = args.workdir or Path(tmp)
        folder.mkdir(parents=True, exist_ok=True)
        run_detectors(runs, detectors, folder, args)
    if args.workdir:
        say(f"\nmutant modules and reports kept in {folder}")
    for run in runs:
        report_object(run, reviews, say)
    report_summary(runs, reviews, say)
    seconds = time.perf_counter() - started
    say(f"\nwall time {seconds / 60:.1f} min")
    if args.json:
        meta = {"command": command, "python": sys.version.split()[0], "cores": os.cpu_count(), "jobs": args.jobs,
                "seed": args.seed, "sample": args.sample, "mutants": sorted(args.mutants),
                "audit_args": args.audit_args, "mutation_library": f"mutmut {mutmut_version}", "seconds": seconds,
                "detectors": detectors, "stale_reviews": stale}
        args.json.write_text(json.dumps(as_document(runs, reviews, meta), indent=2, default=str) + "\n")
        say(f"JSON written to {args.json}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
