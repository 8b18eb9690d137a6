"""A pytest plugin: asyncio conformance, one test per clause, in any project's suite.

Installed with asyncspec (a ``pytest11`` entry point). Two ways to use it:

* from the command line, with no code::

      pytest --pyargs asyncspec.conformance --asyncspec-target mypkg:MyFuture

* from a test module, with the helper::

      from asyncspec.pytest_plugin import conformance_tests
      test_my_future = conformance_tests("mypkg:MyFuture")

Each clause of the spec becomes a test that passes, fails with the
counterexample (a runnable reproduction, the path, the clause quoted), or is
skipped as not applicable. The target is audited once per session, in a
worker process, exactly as ``asyncspec audit`` does.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Callable

import pytest

if TYPE_CHECKING:
    from .audit import AuditRequest

_REPORTS: dict[AuditRequest, dict] = {}


def pytest_addoption(parser: pytest.Parser) -> None:
    from .spec import DECLARATIONS, PROFILES

    group = parser.getgroup("asyncspec", "asyncio conformance (asyncspec)")
    group.addoption("--asyncspec-target", action="append", default=[], metavar="MODULE:ATTR",
                    help="audit this Future class, Event class, ensure_future function or Adapter "
                         "(with --pyargs asyncspec.conformance)")
    group.addoption("--asyncspec-kind", default=None, choices=tuple(DECLARATIONS))
    group.addoption("--asyncspec-profile", default="cpython", choices=sorted(PROFILES))
    group.addoption("--asyncspec-loop", default="asyncio", metavar="asyncio|uvloop|MODULE:ATTR")


def report_for(target: str, kind: str | None = None, profile: str = "cpython", loop: str = "asyncio",
               examples: int = 20, depth: int | None = None, timeout: float = 10.0) -> dict:
    """Return the audit report of ``target``, audited in a worker once per session."""
    from .audit import AuditRequest, audit_one
    from .spec.errors import TargetError

    request = AuditRequest(target, kind=kind, loop=loop, profile=profile, examples=examples, depth=depth,
                           timeout=timeout)
    if request not in _REPORTS:
        try:
            _REPORTS[request] = audit_one(request)
        except TargetError as e:
            raise pytest.UsageError(str(e)) from None
    return _REPORTS[request]


def check_clause(report: dict, clause_id: str) -> None:
    entry = next(c for c in report["clauses"] if c["id"] == clause_id)
    if entry["status"] == "not-applicable":
        pytest.skip(entry.get("why", "not applicable"))
    if entry["status"] == "deviation":
        pytest.fail(entry["counterexample"]["text"], pytrace=False)
    if entry["status"] == "error":
        pytest.fail(f"{report['target']}: {entry['error'].get('what')} "
                    f"(at step {entry['error'].get('step')}: {entry['error'].get('action')})", pytrace=False)


def clause_ids(kind: str, profile: str = "cpython") -> list[str]:
    from .spec import load
    return [c.id for c in load(profile)[kind].clauses]


def conformance_tests(target: str, kind: str | None = None, **options: Any) -> Callable[..., None]:
    """A test function parametrized with one case per clause of ``target``'s kind."""
    if kind is None:
        from .adapters import detect_kind, import_object
        kind = detect_kind(import_object(target))
        if kind is None:
            raise pytest.UsageError(f"cannot tell the kind of {target!r}; pass kind=")

    @pytest.mark.parametrize("clause", clause_ids(kind, options.get("profile", "cpython")))
    def test_clause(clause: str) -> None:
        check_clause(report_for(target, kind, **options), clause)

    test_clause.__name__ = f"test_conformance_of_{target.replace(':', '_').replace('.', '_')}"
    return test_clause


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "asyncspec_case" not in metafunc.fixturenames:
        return
    config = metafunc.config
    cases = []
    for target in config.getoption("asyncspec_target"):
        kind = config.getoption("asyncspec_kind")
        if kind is None:
            from .adapters import detect_kind, import_object
            kind = detect_kind(import_object(target))
        if kind is None:
            raise pytest.UsageError(f"cannot tell the kind of {target!r}; pass --asyncspec-kind")
        cases += [(target, kind, cid) for cid in clause_ids(kind, config.getoption("asyncspec_profile"))]
    metafunc.parametrize("asyncspec_case", cases, ids=[f"{t}::{c}" for t, _, c in cases])
