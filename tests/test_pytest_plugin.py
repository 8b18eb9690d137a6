"""The pytest plugin: one test per clause, for a project's own suite."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

TARGETS = Path(__file__).parent / "targets"


def run_pytest(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *args],
                          capture_output=True, text=True, cwd=cwd, timeout=600)


def test_the_command_line_option_expands_the_audit_into_one_test_per_clause():
    done = run_pytest("--pyargs", "asyncspec.conformance", "--asyncspec-target", "asyncspec.impl:Event",
                      cwd=TARGETS)
    assert done.returncode == 0, done.stdout[-2000:]
    assert "20 passed" in done.stdout


def test_the_helper_reports_deviations_and_skips(tmp_path):
    (tmp_path / "test_conformance.py").write_text(
        "from asyncspec.pytest_plugin import conformance_tests\n"
        "test_faulty = conformance_tests('asyncspec.model_tests.faults:CancelDoneTrueFuture',"
        " depth=2, examples=0)\n"
        "test_flag = conformance_tests('broken:FlagAdapter', examples=0)\n")
    done = run_pytest(str(tmp_path), "-p", "no:randomly", cwd=TARGETS)
    assert done.returncode == 1
    assert "F-CANCEL-DONE" in done.stdout and "deviates from the spec" in done.stdout
    assert "3 skipped" in done.stdout  # the adapter's absent operations
