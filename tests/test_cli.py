"""The command line: subcommands, exit codes, and one-line usage errors."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

from asyncspec.cli import main


def run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "asyncspec", *args], capture_output=True, text=True,
                          timeout=600)


def test_check_spec_prints_the_matrix_and_exits_0():
    done = run("check", "--spec")
    assert done.returncode == 0, done.stderr
    assert "S01  asyncio.Future.exception()" in done.stdout
    assert "F-EXC-SIG -> future: PENDING.exception" in done.stdout
    assert "seed sentences: 42/42 quoted by a clause" in done.stdout
    assert "gaps: 0" in done.stdout


def test_check_spec_exits_1_on_a_gap(monkeypatch, capsys):
    from asyncspec import trace

    def gap(profile):
        return "S01 GAP", ["S01: no clause"]
    monkeypatch.setattr(trace, "traceability_report", gap)
    assert main(["check", "--spec"]) == 1


def test_invalid_spec_is_one_line_and_exit_1(monkeypatch, capsys):
    from asyncspec import spec

    broken = dict(spec.DECLARATIONS)
    broken["event"] = dict(broken["event"], initial="OPEN")
    monkeypatch.setattr(spec, "DECLARATIONS", broken)
    assert main(["check", "--spec"]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "event: initial: expected exactly one initial state" in err[0]


@pytest.mark.parametrize("args, fragment", [
    (["frobnicate"], "invalid choice: 'frobnicate'"),
    (["diagrams", "--format", "png"], "expected a comma-separated list of dot, svg, mmd, found 'png'"),
    (["check", "--examples", "many"], "expected a whole number, found 'many'"),
    (["check", "--profile", "pypy"], "invalid choice: 'pypy'"),
    (["audit", "--format", "pdf"], "invalid choice: 'pdf'"),
])
def test_usage_errors_are_one_line_with_status_2(args, fragment):
    done = run(*args)
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and fragment in lines[0], done.stderr
    assert "Traceback" not in done.stderr


def test_diagrams_check_on_a_missing_folder_is_a_usage_error(tmp_path):
    done = run("diagrams", "--check", "--out", str(tmp_path / "nowhere"))
    assert done.returncode == 2
    assert done.stderr.strip().count("\n") == 0 and "found no folder" in done.stderr


def test_diagrams_write_and_check(tmp_path):
    assert run("diagrams", "--out", str(tmp_path)).returncode == 0
    assert run("diagrams", "--check", "--out", str(tmp_path)).returncode == 0
    (tmp_path / "future.dot").write_text("// hand-edited\n")
    done = run("diagrams", "--check", "--out", str(tmp_path))
    assert done.returncode == 1 and "future.dot: stale" in done.stdout


def test_check_command_exit_codes(monkeypatch, capsys):
    from asyncspec.model_tests import check as check_module
    from asyncspec.model_tests.faults import FAULTS

    assert main(["check", "--machine", "ensure_future", "--examples", "5"]) == 0
    out = capsys.readouterr().out
    assert "coverage: 6/6 states, 7/7 transitions, 11/11 clauses" in out
    faulty = [next(f for f in FAULTS if f.name == "wraps-future-in-task").target()]
    monkeypatch.setattr(check_module, "builtin_targets", lambda kind, profile: faulty)
    assert main(["check", "--machine", "ensure_future", "--examples", "5"]) == 1
    assert "COUNTEREXAMPLE (exhaustive)" in capsys.readouterr().out


def test_only_the_entry_point_imports_the_cli():
    # The command line is the top of the house: the audit, its worker and the plugin are called by it.
    tool = Path(__file__).resolve().parents[1] / "asyncspec"
    for path in sorted(tool.glob("*.py")):
        if path.name == "__main__.py":
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom):
                assert not (node.level == 1 and node.module == "cli"), path
                assert node.module != "asyncspec.cli", path


def test_ops_lists_what_an_adapter_writer_needs(capsys):
    assert main(["ops", "--kind", "future"]) == 0
    out = capsys.readouterr().out
    assert "add_done_callback(fn, *, context=None)" in out and "F-CALLBACK-CONTEXT" in out
    assert "__await__() (also __iter__)" in out
    assert "_log_traceback = val" in out and "adapter: assign_log_traceback" in out
    assert "isfuture(self)" in out and "F-ISFUTURE" in out
