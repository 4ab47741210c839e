"""``symcalc diff``: partial derivatives of a formula."""

from __future__ import annotations

import argparse


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("diff", help="print partial derivatives of a formula")
    p.add_argument("expr", help="formula, e.g. '(w*x+b-y)^2'")
    p.add_argument("--wrt", nargs="+", required=True, metavar="VAR", help="variables")
    p.add_argument("--latex", action="store_true", help="print LaTeX instead of plain text")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    raise NotImplementedError
