"""Run CPython's own tests for one object against a replacement, in this process; record each outcome.

Run:  python benchmarks/_mutation_suite.py OBJECT MODULE:ATTR OUT

``bench_mutation.py`` starts one such process per mutant (and one for the
unmutated copy), with a timeout. The tests are the interpreter's own:

- future: the pure-Python classes of ``test.test_asyncio.test_futures``
  (``PyFutureTests``, ``PyFutureDoneCallbackTests``, ``PyFutureInheritanceTests``),
  subclassed to take their Future class from ATTR, as their C twins take ``_CFuture``;
- event: every test of ``test.test_asyncio.test_locks`` that names ``Event``,
  with ``asyncio.Event`` and ``asyncio.locks.Event`` replaced;
- ensure_future: every test of ``test.test_asyncio.test_tasks`` that names
  ``ensure_future`` (in each of its C and Python Task classes), with
  ``asyncio.ensure_future`` and ``asyncio.tasks.ensure_future`` replaced.

OUT receives JSON lines: ``{"start": TEST}`` before each test, so a hang can be
pinned on the test that hung, and ``{"test": TEST, "outcome": ...}`` after it,
outcome one of pass, fail, error, skip, expected-failure, unexpected-success.
Exit status 3 when this Python has no ``test`` package.
"""

from __future__ import annotations

import asyncio
import importlib
import inspect
import json
import re
import sys
import unittest
from typing import IO, Any, Iterator

NO_TEST_PACKAGE = 3


def _tests(suite: unittest.TestSuite) -> Iterator[unittest.TestCase]:
    for test in suite:
        if isinstance(test, unittest.TestSuite):
            yield from _tests(test)
        else:
            yield test


def _naming(module: Any, word: str) -> list[unittest.TestCase]:
    """The module's tests whose source names ``word``."""
    pattern = re.compile(rf"\b{word}\b")
    chosen = []
    for test in _tests(unittest.TestLoader().loadTestsFromModule(module)):
        method = getattr(type(test), test._testMethodName, None)
        try:
            source = inspect.getsource(method)  # type: ignore[arg-type]
        except (OSError, TypeError):
            continue
        if pattern.search(source):
            chosen.append(test)
    return chosen


def future_tests(replacement: type) -> list[unittest.TestCase]:
    from test.test_asyncio import test_futures

    classes = [
        type("PyFutureTests", (test_futures.PyFutureTests,), {"cls": replacement}),
        type("PyFutureDoneCallbackTests", (test_futures.PyFutureDoneCallbackTests,),
             {"_new_future": lambda self: replacement(loop=self.loop)}),
        type("PyFutureInheritanceTests", (test_futures.PyFutureInheritanceTests,),
             {"_get_future_cls": lambda self: replacement}),
    ]
    loader = unittest.TestLoader()
    return [t for cls in classes for t in _tests(loader.loadTestsFromTestCase(cls))]


def event_tests(replacement: type) -> list[unittest.TestCase]:
    from test.test_asyncio import test_locks

    asyncio.Event = asyncio.locks.Event = replacement  # type: ignore[misc, assignment]
    return _naming(test_locks, "Event")


def ensure_future_tests(replacement: Any) -> list[unittest.TestCase]:
    from test.test_asyncio import test_tasks

    asyncio.ensure_future = asyncio.tasks.ensure_future = replacement
    return _naming(test_tasks, "ensure_future")


SUITES = {"future": future_tests, "event": event_tests, "ensure_future": ensure_future_tests}


class OutcomeLog(unittest.TestResult):
    """Write each test's start and outcome as a JSON line, as it happens."""

    def __init__(self, out: IO[str]) -> None:
        super().__init__()
        self._out = out

    def _write(self, **entry: str) -> None:
        self._out.write(json.dumps(entry) + "\n")
        self._out.flush()

    @staticmethod
    def name(test: unittest.TestCase) -> str:
        return f"{type(test).__name__}.{test._testMethodName}"

    def startTest(self, test: unittest.TestCase) -> None:
        super().startTest(test)
        self._write(start=self.name(test))

    def addSuccess(self, test: unittest.TestCase) -> None:
        self._write(test=self.name(test), outcome="pass")

    def addFailure(self, test: unittest.TestCase, err: Any) -> None:
        super().addFailure(test, err)
        self._write(test=self.name(test), outcome="fail", why=self._why(err))

    def addError(self, test: unittest.TestCase, err: Any) -> None:
        super().addError(test, err)
        self._write(test=self.name(test), outcome="error", why=self._why(err))

    def addSkip(self, test: unittest.TestCase, reason: str) -> None:
        self._write(test=self.name(test), outcome="skip")

    def addExpectedFailure(self, test: unittest.TestCase, err: Any) -> None:
        self._write(test=self.name(test), outcome="expected-failure")

    def addUnexpectedSuccess(self, test: unittest.TestCase) -> None:
        self._write(test=self.name(test), outcome="unexpected-success")

    def addSubTest(self, test: unittest.TestCase, subtest: unittest.TestCase, err: Any) -> None:
        if err is not None:
            kind = "fail" if issubclass(err[0], test.failureException) else "error"
            self._write(test=self.name(test), outcome=kind, why=self._why(err))

    @staticmethod
    def _why(err: Any) -> str:
        return f"{err[0].__name__}: {err[1]}"[:300]


def main(argv: list[str]) -> int:
    kind, target, out_path = argv
    try:
        importlib.import_module("test.test_asyncio")
    except ImportError:
        return NO_TEST_PACKAGE
    module_name, _, attr = target.partition(":")
    replacement = getattr(importlib.import_module(module_name), attr)
    tests = SUITES[kind](replacement)
    with open(out_path, "w", encoding="utf-8") as out:
        unittest.TestSuite(tests).run(OutcomeLog(out))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
