"""The Task rows of bench_impl (9 to 12) as work done, not time taken: instructions and calls, ours against _PyTask.

Run:  python3.12 benchmarks/bench_work.py   (Python 3.12+: it counts through sys.monitoring)

On a shared, noisy machine two timings of the same code can land 15 % apart,
more than the differences the Task rows look for. The bytecode instructions
executed and the calls made by one run of a row do not vary: this counts both,
for asyncspec.impl.Task and for asyncio's pure-Python _PyTask, on the same
workload (bench_impl's own row functions, 1,000 tasks each), and prints the
ratios. Fewer calls for about as many instructions is less work: a call costs
many simple instructions.
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import bench_impl  # noqa: E402

from asyncspec import impl  # noqa: E402

ROWS = {"9": bench_impl.task_lifecycle, "10": bench_impl.task_await_chain, "11": bench_impl.task_cancel,
        "12": bench_impl.eager_tasks}
TASKS = 1000


def count(row: Any, loop: asyncio.AbstractEventLoop, task: type) -> tuple[int, int]:
    """Instructions and calls of one run of ``row`` with ``task``, after a warm-up run."""
    monitoring = sys.monitoring  # type: ignore[attr-defined]
    tool = monitoring.PROFILER_ID
    counts = [0, 0]

    def instruction(code: Any, offset: int) -> None:
        counts[0] += 1

    def call(code: Any, offset: int, callable: Any, arg0: Any) -> None:
        counts[1] += 1

    row(loop, task, 100)
    monitoring.use_tool_id(tool, "bench_work")
    try:
        monitoring.register_callback(tool, monitoring.events.INSTRUCTION, instruction)
        monitoring.register_callback(tool, monitoring.events.CALL, call)
        monitoring.set_events(tool, monitoring.events.INSTRUCTION | monitoring.events.CALL)
        row(loop, task, TASKS)
        monitoring.set_events(tool, 0)
    finally:
        monitoring.free_tool_id(tool)
    return counts[0], counts[1]


def main() -> int:
    if sys.version_info < (3, 12):
        print("bench_work counts through sys.monitoring: Python 3.12 or newer", file=sys.stderr)
        return 2
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    print(f"asyncspec.impl.Task vs _PyTask, work per run of {TASKS} tasks; Python {sys.version.split()[0]}\n")
    print("| row | instructions (ours / _PyTask) | ratio | calls (ours / _PyTask) | ratio |")
    print("|---|---:|---:|---:|---:|")
    for name, row in ROWS.items():
        (ours_i, ours_c), (py_i, py_c) = count(row, loop, impl.Task), count(row, loop, bench_impl.PY_TASK)
        print(f"| {name} | {ours_i:,} / {py_i:,} | {ours_i / py_i:.3f} | {ours_c:,} / {py_c:,} | {ours_c / py_c:.3f} |")
    loop.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
