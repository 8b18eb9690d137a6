"""Warnings the tool silences in the processes that run the engine."""

from __future__ import annotations

import warnings


def quiet_abandoned_coroutines() -> None:
    """Silence the warnings of coroutines the engine leaves unfinished on purpose.

    Each explored path runs in a world of its own, closed without running what is
    still pending there (that is the target's code, which runs only inside a guarded
    step), so its tasks' coroutines are dropped unawaited.
    """
    warnings.filterwarnings("ignore", message=r"coroutine .* was never awaited", category=RuntimeWarning)
