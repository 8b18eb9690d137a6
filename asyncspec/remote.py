"""Targets on another interpreter (``asyncspec audit --python``): found, started, and stepped in lockstep.

The model runs here, on the spec resolved for the other interpreter's
version; the target runs there, in a worker (``_target_worker``) that needs
nothing but the standard library and Python 3.8. Each step crosses as one
JSON line each way: the action, then what a user of the target observed.

A worker that dies in a step (a segfault) or stops answering is a
``TargetCrashed`` or ``StepTimeout`` of that step, here, where the audit goes
on: the next run starts a new worker.
"""

from __future__ import annotations

import atexit
import json
import os
import re
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable

from ._target_worker import action_to_json, tuples
from .matrix import natural
from .model_tests.engine import Observation, Target
from .spec.errors import HarnessAbort, StepTimeout, TargetCrashed, TargetError, UsageError

#: The oldest Python a target worker runs on.
OLDEST = (3, 8)
#: The versions ``--python all`` looks for besides pyenv's (``pythonX.Y`` on PATH), and PyPy.
SEARCHED = tuple(f"3.{minor}" for minor in range(8, 16))
NAMES = ("pypy3",)


@dataclass(frozen=True)
class Interpreter:
    """An interpreter a target runs on, as it describes itself."""

    asked: str
    executable: str
    python: str  # "3.8.18"
    version: tuple[int, int]
    implementation: str  # "cpython", "pypy"

    @property
    def label(self) -> str:
        """How a report names it: ``3.8.18``, or ``pypy 3.9.18`` for another implementation."""
        return self.python if self.implementation == "cpython" else f"{self.implementation} {self.python}"

    def as_dict(self) -> dict:
        return {"label": self.label, "python": self.python, "version": list(self.version),
                "implementation": self.implementation, "executable": self.executable, "asked": self.asked}

    @classmethod
    def from_dict(cls, data: dict) -> Interpreter:
        return cls(data["asked"], data["executable"], data["python"], (data["version"][0], data["version"][1]),
                   data["implementation"])


_PROBE = ("import json, platform, sys; print(json.dumps({'python': platform.python_version(), "
          "'version': list(sys.version_info[:2]), 'implementation': sys.implementation.name, "
          "'executable': sys.executable}))")


def probe(executable: str, asked: str) -> Interpreter:
    """Ask ``executable`` what it is; TargetError when it does not run or is older than 3.8."""
    try:
        # Isolated (-I): what the current folder holds must not shadow the modules the probe imports.
        done = subprocess.run([executable, "-I", "-c", _PROBE], capture_output=True, text=True, timeout=60)
    except (OSError, subprocess.TimeoutExpired) as e:
        raise TargetError(f"--python {asked}: {executable} does not run: {e}") from None
    if done.returncode != 0:
        last = (done.stderr.strip().splitlines() or ["no output"])[-1]
        raise TargetError(f"--python {asked}: {executable} exited with status {done.returncode}: {last[:200]}")
    try:
        data = json.loads(done.stdout.strip().splitlines()[-1])
    except (ValueError, IndexError):
        raise TargetError(f"--python {asked}: expected a Python interpreter, found {executable!r}") from None
    found = Interpreter(asked, data["executable"] or executable, data["python"], tuple(data["version"]),
                        data["implementation"])
    if found.version < OLDEST:
        raise TargetError(f"--python {asked}: expected Python 3.8 or newer, found {found.python} ({executable})")
    return found


def _pyenv_root() -> Path:
    return Path(os.environ.get("PYENV_ROOT") or Path.home() / ".pyenv") / "versions"


def _candidates(asked: str) -> list[str]:
    """Executables that may be ``asked``: a path, a name on PATH, or a version (pyenv's, ``py``'s, PATH's)."""
    if os.sep in asked or (os.altsep and os.altsep in asked):
        return [asked]
    if not re.fullmatch(r"\d+\.\d+", asked):
        on_path = shutil.which(asked)
        return [on_path] if on_path else []
    root = _pyenv_root()
    found = [str(p) for p in sorted(root.glob(f"{asked}.*/bin/python{asked}"), key=lambda p: natural(str(p)), reverse=True)
             if p.is_file()] if root.is_dir() else []
    launcher = shutil.which("py")
    if launcher:  # the Windows launcher: ask it where that version is
        done = subprocess.run([launcher, f"-{asked}", "-c", "import sys; print(sys.executable)"],
                              capture_output=True, text=True)
        if done.returncode == 0:
            found.append(done.stdout.strip())
    on_path = shutil.which(f"python{asked}")
    if on_path:
        found.append(on_path)
    return found


def find(asked: str) -> Interpreter:
    """The interpreter ``--python asked`` names; TargetError when none is found that runs."""
    why = []
    for candidate in _candidates(asked):
        try:
            found = probe(candidate, asked)
        except TargetError as e:
            why.append(str(e))
            continue
        if re.fullmatch(r"\d+\.\d+", asked) and f"{found.version[0]}.{found.version[1]}" != asked:
            why.append(f"--python {asked}: {candidate} is Python {found.python}")
            continue
        return found
    if why:
        raise TargetError(why[-1])
    raise TargetError(f"--python {asked}: expected a version (3.9), a name on PATH (pypy3) or a path to "
                      f"an interpreter, found none installed (looked in pyenv, py and PATH)")


def find_all(asked: Iterable[str]) -> tuple[list[Interpreter], list[tuple[str, str]]]:
    """The interpreters named, ``all`` for every one found; and those asked for but not found, with why.

    Two names for one interpreter count once.
    """
    found: list[Interpreter] = []
    missing: list[tuple[str, str]] = []
    for name in asked:
        if name == "all":
            for version in SEARCHED:
                try:
                    found.append(find(version))
                except TargetError:
                    pass
            for other in NAMES:
                try:
                    found.append(find(other))
                except TargetError:
                    pass
            continue
        try:
            found.append(find(name))
        except TargetError as e:
            missing.append((name, str(e)))
    unique: dict[tuple[str, str], Interpreter] = {}
    for interpreter in found:
        unique.setdefault((interpreter.implementation, interpreter.python), interpreter)
    return sorted(unique.values(), key=lambda i: (i.implementation != "cpython", i.implementation,
                                                  natural(i.python))), missing


def check_pythons(asked: Iterable[str]) -> None:
    """Refuse a malformed ``--python`` before any worker starts (a usage error)."""
    for name in asked:
        if not name or name.startswith("-"):
            raise UsageError(f"expected --python VERSION (3.9), NAME (pypy3), PATH or all, found {name!r}")


# -- the worker's package: the tool's standard-library half, importable by itself ----------------

_SHADOW: Path | None = None


def shadow_package() -> Path:
    """A folder whose ``asyncspec`` holds only what a target worker imports: linked, not copied."""
    global _SHADOW
    if _SHADOW is not None and _SHADOW.exists():
        return _SHADOW
    from . import impl, model_tests, spec
    root = Path(tempfile.mkdtemp(prefix="asyncspec-worker-"))
    atexit.register(shutil.rmtree, root, True)
    package = root / "asyncspec"
    package.mkdir()
    here = Path(__file__).resolve().parent
    links = {name: here / name for name in ("__init__.py", "adapters.py", "_target_worker.py")}
    links.update({sub.__name__.rpartition(".")[2]: Path(sub.__path__[0]) for sub in (spec, impl, model_tests)})
    for name, source in links.items():
        try:
            (package / name).symlink_to(source, target_is_directory=source.is_dir())
        except OSError:  # no symlinks here: a copy does as well
            if source.is_dir():
                shutil.copytree(source, package / name, ignore=shutil.ignore_patterns("__pycache__"))
            else:
                shutil.copy(source, package / name)
    _SHADOW = root
    return root


_BOOT = ("import sys; sys.path[:] = [sys.argv[1]] + [p for p in sys.path if p not in ('', '.')]; "
         "from asyncspec._target_worker import main; raise SystemExit(main())")


# -- a worker, and runs in it -----------------------------------------------------------------------

class TargetProcess:
    """One target in a worker on ``interpreter``: started when first asked, started again after it dies."""

    def __init__(self, interpreter: Interpreter, target: str, kind: str | None, loop: str, profile: str,
                 timeout: float, log: Path, cwd: str = "") -> None:
        self.interpreter = interpreter
        self.resolve_request = {"op": "resolve", "target": target, "kind": kind, "loop": loop, "profile": profile}
        self.timeout = timeout
        self.stall = max(3 * timeout, 15.0)
        self.log = log
        self.cwd = cwd or os.getcwd()
        self.proc: subprocess.Popen | None = None
        self.pid = 0  # the process that started it: a forked explorer starts its own
        self.buffer = b""
        self.meta: dict = {}
        #: What each message sent and not yet answered asked, oldest first.
        self.waiting: list[str] = []
        #: The actions this worker was sent, each with the number it knows it by, and its description.
        self.numbered: dict[Any, tuple[int, str]] = {}

    @property
    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None and self.pid == os.getpid()

    def start(self) -> dict:
        """Start the worker and resolve the target in it; its description of the target."""
        self.stop()
        with open(self.log, "ab") as log:
            self.proc = subprocess.Popen([self.interpreter.executable, "-c", _BOOT, str(shadow_package())],
                                         stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=log, cwd=self.cwd)
        self.pid = os.getpid()
        self.buffer = b""
        self.numbered = {}
        hello = self._read(max(self.stall, 60.0), "starting")
        if "hello" not in hello:
            raise TargetCrashed(f"expected the worker's hello, found {str(hello)[:120]}")
        reply = self._ask(self.resolve_request, max(self.stall, 60.0), "resolving the target")
        if "error" in reply:
            self.stop()
            raise TargetError(reply["what"])
        self.meta = reply["ok"]
        return self.meta

    def stop(self) -> None:
        if self.proc is not None and self.pid == os.getpid():
            if self.proc.poll() is None:
                self.proc.kill()
            self.proc.wait()
            for pipe in (self.proc.stdin, self.proc.stdout):
                if pipe is not None:
                    pipe.close()
        self.proc = None
        self.waiting.clear()

    def send(self, message: dict, what: str) -> None:
        """Send ``message``; its reply is read by :meth:`receive`, in turn (the worker answers in order)."""
        if not self.alive:
            self.start()
        self.post(message, what)

    def post(self, message: dict, what: str) -> None:
        """Send ``message`` to the worker already started (:meth:`send`, without asking whether it lives)."""
        self._write(message, what)
        self.waiting.append(what)

    def receive(self) -> Any:
        """The reply to the oldest message sent; a worker that broke the step is stopped, and that raised."""
        what = self.waiting.pop(0)
        try:
            reply = self._read(self.stall, what)
        except BaseException:
            # Interrupted (the step's own timeout, ^C), or dead: what it answers next would be out of turn.
            self.stop()
            raise
        if "error" in reply:
            if reply["error"] in ("TargetCrashed", "StepTimeout"):
                self.stop()  # what a broken step left behind is not the next run's
                raise (StepTimeout if reply["error"] == "StepTimeout" else TargetCrashed)(reply["what"])
            self.stop()
            raise TargetCrashed(f"the worker refused the request: {reply.get('what')}")
        return reply["ok"]

    def ask(self, message: dict, what: str) -> Any:
        """Send ``message`` and wait for its reply (after those of the messages sent before it)."""
        self.send(message, what)
        while len(self.waiting) > 1:
            self.receive()
        return self.receive()

    def _ask(self, message: dict, wait: float, what: str) -> dict:
        """While starting: one request, its reply as it is."""
        self._write(message, what)
        try:
            return self._read(wait, what)
        except BaseException:
            self.stop()
            raise

    def _write(self, message: dict, what: str) -> None:
        assert self.proc is not None and self.proc.stdin is not None
        try:
            self.proc.stdin.write((json.dumps(message) + "\n").encode())
            self.proc.stdin.flush()
        except BrokenPipeError:
            raise self._died(what) from None

    def _read(self, wait: float, what: str) -> dict:
        assert self.proc is not None and self.proc.stdout is not None
        deadline = time.monotonic() + wait
        fd = self.proc.stdout.fileno()
        while b"\n" not in self.buffer:
            left = deadline - time.monotonic()
            if left <= 0:
                self.stop()
                raise StepTimeout(f"hung: {self.interpreter.label} answered nothing for {wait:.0f}s while "
                                  f"{what}, so its worker was killed")
            ready, _, _ = select.select([fd], [], [], left)
            if not ready:
                continue
            chunk = os.read(fd, 1 << 16)
            if not chunk:
                raise self._died(what)
            self.buffer += chunk
        line, _, self.buffer = self.buffer.partition(b"\n")
        try:
            return json.loads(line)
        except ValueError:
            self.stop()
            raise TargetCrashed(f"expected a JSON reply from the worker, found {line[:120]!r}") from None

    def _died(self, what: str) -> TargetCrashed:
        assert self.proc is not None
        code = self.proc.wait()
        self.stop()
        if code < 0:
            try:
                how = f"died of signal {signal.Signals(-code).name}"
            except ValueError:
                how = f"died of signal {-code}"
        else:
            how = f"exited with status {code}"
        said = fatal_line(self.log)
        return TargetCrashed(f"the {self.interpreter.label} worker {how} while {what}" + (f": {said}" if said else ""))


def fatal_line(log: Path) -> str:
    """The fatal error a crashed worker printed last, with the innermost frame it named, in one line."""
    try:
        lines = log.read_text(errors="replace").splitlines()
    except OSError:
        return ""
    fatal = next((i for i in range(len(lines) - 1, -1, -1) if lines[i].startswith("Fatal Python error")), None)
    if fatal is None:
        return ""
    frame = next((line.strip() for line in lines[fatal + 1:] if line.strip().startswith("File ")), "")
    return lines[fatal].strip() + (f" (innermost: {frame})" if frame else "")


class RemoteRun:
    """A run whose target lives in a worker: the engine's ``Run``, there; its observations, here.

    A step is sent (:meth:`begin`) before the model takes it here, so that both
    sides work at once; :meth:`perform` collects it.
    """

    def __init__(self, process: TargetProcess, target: Target) -> None:
        self.process = process
        self.target = target
        self.exact_origin = True
        self.started = False
        self.begun: int | None = None

    def begin(self, action: Any, step: int) -> None:
        process = self.process
        if not process.alive:
            process.start()  # before numbering the action: a new worker knows none
        message: dict[str, Any] = {"op": "perform", "step": step, "timeout": process.timeout}
        known = process.numbered.get(action)
        if known is None:
            # The first time this worker sees it: the action, and the number it goes by from now on.
            known = process.numbered[action] = (len(process.numbered), action.describe())
            message["action"] = action_to_json(action)
            message["as"] = known[0]
        else:
            message["action"] = known[0]
        if not self.started:
            message["run"] = {"exact_origin": self.exact_origin}
        process.post(message, f"step {step}: {known[1]}")
        self.started = True
        self.begun = step

    def perform(self, action: Any, step: int) -> Observation:
        if self.begun != step:
            self.begin(action, step)
        self.begun = None
        while len(self.process.waiting) > 1:  # a close sent before, unanswered yet
            self.process.receive()
        observed = self.process.receive()
        return Observation(tuples(observed["outcome"]), tuples(observed["events"]), tuples(observed["state"]))

    def close(self) -> None:
        if self.started and self.process.alive:
            if self.begun is not None:  # begun, never collected: the world was let go of mid-step
                try:
                    self.process.receive()
                except HarnessAbort:
                    return  # the worker broke that step, and was stopped
            self.process.send({"op": "end_run"}, "ending a run")  # answered before the next run's first step


def remote_target(process: TargetProcess) -> Target:
    """The Target the engine drives here for the target in ``process``, from the worker's description of it."""
    meta = process.meta or process.start()

    def made_there(*args: Any, **kwargs: Any) -> Any:  # pragma: no cover - never called here
        raise TypeError("made in the target's worker")

    target = Target(
        meta["name"], meta["kind"], source=meta["source"], loop_source=meta["loop_source"],
        absent=frozenset(meta["absent"]),
        absent_parameters={op: frozenset(ps) for op, ps in meta["absent_parameters"].items()},
        make_uninitialized=made_there if meta["uninitialized"] else None,
        construct=made_there if meta["construct"] else None, exact_origin=meta.get("exact_origin", True),
    )
    target.new_run = lambda machine: RemoteRun(process, target)
    return target


def running_here() -> Interpreter:
    """This interpreter, as a worker would describe it."""
    import platform
    return Interpreter("", sys.executable, platform.python_version(), (sys.version_info[0], sys.version_info[1]),
                       sys.implementation.name)
