"""One check of a machine's targets: exhaustive exploration, then random sequences, then coverage.

``check_machine`` is what ``asyncspec check`` and the pytest suite run; the
audit runs the same two phases on each target (``asyncspec.audit``).
Exhaustive mode goes first because it finds the shortest
counterexample; Hypothesis then tries longer random sequences. Coverage is
the union of both, counted on the model: every declared row (transition) and
every clause must have been exercised, or the run fails.
"""

from __future__ import annotations

import dataclasses

import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Callable, Sequence

from hypothesis.errors import Flaky

from ..spec import Machine
from ..spec.errors import Deviation
from .engine import Target
from .explore import DEFAULT_BOUNDS, Exploration, explore
from .lockstep import Counterexample, KNOWN_DIFFERENCES, KnownDifference, World
from .stateful import RandomTally, lockstep_machine, run_random_sequences
from .targets import KINDS, builtin_targets, new_world, spec_for

DEFAULT_EXAMPLES = 40


@dataclass
class Coverage:
    machine: Machine
    rows: Counter

    @property
    def declared_rows(self) -> list[str]:
        return [r.id for r in self.machine.all_rows]

    @property
    def missing_rows(self) -> list[str]:
        """The reachable rows that never fired (a row declared unreachable is not asked for)."""
        unreachable = {r.id for r in self.machine.all_rows if r.unreachable}
        return [r for r in self.declared_rows if not self.rows.get(r) and r not in unreachable]

    def states(self) -> Counter:
        out: Counter = Counter()
        for r in self.machine.all_rows:
            out[r.source] += self.rows.get(r.id, 0)
            if r.dest is not None and self.rows.get(r.id):
                out[r.dest] += self.rows[r.id]
        return out

    def clauses(self) -> Counter:
        out: Counter = Counter()
        for c in self.machine.clauses:
            out[c.id] = sum(self.rows.get(r.id, 0) for r in self.machine.formalized_by(c.id))
        return out

    @property
    def missing_clauses(self) -> list[str]:
        """Clauses no row fired for, among those some reachable row formalizes."""
        reachable = {c.id for c in self.machine.clauses
                     if any(not r.unreachable for r in self.machine.formalized_by(c.id))}
        return [c for c, n in self.clauses().items() if not n and c in reachable]

    def report(self, verbose: bool = False) -> str:
        rows = self.declared_rows
        states = self.states()
        clauses = self.clauses()
        lines = [
            f"  coverage: {sum(1 for s in self.machine.states if states[s.name])}/{len(self.machine.states)} "
            f"states, {len(rows) - len(self.missing_rows)}/{len(rows)} transitions, "
            f"{len(clauses) - len(self.missing_clauses)}/{len(clauses)} clauses",
        ]
        if verbose:
            for r in rows:
                lines.append(f"    {self.rows.get(r, 0):>7}  {r}")
        for r in self.missing_rows:
            lines.append(f"    NOT EXERCISED transition {r}")
        for c in self.missing_clauses:
            lines.append(f"    NOT EXERCISED clause {c}")
        return "\n".join(lines)


@dataclass
class MachineCheck:
    kind: str
    targets: list[str]
    exploration: Exploration | None = None
    examples: int = 0
    hypothesis_seconds: float = 0.0
    counterexample: Counterexample | None = None
    found_by: str = ""
    coverage: Coverage | None = None
    known_used: Counter = field(default_factory=Counter)
    error: str = ""

    @property
    def ok(self) -> bool:
        return self.counterexample is None and not self.error and (
            self.coverage is None or not (self.coverage.missing_rows or self.coverage.missing_clauses))


def check_machine(kind: str, targets: Sequence[Target] | None = None,
                  make_targets: Callable[[], Sequence[Target]] | None = None,
                  profile: str = "cpython", examples: int | None = None, depth: int | None = None,
                  seed: int = 0, known: Sequence[KnownDifference] = KNOWN_DIFFERENCES,
                  deadline: float | None = None, random: bool = True, jobs: int = 1) -> MachineCheck:
    """Check ``kind``'s targets against the model: exhaustively, then at random."""
    machine = spec_for(profile)[kind]
    if make_targets is None:
        fixed = list(targets) if targets is not None else None
        make_targets = (lambda: fixed) if fixed is not None else (lambda: builtin_targets(kind, profile))
    names = [t.name for t in make_targets()]
    result = MachineCheck(kind, names)
    rows: Counter = Counter()

    def make_world() -> World:
        return new_world(kind, make_targets(), profile, known)

    bounds = DEFAULT_BOUNDS[kind]
    if depth is not None:
        bounds = dataclasses.replace(bounds, depth=depth)
    exploration = explore(machine, make_world, bounds, deadline=deadline, jobs=jobs)
    result.exploration = exploration
    rows.update(exploration.coverage)
    result.known_used.update(exploration.known_used)
    if exploration.counterexample is not None:
        result.counterexample = exploration.counterexample
        result.found_by = "exhaustive"
    elif random:
        tally = RandomTally()
        machine_cls = lockstep_machine(kind, make_targets, profile, known, name=f"{kind}:{id(result)}",
                                       tally=tally)
        started = time.perf_counter()
        try:
            run_random_sequences(machine_cls, examples or DEFAULT_EXAMPLES, seed)
        except Deviation as e:
            result.counterexample = e.counterexample
            result.found_by = "random"
        except Flaky as e:  # pragma: no cover - depends on the target
            result.error = f"the target behaved differently on replay: {e}"
        result.hypothesis_seconds = time.perf_counter() - started
        result.examples = tally.examples
        rows.update(tally.rows)
    result.coverage = Coverage(machine, rows)
    return result


def run_check(kinds: Sequence[str] = KINDS, profile: str = "cpython", examples: int | None = None,
              depth: int | None = None, seed: int = 0, verbose: bool = False, jobs: int = 1) -> int:
    """Check the built-in targets of each of ``kinds`` and print what was found.

    Return the exit status of ``asyncspec check``: 1 on any counterexample or
    coverage gap, else 0.
    """
    failed = False
    print(f"asyncspec check: profile {profile}, seed {seed}, Python {sys.version.split()[0]}")
    for kind in kinds:
        started = time.perf_counter()
        r = check_machine(kind, profile=profile, examples=examples, depth=depth, seed=seed, jobs=jobs)
        elapsed = time.perf_counter() - started
        e = r.exploration
        print(f"\n{kind}: model vs {', '.join(r.targets)}")
        if e is not None:
            speed = f"{e.transitions / e.seconds:.0f} transitions/s, {e.states / e.seconds:.0f} states/s" \
                if e.seconds else ""
            print(f"  exhaustive: {e.states} distinct states, {e.transitions} transitions tried, "
                  f"{e.suffixes} suffixes before merges, max depth {e.max_depth}, {e.seconds:.1f}s "
                  f"({speed}, {jobs} job{'s' if jobs > 1 else ''})")
        if r.examples:
            rate = r.examples / r.hypothesis_seconds if r.hypothesis_seconds else 0.0
            print(f"  random: {r.examples} examples in {r.hypothesis_seconds:.1f}s ({rate:.0f} examples/s)")
        if r.coverage is not None:
            print(r.coverage.report(verbose=verbose))
        if r.known_used:
            print("  known differences normalised: " + ", ".join(f"{k} ({n}x)" for k, n in sorted(r.known_used.items())))
        if r.counterexample is not None:
            print(f"  COUNTEREXAMPLE ({r.found_by}):")
            print("    " + r.counterexample.text().replace("\n", "\n    "))
        if r.error:
            print(f"  ERROR: {r.error}")
        print(f"  {'ok' if r.ok else 'FAILED'} in {elapsed:.1f}s")
        failed = failed or not r.ok
    return 1 if failed else 0
