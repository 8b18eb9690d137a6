"""The declarations load, validate and trace; every validation check rejects what it should."""

from __future__ import annotations

import copy
import re
from pathlib import Path

import pytest
import transitions

from asyncspec.spec import DECLARATIONS, InvalidSpec, PROFILES, extended, load, seed, state_part

SEED_FILE = Path(__file__).resolve().parents[2] / "shared" / "seed" / "000_5a6be4f0f473278d.txt"
PYTHONS = [(3, 8), (3, 9), (3, 10), (3, 11), (3, 12), (3, 13), (3, 14)]


@pytest.mark.parametrize("python", PYTHONS, ids=lambda p: f"{p[0]}.{p[1]}")
@pytest.mark.parametrize("profile", sorted(PROFILES))
def test_every_profile_loads_for_every_python(profile, python):
    spec = load(profile, python)
    assert set(spec.machines) == {"future", "event", "ensure_future", "task", "event_loop"}
    assert all(clauses for *_, clauses in spec.coverage_of_seed())


def test_version_gates_resolve_per_python():
    rows = {v: load(python=v)["future"].row("PENDING.set_exception[is_stop_iteration]") for v in PYTHONS}
    assert rows[(3, 12)].dest is None and rows[(3, 12)].output.label().startswith("raise TypeError")
    assert rows[(3, 13)].dest == "FINISHED"
    guard = {v: load(python=v)["ensure_future"].guards["is_coroutine"].expr for v in [(3, 11), (3, 12)]}
    assert "GeneratorType" in guard[(3, 11)] and "GeneratorType" not in guard[(3, 12)]


def test_seed_profile_differs_only_by_its_declared_parameter():
    cpython, seed_profile = load("cpython"), load("seed")
    differing = [
        r.id for name in cpython.machines
        for r, s in zip(cpython[name].rows, seed_profile[name].rows) if r != s
    ]
    assert differing == ["PENDING.add_done_callback"] or set(differing) == {
        "FINISHED.add_done_callback", "CANCELLED.add_done_callback", "PENDING.set_result",
        "PENDING.set_exception[otherwise]", "PENDING.cancel",
    } | ({"PENDING.set_exception[is_stop_iteration]"} if cpython.python >= (3, 13) else set())
    assert any("call_soon_threadsafe" in str(e) for e in seed_profile["future"].row("PENDING.set_result").effects)


def test_seed_copy_matches_the_seed_document():
    if not SEED_FILE.exists():
        pytest.skip("the shared seed document is not beside this checkout")
    text = SEED_FILE.read_text(encoding="utf-8")
    paragraphs = [p.strip() for p in re.split(r"\n\s*\n", text) if p.strip()]
    headings = paragraphs[0::2]
    bodies = paragraphs[1::2]
    assert [s for s, _ in seed.SECTIONS] == headings
    for (section, sentences), body in zip(seed.SECTIONS, bodies):
        assert " ".join(sentences) == " ".join(body.split()), section


@pytest.mark.parametrize("name", sorted(DECLARATIONS))
def test_transitions_loads_the_state_part_unchanged(name):
    m = load()[name]
    part = m.state_part()
    declared = extended(DECLARATIONS[name], DECLARATIONS)
    assert part["states"] == list(declared["states"])
    assert part["initial"] == declared["initial"]
    for projected, raw in zip(part["transitions"], m.active):
        assert all(projected[k] is raw[k] for k in projected)

    class Model:
        pass

    model = Model()
    for guard in m.guards:
        setattr(model, guard, lambda: False)
    machine = transitions.Machine(model=model, auto_transitions=False, **part)
    assert machine.get_model_state(model).name == m.initial
    for r in m.rows:
        if r.dest is not None and not r.guarded:
            machine.set_state(r.source, model)
            getattr(machine.events[r.trigger], "trigger")(model)
            assert model.state == r.dest, r.id
    # final states are final for the library too, and the library left the declaration alone
    assert {s for s in machine.states if machine.get_state(s).final} == set(m.final_states)
    assert part["states"] != declared["states"] or all(
        "ignore_invalid_triggers" not in s for s in declared["states"])


# -- every check rejects a malformed declaration --------------------------------

def _broken(name: str, mutate) -> dict:
    declarations = copy.deepcopy(dict(DECLARATIONS))
    mutate(declarations[name])
    return declarations


def _rows(decl, trigger, source):
    return [t for t in decl["transitions"] if t["trigger"] == trigger and t["source"] == source]


def _reject(declarations, *fragments):
    with pytest.raises(InvalidSpec) as caught:
        load(declarations=declarations, python=(3, 12))
    message = str(caught.value)
    for fragment in fragments:
        assert fragment in message, message
    return message


def test_rejects_an_initial_state_that_is_not_declared():
    _reject(_broken("future", lambda d: d.update(initial="STARTED")),
            "future: initial", "exactly one initial state", "'STARTED'")


def test_rejects_a_list_of_initial_states():
    _reject(_broken("future", lambda d: d.update(initial=["PENDING", "FINISHED"])),
            "exactly one initial state", "['PENDING', 'FINISHED']")


def test_rejects_duplicate_state_names():
    _reject(_broken("event", lambda d: d["states"].append({"name": "SET"})), "unique state names", "SET")


def test_rejects_an_exit_from_a_final_state():
    def mutate(d):
        _rows(d, "cancel", "FINISHED")[0]["dest"] = "CANCELLED"
    _reject(_broken("future", mutate), "FINISHED.cancel", "no exit from final state 'FINISHED'")


def test_rejects_an_unreachable_state():
    def mutate(d):
        d["states"].append({"name": "LIMBO"})
        for op in d["operations"]:
            d["transitions"].append({"trigger": op, "source": "LIMBO", "dest": None, "returns": "None",
                                     "clauses": ["E-SET"]})
    _reject(_broken("event", mutate), "every state reachable from 'CLEAR'", "LIMBO")


def test_rejects_a_missing_state_operation_pair():
    def mutate(d):
        d["transitions"].remove(_rows(d, "done", "CANCELLED")[0])
    _reject(_broken("future", mutate), "(CANCELLED, done)", "a row for every (state, operation) pair")


def test_rejects_a_pair_defined_twice():
    def mutate(d):
        d["transitions"].append(dict(_rows(d, "is_set", "SET")[0]))
    _reject(_broken("event", mutate), "(SET, is_set)", "exactly one unguarded row")


def test_rejects_a_fallback_that_is_not_last():
    def mutate(d):
        rows = _rows(d, "result", "FINISHED")
        i, j = d["transitions"].index(rows[0]), d["transitions"].index(rows[1])
        d["transitions"][i], d["transitions"][j] = rows[1], rows[0]
    _reject(_broken("future", mutate), "(FINISHED, result)", "placed last")


def test_rejects_two_rows_with_the_same_guards():
    def mutate(d):
        first = _rows(d, "result", "FINISHED")[0]
        d["transitions"].insert(d["transitions"].index(first), dict(first))
    _reject(_broken("future", mutate), "(FINISHED, result)", "distinct guards")


def test_rejects_a_query_that_changes_state():
    def mutate(d):
        _rows(d, "is_set", "CLEAR")[0]["dest"] = "SET"
    _reject(_broken("event", mutate), "(CLEAR, is_set)", "a query operation to change no state")


def test_rejects_an_unused_clause():
    def mutate(d):
        d["clauses"].append({"id": "E-ORPHAN", "source": "cpython-docs", "cite": "x", "quote": "Nothing uses me."})
    _reject(_broken("event", mutate), "every clause formalized by some row", "E-ORPHAN")


def test_rejects_a_clause_pattern_that_matches_no_row():
    def mutate(d):
        d["clauses"][0]["rows"] = ["NOWHERE.*"]
    _reject(_broken("event", mutate), "row patterns that match some row", "NOWHERE.*")


def test_rejects_a_seed_sentence_no_clause_quotes():
    def mutate(d):
        d["clauses"] = [c for c in d["clauses"] if c["id"] != "EF-NEW"]
        for t in d["transitions"]:
            t["clauses"] = [c for c in t["clauses"] if c != "EF-NEW"]
    _reject(_broken("ensure_future", mutate), "every seed sentence quoted", "S40 'New in version 3.4.4.'")


def test_rejects_a_seed_quote_that_is_not_in_the_seed():
    def mutate(d):
        d["clauses"][0]["quote"] = "Block until the flag is maybe true."
    _reject(_broken("event", mutate), "a sentence of the seed document", "Block until the flag is maybe true.")


def test_rejects_names_that_do_not_resolve():
    _reject(_broken("event", lambda d: _rows(d, "set", "CLEAR")[0].update(dest="RAISED")),
            "CLEAR.set", "a dest state", "'RAISED'")
    _reject(_broken("future", lambda d: _rows(d, "result", "FINISHED")[0].update(conditions=["has_excepshun"])),
            "a guard declared under 'guards'", "has_excepshun")
    _reject(_broken("future", lambda d: _rows(d, "done", "PENDING")[0].update(clauses=["F-NOPE"])),
            "clause IDs declared", "F-NOPE")
    _reject(_broken("future", lambda d: _rows(d, "done", "PENDING")[0].update(trigger="finished")),
            "a trigger declared under 'operations'", "finished")


def test_rejects_an_expression_with_an_unknown_name():
    _reject(_broken("future", lambda d: _rows(d, "done", "PENDING")[0].update(returns="not_done_yet")),
            "PENDING.done", "['not_done_yet']")


def test_rejects_an_expression_that_does_not_parse():
    _reject(_broken("future", lambda d: _rows(d, "done", "PENDING")[0].update(returns="False)")),
            "a Python expression", "'False)'")


def test_rejects_an_effect_with_an_unknown_verb_or_field():
    _reject(_broken("future", lambda d: _rows(d, "cancel", "PENDING")[0]["effects"].append({"mutate": "x"})),
            "an effect keyed by one of")
    _reject(_broken("future", lambda d: _rows(d, "cancel", "PENDING")[0]["effects"].append(
        {"set": "message", "to": "msg"})), "'set' to name a declared field", "'message'")


def test_rejects_two_outputs_on_one_row():
    _reject(_broken("future", lambda d: _rows(d, "done", "PENDING")[0].update(raises="ValueError()")),
            "at most one of returns")


def test_rejects_a_bad_version_gate():
    _reject(_broken("future", lambda d: _rows(d, "done", "PENDING")[0].update(python="3.13+")),
            "a version gate such as '>=3.13'", "'3.13+'")


def test_rejects_an_unpaired_attempt():
    def mutate(d):
        d["transitions"] = [t for t in d["transitions"] if "coroutine_refused" not in t.get("conditions", ())]
    _reject(_broken("ensure_future", mutate), "guarded by attempt 'coroutine_refused'")


def test_rejects_an_unknown_profile_and_parameter():
    with pytest.raises(InvalidSpec, match="one of \\['cpython', 'seed'\\]"):
        load("pypy")
    _reject(_broken("future", lambda d: _rows(d, "set_result", "PENDING")[0]["effects"].append(
        {"do": "loop.$callback_sheduler(fn)"})), "a declared parameter", "$callback_sheduler")


def test_messages_name_element_expected_and_found():
    message = _reject(_broken("event", lambda d: _rows(d, "set", "CLEAR")[0].update(dest="RAISED")))
    assert re.match(r"event: row 'CLEAR\.set': expected .+, found 'RAISED'\. Fix", message)


def test_state_part_is_the_transitions_format():
    part = state_part(DECLARATIONS["event"])
    assert set(part) == {"states", "initial", "transitions"}
    assert all(set(t) <= {"trigger", "source", "dest", "conditions", "unless"} for t in part["transitions"])
