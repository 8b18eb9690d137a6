"""Lockstep worlds, known differences, and counterexamples people can use."""

from __future__ import annotations

import contextlib
import gc
import re
import textwrap
from collections import Counter
from dataclasses import dataclass
from typing import Any, Iterable, Iterator, Sequence

from ..spec import DeclaredDifference, Machine, Spec, row_matches
from ..spec.errors import TargetCrashed
from .engine import Action, Observation, Run, Target, step_context
from .machines import NOTED_LOOP_CALLS, facts, spec_for
from .model import Recorder
from .scripts import SOURCE as SCRIPT_SOURCE


# -- known differences, declared in spec/ ------------------------------------------

@dataclass(frozen=True)
class KnownDifference:
    """A declared difference (``spec.DeclaredDifference``), as the comparison applies it.

    It is keyed by behaviour, not by who shows it: at a step where one of its
    rows fired, it explains an observation of any target that differs from the
    model's exactly as ``instead`` declares.
    """

    declared: DeclaredDifference

    @property
    def id(self) -> str:
        return self.declared.id

    @property
    def then(self) -> str:
        return self.declared.then

    @property
    def evidence(self) -> str:
        return self.declared.evidence

    def covers(self, rows: Iterable[str]) -> bool:
        return any(row_matches(r, pattern) for r in rows for pattern in self.declared.rows)

    def explains_outcome(self, model: Observation, other: Observation) -> bool:
        instead = self.declared.instead
        if instead.get("any"):
            return True
        if "raises" in instead:
            outcome: tuple[Any, ...] = other.outcome
            if outcome[:2] != ("raises", instead["raises"]):
                return False
            pattern = instead.get("message")
            args: Any = outcome[2] if len(outcome) > 2 else ()
            return pattern is None or (len(args) == 1 and isinstance(args[0], str)
                                       and re.fullmatch(pattern, args[0]) is not None)
        return bool(instead.get("returns")) and model.outcome[0] == "raises" and other.outcome[0] == "returns"

    def explains_events(self, model: Observation, other: Observation, current: Any = None) -> bool:
        """Whether the loop calls differ as declared; ``current`` is the mark of the step's own context."""
        instead = self.declared.instead
        if instead.get("any"):
            return True
        # None exactly where the row hands the loop a copy of the context current at the call.
        return instead.get("context") == "none" and _none_for(model.events, current) == other.events


def known_differences(spec: Spec, strict_messages: bool = False) -> tuple[KnownDifference, ...]:
    """Every difference the declarations record; with ``strict_messages``, none that only rewords a message."""
    return tuple(KnownDifference(d) for m in spec.machines.values() for d in m.differences
                 if not (strict_messages and d.message is not None))


KNOWN_DIFFERENCES: tuple[KnownDifference, ...] = known_differences(spec_for("cpython"))


# -- comparison ------------------------------------------------------------------

@dataclass(frozen=True)
class Difference:
    target: str
    aspect: str
    expected: Any
    observed: Any


def compare(model: Observation, other: Observation, target: str, rows: Sequence[str],
            known: Sequence[KnownDifference], objects: Iterable[str] = (),
            current: Any = None) -> tuple[list[Difference], list[KnownDifference]]:
    """Compare a target's observation with the model's; return the differences and the known ones used.

    A known difference explains the outcome or the loop calls as it declares;
    the state only as far as what follows it lets go of: the step's ``objects``
    (``drop-object``) or everything (``drop-target``).
    """
    if model == other:
        return [], []
    applicable = [k for k in known if k.covers(rows)]
    used: list[KnownDifference] = []
    diffs = []
    if model.outcome != other.outcome:
        k = next((k for k in applicable if k.explains_outcome(model, other)), None)
        if k is None:
            diffs.append(Difference(target, "outcome", model.outcome, other.outcome))
        else:
            used.append(k)
    if model.events != other.events:
        k = next((k for k in applicable if k.explains_events(model, other, current)), None)
        if k is None:
            diffs.append(Difference(target, "events", model.events, other.events))
        elif k not in used:
            used.append(k)
    if model.state != other.state:
        if any(k.then == "drop-target" for k in used):
            pass
        else:
            let_go = set(objects) if any(k.then == "drop-object" for k in used) else set()
            if _state_without(model.state, let_go) != _state_without(other.state, let_go):
                diffs.append(Difference(target, "state", model.state, other.state))
    return diffs, used


def _state_without(state: tuple, names: set[str]) -> tuple:
    return tuple(s for s in state if s[0] not in names)


def _without(obs: Observation, names: set[str]) -> Observation:
    """An observation without what concerns objects a known difference left out."""
    if not names:
        return obs
    return Observation(obs.outcome, tuple(e for e in obs.events if not _mentions(e, names)),
                       tuple(s for s in obs.state if s[0] not in names))


def _mentions(value: Any, names: set[str]) -> bool:
    if isinstance(value, str):
        return value in names or value.split(" ")[0] in names
    if isinstance(value, tuple):
        return any(_mentions(v, names) for v in value)
    return False


def _schedules(event: tuple) -> bool:
    """Whether a logged event is a loop's call_soon() or call_soon_threadsafe() (of either loop of the run)."""
    return bool(event) and str(event[0]).rsplit(".", 1)[-1] in NOTED_LOOP_CALLS


def _none_for(events: tuple, context: Any) -> tuple:
    """The loop calls, with None for the context argument where it is ``context``."""
    return tuple(e[:3] + (None,) if e and _schedules(e) and e[3] == context else e
                 for e in events)


# -- the world -------------------------------------------------------------------

@dataclass
class Step:
    action: Action
    rows: tuple[str, ...]
    states: tuple[tuple[str, str], ...]
    observations: dict[str, Observation]
    #: Rows the state queries after the step fired (done(), cancelled(), is_set()).
    probe_rows: tuple[str, ...] = ()


#: Inside ``worlds_one_at_a_time()``: each world sets aside for the collector what was alive before it.
_ONE_AT_A_TIME = False


@contextlib.contextmanager
def worlds_one_at_a_time() -> Iterator[None]:
    """While worlds are made and closed one after another (a check, an audit): collections are cheap.

    A run collects at many steps (an object let go of while its loop still
    held it). Each world freezes what was alive before it (gc.freeze), so those
    collections visit only what the world made, not every module and every
    state explored so far; closing the world collects what it left. All is
    unfrozen at the end.
    """
    global _ONE_AT_A_TIME
    outer, _ONE_AT_A_TIME = _ONE_AT_A_TIME, True
    try:
        yield
    finally:
        _ONE_AT_A_TIME = outer
        if not outer:
            gc.unfreeze()


class World:
    """Every target, driven in lockstep; the first target is the model, the oracle."""

    def __init__(self, machine: Machine, targets: Sequence[Target], recorder: Recorder,
                 known: Sequence[KnownDifference] = KNOWN_DIFFERENCES, step_guard: Any = None) -> None:
        if not targets or not targets[0].is_model:
            raise ValueError("the first target must be the model")
        if _ONE_AT_A_TIME:
            gc.freeze()
        self.machine = machine
        self.runs = [t.new_run(machine) if t.new_run else Run(t, machine) for t in targets]
        # A factory or an adapter makes objects from its own code: where they were made is not comparable.
        for run in self.runs:
            run.exact_origin = all(t.construct is not None and t.exact_origin for t in targets)
        self.known = tuple(known)
        self.steps: list[Step] = []
        #: Where the model reports the rows it fires.
        self.recorder = recorder
        self.coverage: Counter[str] = Counter()
        self.known_used: Counter[str] = Counter()
        self.skipped: dict[str, set[str]] = {t.name: set() for t in targets}
        #: What each object's actions made (a task awaiting it), by the object's name.
        self.made: dict[str, set[str]] = {}
        self.diverged: set[str] = set()
        #: Wraps every step, called with the action and the actions before it (the audit worker puts a
        #: per-step timeout here).
        self.step_guard = step_guard

    @property
    def model(self) -> Run:
        return self.runs[0]

    def close(self) -> None:
        for run in self.runs:
            run.close()
        if _ONE_AT_A_TIME:
            gc.collect()  # what this world left, before the next one freezes it

    def step(self, action: Action) -> list[Difference]:
        if self.step_guard is not None:
            with self.step_guard(action, tuple(s.action for s in self.steps)):
                return self._step(action)
        return self._step(action)

    def _step(self, action: Action) -> list[Difference]:
        recorder = self.recorder
        mark = recorder.mark()
        probe_mark: list[int] = []
        self.model.before_probe = lambda: probe_mark.append(recorder.mark())
        n = len(self.steps)
        taking = [run for run in self.runs[1:] if run.target.name not in self.diverged and not self._dropped(run, action)]
        for run in taking:
            if hasattr(run, "begin"):
                run.begin(action, n)  # a target elsewhere takes the step while the model takes it here
        model_obs = self.model.perform(action, n)
        fired = recorder.since(mark)
        self.coverage.update(fired)
        # The rows the action fired, and those the state queries after it fired.
        rows = recorder.since(mark, probe_mark[0] if probe_mark else None)
        probed = tuple(r for r in fired if r not in rows)
        observations = {self.model.target.name: model_obs}
        diffs: list[Difference] = []
        if action.obj and action.result:
            self.made.setdefault(action.obj, set()).add(action.result)
        # What a known difference may let go of: the objects whose rows fired, and what was made from them.
        acting = {self.model.names.get(id(o)) for o in recorder.objects_since(mark)} - {None}
        made = self._made_from(acting | {n for n in (action.obj, action.result) if n})
        for run in taking:
            name = run.target.name
            obs = run.perform(action, n)
            if action.verb == "new" and obs.outcome[0] == "raises" and obs.outcome[:2] != model_obs.outcome[:2]:
                # Made in a loop callback, it failed where the model's was made (or failed otherwise): as a
                # plain creation that fails, the target cannot take this step (an error on its clauses).
                raise TargetCrashed(f"making the object raised {obs.outcome[1]}: {', '.join(map(str, obs.outcome[2]))}")
            observations[name] = obs
            skipped = self.skipped[name]
            found, used = compare(_without(model_obs, skipped), _without(obs, skipped), name, rows, self.known,
                                  made, current=step_context(n))
            for k in used:
                self.known_used[k.id] += 1
                if k.then == "drop-object":
                    skipped.update(made)
                elif k.then == "drop-target":
                    self.diverged.add(name)
            diffs.extend(found)
        self.steps.append(Step(action, rows, self.model_states(), observations, probed))
        return diffs

    def _made_from(self, names: set) -> tuple[str, ...]:
        out, frontier = set(names), list(names)
        while frontier:
            for made in self.made.get(frontier.pop(), ()):
                if made not in out:
                    out.add(made)
                    frontier.append(made)
        return tuple(sorted(out))

    def _dropped(self, run: Run, action: Action) -> bool:
        """Whether the step acts on an object a known difference let go of (and so what it makes, too)."""
        skipped = self.skipped[run.target.name]
        if action.obj in skipped or any(a.kind == "object" and a.value in skipped for a in action.args):
            if action.result:
                skipped.add(action.result)
            return True
        return False

    def model_states(self) -> tuple[tuple[str, str], ...]:
        m = self.machine
        out = []
        for name, obj in self.model.objects.items():
            value = getattr(obj, m.state_attr, None) if hasattr(type(obj), "asyncspec_machine") else None
            state = next((s.name for s in m.states if s.value is value or
                          (type(s.value) is type(value) and s.value == value)), None)
            if hasattr(type(obj), "asyncspec_machine") and type(obj).asyncspec_machine is m:
                out.append((name, state or "<uninitialized>"))
        return tuple(out)


# -- counterexamples ---------------------------------------------------------------

#: The recipe kinds that hand a callback (or a handler, a factory) to the target, named as events name it.
CALLBACK_RECIPES = ("callback", "equal_callback", "raising_callback", "chaining_callback", "loop_calling_callback",
                    "handler", "task_factory")

#: What a difference is blamed on when no row of the spec can be named for it.
HARNESS_ROW = "(harness)"
#: The clause such a difference breaks: every observed difference is a deviation.
HARNESS_CLAUSE = ("H-OBSERVED", "Every difference between a target and the model is a deviation, even one no row "
                                "of the spec can be named for: it appeared while the harness acted.")


def _answers(value: Any) -> bool:
    """Whether ``value`` is an object's answers: (query, answer) pairs."""
    return isinstance(value, tuple) and all(isinstance(a, tuple) and len(a) == 2 and isinstance(a[0], str)
                                            for a in value)


def _query_of(row_id: str) -> str:
    """The operation a row answers: ``PENDING.done`` -> ``done``."""
    return row_id.split(".", 1)[1].split("[", 1)[0]


def _how_callbacks_differ(differences: Sequence[Difference]) -> str:
    """When only the callbacks that ran differ: whether the same ones "ran differently", else "ran or not"."""
    if not differences or any(d.aspect != "events" for d in differences):
        return ""
    out = ""
    for d in differences:
        def split(events: Any) -> tuple[list, list]:
            ran = [e for e in events if e and e[0] == "callback"]
            return ran, [e for e in events if not (e and e[0] == "callback")]
        (mine, other), (theirs, rest) = split(d.expected), split(d.observed)
        if other != rest:
            return ""
        if [e[1] for e in mine] != [e[1] for e in theirs]:
            out = "ran or not"
        elif not out:
            out = "ran differently"
    return out


def _items(value: Any) -> list:
    """The items of an observed aspect, for telling which of them differ."""
    if isinstance(value, tuple) and all(isinstance(v, tuple) for v in value):
        return list(value)
    return [value]


def _names(items: Any) -> set[str]:
    """Every string in ``items``, nested ones included: the names of what they mention."""
    out: set[str] = set()
    for item in items:
        if isinstance(item, str):
            out.add(item)
        elif isinstance(item, tuple):
            out |= _names(item)
    return out


@dataclass
class Counterexample:
    """A difference, with a reproduction, the path through the diagram, and the clauses it breaks."""

    machine: Machine
    target: Target
    steps: list[Step]
    differences: list[Difference]
    spec: Spec | None = None

    @property
    def rows(self) -> tuple[str, ...]:
        """The rows the difference is blamed on; never none.

        The step's rows, and the state queries' when the state differs. A
        difference seen while the harness acted (the loop ran, nothing fired a
        row) is blamed on the earlier rows that caused what differs: those that
        scheduled or registered a callback it names. Where no row can be named,
        it is blamed on the harness itself (:data:`HARNESS_ROW`), never dropped.
        """
        step = self.steps[-1]
        rows = step.rows
        if any(d.aspect == "state" for d in self.differences):
            rows = rows + tuple(r for r in self._queried() if r not in rows)
        how = _how_callbacks_differ(self.differences)
        if how == "ran differently":
            # The same callbacks ran, with other arguments or in another context: the rows that handed
            # them to the loop decide that.
            rows = self._causes() or rows
        elif how == "ran or not":
            # Other callbacks ran, or in another order: what runs the loop decides that.
            driven = facts(self.machine.name).driven
            rows = tuple(r for r in rows if _query_of(r) in driven) or rows
        return rows or self._causes() or (HARNESS_ROW,)

    def _queried(self) -> tuple[str, ...]:
        """The rows of the state queries whose answers differ: an observed fact's own row, a probe's rows.

        Where what differs is not one object's answers (a task's outcome, an object
        only one side has), every probe row of the step.
        """
        step = self.steps[-1]
        queries: set[str] = set()
        for d in self.differences:
            if d.aspect != "state":
                continue
            expected, observed = dict(d.expected), dict(d.observed)
            for name in set(expected) | set(observed):
                mine, theirs = expected.get(name), observed.get(name)
                if mine == theirs:
                    continue
                if not (isinstance(mine, tuple) and isinstance(theirs, tuple) and _answers(mine) and _answers(theirs)):
                    return step.probe_rows
                queries |= {q for q, a in set(mine) ^ set(theirs)}
        return tuple(r for r in step.probe_rows if _query_of(r) in queries) + \
            tuple(sorted(q for q in queries if q.startswith("<observed>.")))

    def _causes(self) -> tuple[str, ...]:
        names: set[str] = set()
        for d in self.differences:
            names |= _names(set(_items(d.expected)) ^ set(_items(d.observed)))
        # The model is the first target of every step.
        model = next(iter(self.steps[-1].observations), None)
        found: list[str] = []
        for step in reversed(self.steps[:-1]):
            observed = step.observations.get(model) if model else None
            scheduled = observed is not None and any(
                _schedules(e) and e[1] in names for e in observed.events)
            recipes = list(step.action.args) + [r for _, r in step.action.kwargs]
            registered = any(r.kind in CALLBACK_RECIPES and r.value in names for r in recipes)
            if scheduled or registered:
                found.extend(r for r in step.rows if r not in found)
        return tuple(found)

    def clauses(self) -> list[tuple[str, str]]:
        m = self.machine
        if self.rows == (HARNESS_ROW,):
            return [HARNESS_CLAUSE]
        ids: list[str] = []
        for row_id in self.rows:
            for r in m.all_rows:
                if r.id == row_id:
                    ids.extend(c for c in r.clauses if c not in ids)
            for c in m.clauses:
                if c.id not in ids and any(row_matches(row_id, p) for p in c.rows):
                    ids.append(c.id)
        quoted = []
        for cid in ids:
            try:
                c = m.clause(cid)
            except KeyError:
                continue
            quoted.append((cid, c.quote))
        return quoted

    def path(self) -> list[str]:
        lines = []
        for i, step in enumerate(self.steps):
            shown = ", ".join(step.rows) if step.rows else "(no row: the harness acted)"
            lines.append(f"{i + 1}. {step.action.describe()}  ->  {shown}")
        return lines

    def script(self) -> str:
        return render_script(self.machine, self.target, [s.action for s in self.steps],
                             self.differences[0], self._differing_queries(), self.explanation())

    def _differing_queries(self) -> list[tuple[str, str]]:
        """(object, query) pairs whose answers differ after the last step, for the script to print."""
        out: list[tuple[str, str]] = []
        for d in self.differences:
            if d.aspect != "state":
                continue
            mine, theirs = dict(_pairs(d.expected)), dict(_pairs(d.observed))
            for name in sorted(set(mine) | set(theirs)):
                a, b = mine.get(name), theirs.get(name)
                if isinstance(a, tuple) and isinstance(b, tuple) and _answers(a) and _answers(b):
                    out += [(name, q) for q in sorted({q for q, _ in set(a) ^ set(b)}) if not q.startswith("<")
                            and (name, q) not in out]
        return out

    def explanation(self) -> list[str]:
        """The differences of the last step, one sentence each, in the words of asyncio's users."""
        action = self.steps[-1].action.describe()
        lines: list[str] = []
        for d in self.differences:
            if d.aspect == "outcome":
                lines.append(f"{action}: {_outcome(d.observed)}; the spec says it {_outcome(d.expected, spec=True)}.")
            elif d.aspect == "events":
                expected, observed = list(d.expected), list(d.observed)
                for e in observed:
                    if e in expected:
                        expected.remove(e)
                        continue
                    # The same thing happened otherwise (the same callback, the same handler): say how.
                    twin = next((x for x in expected if x[:2] == e[:2] and x[0] in _TWINNED), None)
                    if twin is not None:
                        expected.remove(twin)
                        lines.append(f"During {action}: {_event(e)}; the spec says {_event(twin, spec=True)}.")
                    else:
                        lines.append(f"During {action}: {_event(e)}, which the spec does not do.")
                lines += [f"During {action}: the spec expects that {_event(e)}; it did not happen." for e in expected]
                if not lines and d.expected != d.observed:
                    lines.append(f"During {action}: the same calls happened in another order.")
            else:
                mine, theirs = dict(_pairs(d.expected)), dict(_pairs(d.observed))
                for name in sorted(set(mine) | set(theirs)):
                    a, b = mine.get(name), theirs.get(name)
                    if a == b:
                        continue
                    if isinstance(a, tuple) and isinstance(b, tuple) and _answers(a) and _answers(b):
                        spec_says = dict(a)
                        for query, answer in b:
                            if spec_says.get(query) != answer:
                                lines.append(f"After {action}: {_query(name, query)} answers {answer!r}; "
                                             f"the spec says {spec_says.get(query)!r}.")
                    else:
                        lines.append(f"After {action}: {name} is {_state(b)}; the spec says {_state(a)}.")
        return lines

    def text(self) -> str:
        d = self.differences[0]
        out = [f"{self.target.name} deviates from the spec ({self.machine.title}) "
               f"after {len(self.steps)} step(s):", ""]
        out += ["Path through the state diagram:"] + [f"  {line}" for line in self.path()]
        out += ["", "In words:"] + [textwrap.fill(line, 100, initial_indent="  ", subsequent_indent="    ")
                                    for line in self.explanation()]
        out += ["", f"Difference in {d.aspect} (in the engine's terms):",
                f"  expected (spec): {_show(d.expected)}",
                f"  observed:        {_show(d.observed)}"]
        for extra in self.differences[1:]:
            out += [f"  and in {extra.aspect}: expected {_show(extra.expected)}, observed {_show(extra.observed)}"]
        out += ["", "Clauses broken:"]
        for cid, quote in self.clauses():
            out.append(textwrap.fill(f"{cid}: \u201c{quote}\u201d", 100, initial_indent="  ",
                                     subsequent_indent="    "))
        where = f"the loop from {self.target.loop_source}" if self.target.loop_source else "a plain asyncio loop"
        out += ["", f"Reproduce on {where}:", "", textwrap.indent(self.script(), "    ")]
        return "\n".join(out)


def _pairs(state: Any) -> list:
    return [s for s in state if isinstance(s, tuple) and len(s) == 2] if isinstance(state, tuple) else []


def _outcome(outcome: tuple, spec: bool = False) -> str:
    if outcome and outcome[0] == "returns":
        return f"{'returns' if spec else 'returned'} {outcome[1]!r}"
    if outcome and outcome[0] == "raises":
        args = outcome[2] if len(outcome) > 2 else ()
        shown = ", ".join(map(repr, args))
        return f"{'raises' if spec else 'raised'} {outcome[1]}({shown})"
    return repr(outcome)


#: Events that, happening otherwise than the spec says, are told as one difference.
_TWINNED = ("callback", "exception handler")


def _event(e: tuple, spec: bool = False) -> str:
    """An event in words; ``spec``: as what the spec says happens (``it runs ...``)."""
    head = str(e[0]) if e else ""
    if head == "callback":
        where = "".join(f", with the running loop {v!r}" for k, v in e[4:] if k == "running loop") \
            if len(e) > 4 else ""
        if spec:
            return f"it runs with {e[2]!r} in context {e[3]!r}{where}"
        return f"callback {e[1]} ran with {e[2]!r} in context {e[3]!r}{where}"
    if _schedules(e):
        args = "".join(f", {a!r}" for a in e[2])
        return f"{head}({e[1]}{args}, context={e[3]!r}) was called"
    if head == "exception handler":
        who = f"the exception handler {e[1]}" if e[1] else "the loop's exception handler"
        called = f"handler({', '.join([*map(str, e[2]), 'context'])})"
        if spec:
            who = "it is"
            if isinstance(e[3], tuple) and len(e[3]) >= 3:
                return f"it is called as {called} with message {e[3][0]!r}, exception {e[3][1]}"
        if not (isinstance(e[3], tuple) and len(e[3]) >= 3):
            return f"{who} was called as {called} with {e[3]!r} for the context"
        message, exc, future, *more = e[3]
        extra = "".join(f", {k}: {v!r}" for k, v in more)
        return f"{who} was called as {called} with message {message!r}, exception {exc}, future {future}{extra}"
    if " called loop." in head and len(e) > 1:
        return f"{head}, which {_outcome(e[1])}"
    if head == "logged":
        return f"the asyncio logger got {e[1]} {e[2]!r}"
    if head.endswith(".create_task"):
        return f"{head}({e[1]}) went through the task factory {e[2] or 'the harness set'}"
    if head == "argument closed":
        return f"the argument was {'closed' if e[1] else 'left open'}"
    return repr(e)


def _query(name: str, query: str) -> str:
    if query.startswith("<observed>."):
        return f"the observed fact {query.split('.', 1)[1]} of {name}"
    return f"{name}.{query}()"


def _state(value: Any) -> str:
    if value is None:
        return "absent"
    if isinstance(value, tuple) and value and value[0] in ("pending", "was cancelled", "raised", "returned"):
        return "a task that " + {"pending": "is pending", "was cancelled": "was cancelled"}.get(
            value[0], f"{value[0]} {', '.join(map(repr, value[1:]))}")
    return repr(value)


def _show(value: Any) -> str:
    text = repr(value)
    return text if len(text) < 400 else text[:397] + "..."


#: The helpers a reproduction may use, each included only when the script needs it.
_HELPERS: tuple[tuple[str, str], ...] = (
    ("CONTEXT", 'CONTEXT = contextvars.ContextVar("context", default=None)'),
    ("Callback", """\
class Callback:
    def __init__(self, name): self.name = name
    def __call__(self, *args): print(f"  callback {self.name} called with {args!r} in context {CONTEXT.get()!r}")
    def __eq__(self, other): return isinstance(other, Callback) and other.name == self.name
    __hash__ = object.__hash__
    def __repr__(self): return self.name"""),
    ("Raising", """\
class Raising(Callback):
    def __call__(self, *args): super().__call__(*args); raise ValueError(f"raised by {self.name}")"""),
    ("Chaining", """\
class Chaining(Callback):
    def __init__(self, name, then): super().__init__(name); self.then = then
    def __call__(self, *args): super().__call__(*args); loop.call_soon(Callback(self.then))"""),
    ("CallingLoop", """\
class CallingLoop(Callback):
    def __init__(self, name, method): super().__init__(name); self.method = method
    def __call__(self, *args): super().__call__(*args); show(getattr(loop, self.method))"""),
    ("Handler", """\
def Handler(name):
    def handler(*args):
        print(f"  exception handler {name} called with {len(args)} argument(s), the loop first: {args[0] is loop}")
    return handler"""),
    ("Factory", """\
def Factory(name):
    def factory(loop, coro, **kwargs):
        print(f"  task factory {name} called"); return asyncio.Task(coro, loop=loop, **kwargs)
    return factory"""),
    ("marked_context", """\
def marked_context(mark):
    context = contextvars.copy_context(); context.run(CONTEXT.set, mark); return context"""),
    ("show", """\
def show(thunk):
    try:
        print("  ->", repr(thunk()))
    except BaseException as e:
        print("  -> raised", type(e).__name__, e.args)"""),
    ("run_until_idle", """\
def run_until_idle(loop):
    for _ in range(20): run_once(loop)"""),
    ("run_once", """\
def run_once(loop):
    loop.call_soon(loop.stop); loop.run_forever()"""),
    ("in_callback", """\
def in_callback(loop, make):
    made = []
    def callback():
        try:
            made.append(("made", make()))
        except BaseException as e:
            made.append(("raised", e))
    loop.call_soon(callback); run_once(loop)
    if made[0][0] == "raised":
        raise made.pop()[1]
    return made.pop()[1]"""),
    ("awaiting", """\
async def awaiting(awaitable):
    return await awaitable"""),
    ("returns_done", "async def returns_done():\n    return 'finished'"),
    ("plain_generator", "def plain_generator():\n    yield\n    return 'finished'"),
    ("Awaitable", """\
class Awaitable:
    def __await__(self):
        return returns_done().__await__()"""),
    ("DuckFuture", """\
class DuckFuture:
    _asyncio_future_blocking = False
    def __init__(self, loop): self._loop = loop
    def get_loop(self): return self._loop
    def __await__(self): return (yield self)"""),
    ("Uninitialized", """\
class Uninitialized(Target):
    def __init__(self): pass"""),
    ("other_loop", "other_loop = new_loop(); other_loop.set_exception_handler(Handler('installed'))"),
    ("closed_loop", "closed_loop = asyncio.new_event_loop(); closed_loop.close()"),
    ("scripted", SCRIPT_SOURCE.strip()),
    ("note", """\
def note(*what):
    current = asyncio.current_task()
    print("  coroutine:", *what, "| current task:", current and current.get_name(), "| context:", CONTEXT.get())"""),
)
#: Helpers made on the script's loop, after it (a scripted coroutine's waiter, and the future it
#: awaits on the other loop).
_ON_THE_LOOP: tuple[tuple[str, str], ...] = (
    ("w", "w = loop.create_future()"),
    ("elsewhere", "elsewhere = other_loop.create_future()"),
)


def _needed_helpers(body: str) -> list[str]:
    """The helpers the body uses, and the helpers those use, in a working order."""
    needed: set[str] = set()
    frontier = body
    while True:
        found = {name for name, _ in _HELPERS if name not in needed and re.search(rf"\b{name}\b", frontier)}
        if not found:
            break
        needed |= found
        frontier = "\n".join(code for name, code in _HELPERS if name in found)
    return [code for name, code in _HELPERS if name in needed]


def _loop_import(source: str) -> str:
    """How a script gets ``new_loop``, which makes the loops the target was audited on."""
    if not source:
        return "new_loop = asyncio.new_event_loop"
    if source == "uvloop":
        return "from uvloop import new_event_loop as new_loop"
    module, _, attr = source.partition(":")
    return f"from {module} import {attr} as new_loop"


#: How a script makes each named callback-like argument, by recipe kind.
_MADE_IN_SCRIPT = {
    "callback": lambda r: f"Callback({r.value!r})",
    "raising_callback": lambda r: f"Raising({r.value!r})",
    "chaining_callback": lambda r: f"Chaining({r.value!r}, {r.args[0]!r})",
    "loop_calling_callback": lambda r: f"CallingLoop({r.value!r}, {r.args[0]!r})",
    "handler": lambda r: f"Handler({r.value!r})",
    "task_factory": lambda r: f"Factory({r.value!r})",
}


def render_script(machine: Machine, target: Target, actions: Sequence[Action],
                  difference: Difference | None = None, queries: Sequence[tuple[str, str]] = (),
                  expected: Sequence[str] = ()) -> str:
    """A standalone script that replays the actions on the target's loop (asyncio's, uvloop's, or the
    ``--loop`` factory) and prints what happens."""
    module, _, attr = target.source.partition(":")
    body = []
    made = {a.value: a for act in actions for a in list(act.args) + [r for _, r in act.kwargs]
            if a is not None and a.kind in _MADE_IN_SCRIPT}
    for name in sorted(made):
        body.append(f"{name} = {_MADE_IN_SCRIPT[made[name].kind](made[name])}")
    for i, action in enumerate(actions):
        body.append(f"print({f'step {i + 1}: {action.describe()}'!r})")
        body.append(action.python(machine))
    if queries:
        body.append("print('the state that differs:')")
        body += [f"show(lambda: {name}.{query}())" for name, query in queries]
    if expected:
        body.append(f"print({'The spec expects otherwise: ' + ' '.join(expected)!r})")
    text = "\n".join(body)
    if facts(machine.name).is_loop:
        imports = "# the target is the loop: new_loop below"
    else:
        imports = f"from {module} import {attr} as Target" if module else "Target = ...  # the target"
    lines = ["import asyncio, contextvars, gc", imports, _loop_import(target.loop_source), ""]
    on_the_loop = [code for name, code in _ON_THE_LOOP if re.search(rf"\b{name}\b", text)]
    lines += _needed_helpers("\n".join([text, "Handler", *on_the_loop]))
    # The audit's loops have a handler set that reports how the loop calls it (and never logs).
    # It is the current loop too, as in each step of the audit: what loop=None means.
    lines += ["", "loop = new_loop()", "loop.set_exception_handler(Handler('installed'))",
              "asyncio.set_event_loop(loop)", *on_the_loop]
    lines += ["", text]
    if difference is not None:
        lines += ["", f"# The last step differs in {difference.aspect} (in the engine's terms):",
                  f"#   expected (spec): {_show(difference.expected)}",
                  f"#   observed:        {_show(difference.observed)}"]
    return "\n".join(lines) + "\n"
