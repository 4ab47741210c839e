"""``symcalc integrate``: a definite integral, exact and numeric, cross-checked."""

from __future__ import annotations

import argparse
import re


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "integrate",
        help="definite integral of a formula, exact (SymPy) and numeric (SciPy)",
        description="Integrate EXPR over VAR from A to B. Bounds may be numbers or formulas "
        "such as pi, oo and -oo.",
        epilog="example: symcalc integrate 'exp(-x^2)' x -oo oo",
    )
    # Let bounds such as -oo, -pi or -2*pi through as positionals (argparse would take any
    # '-word' for an unknown option); real options start with '--' or are listed (-h).
    p._negative_number_matcher = re.compile(r"^-(?!-).+$")
    p.add_argument("expr", help="the integrand, e.g. 'exp(-x^2)'")
    p.add_argument("var", help="the integration variable, e.g. x")
    p.add_argument("a", help="lower bound (number, pi, -oo, ...)")
    p.add_argument("b", help="upper bound (number, pi, oo, ...)")
    p.add_argument(
        "--timeout", type=float, default=10.0, metavar="S", help="seconds for SymPy (default 10)"
    )
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from ..metrics import integrate

    rep = integrate(args.expr, (args.var, args.a, args.b), timeout=args.timeout)
    low, high = rep.bounds
    print(f"integral of {rep.expr} d{rep.var} from {low} to {high}")
    print(f"exact:   {rep.exact if rep.exact is not None else 'none'}")
    print(f"numeric: {rep.numeric!r}  (error estimate {rep.error:.2g})")
    verdict = {True: "yes", False: "no", None: "cannot tell"}[rep.agree]
    print(f"agree:   {verdict} ({rep.reason})")
    return 0
