"""The conformance tests the pytest plugin runs for ``--asyncspec-target`` (use with --pyargs)."""

from __future__ import annotations

from .pytest_plugin import check_clause, report_for


def test_conformance(asyncspec_case, request):  # noqa: ANN001 - pytest fixtures
    target, kind, clause = asyncspec_case
    config = request.config
    report = report_for(target, kind, profile=config.getoption("asyncspec_profile"),
                        loop=config.getoption("asyncspec_loop"))
    check_clause(report, clause)
