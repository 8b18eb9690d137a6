"""CPython's own Task suite, run against asyncspec.impl.Task and asyncspec.impl.Future.

``BaseTaskTests`` (with ``SetMethodsTest``) and, where the interpreter has them
(3.12+), the eager task factory tests. Standard library only: run it as a script
on any interpreter that can import ``asyncspec.impl`` (tests/test_cpython_suite.py
does so on each installed CPython 3.11+). Exits 0 when every test passes.
"""

import sys
import unittest

from test.test_asyncio import test_tasks
from test.test_asyncio import utils as test_utils

from asyncspec import impl

try:
    from test.test_asyncio import test_eager_task_factory as eager
except ImportError:  # before 3.12: no eager tasks
    eager = None


class AsyncspecTaskTests(test_tasks.BaseTaskTests, test_tasks.SetMethodsTest, test_utils.TestCase):
    Task = impl.Task
    Future = impl.Future


if eager is not None:
    class AsyncspecEagerTaskFactoryLoopTests(eager.EagerTaskFactoryLoopTests, test_utils.TestCase):
        Task = impl.Task

    class AsyncspecEagerTests(eager.BaseEagerTaskFactoryTests, test_utils.TestCase):
        Task = impl.Task

    class AsyncspecNonEagerTests(eager.BaseNonEagerTaskFactoryTests, test_utils.TestCase):
        Task = impl.Task


if __name__ == "__main__":
    result = unittest.main(argv=[sys.argv[0], "-q"] + sys.argv[1:], exit=False).result
    print(f"ran {result.testsRun}, failures {len(result.failures)}, errors {len(result.errors)}, "
          f"skipped {len(result.skipped)}")
    sys.exit(0 if result.wasSuccessful() and result.testsRun else 1)
