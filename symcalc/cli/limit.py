"""``symcalc limit``: a limit computed by sympy.limit and checked numerically."""

from __future__ import annotations

import argparse
import math
import re


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "limit",
        help="limit of a formula, symbolic and numeric",
        description="Compute a limit with sympy.limit (under a timeout) and cross-check it "
        "numerically. A point may be negative, e.g. symcalc limit 'exp(x)' x -oo",
    )
    # Let points such as -oo or -1 through as positionals (see integrate.py); options are
    # spelled with '--' (or -h).
    p._negative_number_matcher = re.compile(r"^-(?!-).+$")
    p.add_argument("expr", help="formula, e.g. 'sin(x)/x' or '(1+1/n)^n'")
    p.add_argument("var", help="the variable, e.g. x")
    p.add_argument("point", help="a number, pi, oo or -oo")
    p.add_argument("--dir", choices=["+-", "+", "-"], default="+-",
                   help="two-sided (default), from the right (+) or from the left (-)")
    p.add_argument("--timeout", type=float, default=5.0, metavar="S",
                   help="seconds allowed for sympy.limit (default 5)")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from ..convergence import limit

    report = limit(args.expr, args.var, args.point, args.dir, timeout=args.timeout)
    symbolic = "none" if report.symbolic is None else str(report.symbolic)
    if report.timed_out:
        symbolic += " (timed out)"
    numeric = report.numeric
    numeric_text = "none" if math.isnan(numeric) else f"{numeric:.15g}"
    print(f"symbolic: {symbolic}")
    print(f"numeric:  {numeric_text}")
    print(f"agree:    {'yes' if report.agree else 'no'}")
    print(f"reason:   {report.reason}")
    return 0
