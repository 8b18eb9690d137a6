"""The ``asyncspec`` command: ``diagrams``, ``check``, ``ops`` and ``audit``.

A usage mistake is one line on stderr and exit status 2, never a traceback.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import sys
from pathlib import Path
from typing import Sequence

from ._quiet import hypothesis_home_out_of_the_way, quiet_abandoned_coroutines
from .spec import DECLARATIONS, PROFILES
from .spec.errors import InvalidSpec, UsageError

USAGE_ERROR = 2


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]
        print(f"{self.prog}: error: {message} (see '{self.prog} --help')", file=sys.stderr)
        raise SystemExit(USAGE_ERROR)


def _formats(text: str) -> tuple[str, ...]:
    from .diagrams import FORMATS

    formats = tuple(f.strip() for f in text.split(",") if f.strip())
    bad = [f for f in formats if f not in FORMATS]
    if bad or not formats:
        raise argparse.ArgumentTypeError(
            f"expected a comma-separated list of {', '.join(FORMATS)}, found {text!r}")
    return formats


def _number(convert: type, minimum: float, above: bool = False) -> "argparse._ActionType":
    """An argparse type: a number of at least (or above) ``minimum``, with a one-line error."""
    def parse(text: str):  # noqa: ANN202
        try:
            value = convert(text)
        except ValueError:
            raise argparse.ArgumentTypeError(
                f"expected {'a whole number' if convert is int else 'a number of seconds'}, found {text!r}") from None
        if value < minimum or (above and value == minimum):
            bound = f"above {minimum:g}" if above else f"of at least {minimum:g}"
            raise argparse.ArgumentTypeError(
                f"expected {'a number' if convert is int else 'a number of seconds'} {bound}, found {text!r}")
        return value
    return parse


_positive = _number(int, 1)
_count = _number(int, 0)
_seconds = _number(float, 0, above=True)


def _seed(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected an integer seed, found {text!r}") from None


def _kinds_shown() -> str:
    """What ``--kind`` accepts, as help shows it: each machine, and each alias."""
    from .model_tests.machines import TABLE

    return "{" + ",".join([*DECLARATIONS, *(a for e in TABLE.values() for a in e.aliases)]) + "}"


def parser() -> argparse.ArgumentParser:
    p = _Parser(prog="asyncspec", description=(
        "asyncio's Future, Event and ensure_future as an executable specification: "
        "generate state diagrams, model-check implementations, audit compliance."))
    sub = p.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    sub.required = True

    d = sub.add_parser("diagrams", help="write the state diagrams generated from spec/")
    d.add_argument("--out", type=Path, default=Path("diagrams"), metavar="DIR",
                   help="output folder (default: diagrams/)")
    d.add_argument("--format", type=_formats, default=None, metavar="svg,dot,mmd",
                   help="formats to write (default: all three)")
    d.add_argument("--check", action="store_true",
                   help="write nothing; exit 1 when the files in DIR are stale")

    c = sub.add_parser("check", help="validate the spec, or model-check the built-in targets")
    c.add_argument("--spec", action="store_true",
                   help="print the traceability matrix (seed sentence -> clauses -> rows); exit 1 on a gap")
    c.add_argument("--machine", choices=tuple(DECLARATIONS), action="append")
    c.add_argument("--examples", type=_count, default=None, metavar="N",
                   help="random sequences per machine (0: exhaustive only)")
    c.add_argument("--depth", type=_positive, default=None, metavar="N")
    c.add_argument("--seed", type=_seed, default=0, metavar="N")
    c.add_argument("--profile", choices=sorted(PROFILES), default="cpython")
    c.add_argument("--verbose", action="store_true", help="list how often each transition ran")
    c.add_argument("--jobs", type=_positive, default=None, metavar="N",
                   help="processes exhaustive exploration splits each level across (default: one per core)")

    o = sub.add_parser("ops", help="list each kind's operations: parameters, kind, clauses (for adapter writers)")
    o.add_argument("--kind", type=_kind, choices=tuple(DECLARATIONS), action="append", metavar=_kinds_shown())
    o.add_argument("--profile", choices=sorted(PROFILES), default="cpython")

    a = sub.add_parser("audit", help="audit implementations for compliance, clause by clause")
    a.add_argument("targets", nargs="*", metavar="TARGET", help="MODULE:ATTR (default: the built-in set)")
    a.add_argument("--kind", type=_kind, choices=tuple(DECLARATIONS), metavar=_kinds_shown())
    a.add_argument("--loop", default="asyncio", metavar="asyncio|uvloop|MODULE:ATTR")
    a.add_argument("--profile", choices=sorted(PROFILES), default="cpython")
    a.add_argument("--format", dest="report_format", default="text",
                   choices=("text", "json", "markdown", "html", "junit"))
    a.add_argument("--out", type=Path, default=None, metavar="PATH")
    a.add_argument("--examples", type=_count, default=None, metavar="N",
                   help="random sequences per target after the exhaustive run (0: none)")
    a.add_argument("--depth", type=_positive, default=None, metavar="N")
    a.add_argument("--seed", type=_seed, default=0, metavar="N")
    a.add_argument("--strict-messages", action="store_true",
                   help="compare exception messages exactly (by default a message either CPython "
                        "implementation gives is accepted)")
    a.add_argument("--timeout", type=_seconds, default=10.0, metavar="SECONDS",
                   help="the most one step may take (default 10)")
    a.add_argument("--jobs", type=_positive, default=None, metavar="N",
                   help="targets audited at once, each in its own process (default: one per core)")
    a.add_argument("--python", action="append", default=None, metavar="VERSION|NAME|PATH|all",
                   help="audit on another interpreter: a version (3.9: pyenv, py or pythonX.Y), a name "
                        "(pypy3), a path, or all found; repeat for a matrix (the model runs here, the spec "
                        "resolved for each interpreter's version)")
    a.add_argument("--diagrams", type=Path, nargs="?", const=Path("diagrams"), default=None,
                   metavar="DIR", help="also write the state diagrams (default folder: diagrams/)")
    return p


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    if args.command in ("check", "audit"):
        quiet_abandoned_coroutines()
        hypothesis_home_out_of_the_way()
    try:
        if args.command == "diagrams":
            return cmd_diagrams(args)
        if args.command == "check":
            return cmd_check(args)
        if args.command == "ops":
            from .trace import operations_report

            print(operations_report(args.kind or list(DECLARATIONS), args.profile))
            return 0
        return cmd_audit(args)
    except UsageError as e:
        print(f"asyncspec {args.command}: error: {e}", file=sys.stderr)
        return USAGE_ERROR
    except InvalidSpec as e:
        print(f"asyncspec {args.command}: invalid spec: {e}", file=sys.stderr)
        return 1
    except BrokenPipeError:
        # The reader went away (``| head``): nothing left to say, and nobody to say it to.
        sys.stdout = open(os.devnull, "w")
        return 0
    except KeyboardInterrupt:
        print(f"asyncspec {args.command}: interrupted", file=sys.stderr)
        return 130


def cmd_diagrams(args: argparse.Namespace) -> int:
    from . import diagrams

    formats = args.format or diagrams.FORMATS
    if args.check:
        if not args.out.is_dir():
            raise UsageError(f"expected a folder of generated diagrams, found no folder {str(args.out)!r}")
        problems = diagrams.stale(args.out, formats)
        for line in problems:
            print(line)
        if problems:
            print(f"{len(problems)} stale diagram file(s); run 'asyncspec diagrams --out {args.out}'")
            return 1
        print(f"diagrams in {args.out}/ are fresh ({', '.join(formats)})")
        return 0
    paths = diagrams.write(args.out, formats)
    print(f"wrote {len(paths)} files to {args.out}/: {', '.join(p.name for p in paths)}")
    return 0


def cmd_check(args: argparse.Namespace) -> int:
    from .trace import traceability_report

    if args.spec:
        text, gaps = traceability_report(args.profile)
        print(text)
        return 1 if gaps else 0
    from .model_tests.check import run_check
    from .model_tests.targets import KINDS

    return run_check(args.machine or KINDS, profile=args.profile, examples=args.examples, depth=args.depth,
                     seed=args.seed, verbose=args.verbose, jobs=args.jobs or os.cpu_count() or 1)


def _kind(text: str) -> str:
    """A machine name for ``--kind``: the name itself, or an alias of it (``loop``)."""
    from .model_tests.machines import canonical_kind

    return canonical_kind(text)


def cmd_audit(args: argparse.Namespace) -> int:
    from .adapters import check_loop
    from .audit import DEFAULT_EXAMPLES, DEFAULT_TARGETS, AuditRequest, run_audit

    check_loop(args.loop)

    examples = DEFAULT_EXAMPLES if args.examples is None else args.examples
    request = AuditRequest("", kind=args.kind, loop=args.loop, profile=args.profile, examples=examples,
                           depth=args.depth, seed=args.seed, timeout=args.timeout,
                           strict_messages=args.strict_messages)
    missing: list[tuple[str, str]] = []
    if args.python:
        from . import remote
        from .audit import default_targets_on

        remote.check_pythons(args.python)
        if args.loop != "asyncio":
            raise UsageError("expected --loop asyncio with --python (the model runs here, on asyncio's loop); "
                             f"found --loop {args.loop}: audit that loop as a target instead")
        interpreters, missing = remote.find_all(args.python)
        for asked, why in missing:
            print(f"asyncspec audit: not found: {why}", file=sys.stderr)
        if not interpreters:
            raise UsageError(f"expected an interpreter for --python {' '.join(args.python)}, found none")
        requests = [dataclasses.replace(request, target=target, interpreter=i.as_dict())
                    for i in interpreters for target in args.targets or default_targets_on(i.version)]
    else:
        requests = [dataclasses.replace(request, target=target) for target in args.targets or DEFAULT_TARGETS]
    return run_audit(requests, workers=args.jobs, out=args.out, report_format=args.report_format,
                     diagrams_folder=args.diagrams, missing=missing)
