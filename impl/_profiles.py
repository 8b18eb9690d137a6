from __future__ import annotations

import functools
from typing import Mapping

from ..spec import Machine, load


@functools.lru_cache(maxsize=None)
def machines(profile: str) -> Mapping[str, Machine]:
    """The declarations of ``profile``, resolved for the running Python."""
    return load(profile).machines
