"""``symcalc fit``: train the parameters of a formula on the columns of a CSV file.

The formula's free symbols other than ``--params`` are data symbols, read from the CSV
columns of the same names. First-order methods (``gd``, ``momentum``, ``nesterov``,
``adam``) run :func:`symcalc.gradient_descent`; ``newton`` and the scipy methods run
:func:`symcalc.minimize`.

Example::

    symcalc fit "(w*x + b - y)^2" --params w,b --data points.csv --lr 0.05 --epochs 2000

Vectors: ``--vector x=*`` makes ``x`` a data block of every CSV column the formula does not
use otherwise (or ``x=col1,col2,...``); a parameter vector takes its length from
``dot(w, x)`` (or ``--vector w=30``)::

    symcalc fit "softplus(dot(w, x) + b) - t*(dot(w, x) + b)" --params w,b --vector x=* \
        --data cancer.csv --newton
"""

from __future__ import annotations

import argparse
import json
import math
from typing import Any

from ..errors import SymcalcError
from ._common import read_csv_columns
from .blocks import add_block_arguments, formula_names, plan_blocks

__all__ = ["add_parser", "run"]

def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "fit",
        help="fit the parameters of a formula to CSV data",
        description="Fit the parameters of a formula; its other symbols are CSV columns.",
    )
    p.add_argument("expr", help="per-row loss formula, e.g. '(w*x + b - y)^2'")
    p.add_argument("--params", required=True, help="comma-separated parameters, e.g. w,b")
    p.add_argument("--data", metavar="FILE.csv", help="CSV with a header naming the data symbols")
    p.add_argument("--method", default="gd",
                   help="gd, sgd, momentum, nesterov, adam, newton or a scipy method (BFGS, ...)")
    p.add_argument("--newton", action="store_true", help="shorthand for --method newton")
    p.add_argument("--lr", default="0.01", help="learning rate, or 'auto' (default 0.01)")
    p.add_argument("--epochs", type=int, default=None,
                   help="epochs (first-order) or iterations (newton/scipy); default 1000 / solver's")
    p.add_argument("--tol", type=float, default=None, help="tolerance (default: the solver's)")
    p.add_argument("--batch-size", type=int, default=None, help="mini-batch rows (first-order)")
    p.add_argument("--seed", type=int, default=None, help="seed of the mini-batch shuffling")
    p.add_argument("--x0", default=None, help="comma-separated start values (default zeros)")
    p.add_argument("--json", action="store_true", help="print the result as JSON")
    add_block_arguments(p)
    p.set_defaults(run=run)

def _floats(text: str, what: str) -> list[float]:
    try:
        return [float(v) for v in text.split(",")]
    except ValueError:
        raise SymcalcError(f"{what} must be comma-separated numbers; got {text!r}") from None

def _fit(args: argparse.Namespace) -> tuple[Any, list[str]]:

    from .. import Loss, gradient_descent, minimize
    from ..optimizers import OPTIMIZERS

    names = [n.strip() for n in args.params.split(",") if n.strip()]
    if not names:
        raise SymcalcError(f"--params must name at least one parameter; got {args.params!r}")
    expr, blocks, columns = _formula_and_data(args, names)
    data_names = sorted(s.name for s in expr.free_symbols if s.name not in names)
    loss = Loss(expr, params=[blocks.get(n, n) for n in names],
                data=[blocks.get(n, n) for n in data_names])
    data = columns or None
    x0 = _floats(args.x0, "--x0") if args.x0 is not None else None
    method = "newton" if args.newton else args.method
    if method in OPTIMIZERS:
        lr: Any = "auto" if args.lr == "auto" else _floats(args.lr, "--lr")[0]
        options: dict[str, Any] = {"tol": args.tol} if args.tol is not None else {}
        result = gradient_descent(
            loss, data, x0=x0, learning_rate=lr, epochs=1000 if args.epochs is None else args.epochs,
            method=method, batch_size=args.batch_size, seed=args.seed, **options,
        )
    else:
        result = minimize(loss, data, x0, method=method, tol=args.tol, maxiter=args.epochs)
    return result, names


def _formula_and_data(args: argparse.Namespace, names: list[str]) -> tuple[Any, dict, dict]:
    """The parsed formula, its block symbols by name, and the data columns (blocks 2-D)."""
    import numpy as np

    from ..parsing import CONSTANTS, FUNCTIONS, parse

    plan = None
    if args.vector or args.matrix:
        header = list(read_csv_columns(args.data, None, numeric=[])) if args.data else None
        declared = {spec.partition("=")[0].strip() for spec in args.vector + args.matrix}
        scalars = formula_names(args.expr) - declared - set(FUNCTIONS) - set(CONSTANTS)
        plan = plan_blocks(args.expr, args.vector, args.matrix, names, header, scalars)
    expr = parse(args.expr, symbols=plan.symbols if plan else None)
    blocks = plan.symbols if plan else {}
    data_names = sorted(s.name for s in expr.free_symbols if s.name not in names)
    if data_names and not args.data:
        raise SymcalcError(
            f"the formula uses data symbol(s) {data_names}; pass --data FILE.csv with those columns"
        )
    block_cols = plan.columns if plan else {}
    wanted = [n for n in data_names if n not in block_cols]
    wanted += [c for n in data_names for c in block_cols.get(n, []) if c not in wanted]
    raw = read_csv_columns(args.data, wanted) if data_names else {}
    columns = {n: raw[n] for n in data_names if n not in block_cols}
    for n in data_names:
        if n in block_cols:
            columns[n] = np.column_stack([raw[c] for c in block_cols[n]])
    return expr, blocks, columns


def _number(v: float) -> float | None:
    return v if math.isfinite(v) else None

def run(args: argparse.Namespace) -> int:
    """Fit and print the parameters, final loss and convergence status (0 when it ran)."""
    result, names = _fit(args)
    params = {p.name: v for p, v in result.params.items()}
    if args.json:
        print(json.dumps({
            "params": {k: _json_value(v) for k, v in params.items()},
            "loss": _number(result.fun),
            "converged": result.converged,
            "status": result.status,
            "message": result.message,
            "nit": result.nit,
            "grad_norm": _number(result.grad_norm),
            "method": result.method,
        }, indent=2))
        return 0
    width = max(len(k) for k in params)
    for k, v in params.items():
        text = f"{v:.10g}" if isinstance(v, float) else _array_text(v)
        print(f"{k.rjust(width)} = {text}")
    print(f"loss = {result.fun:.10g}")
    steps = "epochs" if result.method in ("gd", "sgd", "momentum", "nesterov", "adam") else "iterations"
    print(f"{'converged' if result.converged else 'not converged'} after {result.nit} {steps} "
          f"({result.method}): {result.message}")
    return 0


def _json_value(v: Any) -> Any:
    if isinstance(v, float):
        return _number(v)
    return [_json_value(float(x)) if not hasattr(x, "__len__") else _json_value(x) for x in v]


def _array_text(v: Any) -> str:
    return "[" + ", ".join(f"{float(x):.10g}" for x in v.ravel()) + "]"
