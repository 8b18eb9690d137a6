"""Audits across interpreters: the target in a worker on another Python, the model here on that version's spec.

Skipped cleanly for an interpreter that is not installed.
"""

from __future__ import annotations

import pytest

from asyncspec import remote
from asyncspec.audit import AuditRequest, audit_one
from asyncspec.model_tests.machines import spec_for
from asyncspec.spec.errors import TargetError


def _installed(version: str) -> remote.Interpreter:
    try:
        return remote.find(version)
    except TargetError as e:
        pytest.skip(str(e))


def _newest() -> remote.Interpreter:
    found, _ = remote.find_all([v for v in remote.SEARCHED])
    cpythons = [i for i in found if i.implementation == "cpython"]
    if not cpythons:
        pytest.skip("no CPython found besides this one")
    return cpythons[-1]


def _audit(interpreter: remote.Interpreter, target: str) -> dict:
    request = AuditRequest(target, depth=2, examples=0, interpreter=interpreter.as_dict())
    return audit_one(request)


def _status(report: dict, clause: str) -> dict:
    return next((c for c in report["clauses"] if c["id"] == clause), {"status": "absent"})


def test_the_worker_runs_on_python_3_8_and_the_gates_are_resolved_for_it():
    interpreter = _installed("3.8")
    report = _audit(interpreter, "asyncio:Future")
    assert report["interpreter"]["python"].startswith("3.8.")
    # cancel(msg) arrived in 3.9: its clause is not applicable on 3.8, and says so; Future[int] is not there.
    msg = _status(report, "F-CANCEL-MSG")
    assert msg["status"] == "not-applicable" and "not yet in Python 3.8" in msg["why"]
    assert _status(report, "F-GENERIC")["status"] == "absent"
    assert _status(report, "F-CANCEL")["status"] == "pass"
    assert not report["summary"]["deviation"] and not report["summary"]["error"], report["clauses"]


def test_the_newest_worker_is_held_to_the_newest_rows():
    interpreter = _newest()
    if interpreter.version < (3, 9):
        pytest.skip("no CPython 3.9+ found")
    report = _audit(interpreter, "asyncio.futures:_PyFuture")
    assert _status(report, "F-CANCEL-MSG")["status"] == "pass"
    assert _status(report, "F-GENERIC")["status"] == "pass"
    # The rows the model ran are that version's: 3.13 converts StopIteration, earlier versions reject it.
    rows = {r.id for r in spec_for("cpython", interpreter.version)["future"].all_rows}
    assert set(report["rows"]) == rows


def test_the_spec_is_resolved_per_version():
    old, new = spec_for("cpython", (3, 8)), spec_for("cpython", (3, 13))
    assert old["future"].operation("cancel").not_yet == {"msg"}
    assert not new["future"].operation("cancel").not_yet
    assert "cancelling" not in {op.name for op in old["task"].operations}
    assert "cancelling" in {op.name for op in new["task"].operations}


def test_an_interpreter_not_found_is_said_in_one_line():
    with pytest.raises(TargetError, match="--python 2.9: expected a version"):
        remote.find("2.9")
    found, missing = remote.find_all(["2.9"])
    assert found == [] and missing[0][0] == "2.9"


def test_a_target_that_cannot_be_imported_there_is_unauditable():
    interpreter = _installed("3.8")
    with pytest.raises(TargetError, match="no_such_module"):
        audit_one(AuditRequest("no_such_module:Future", interpreter=interpreter.as_dict()))


def test_the_matrix_over_the_interpreters_here_explains_every_cell(tmp_path):
    """Every installed interpreter, every built-in target: each cell passes, is not applicable with its
    reason, or is a known deviation with its issue; and no known deviation is claimed that did not show.

    The exhaustive phase only (``--examples 0``): it exercises every row; the random phase's extra
    search is the audit's, not this check's.
    """
    import json

    from asyncspec.cli import main

    found, _ = remote.find_all(["all"])
    if not found:
        pytest.skip("no other interpreter installed")
    out = tmp_path / "matrix.json"
    status = main(["audit", "--python", "all", "--examples", "0", "--format", "json", "--out", str(out)])
    document = json.loads(out.read_text())
    unexplained = [(t["interpreter"]["label"], t["target"], c["id"], c["status"])
                   for t in document["targets"] for c in t["clauses"]
                   if c["status"] not in ("pass", "known", "not-applicable")]
    assert unexplained == [] and not document["unauditable"], (unexplained, document["unauditable"])
    assert all(c.get("why") for t in document["targets"] for c in t["clauses"] if c["status"] == "not-applicable")
    assert all(c["known"]["issue"] for t in document["targets"] for c in t["clauses"] if c["status"] == "known")
    assert document.get("unmet_known", []) == []
    assert status == 0
    assert {i["label"] for i in document["interpreters"]} == {i.label for i in found}


def test_an_action_crosses_once_then_goes_by_its_number(tmp_path, monkeypatch):
    """A path's steps are replayed many times: each action is sent whole once, then by the number it was given."""
    from asyncspec.model_tests.engine import Action
    from asyncspec.model_tests.explore import initial_path
    from asyncspec.spec.errors import TargetCrashed

    machine = spec_for("cpython")["future"]
    process = remote.TargetProcess(remote.running_here(), "asyncio:Future", None, "asyncio", "cpython", 10.0,
                                   tmp_path / "worker.log", str(tmp_path))
    target = remote.remote_target(process)
    sent: list[dict] = []
    write = process._write
    monkeypatch.setattr(process, "_write", lambda message, what: (sent.append(message), write(message, what)))
    path = [*initial_path(machine), Action("call", "cancel", "f0"), Action("call", "cancelled", "f0")]
    try:
        observed = []
        for _ in range(2):
            run = target.new_run(machine)
            observed.append([run.perform(action, step) for step, action in enumerate(path)])
            run.close()
        steps = [m for m in sent if m.get("op") == "perform"]
        assert [type(m["action"]) for m in steps] == [dict] * 3 + [int] * 3
        assert [m.get("as") for m in steps[:3]] == [0, 1, 2] and [m["action"] for m in steps[3:]] == [0, 1, 2]
        assert observed[0] == observed[1]  # the same steps, taken alike, whichever way they crossed
        assert observed[1][-1].outcome == ("returns", True)
        with pytest.raises(TargetCrashed, match="expected the number of an action sent before, found 7"):
            process.ask({"op": "perform", "step": 0, "action": 7}, "step 0")
    finally:
        process.stop()
