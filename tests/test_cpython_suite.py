"""CPython's own tests for these objects, run against asyncspec.impl.

The interpreter's ``test`` package provides suites parametrized by the Future
class; we hand them ours. Event and ensure_future tests name ``asyncio.Event``
and ``asyncio.ensure_future`` directly, so they run with those names patched to
ours. Skipped cleanly where the interpreter ships without ``test``.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
from pathlib import Path
from unittest import mock

import pytest

from asyncspec import impl, remote
from asyncspec.spec.errors import TargetError

try:
    from test.test_asyncio import test_futures, test_locks, test_tasks
    from test.test_asyncio import utils as test_utils
except ImportError:  # pragma: no cover - depends on the interpreter's packaging
    pytest.skip("this Python ships without the test package", allow_module_level=True)

import asyncio.futures as _futures  # noqa: E402
import asyncio.tasks as _tasks  # noqa: E402


class AsyncspecFutureTests(test_futures.BaseFutureTests, test_utils.TestCase):
    cls = impl.Future


class AsyncspecFutureDoneCallbackTests(test_futures.BaseFutureDoneCallbackTests, test_utils.TestCase):
    def _new_future(self):
        return impl.Future(loop=self.loop)


class AsyncspecFutureInheritanceTests(test_futures.BaseFutureInheritanceTests, test_utils.TestCase):
    def _get_future_cls(self):
        return impl.Future


class CTaskAsyncspecFutureTests(test_tasks.BaseTaskTests, test_utils.TestCase):
    """The whole Task suite, with asyncio's C Task awaiting our futures."""

    Task = getattr(_tasks, "_CTask", _tasks._PyTask)
    Future = impl.Future


class PyTaskAsyncspecFutureTests(test_tasks.BaseTaskTests, test_utils.TestCase):
    Task = _tasks._PyTask
    Future = impl.Future


def _patched(*targets, value):
    def decorate(cls):
        def setUp(self, _orig=cls.setUp):
            for target in targets:
                patcher = mock.patch(target, value)
                patcher.start()
                self.addCleanup(patcher.stop)
            _orig(self)
        cls.setUp = setUp
        return cls
    return decorate


@_patched("asyncio.Event", "asyncio.locks.Event", value=impl.Event)
class AsyncspecEventTests(test_locks.EventTests):
    pass


@_patched("asyncio.ensure_future", "asyncio.tasks.ensure_future", value=impl.ensure_future)
class AsyncspecEnsureFutureTests(test_tasks.BaseTaskTests, test_utils.TestCase):
    """The ensure_future tests of the Task suite, calling our ensure_future."""

    Task = getattr(_tasks, "_CTask", _tasks._PyTask)
    Future = getattr(_futures, "_CFuture", _futures._PyFuture)


# Keep only the ensure_future tests of that copy of the Task suite.
for _name in list(vars(test_tasks.BaseTaskTests)):
    if _name.startswith("test_") and "ensure_future" not in _name:
        setattr(AsyncspecEnsureFutureTests, _name, None)


def test_the_suites_use_our_objects():
    assert asyncio.Event is not impl.Event
    with mock.patch("asyncio.Event", impl.Event):
        assert isinstance(asyncio.Event(), impl.Event)
    assert [n for n in dir(AsyncspecEnsureFutureTests) if n.startswith("test_") and
            getattr(AsyncspecEnsureFutureTests, n)]


# -- the Task suite, here and on every other installed CPython 3.11+ -----------------------------

from tests.cpython_task_suite import AsyncspecTaskTests  # noqa: E402,F401 - collected here too

_SUITE = Path(__file__).with_name("cpython_task_suite.py")


def _interpreter(version: str) -> str | None:
    """An installed CPython ``version`` (as ``audit --python`` finds it), or None."""
    try:
        return remote.find(version).executable
    except TargetError:
        return None


@pytest.mark.parametrize("version", ["3.11", "3.12", "3.13"])
def test_cpython_task_suite_passes_on(version, tmp_path):
    """CPython's Task suite (and eager task tests, 3.12+) against our Task, on that interpreter."""
    python = _interpreter(version)
    if python is None:
        pytest.skip(f"no CPython {version} installed")
    ok = subprocess.run([python, "-c", "import test.test_asyncio.test_tasks"], capture_output=True)
    if ok.returncode:
        pytest.skip(f"CPython {version} ships without the test package: {ok.stderr.decode()[-300:]}")
    env = dict(os.environ, PYTHONPATH=str(remote.shadow_package()))
    run = subprocess.run([python, str(_SUITE)], capture_output=True, text=True, env=env, timeout=600,
                         cwd=tmp_path)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
