"""The target side of an audit, on any interpreter from Python 3.8: the standard library only.

An audit with ``--python`` runs the model in the tool's own process and each
target here, in a process of the interpreter named, on the spec resolved for
that interpreter. This side imports only ``asyncspec.spec``,
``asyncspec.model_tests.engine`` (its ``Run``: the target's loops, objects,
callbacks and what a user of them could observe) and ``asyncspec.adapters``
(what a TARGET string names); none of the tool's dependencies.

The protocol is JSON lines: requests on stdin, one reply line each on
stdout. The target's own output goes to stderr, which the tool keeps as a
log. Another interpreter could implement the same protocol.

* on start, unasked: ``{"hello": {"python": "3.8.18", "version": [3, 8],
  "implementation": "cpython", "executable": ...}}``
* ``{"op": "resolve", "target": ..., "kind": ..., "loop": ..., "profile": ...}``:
  ``{"ok": {"name", "kind", "source", "loop_source", "absent", "absent_parameters",
  "uninitialized", "construct"}}``, or ``{"error": "TargetError", "what": ...}``
* ``{"op": "perform", "step": N, "action": {...}, "timeout": S, "run": {"exact_origin": ...}}``:
  the step on the current run (a new one when ``run`` is given), replied
  ``{"ok": {"outcome", "events", "state"}}``, or ``{"error": "TargetCrashed"
  | "StepTimeout", "what": ...}`` when the target broke the step. With
  ``"as": K`` (an integer), the worker keeps the action as number K, and a
  later request may give ``"action": K`` instead of the action itself (a
  path's steps are replayed many times; each action crosses once)
* ``{"op": "end_run"}``: the current run is closed; ``{"ok": null}``

An action is ``Action``'s fields, its recipes as ``{"kind", "value", "args"}``;
tuples travel as JSON lists.
"""

from __future__ import annotations

import gc
import json
import os
import platform
import signal
import sys
from typing import Any


def main() -> int:
    replies = os.fdopen(os.dup(1), "w", buffering=1, encoding="utf-8")
    requests = os.fdopen(os.dup(0), "r", encoding="utf-8")
    # The target's prints go to stderr, with ours; nothing it does can write a reply line.
    os.dup2(2, 1)
    null = os.open(os.devnull, os.O_RDONLY)
    os.dup2(null, 0)

    def reply(**message: Any) -> None:
        replies.write(json.dumps(message, default=repr) + "\n")

    reply(hello={"python": platform.python_version(), "version": list(sys.version_info[:2]),
                 "implementation": sys.implementation.name, "executable": sys.executable})
    server = _Server()
    for line in requests:
        try:
            request = json.loads(line)
        except ValueError:
            reply(error="UsageError", what=f"expected a JSON request line, found {line[:80]!r}")
            continue
        reply(**server.handle(request))
    return 0


class _Server:
    def __init__(self) -> None:
        # Imported once here, after the hello: each step would otherwise pay for the import statements.
        from .model_tests.engine import Run
        from .spec import errors
        self.Run = Run
        self.errors = errors
        self.target: Any = None
        self.machine: Any = None
        self.run: Any = None
        #: The actions sent with a number (``"as"``), by number.
        self.actions: dict[int, Any] = {}
        if hasattr(signal, "SIGALRM"):
            signal.signal(signal.SIGALRM, self._timed_out)
        self.timeout = 10.0
        import warnings
        warnings.filterwarnings("ignore", message=r"coroutine .* was never awaited", category=RuntimeWarning)
        import faulthandler
        faulthandler.enable()  # a crash leaves its traceback in the log the tool shows

    def _timed_out(self, signum: int, frame: Any) -> None:
        from .spec.errors import StepTimeout
        raise StepTimeout(f"a step ran past {self.timeout:g}s (--timeout)")

    def handle(self, request: dict) -> dict:
        op = request.get("op")
        handler = getattr(self, f"do_{op}", None)
        if handler is None:
            return {"error": "UsageError", "what": f"expected an op in resolve, perform, end_run, found {op!r}"}
        errors = self.errors
        try:
            return {"ok": handler(request)}
        except errors.TargetError as e:
            return {"error": "TargetError", "what": str(e)}
        except (errors.StepTimeout, errors.TargetCrashed) as e:
            return {"error": type(e).__name__, "what": str(e)}
        except BaseException as e:  # the worker's own failure: said, in one line, and the tool stops it
            import traceback
            where = traceback.extract_tb(e.__traceback__)[-1]
            return {"error": "WorkerError", "what": f"{type(e).__name__}: {e} (at {where.filename}:{where.lineno})"}

    def do_resolve(self, request: dict) -> dict:
        from .adapters import resolve
        from .model_tests.machines import spec_for
        self.target = target = resolve(request["target"], request.get("kind"), request.get("loop") or "asyncio")
        self.machine = spec_for(request.get("profile") or "cpython")[target.kind]
        return {"name": target.name, "kind": target.kind, "source": target.source,
                "loop_source": target.loop_source, "absent": sorted(target.absent),
                "absent_parameters": {op: sorted(ps) for op, ps in target.absent_parameters.items()},
                "uninitialized": target.make_uninitialized is not None, "construct": target.construct is not None,
                "exact_origin": target.exact_origin}

    def do_perform(self, request: dict) -> dict:
        TargetCrashed = self.errors.TargetCrashed
        if self.target is None:
            raise TargetCrashed("expected a resolve request before the first step")
        action = request["action"]
        if type(action) is int:
            if action not in self.actions:
                raise ValueError(f"expected the number of an action sent before, found {action}")
            action = self.actions[action]
        else:
            action = action_from_json(action)
            if "as" in request:
                self.actions[int(request["as"])] = action
        self.timeout = float(request.get("timeout") or self.timeout)
        self._arm()
        try:
            if "run" in request:
                self._close()
                if hasattr(gc, "freeze"):  # (not PyPy's)
                    gc.freeze()  # what the run makes is all a collection in it visits
                try:
                    self.run = self.Run(self.target, self.machine)
                except BaseException as e:  # the target's loop factory is the user's code
                    raise TargetCrashed(f"making the run's event loop raised {type(e).__name__}: {e}") from None
                self.run.exact_origin = bool(request["run"].get("exact_origin", True))
            observation = self.run.perform(action, int(request["step"]))
        finally:
            self._disarm()
        return observation.as_dict()

    def do_end_run(self, request: dict) -> None:
        self._arm()
        try:
            self._close()
        finally:
            self._disarm()

    def _close(self) -> None:
        if self.run is not None:
            run, self.run = self.run, None
            run.close()
            gc.collect()
            if hasattr(gc, "unfreeze"):
                gc.unfreeze()

    def _arm(self) -> None:
        if hasattr(signal, "setitimer"):
            signal.setitimer(signal.ITIMER_REAL, self.timeout)

    def _disarm(self) -> None:
        if hasattr(signal, "setitimer"):
            signal.setitimer(signal.ITIMER_REAL, 0)


def action_to_json(action: Any) -> dict:
    """An action as plain JSON: its fields, its recipes as dicts."""
    import dataclasses
    out = {f.name: getattr(action, f.name) for f in dataclasses.fields(action) if f.name not in ("args", "kwargs")}
    out["args"] = [_recipe_to_json(r) for r in action.args]
    out["kwargs"] = [[k, _recipe_to_json(r)] for k, r in action.kwargs]
    return out


def action_from_json(data: dict) -> Any:
    from .model_tests.engine import Action
    fields = {k: v for k, v in data.items() if k not in ("args", "kwargs")}
    return Action(args=tuple(_recipe_from_json(r) for r in data.get("args", ())),
                  kwargs=tuple((k, _recipe_from_json(r)) for k, r in data.get("kwargs", ())), **fields)


def _recipe_to_json(recipe: Any) -> dict:
    return {"kind": recipe.kind, "value": recipe.value, "args": list(recipe.args)}


def _recipe_from_json(data: dict) -> Any:
    from .model_tests.recipes import Recipe
    return Recipe(data["kind"], tuples(data.get("value")), tuple(tuples(data.get("args", []))))


def tuples(value: Any) -> Any:
    """What JSON made lists of, tuples again (observations and recipes hold tuples only)."""
    if type(value) is list:
        return tuple([tuples(v) if type(v) is list else v for v in value])
    return value


if __name__ == "__main__":
    raise SystemExit(main())
