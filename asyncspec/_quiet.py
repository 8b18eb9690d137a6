"""Warnings the tool silences in the processes that run the engine."""

from __future__ import annotations

import os
import warnings


def quiet_abandoned_coroutines() -> None:
    """Silence the warnings of coroutines the engine leaves unfinished on purpose.

    Each explored path runs in a world of its own, closed without running what is
    still pending there (that is the target's code, which runs only inside a guarded
    step), so its tasks' coroutines are dropped unawaited.
    """
    warnings.filterwarnings("ignore", message=r"coroutine .* was never awaited", category=RuntimeWarning)


def hypothesis_home_out_of_the_way() -> None:
    """Keep Hypothesis's files (its constants cache) out of the working directory: an audit writes
    nothing there unless asked. They go to the user's cache folder, ``$XDG_CACHE_HOME/asyncspec``."""
    from hypothesis.configuration import set_hypothesis_home_dir

    cache = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    set_hypothesis_home_dir(os.path.join(cache, "asyncspec", "hypothesis"))
