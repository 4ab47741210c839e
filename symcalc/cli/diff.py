"""``symcalc diff``: partial derivatives of a formula, optionally step by step."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # pragma: no cover
    import sympy as sp


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "diff",
        help="print partial derivatives of a formula",
        description="Print the partial derivatives of EXPR with respect to each VAR.",
        epilog="examples: symcalc diff '(w*x + b - y)^2' --wrt w b;  "
               "symcalc diff 'softplus(dot(w, x) + b)' --wrt w b --vector w=30 x=30",
    )
    p.add_argument("expr", help="formula, e.g. '(w*x + b - y)^2' ('^' is power)")
    p.add_argument("--wrt", nargs="+", required=True, metavar="VAR", help="variables")
    p.add_argument("--latex", action="store_true", help="print LaTeX instead of plain text")
    p.add_argument("--steps", action="store_true", help="show the derivation step by step")
    p.add_argument("--timeout", type=float, default=10.0, metavar="S",
                   help="seconds for each step-by-step derivation (default 10)")
    p.add_argument("--vector", nargs="+", action="extend", default=[], metavar="NAME=n",
                   help="declare vectors of length n, e.g. w=30 x=30 (then dot(w, x) works)")
    p.add_argument("--matrix", nargs="+", action="extend", default=[], metavar="NAME=MxN",
                   help="declare matrices, e.g. W=3x4")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from ..parsing import parse
    from .._validate import as_symbol

    if args.vector or args.matrix:
        return _run_blocks(args)
    expr = parse(args.expr)
    by_name = {s.name: s for s in expr.free_symbols}
    wrt = [by_name.get(name) or as_symbol(name, "--wrt") for name in args.wrt]
    if args.steps:
        from ..explain import explain

        for var in wrt:
            derivation = explain(expr, var, timeout=args.timeout)
            print(derivation._repr_latex_() if args.latex else str(derivation))
        return 0
    for line in _readable_lines(expr, wrt, latex=args.latex):
        print(line)
    return 0


def _run_blocks(args: argparse.Namespace) -> int:
    """Derivatives of a formula with declared vectors/matrices, in matrix-calculus form."""
    from ..errors import SymbolError
    from ..loss import Loss
    from ..parsing import parse
    from .blocks import plan_blocks

    plan = plan_blocks(args.expr, args.vector, args.matrix, list(args.wrt), None, set())
    expr = parse(args.expr, symbols=plan.symbols)
    symbols = {s.name: s for s in expr.free_symbols}
    missing = [n for n in args.wrt if n not in symbols]
    if missing:
        raise SymbolError(f"--wrt names {missing}, which the formula does not use; it uses "
                          f"{sorted(symbols)}")
    params = [symbols[n] for n in args.wrt]
    loss = Loss(expr, params=params, data=[s for s in symbols.values() if s not in params])
    if args.steps:
        for p in params:
            derivation = loss.explain(p)
            print(derivation._repr_latex_() if args.latex else str(derivation))
        return 0
    grad = loss.gradient()
    print(grad.latex() if args.latex else str(grad))
    return 0


def _readable_lines(expr: sp.Expr, wrt: list[sp.Symbol], *, latex: bool) -> list[str]:
    """Named inner expressions first (``z = w*x + b``), then one line per partial (or per
    group of partials), in the readable form of :mod:`symcalc.readable`."""
    import sympy as sp

    from ..readable import display, readable_gradient, to_latex, to_text

    raw = [sp.diff(expr, var) for var in wrt]
    shown = display(None, wrt, readable_gradient(raw) or raw)
    out = []
    if latex:
        L = lambda e: to_latex(e, shown.ordering)  # noqa: E731
        out += [f"{L(name)} = {L(e)}" for name, e in shown.definitions]
        for row in shown.rows:
            tail = rf" \quad \left({row.index_latex()}\right)" if row.letters else ""
            out.append(rf"\frac{{\partial}}{{\partial {L(row.label)}}} = {L(row.expr)}{tail}")
        return out
    t = lambda e: to_text(e, shown.ordering)  # noqa: E731
    out += [f"{t(name)} = {t(e)}" for name, e in shown.definitions]
    for row in shown.rows:
        tail = f"   for {row.index_text()}" if row.letters else ""
        out.append(f"d/d{t(row.label)}: {t(row.expr)}{tail}")
    return out
