"""The tool's error hierarchy.

It lives in ``spec/`` because the spec validates itself on load and imports
nothing from the rest of the package; the tool re-exports these names.
"""

from __future__ import annotations


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
