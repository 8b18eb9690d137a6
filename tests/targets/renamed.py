"""A faithful copy of CPython's pure-Python future, under a name of its own.

Known differences apply by behaviour, not by name: this copy must audit as
cleanly as ``asyncio.futures:_PyFuture`` does.
"""

from asyncio import futures

_original = getattr(futures, "_PyFuture")
CopiedFuture = type("CopiedFuture", _original.__bases__,
                    {k: v for k, v in vars(_original).items() if k not in ("__dict__", "__weakref__")})
CopiedFuture.__module__ = __name__
