"""The audit worker: audits one target in its own process.

Protocol, kept small so that the worker could be another interpreter: the
parent writes one JSON request on stdin, an ``AuditRequest`` (target, kind,
loop, profile, examples, depth, seed, timeout, strict_messages, jobs, results, cwd,
interpreter; see ``audit.AuditRequest``). With ``interpreter``, the target runs in a worker of that
interpreter (``_target_worker``) and the model here. The worker appends JSON lines to the file named by
``results``:

* ``{"event": "resolved", "kind": ...}`` once the target is imported;
* ``{"event": "progress", "step": N, "action": ...}`` as the run goes (at most
  a few a second; the step about to run is also kept, overwritten, in
  ``<results>.step`` as ``N<TAB>action<TAB>`` then the path's actions to it, tab-separated:
  before every step, or, for a target on another interpreter, whose own worker tells which
  step broke it, at most four times a second);
* ``{"event": "finding", "rows": [...], "counterexample": {...}}`` as soon as a
  counterexample is kept (the rows it is the first for), so that a worker that
  dies later loses none;
* ``{"event": "unauditable", "what": ...}`` when the target cannot be audited;
* ``{"event": "done", "report": {...}}`` at the end.

Nothing is read from its stdout or stderr, which a target may fill with
anything. A step that runs past ``timeout`` seconds is interrupted; the parent
kills a worker that reports nothing for longer.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import sys
import time
from typing import Any, Sequence


def main() -> int:
    from .audit import AuditRequest

    from ._quiet import hypothesis_home_out_of_the_way

    request = AuditRequest.from_json(sys.stdin.read())
    os.chdir(request.cwd or os.getcwd())
    hypothesis_home_out_of_the_way()
    results = open(request.results, "a", buffering=1, encoding="utf-8")

    def emit(**event: object) -> None:
        results.write(json.dumps(event, default=repr) + "\n")

    _limit_memory()
    import faulthandler
    faulthandler.enable()  # a crash leaves its traceback in the output the parent shows
    from ._quiet import quiet_abandoned_coroutines
    quiet_abandoned_coroutines()
    from .adapters import resolve
    from .spec.errors import HarnessAbort, StepTimeout, TargetError

    try:
        if request.interpreter:
            target = _elsewhere(request)
        else:
            target = resolve(request.target, request.kind, request.loop)
    except TargetError as e:
        emit(event="unauditable", what=str(e))
        return 3
    except HarnessAbort as e:  # the other interpreter's worker broke before the first step
        emit(event="unauditable", what=f"{request.target} on {request.interpreter['label']}: {e}")  # type: ignore[index]
        return 3
    emit(event="resolved", kind=target.kind)

    timeout = request.timeout
    state: dict[str, Any] = {"step": 0, "action": "", "emitted": 0.0, "path": "", "written": float("-inf")}

    def on_timeout(signum: int, frame: object) -> None:
        raise StepTimeout(f"a step ran past {timeout:g}s (--timeout)")

    signal.signal(signal.SIGALRM, on_timeout)

    heartbeat = open(request.results + ".step", "w", encoding="utf-8")
    described: dict[Any, str] = {}  # each action's description, made once: paths replay the same actions

    def describe(action: Any) -> str:
        text = described.get(action)
        if text is None:
            text = described[action] = action.describe()
        return text

    # A target in this process may take it down in any step: each step is written before it runs. A target
    # in another interpreter's worker cannot (its worker says which step broke it): a sign of life will do.
    every = 0.25 if request.interpreter else 0.0

    @contextlib.contextmanager
    def guard(action: object, before: Sequence[Any] = ()):
        # The step about to run and the path to it, overwritten each time: what the parent reports
        # if we die in it, and, by its modification time, the sign of life it watches.
        now = time.monotonic()
        if now - state["written"] >= every:
            state["written"] = now
            state["action"] = describe(action)
            state["path"] = "\t".join([describe(a) for a in before] + [state["action"]])
            heartbeat.seek(0)
            heartbeat.write(f"{state['step']}\t{state['action']}\t{state['path']}")
            heartbeat.truncate()
            heartbeat.flush()
        signal.setitimer(signal.ITIMER_REAL, timeout)
        try:
            yield
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)

    def on_step(n: int, path: Sequence[Any]) -> None:
        state["step"] = n
        now = time.monotonic()
        if now - state["emitted"] > 0.25:
            state["emitted"] = now
            emit(event="progress", step=n, action=path[-1].describe())

    from .audit import audit_target

    report = audit_target(target, request, on_step=on_step, step_guard=guard,
                          on_finding=lambda finding: emit(event="finding", **finding))
    emit(event="done", report=report)
    results.close()
    # Leave at once: a target may have left threads, loops or finalizers that would block an exit.
    os._exit(0)


def _elsewhere(request: Any) -> Any:
    """The target in a worker on the request's interpreter; its output is logged beside the results."""
    from pathlib import Path

    from .remote import Interpreter, TargetProcess, remote_target
    interpreter = Interpreter.from_dict(request.interpreter)
    process = TargetProcess(interpreter, request.target, request.kind, request.loop, request.profile,
                            request.timeout, Path(request.results).with_suffix(".target.out"), request.cwd)
    return remote_target(process)


def _limit_memory() -> None:
    try:
        import resource
        limit = 4 * 1024 ** 3
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    except (ImportError, ValueError, OSError):
        pass


if __name__ == "__main__":
    raise SystemExit(main())
