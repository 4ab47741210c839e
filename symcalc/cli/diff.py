"""``symcalc diff``: partial derivatives of a formula, optionally step by step."""

from __future__ import annotations

import argparse


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "diff",
        help="print partial derivatives of a formula",
        description="Print the partial derivatives of EXPR with respect to each VAR.",
        epilog="example: symcalc diff '(w*x + b - y)^2' --wrt w b",
    )
    p.add_argument("expr", help="formula, e.g. '(w*x + b - y)^2' ('^' is power)")
    p.add_argument("--wrt", nargs="+", required=True, metavar="VAR", help="variables")
    p.add_argument("--latex", action="store_true", help="print LaTeX instead of plain text")
    p.add_argument("--steps", action="store_true", help="show the derivation step by step")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    import sympy as sp

    from ..parsing import parse
    from .._validate import as_symbol

    expr = parse(args.expr)
    by_name = {s.name: s for s in expr.free_symbols}
    for name in args.wrt:
        var = by_name.get(name) or as_symbol(name, "--wrt")
        if args.steps:
            from ..explain import explain

            derivation = explain(expr, var)
            print(derivation._repr_latex_() if args.latex else str(derivation))
            continue
        d = sp.diff(expr, var)
        if args.latex:
            print(rf"\frac{{\partial}}{{\partial {sp.latex(var)}}} = {sp.latex(d)}")
        else:
            print(f"d/d{var.name}: {d}")
    return 0
