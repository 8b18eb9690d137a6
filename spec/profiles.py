"""Profiles: small overlays on the base declarations, each difference with its evidence.

The base declarations describe what CPython does, with version-gated rows
resolved for the Python a profile is loaded for. A profile only overrides
declared ``parameters``; everything it does not name, it inherits.
"""

from __future__ import annotations

from typing import Any

PROFILES: dict[str, dict[str, Any]] = {
    "cpython": {
        "doc": "What the running CPython does: the base declarations, version gates resolved "
               "for the running interpreter.",
        "parameters": {},
        "evidence": [],
    },
    "seed": {
        "doc": "The seed document taken literally. Where the seed is silent it inherits the "
               "CPython behaviour.",
        "parameters": {"future.callback_scheduler": "call_soon_threadsafe"},
        "evidence": [
            {
                "parameter": "future.callback_scheduler",
                "clauses": ["F-CB-VIA-THREADSAFE", "F-CB-VIA-CALL-SOON"],
                "seed": "Callbacks registered with add_done_callback() are always called via the "
                        "event loop\u2019s call_soon_threadsafe().",
                "cpython": "Both the C and the pure-Python futures call loop.call_soon(callback, "
                           "self, context=ctx).",
                "deviates": "seed",
                "why": "A documentation erratum, fixed upstream in bpo-31960 (the docs now say "
                       "call_soon()). The C future's class docstring still says "
                       "call_soon_threadsafe() up to 3.13.",
                "cite": "https://bugs.python.org/issue31960",
            },
        ],
    },
}

DEFAULT_PROFILE = "cpython"
