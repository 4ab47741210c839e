"""The ``symcalc`` command line.

Each sub-command lives in its own module in this package and exposes ``add_parser(subparsers)``
(register its arguments) and ``run(args) -> int``. :func:`main` dispatches and turns every
:class:`~symcalc.errors.SymcalcError` or unreadable file into exit code 2 with one line on
stderr, never a traceback.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

from .. import __version__
from ..errors import SymcalcError

__all__ = ["main", "COMMANDS"]

#: Sub-command modules, in the order ``symcalc --help`` lists them.
COMMANDS: tuple[str, ...] = ("demo", "diff", "limit", "integrate", "auc", "fit")


class _UsageError(Exception):
    pass


class _Parser(argparse.ArgumentParser):
    """argparse that reports usage errors in one line (exit code 2) instead of usage + error."""

    def error(self, message: str) -> None:  # type: ignore[override]
        raise _UsageError(f"{self.prog}: {message} (see '{self.prog} --help')")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="symcalc",
        description="Exact and fast calculus for machine learning.",
    )
    parser.add_argument("--version", action="version", version=f"symcalc {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    for name in COMMANDS:
        module = importlib.import_module(f".{name}", __name__)
        module.add_parser(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``symcalc`` command; returns the process exit code."""
    try:
        parser = build_parser()
        args = parser.parse_args(argv)
        if getattr(args, "run", None) is None:
            parser.print_help()
            return 2
        return int(args.run(args) or 0)
    except _UsageError as exc:
        print(str(exc), file=sys.stderr)
        return 2
    except (SymcalcError, OSError) as exc:
        message = " ".join(str(exc).split())
        print(f"symcalc: error: {message}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("symcalc: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
