"""Every exception asyncspec defines, in one place.

It lives in ``spec/`` because ``spec/`` is the bottom layer: the spec raises
InvalidSpec when it validates itself on load, and everything above (the
implementation, the engine, the tool) can import this module without an
import cycle. The package ``asyncspec`` re-exports the public names.

Two families. The tool's own errors subclass :class:`AsyncSpecError` and say
what was expected, what was found and how to fix it. The harness's
control-flow signals (:class:`HarnessAbort` and :class:`Deviation`) are not
errors of the user's: they carry a run's outcome to whoever drives it.
"""

from __future__ import annotations

from typing import Any


class AsyncSpecError(Exception):
    """Base class of every error asyncspec raises on its own account."""


class InvalidSpec(AsyncSpecError):
    """A declaration in ``spec/`` is malformed.

    The message names the offending element, what was expected and what was
    found, in the style of Hypothesis's ``InvalidDefinition``.
    """

    def __init__(self, where: str, expected: str, found: object, fix: str = "") -> None:
        self.where = where
        self.expected = expected
        self.found = found
        message = f"{where}: expected {expected}, found {found!r}"
        if fix:
            message += f". {fix}"
        super().__init__(message)


class TargetError(AsyncSpecError):
    """A target named for an audit cannot be imported or is not of an auditable kind.

    The audit reports the target as unauditable (one line, exit status 2) and
    still reports the others.
    """


class UsageError(AsyncSpecError):
    """A mistake in how the tool was asked to run (an option, a path).

    The command line reports it in one line on stderr with exit status 2,
    never as a traceback.
    """


class HarnessAbort(KeyboardInterrupt):
    """Stop the run of one target: the target broke the harness, not the spec.

    It is a KeyboardInterrupt, not an Exception, so that nothing between the
    step that raises it and the audit worker swallows it: an event loop logs
    the Exceptions its callbacks raise and carries on, and Hypothesis would
    take an Exception for a failing example and shrink it, replaying the very
    step that hung or crashed. Both let a KeyboardInterrupt through.
    """


class StepTimeout(HarnessAbort):
    """A step ran past its time (``--timeout``): the target hangs."""


class TargetCrashed(HarnessAbort):
    """A target broke the run itself: its constructor raised, or it exhausted recursion or memory."""


class Deviation(AssertionError):
    """A target's observation differs from the spec's, in a random sequence of steps.

    An AssertionError, so that Hypothesis counts the example as failing and
    shrinks it. The message is the counterexample's text; the runner that
    catches it reads ``counterexample`` for the path, the rows and the clauses.
    """

    def __init__(self, counterexample: Any) -> None:
        # The engine's Counterexample (model_tests.lockstep), typed loosely: spec/ imports nothing above it.
        self.counterexample = counterexample
        super().__init__("\n" + counterexample.text())
