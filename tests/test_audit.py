"""asyncspec audit: isolation from broken targets, adapters, report formats, exit codes."""

from __future__ import annotations

import json
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

TARGETS = Path(__file__).parent / "targets"
QUICK = ["--depth", "2", "--examples", "0", "--timeout", "2", "--jobs", "2"]


def audit(*args: str, cwd: Path = TARGETS, timeout: int = 600) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "asyncspec", "audit", *args], capture_output=True,
                          text=True, cwd=cwd, timeout=timeout)


@pytest.fixture(scope="module")
def broken_report():
    """One audit of every broken target beside a good one: the good one's report stays whole."""
    names = ["HangingFuture", "HangingCallbackFuture", "ExitingFuture", "SegfaultFuture", "RecursiveFuture",
             "FindsThenSegfaultsFuture",
             "MemoryHogFuture", "InitRaisesFuture", "ReprRaisesFuture", "EqRaisesFuture", "NoisyFuture"]
    done = audit(*[f"broken:{n}" for n in names], "asyncspec.impl:Future", "--format", "json", *QUICK,
                 "--depth", "3")
    assert done.returncode == 1, done.stderr
    return {t["target"]: t for t in json.loads(done.stdout)["targets"]}


def test_the_good_target_is_unharmed_by_its_neighbours(broken_report):
    good = broken_report["asyncspec.impl:Future"]
    assert good["summary"]["deviation"] == 0 and good["summary"]["error"] == 0
    assert good["summary"]["pass"] == len(good["clauses"])


@pytest.mark.parametrize("name, what", [
    ("HangingFuture", "a step ran past 2s"),
    ("HangingCallbackFuture", "a step ran past 2s"),
    ("ExitingFuture", "exited with status 3"),
    ("SegfaultFuture", "died of signal SIGSEGV"),
    ("MemoryHogFuture", "exhausted memory"),
    ("InitRaisesFuture", "making the object raised ValueError: broken on purpose"),
])
def test_a_broken_target_gets_an_error_saying_what_and_where(broken_report, name, what):
    report = broken_report[f"broken:{name}"]
    # A target that kills its worker is audited again, each step in a worker of its own: what broke the
    # first worker is said, and the step that breaks is an error on its own operation's clauses.
    broke = report.get("isolated") or report["error"]
    assert what in broke["what"], (broke, report["error"])
    assert report["error"]["action"] and report["error"]["step"] is not None
    assert report["summary"]["error"] > 0


@pytest.mark.parametrize("name", ["ExitingFuture", "SegfaultFuture"])
def test_a_target_that_kills_its_worker_in_one_operation_fails_that_operation_only(broken_report, name):
    report = broken_report[f"broken:{name}"]
    assert report["isolated"] and "set_result" in report["error"]["action"]
    errors = {c["id"] for c in report["clauses"] if c["status"] == "error"}
    assert "F-SET-RESULT" in errors and "F-CANCEL" not in errors, errors
    assert report["summary"]["pass"] > len(report["clauses"]) // 2, report["summary"]


def test_a_worker_that_dies_keeps_what_it_found_and_shows_its_last_output(broken_report):
    report = broken_report["broken:FindsThenSegfaultsFuture"]
    assert "died of signal SIGSEGV" in report["isolated"]["what"]
    deviations = {c["id"] for c in report["clauses"] if c["status"] == "deviation"}
    assert "F-RESULT-NOT-READY" in deviations, deviations
    assert report["summary"]["deviation"] == len(deviations) and report["summary"]["error"] > 0
    assert any("Segmentation fault" in line for line in report["isolated"]["output_tail"])
    assert report["isolated"]["path"][-1] == report["isolated"]["action"]


def test_raising_repr_and_recursion_are_deviations_on_their_clauses(broken_report):
    repr_report = broken_report["broken:ReprRaisesFuture"]
    assert {c["id"] for c in repr_report["clauses"] if c["status"] == "deviation"} >= {"F-REPR"}
    recursive = broken_report["broken:RecursiveFuture"]
    assert {c["id"] for c in recursive["clauses"] if c["status"] == "deviation"} >= {"F-DONE"}


def test_garbage_on_stdout_and_a_raising_eq_do_not_corrupt_the_report(broken_report):
    for name in ("NoisyFuture", "EqRaisesFuture"):
        report = broken_report[f"broken:{name}"]
        assert report["summary"]["deviation"] == 0 and report["error"] is None


def test_unauditable_targets_exit_2_with_one_line_each():
    done = audit("broken:NOT_A_TARGET", "nosuch:Thing", "asyncspec.impl:ensure_future", *QUICK)
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 2 and "Traceback" not in done.stderr
    assert "cannot tell what 'broken:NOT_A_TARGET' is" in lines[0]
    assert "cannot import module 'nosuch'" in lines[1]
    assert "asyncspec.impl:ensure_future" in done.stdout  # the others are still reported


@pytest.mark.parametrize("args, fragment", [
    (["--timeout", "0"], "expected a number of seconds above 0"),
    (["--loop", "nosuchloop:Loop", "asyncspec.impl:Event"], "cannot import module 'nosuchloop'"),
    (["--out", "/nonexistent/folder/report.json"], "expected --out in an existing folder"),
    (["--loop", "asyncio:sleep", "asyncspec.impl:Event"], "calling it raised TypeError"),
    (["--loop", "asyncio:get_running_loop", "asyncspec.impl:Event"], "calling it raised RuntimeError"),
    (["--loop", "builtins:object", "asyncspec.impl:Event"], "returned object, not an event loop"),
])
def test_usage_errors_are_one_line(args, fragment):
    done = audit(*args, *QUICK)
    assert done.returncode == 2
    assert fragment in done.stderr and "Traceback" not in done.stderr


def test_an_adapter_maps_the_api_and_absent_operations_are_not_applicable():
    done = audit("broken:FlagAdapter", "--format", "json", "--depth", "4", "--examples", "5")
    assert done.returncode == 0, done.stdout + done.stderr
    report = json.loads(done.stdout)["targets"][0]
    status = {c["id"]: c["status"] for c in report["clauses"]}
    assert status["E-CLEAR"] == status["E-CLEAR-SIG"] == status["E-REPR"] == "not-applicable"
    assert status["E-SET-WAKES"] == status["E-WAIT-TRUE-ON-ENTRY"] == "pass"


@pytest.fixture(scope="module")
def fault_report():
    done = audit("asyncspec.model_tests.faults:CancelDoneTrueFuture",
                 "asyncspec.model_tests.faults:LeavesWaiterEvent", "asyncspec.impl:ensure_future",
                 "--format", "json", "--examples", "0", "--seed", "3", cwd=Path.cwd())
    assert done.returncode == 1
    return json.loads(done.stdout)


def test_json_report_structure(fault_report):
    assert set(fault_report) >= {"profile", "targets", "python", "seed", "seconds"}
    for t in fault_report["targets"]:
        assert set(t) >= {"target", "kind", "loop", "summary", "clauses"}
        assert set(t["summary"]) >= {"pass", "deviation", "not-applicable", "error"}
        for c in t["clauses"]:
            assert c["status"] in {"pass", "deviation", "not-applicable", "error"}
            if c["status"] == "deviation":
                ce = c["counterexample"]
                assert set(ce) >= {"text", "script", "expected", "observed", "path", "clauses"}
    cancel = fault_report["targets"][0]
    assert {c["id"] for c in cancel["clauses"] if c["status"] == "deviation"} >= {"F-CANCEL-DONE"}
    waiter = fault_report["targets"][1]
    assert {c["id"] for c in waiter["clauses"] if c["status"] == "deviation"} & {"E-WAIT-CANCELLED", "E-REPR"}


def test_same_seed_same_report(fault_report):
    again = audit("asyncspec.model_tests.faults:CancelDoneTrueFuture",
                  "asyncspec.model_tests.faults:LeavesWaiterEvent", "asyncspec.impl:ensure_future",
                  "--format", "json", "--examples", "0", "--seed", "3", cwd=Path.cwd())
    second = json.loads(again.stdout)

    def strip(doc):
        for t in doc["targets"]:
            t["summary"].pop("seconds")
        doc.pop("seconds")
        return doc
    assert strip(second) == strip(json.loads(json.dumps(fault_report)))


def test_html_junit_and_markdown_formats(tmp_path):
    args = ["asyncspec.model_tests.faults:CancelDoneTrueFuture", "asyncspec.impl:Future",
            "--depth", "2", "--examples", "0"]
    html_path = tmp_path / "report.html"
    assert audit(*args, "--format", "html", "--out", str(html_path), cwd=Path.cwd()).returncode == 1
    page = html_path.read_text()
    assert page.startswith("<!DOCTYPE html>") and "<svg" in page and "Compliance matrix" in page
    assert 'fill="#cf222e"' in page or 'color="#cf222e"' in page  # a deviated transition, in red
    assert 'fill="#1a7f37"' in page or 'color="#1a7f37"' in page  # a passed one, in green
    assert "<script" not in page and "http" not in page.split("<body>")[1].split("<svg")[0]
    junit = audit(*args, "--format", "junit", cwd=Path.cwd())
    root = ET.fromstring(junit.stdout)
    suites = root.findall("testsuite")
    assert len(suites) == 2
    assert int(suites[0].get("failures")) >= 1 and len(suites[0].findall("testcase")) == int(suites[0].get("tests"))
    assert suites[0].find("testcase/failure") is not None
    md = audit(*args, "--format", "markdown", cwd=Path.cwd()).stdout
    assert "| clause |" in md and "\u274c" in md and "\u2705" in md


def test_runs_on_uvloop():
    pytest.importorskip("uvloop")
    done = audit("asyncspec.impl:Future", "--loop", "uvloop", "--depth", "2", "--examples", "0",
                 "--format", "json", cwd=Path.cwd())
    reports = {t["target"]: t for t in json.loads(done.stdout)["targets"]}
    report = reports["asyncspec.impl:Future"]
    assert report["summary"]["deviation"] == 0 and report["loop"] == "uvloop"
    # uvloop is audited first, on the loop contract; where it deviates, the Future's row says so.
    assert reports["uvloop"]["kind"] == "event_loop"
    if reports["uvloop"]["summary"]["deviation"]:
        assert any(note.startswith("the loop uvloop deviates") for note in report["notes"])


def test_the_worker_request_carries_the_documented_fields():
    from asyncspec.audit import AuditRequest
    request = AuditRequest("mypkg:MyFuture", kind="future", depth=3, seed=7, results="/tmp/r.jsonl", cwd="/tmp")
    sent = json.loads(request.to_json())
    assert set(sent) == {"target", "kind", "loop", "profile", "examples", "depth", "seed", "timeout",
                         "strict_messages", "jobs", "results", "cwd", "interpreter"}
    assert AuditRequest.from_json(request.to_json()) == request


def test_the_step_guard_wraps_the_random_sequences_too():
    import contextlib

    from asyncspec.adapters import resolve
    from asyncspec.audit import AuditRequest, audit_target

    def guarded_steps(examples: int) -> int:
        steps = []

        @contextlib.contextmanager
        def guard(action, before):
            steps.append(action)
            yield
        request = AuditRequest("asyncspec.impl:ensure_future", depth=1, examples=examples)
        audit_target(resolve(request.target), request, step_guard=guard)
        return len(steps)
    assert guarded_steps(3) > guarded_steps(0) > 0


def test_a_difference_no_row_can_be_named_for_deviates_in_the_report():
    from asyncspec import impl
    from asyncspec.audit import AuditRequest, audit_target
    from asyncspec.model_tests.engine import Target
    from asyncspec.model_tests.lockstep import HARNESS_CLAUSE

    def make(loop):
        future = impl.Future(loop=loop)
        loop.call_soon(lambda: None)  # something the spec never does, at creation
        return future
    report = audit_target(Target("noisy", "future", make=make, source="noisy:make"),
                          AuditRequest("noisy:make", examples=0))
    harness = [c for c in report["clauses"] if c["id"] == HARNESS_CLAUSE[0]]
    assert harness and harness[0]["status"] == "deviation"
    assert report["summary"]["deviation"] >= 1


def test_a_loop_create_future_factory_passes_every_clause():
    # The factory's class fills the expected repr's {cls}; debug mode's stack ends in the factory, and
    # only whether it ends inside the constructor is compared; random sequences make no uninitialized object.
    from asyncspec.adapters import resolve
    from asyncspec.audit import AuditRequest, audit_target

    request = AuditRequest("asyncio.base_events:BaseEventLoop.create_future", kind="future", examples=10)
    report = audit_target(resolve(request.target, request.kind), request)
    statuses = {c["id"]: c["status"] for c in report["clauses"]}
    assert report["error"] is None
    assert {s for c, s in statuses.items() if c != "F-UNINITIALIZED"} == {"pass"}, statuses
    assert statuses["F-UNINITIALIZED"] == "not-applicable"


def test_a_copy_of_the_pure_python_future_under_its_own_name_audits_clean():
    done = audit("renamed:CopiedFuture", "--format", "json", "--examples", "10")
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
    report = json.loads(done.stdout)["targets"][0]
    assert report["summary"]["deviation"] == 0 and report["known_differences"]
    strict = audit("renamed:CopiedFuture", "--format", "json", "--examples", "0", "--strict-messages")
    assert strict.returncode == 1
    deviating = {c["id"] for c in json.loads(strict.stdout)["targets"][0]["clauses"] if c["status"] == "deviation"}
    assert "F-RESULT-NOT-READY" in deviating


@pytest.mark.parametrize("name, what", [("SegfaultFuture", "died of signal SIGSEGV"),
                                        ("ExitingFuture", "exited with status 3")])
def test_a_target_alone_that_crashes_a_forked_explorer_is_still_reported_as_crashing(name, what):
    # Alone, the target's worker splits its exploration across processes; the crash must not hide there.
    done = audit(f"broken:{name}", "--format", "json", "--examples", "0", "--timeout", "2", "--jobs", "2")
    report = json.loads(done.stdout)["targets"][0]
    assert what in report["isolated"]["what"] and what in report["error"]["what"]


def test_a_folder_named_asyncspec_in_the_working_directory_shadows_nothing_and_nothing_is_written(tmp_path):
    (tmp_path / "asyncspec").mkdir()
    (tmp_path / "asyncspec" / "__init__.py").write_text("raise ImportError('the wrong asyncspec')\n")
    # The installed command (python -m would itself put the folder first on sys.path).
    command = Path(sys.executable).parent / "asyncspec"
    done = subprocess.run([str(command), "audit", "asyncspec.impl:Event", "--examples", "5", "--depth", "1",
                           "--format", "json"], capture_output=True, text=True, cwd=tmp_path, timeout=600)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    assert json.loads(done.stdout)["targets"][0]["summary"]["deviation"] == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == ["asyncspec"]  # no .hypothesis, no report


def test_under_a_faulty_loop_the_loop_is_audited_first_and_the_objects_carry_a_note():
    done = audit("asyncspec.impl:Future", "asyncspec.impl:Event", "--format", "json", *QUICK,
                 "--loop", "asyncspec.model_tests.test_loop:StopRunsLateCallbacks")
    reports = {t["target"]: t for t in json.loads(done.stdout)["targets"]}
    loop = reports["asyncspec.model_tests.test_loop:StopRunsLateCallbacks"]
    assert loop["kind"] == "event_loop"
    assert "L-STOP-BATCH" in {c["id"] for c in loop["clauses"] if c["status"] == "deviation"}
    for name in ("asyncspec.impl:Future", "asyncspec.impl:Event"):
        assert reports[name]["summary"]["deviation"] == 0, name
        assert any("L-STOP-BATCH" in note for note in reports[name]["notes"])
    assert done.returncode == 1  # the loop deviates


def test_the_html_page_shows_each_counterexample_once_folded(tmp_path):
    page = tmp_path / "report.html"
    audit("broken:RecursiveFuture", "--format", "html", "--out", str(page), *QUICK)
    html = page.read_text()
    # RecursiveFuture breaks three clauses with one counterexample: shown once, folded, naming all three.
    assert html.count("<summary><b>F-DONE-SIG, F-DONE, F-DONE-MEANS</b>") == 1
    assert html.count("<pre>") == 1


def test_an_adapter_declares_absent_parameters_and_the_rest_is_still_audited():
    done = audit("broken:NoMsgAdapter", "broken:NoMsgFuture", "--format", "json", *QUICK)
    reports = {t["target"]: {c["id"]: c for c in t["clauses"]} for t in json.loads(done.stdout)["targets"]}
    declared, undeclared = reports["broken:NoMsgAdapter"], reports["broken:NoMsgFuture"]
    assert declared["F-CANCEL-MSG"]["status"] == "not-applicable"
    assert declared["F-CANCEL-MSG"]["why"] == "the target's cancel() msg not taken"
    assert declared["F-CANCEL-DONE"]["status"] == "pass"  # cancel() itself is still audited
    assert undeclared["F-CANCEL-MSG"]["status"] == "deviation"


def test_an_adapter_naming_an_unknown_parameter_is_a_usage_error():
    done = audit("broken:TypoAdapter", *QUICK)
    assert done.returncode == 2
    assert "found cancel: ['mesage'] (cancel() takes ['msg'])" in done.stderr
