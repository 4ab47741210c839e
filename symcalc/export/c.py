"""C99 source for a loss value and its exact gradient (``loss.to_c()``).

The per-sample loss and gradient in stable form go through the compile path's one
common-subexpression pass (:func:`symcalc.codegen.ir.run_cse`) and SymPy's C99 code printer
(functions outside C99's math library are refused, except symcalc's stable helpers, which the
source defines). The generated translation unit has no
dependencies beyond ``<math.h>`` and two functions (``NAME`` is the ``name`` argument)::

    double NAME_value(const double *theta, const double *const *data, long n);
    void NAME_value_and_grad(const double *theta, const double *const *data, long n,
                             double *out);  /* out[0] = value, out[1 + k] = d/dtheta[k] */

``theta[k]`` is the k-th parameter and ``data[j][i]`` the j-th data column at row ``i`` (in
the order of :attr:`CSource.params` and :attr:`CSource.data`); the result is the mean or sum
over the ``n`` rows, as the loss's ``reduce`` says (``n`` is ignored without data symbols).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import sympy as sp
from sympy.printing.c import C99CodePrinter
from sympy.printing.codeprinter import PrintMethodNotImplementedError

from ..codegen.ir import run_cse
from ..errors import SymcalcError
from ._program import LossLike, stable_value_and_grad

__all__ = ["CSource", "to_c"]

_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_]{0,62}\Z")
_GENERATED = re.compile(r"_[pdt][0-9]+\Z")

#: The stable helpers, by name; the source defines those it uses.
_HELPERS = {
    "symcalc_expit": """\
static double symcalc_expit(double u)
{
    if (u >= 0.0) {
        return 1.0 / (1.0 + exp(-u));
    }
    const double e = exp(u);
    return e / (1.0 + e);
}
""",
    "symcalc_softplus": """\
static double symcalc_softplus(double u)
{
    return u > 0.0 ? u + log1p(exp(-u)) : log1p(exp(u));
}
""",
    "symcalc_logsumexp": """\
static double symcalc_logsumexp(int k, const double *v)
{
    double top = v[0];
    for (int j = 1; j < k; ++j) {
        top = v[j] > top ? v[j] : top;
    }
    double total = 0.0;
    for (int j = 0; j < k; ++j) {
        total += exp(v[j] - top);
    }
    return top + log(total);
}
""",
}


class _CPrinter(C99CodePrinter):
    """C99 printer that knows symcalc's stable functions and only generated symbol names."""

    def __init__(self) -> None:
        super().__init__({"allow_unknown_functions": False, "strict": True, "math_macros": {}})

    def _print_Symbol(self, expr: sp.Symbol) -> str:
        if not _GENERATED.match(expr.name):
            raise SymcalcError(f"internal: symbol {expr.name!r} was not renamed before export")
        return str(expr.name)

    def _print_NumberSymbol(self, expr: sp.Expr) -> str:
        return repr(float(expr))  # a literal: M_PI and friends are not C99

    _print_Pi = _print_Exp1 = _print_EulerGamma = _print_GoldenRatio = _print_NumberSymbol

    def _print_sigmoid(self, expr: sp.Expr) -> str:
        return f"symcalc_expit({self._print(expr.args[0])})"

    def _print_softplus(self, expr: sp.Expr) -> str:
        return f"symcalc_softplus({self._print(expr.args[0])})"

    def _print_log_sigmoid(self, expr: sp.Expr) -> str:
        return f"(-symcalc_softplus(-({self._print(expr.args[0])})))"

    def _print_relu(self, expr: sp.Expr) -> str:
        return f"fmax(0.0, {self._print(expr.args[0])})"

    def _print_logsumexp(self, expr: sp.Expr) -> str:
        args = ", ".join(self._print(a) for a in expr.args)
        return f"symcalc_logsumexp({len(expr.args)}, (const double[]){{{args}}})"

    def _print_Heaviside(self, expr: sp.Expr) -> str:
        u = self._print(expr.args[0])
        h0 = self._print(expr.args[1]) if len(expr.args) > 1 else "0.5"
        return f"(({u}) > 0 ? 1.0 : (({u}) < 0 ? 0.0 : {h0}))"

    def _print_Piecewise(self, expr: sp.Piecewise) -> str:
        value, cond = expr.args[-1]
        out = self._print(value) if cond is sp.true else "NAN"
        if cond is not sp.true:
            out = f"(({self._print(cond)}) ? ({self._print(value)}) : NAN)"
        for value, cond in reversed(expr.args[:-1]):
            out = f"(({self._print(cond)}) ? ({self._print(value)}) : ({out}))"
        return out


@dataclass(frozen=True)
class CSource:
    """C99 source of a loss's value and gradient (what :meth:`symcalc.Loss.to_c` returns).

    Attributes
    ----------
    source : str
        The translation unit (``str(csource)`` gives it too).
    value_function, grad_function : str
        The names of the two functions it defines.
    params, data : tuple of Symbol
        The order of ``theta`` entries and ``data`` columns.
    reduce : str
        ``"mean"`` or ``"sum"`` over the rows.
    """

    source: str
    value_function: str
    grad_function: str
    params: tuple[sp.Symbol, ...]
    data: tuple[sp.Symbol, ...]
    reduce: str

    def __str__(self) -> str:
        return self.source

    def __repr__(self) -> str:
        return (
            f"CSource(value_function={self.value_function!r}, "
            f"grad_function={self.grad_function!r}, params={[p.name for p in self.params]}, "
            f"data={[d.name for d in self.data]}, reduce={self.reduce!r}, "
            f"lines={self.source.count(chr(10))})"
        )


def _body(printer: _CPrinter, exprs: list[sp.Expr], targets: list[str], op: str,
          n_params: int, n_data: int, mean: bool) -> list[str]:
    """Statements of one function: unpack theta, loop over rows, accumulate ``targets``."""
    program = run_cse(exprs, {sp.Symbol(f"_d{j}") for j in range(n_data)})
    temps, reduced = program.assignments, program.outputs
    lines = [f"    const double _p{k} = theta[{k}];" for k in range(n_params)]
    inner = [f"const double _d{j} = data[{j}][i];" for j in range(n_data)]
    inner += [f"const double {s.name} = {printer.doprint(rhs)};" for s, rhs in temps]
    inner += [f"{t} {op} {printer.doprint(e)};" for t, e in zip(targets, reduced)]
    if n_data:
        lines.append("    for (long i = 0; i < n; ++i) {")
        lines += [f"        {s}" for s in inner]
        lines.append("    }")
        if mean:
            lines += [f"    {t} /= (double)n;" for t in targets]
    else:
        lines.append("    (void)data;")
        lines.append("    (void)n;")
        lines += [f"    {s}" for s in inner]
    return lines


def to_c(loss: LossLike, *, name: str = "symcalc_loss") -> CSource:
    """C99 source of the loss value and its exact gradient (what :meth:`Loss.to_c` returns).

    Parameters
    ----------
    loss : Loss
    name : str
        Prefix of the two generated functions: a C identifier of at most 63 characters.

    Raises
    ------
    SymcalcError
        ``name`` is not a C identifier, or the loss uses a function C99 lacks.
    """
    if not isinstance(name, str) or not _NAME.match(name):
        raise SymcalcError(
            f"name must be a C identifier (a letter, then letters, digits or '_', at most 63 "
            f"characters); got {name!r}"
        )
    exprs, _ = stable_value_and_grad(loss)
    p, d = len(loss.params), len(loss.data)
    mean = loss.reduce == "mean"
    printer = _CPrinter()
    try:
        value = _body(printer, exprs[:1], ["total"], "+=", p, d, mean)
        grad = _body(printer, exprs, [f"out[{k}]" for k in range(p + 1)], "+=", p, d, mean)
    except PrintMethodNotImplementedError as exc:
        what = str(exc).splitlines()[0].rsplit(": ", 1)[-1]
        raise SymcalcError(f"cannot export {what} to C: C99's math library has no such "
                           "function") from None
    code = "\n".join(value + grad)
    head = ["/* Generated by symcalc: a loss value and its exact gradient.", " *",
            f" * theta: {p} parameter(s); data: {d} column(s) of n rows; reduce: {loss.reduce}.",
            " */", "#include <math.h>", "",
            *[text for helper, text in _HELPERS.items() if f"{helper}(" in code]]
    value_fn = [f"double {name}_value(const double *theta, const double *const *data, long n)",
                "{", "    double total = 0.0;", *value, "    return total;", "}", ""]
    grad_fn = [f"void {name}_value_and_grad(const double *theta, const double *const *data, "
               "long n, double *out)", "{",
               f"    for (int k = 0; k < {p + 1}; ++k) {{", "        out[k] = 0.0;", "    }",
               *grad, "}", ""]
    source = "\n".join(head + value_fn + grad_fn)
    return CSource(source, f"{name}_value", f"{name}_value_and_grad", tuple(loss.params),
                   tuple(loss.data), loss.reduce)
