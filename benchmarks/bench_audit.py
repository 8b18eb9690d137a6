"""How long audits take on this machine: the default audit, one more target, each seeded fault.

Run:  python benchmarks/bench_audit.py

Targets: the default audit (no TARGET) under 60 seconds; each additional target
under 15 seconds; every seeded fault found within the default budget.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time


def audit(*args: str) -> tuple[float, dict, int]:
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "asyncspec", "audit", "--format", "json", *args],
                          capture_output=True, text=True)
    elapsed = time.perf_counter() - started
    return elapsed, json.loads(done.stdout), done.returncode


def main() -> int:
    from asyncspec.model_tests.faults import FAULTS

    cores = os.cpu_count()
    print(f"asyncspec audit timings; Python {sys.version.split()[0]}, {cores} cores\n")
    default_time, default, code = audit()
    print(f"default audit (7 built-in targets, --jobs {cores}): {default_time:.1f}s wall, exit {code} "
          f"(target: under 60s)")
    for t in default["targets"]:
        s = t["summary"]
        print(f"  {t['target']:<30} {s['pass']:>3} pass {s['deviation']:>2} deviation  {s['seconds']:>5.1f}s "
              f"in its worker")
    extra_time, _, _ = audit("asyncspec.impl:Future", "asyncio:Future", "asyncio.futures:_PyFuture",
                             "asyncspec.impl:Event", "asyncio:Event", "asyncspec.impl:ensure_future",
                             "asyncio:ensure_future", "asyncspec.impl.seed:Future")
    print(f"default set plus one more Future target: {extra_time:.1f}s wall, "
          f"+{extra_time - default_time:.1f}s (target: under 15s)")
    fault_time, faults, _ = audit(*[f"asyncspec.model_tests.faults:{f.obj.__name__}" for f in FAULTS])
    print(f"\n{len(FAULTS)} seeded faults in one audit: {fault_time:.1f}s wall")
    missed = 0
    for f, t in zip(FAULTS, faults["targets"]):
        deviating = [c["id"] for c in t["clauses"] if c["status"] == "deviation"]
        on_clause = bool(set(f.clauses) & set(deviating))
        shortest = min((len(c["counterexample"]["path"]) for c in t["clauses"] if c.get("counterexample")),
                       default=0)
        missed += not on_clause
        print(f"  {f.name:<30} {'found' if on_clause else 'MISSED'} on {', '.join(sorted(set(f.clauses) & set(deviating))) or '-':<40} "
              f"shortest counterexample {shortest} steps, {t['summary']['seconds']:.1f}s")
    ok = default_time < 60 and extra_time - default_time < 15 and not missed
    print(f"\n{'all targets met' if ok else 'a target was missed'}")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
