"""asyncspec.impl against the standard library, side by side in one process, on one loop.

Run:  python benchmarks/bench_impl.py [--quick]

Each row times the same workload on every implementation, interleaved, and keeps
the best of several rounds; it prints ratios (ours / theirs: below 1.0 is faster).
The target is a ratio of at most 1.0 against the pure-Python standard library on
every row. Rows 9 to 12 time a Task against _PyTask and the C Task; row 12 (an
eager task) needs Python 3.12+. Row 5 times set() itself, which wakes the waiters (finishes their
futures); the tasks then resume in the loop, the same work for every target.
Memory rows use tracemalloc.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import sys
import time
import tracemalloc
from typing import Any, Callable

from asyncspec import impl

#: Differences smaller than this are below what best-of-N timing resolves here.
RESOLUTION = 0.005
PY_FUTURE = asyncio.futures._PyFuture
C_FUTURE = asyncio.Future
PY_TASK = asyncio.tasks._PyTask
C_TASK = asyncio.Task


def _noop(_: Any) -> None:
    pass


def drain(loop: asyncio.AbstractEventLoop) -> None:
    """Run every handle that is ready now."""
    loop.call_soon(loop.stop)
    loop.run_forever()


# -- workloads: each returns the seconds spent in the measured part ----------

def lifecycle(loop, Future, n):
    t = time.perf_counter()
    for _ in range(n):
        f = Future(loop=loop)
        f.add_done_callback(_noop)
        f.set_result(None)
    drain(loop)
    return time.perf_counter() - t


def await_round_trip(loop, Future, n):
    async def waiter(futures):
        for f in futures:
            await f

    futures = [Future(loop=loop) for _ in range(n)]
    task = loop.create_task(waiter(futures))
    t = time.perf_counter()
    for f in futures:
        drain(loop)
        f.set_result(None)
    loop.run_until_complete(task)
    return time.perf_counter() - t


def cancel_path(loop, Future, n):
    t = time.perf_counter()
    for _ in range(n):
        f = Future(loop=loop)
        f.add_done_callback(_noop)
        f.cancel()
        f.cancelled()
    drain(loop)
    return time.perf_counter() - t


def remove_ten_callbacks(loop, Future, n):
    callbacks = [(lambda _f, i=i: i) for i in range(10)]
    futures = []
    for _ in range(n):
        f = Future(loop=loop)
        for cb in callbacks:
            f.add_done_callback(cb)
        futures.append(f)
    t = time.perf_counter()
    for f in futures:
        for cb in callbacks:
            f.remove_done_callback(cb)
    return time.perf_counter() - t


def event_set(waiters):
    def workload(loop, Event, n):
        events = [Event() for _ in range(max(n // waiters, 1))]

        async def wait(ev):
            await ev.wait()
        tasks = [loop.create_task(wait(ev)) for ev in events for _ in range(waiters)]
        drain(loop)
        t = time.perf_counter()
        for ev in events:
            ev.set()
        spent = time.perf_counter() - t
        drain(loop)
        drain(loop)
        assert all(task.done() for task in tasks)
        return spent
    return workload


def event_wait_set(loop, Event, n):
    ev = Event()
    ev.set()

    async def waits():
        t = time.perf_counter()
        for _ in range(n):
            await ev.wait()
        return time.perf_counter() - t
    return loop.run_until_complete(waits())


def ensure_future_coroutine(loop, ensure_future, n):
    async def coro():
        pass
    coros = [coro() for _ in range(n)]
    t = time.perf_counter()
    for c in coros:
        ensure_future(c, loop=loop)
    spent = time.perf_counter() - t
    drain(loop)
    return spent


def ensure_future_future(loop, ensure_future, n):
    f = C_FUTURE(loop=loop)
    t = time.perf_counter()
    for _ in range(n):
        ensure_future(f)
    return time.perf_counter() - t


async def _returns():
    return None


def task_lifecycle(loop, Task, n):
    """Make n tasks and run each to completion (one step each)."""
    coros = [_returns() for _ in range(n)]
    t = time.perf_counter()
    tasks = [Task(c, loop=loop) for c in coros]
    drain(loop)
    spent = time.perf_counter() - t
    assert all(task.done() for task in tasks)
    return spent


def task_await_chain(loop, Task, n):
    """n // 10 chains of ten tasks, each awaiting the next; the last gives up one loop iteration."""
    async def link(depth):
        if depth == 1:
            await asyncio.sleep(0)
            return depth
        return await Task(link(depth - 1), loop=loop)

    async def run_chains():
        t = time.perf_counter()
        results = await asyncio.gather(*(Task(link(10), loop=loop) for _ in range(max(1, n // 10))))
        spent = time.perf_counter() - t
        assert set(results) == {1}  # the last link's, handed up the chain
        return spent
    return loop.run_until_complete(run_chains())


def task_cancel(loop, Task, n):
    """Cancel n tasks that each wait on a future; run them until they are cancelled."""
    async def waits(future):
        await future

    futures = [loop.create_future() for _ in range(n)]
    tasks = [Task(waits(f), loop=loop) for f in futures]
    drain(loop)  # every task now waits on its future
    t = time.perf_counter()
    for task in tasks:
        task.cancel()
    drain(loop)  # the futures' callbacks wake the tasks
    drain(loop)  # the tasks' steps throw CancelledError in
    spent = time.perf_counter() - t
    assert all(task.cancelled() for task in tasks)
    return spent


def eager_tasks(loop, Task, n):
    """n tasks made by create_eager_task_factory(Task), each finishing in its first (eager) step."""
    factory = asyncio.create_eager_task_factory(Task)

    async def make_them():
        coros = [_returns() for _ in range(n)]
        t = time.perf_counter()
        tasks = [factory(loop, c) for c in coros]
        spent = time.perf_counter() - t
        assert all(task.done() for task in tasks)
        return spent
    return loop.run_until_complete(make_them())


def bytes_per_pending_future(loop, Future, n):
    gc.collect()
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        kept = [Future(loop=loop) for _ in range(n)]
        after = tracemalloc.get_traced_memory()[0]
    finally:
        tracemalloc.stop()
    del kept
    return (after - before) / n


def million_futures_memory(loop, Future, n=1_000_000):
    """Traced memory after the first tenth and after all of n futures created and completed."""
    tracemalloc.start()
    marks = []
    try:
        for i in range(n):
            f = Future(loop=loop)
            f.add_done_callback(_noop)
            f.set_result(i)
            if i % 10_000 == 0:
                drain(loop)
            if i in (n // 10 - 1, n - 1):
                drain(loop)
                gc.collect()
                marks.append(tracemalloc.get_traced_memory()[0])
    finally:
        tracemalloc.stop()
    return marks


# -- the table ---------------------------------------------------------------

def best_of(rounds: int, fn: Callable[[], float]) -> float:
    return min(fn() for _ in range(rounds))


def row(loop, title, workload, ours, stdlib_py, stdlib_c, n, rounds):
    """Time ours, the pure-Python stdlib, the C stdlib, and the pure-Python stdlib again.

    The second pure-Python run is an A/A control: its ratio to the first shows how
    far apart two runs of the very same code land on this machine right now.
    """
    targets = [("ours", ours), ("py", stdlib_py), ("py again", stdlib_py)]
    if stdlib_c:
        targets.append(("c", stdlib_c))
    results: dict[str, list[float]] = {key: [] for key, _ in targets}
    for i in range(rounds):
        # Interleaved, and in a rotating order, so drift and warm-up hit every target alike.
        for key, target in targets[i % len(targets):] + targets[:i % len(targets)]:
            gc.collect()
            results[key].append(workload(loop, target, n))
    best = {k: min(v) for k, v in results.items()}
    return title, best["ours"], best["py"], best.get("c"), abs(best["py again"] / best["py"] - 1)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--quick", action="store_true", help="fewer iterations (a smoke run)")
    p.add_argument("--no-million", action="store_true", help="skip the 1,000,000-future memory run")
    args = p.parse_args(argv)
    n = 2_000 if args.quick else 20_000
    rounds = 3 if args.quick else 7
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    rows = [
        row(loop, "1. lifecycle: create, add_done_callback, set_result, callback runs", lifecycle,
            impl.Future, PY_FUTURE, C_FUTURE, n, rounds),
        row(loop, "2. await round-trip inside a task", await_round_trip,
            impl.Future, PY_FUTURE, C_FUTURE, n // 4, rounds),
        row(loop, "3. cancel path", cancel_path, impl.Future, PY_FUTURE, C_FUTURE, n, rounds),
        row(loop, "4. remove_done_callback, 10 callbacks", remove_ten_callbacks,
            impl.Future, PY_FUTURE, C_FUTURE, n // 10, rounds),
        row(loop, "5a. Event.set waking 1 waiter", event_set(1), impl.Event, asyncio.Event, None,
            n, rounds),
        row(loop, "5b. Event.set waking 100 waiters", event_set(100), impl.Event, asyncio.Event, None,
            n, rounds),
        row(loop, "6. Event.wait on a set event", event_wait_set, impl.Event, asyncio.Event, None,
            n * 10, rounds),
        row(loop, "7a. ensure_future(coroutine)", ensure_future_coroutine, impl.ensure_future,
            asyncio.ensure_future, None, n // 4, rounds),
        row(loop, "7b. ensure_future(future)", ensure_future_future, impl.ensure_future,
            asyncio.ensure_future, None, n * 5, rounds),
        row(loop, "8. memory per pending future (bytes, tracemalloc)", bytes_per_pending_future,
            impl.Future, PY_FUTURE, C_FUTURE, 10_000, 3),
        row(loop, "9. Task: create and run to completion", task_lifecycle, impl.Task, PY_TASK, C_TASK,
            n // 4, rounds),
        row(loop, "10. Task: an await chain of ten tasks", task_await_chain, impl.Task, PY_TASK, C_TASK,
            n // 4, rounds),
        row(loop, "11. Task: cancel a task waiting on a future", task_cancel, impl.Task, PY_TASK, C_TASK,
            n // 4, rounds),
    ]
    if hasattr(asyncio, "create_eager_task_factory"):  # 3.12+
        rows.append(row(loop, "12. Task: an eager task that finishes in its first step", eager_tasks,
                        impl.Task, PY_TASK, C_TASK, n // 4, rounds))
    print(f"asyncspec.impl vs the standard library; Python {sys.version.split()[0]}, "
          f"{n} iterations, best of {rounds} rounds (ratio = ours / theirs; <= 1.0 meets the target)")
    print()
    print(f"| {'row':<66} | vs pure-Python | vs C | A/A noise | verdict |")
    print(f"|{'-' * 68}|---------------:|-----:|----------:|---------|")
    misses = []
    for title, ours, py, c, noise in rows:
        ratio = ours / py
        verdict = "meets" if ratio <= 1.0 else ("tie" if ratio <= 1.0 + max(noise, RESOLUTION) else "MISSES")
        if verdict == "MISSES":
            misses.append(title)
        ratio_c = f"{ours / c:.2f}" if c else "n/a"
        print(f"| {title:<66} | {ratio:>14.3f} | {ratio_c:>4} | {noise:>9.3f} | {verdict:<7} |")
    print()
    print("A/A noise: how far a second run of the pure-Python standard library landed from the first.")
    print(f"A ratio above 1.0 but within that noise (or within {RESOLUTION:.1%}) is a tie: the same speed")
    print("as far as this machine can tell.")
    print(f"rows missing the target: {len(misses)}" + (f" ({'; '.join(misses)})" if misses else ""))
    if not args.no_million:
        first, last = million_futures_memory(loop, impl.Future, 100_000 if args.quick else 1_000_000)
        total = 100_000 if args.quick else 1_000_000
        print(f"memory over {total:,} futures created and completed: {first} bytes traced after the "
              f"first {total // 10:,}, {last} bytes after all of them (growth {last - first} bytes)")
    loop.close()
    return 1 if misses else 0


if __name__ == "__main__":
    raise SystemExit(main())
