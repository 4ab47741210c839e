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
import warnings
from collections.abc import Sequence
from typing import Any

from .. import __version__
from ..errors import SymcalcError

__all__ = ["main", "COMMANDS"]

#: Sub-command modules, in the order ``symcalc --help`` lists them.
COMMANDS: tuple[str, ...] = ("demo", "diff", "limit", "integrate", "auc", "fit", "docs")


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
            print(f"symcalc: error: a COMMAND is required, one of {', '.join(COMMANDS)} "
                  "(see 'symcalc --help')", file=sys.stderr)
            return 2
        with warnings.catch_warnings():  # one line each, no source path (restored on exit)
            warnings.simplefilter("default")
            warnings.showwarning = _warning_line
            return int(args.run(args) or 0)
    except SystemExit as exc:  # --help / --version: argparse exits; return its code instead
        return exc.code if isinstance(exc.code, int) else 0
    except _UsageError as exc:
        print(" ".join(str(exc).split()), file=sys.stderr)
        return 2
    except (SymcalcError, OSError) as exc:
        print(f"symcalc: error: {_one_line(exc)}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("symcalc: interrupted", file=sys.stderr)
        return 130
    except RecursionError:
        print("symcalc: error: the input is nested too deeply to process", file=sys.stderr)
        return 2
    except MemoryError:
        print("symcalc: error: out of memory (the input is too large)", file=sys.stderr)
        return 2
    except Exception as exc:  # noqa: BLE001 - a bug: still one line, never a traceback
        print(f"symcalc: internal error: {type(exc).__name__}: {_one_line(exc)} (please "
              "report this)", file=sys.stderr)
        return 1


def _warning_line(message: Warning | str, category: type[Warning], *args: Any,
                  **kwargs: Any) -> None:
    print(f"symcalc: warning: {_one_line(message)}", file=sys.stderr)


def _one_line(exc: BaseException | Warning | str) -> str:
    text = " ".join(str(exc).split())
    return text if len(text) <= 500 else text[:497] + "..."


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
