"""A drop-in asyncio.ensure_future compiled from ``spec/ensure_future.py``."""

from __future__ import annotations

from ._compile import compile_function
from ._profiles import machines

ensure_future = compile_function(machines("cpython")["ensure_future"], __name__)
