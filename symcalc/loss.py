"""The symbolic loss: symbol roles, exact derivatives and their display.

:class:`Loss` holds a SymPy expression for the loss of ONE sample, which parameters are
trained and which symbols are data columns. The total loss is the mean (or sum) of the
per-sample loss over the rows of the data. Derivatives are exact SymPy expressions, computed
once and cached; :meth:`Loss.compile` turns them into fast NumPy code (see
:mod:`symcalc.codegen`).
"""

from __future__ import annotations

import warnings
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

import sympy as sp

from ._layout import is_block
from ._validate import as_symbol, as_symbol_tuple, check_choice, describe
from .blocks.derive import CoreDerivation
from .blocks.lower import lower
from .codegen.symengine_bridge import derivatives
from .errors import SymbolError, SymcalcError

if TYPE_CHECKING:  # pragma: no cover
    from .codegen import CompiledLoss
    from .testing import GradientCheck

__all__ = ["Loss"]

SymbolLike = sp.Symbol | sp.MatrixSymbol | str


def _as_roles(values: Any, name: str) -> tuple[Any, ...]:
    """Symbols for a role: Symbols, MatrixSymbols (blocks) or names."""
    if values is None:
        return ()
    if isinstance(values, (sp.Symbol, sp.MatrixSymbol, str)):
        values = [values]
    blocks = [v for v in values if isinstance(v, sp.MatrixSymbol)] if hasattr(values, "__iter__") else []
    if not blocks:
        return as_symbol_tuple(values, name)
    out = tuple(v if isinstance(v, sp.MatrixSymbol) else as_symbol(v, f"{name} entry") for v in values)
    names = [v.name for v in out]
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        raise SymbolError(f"{name} lists {', '.join(dupes)} more than once; each symbol may appear once")
    return out


def _as_expr(expr: Any, names: Sequence[sp.Symbol]) -> sp.Expr:
    if isinstance(expr, str):
        from .parsing import parse

        expr = parse(expr, symbols=list(names))
    if isinstance(expr, (int, float)) and not isinstance(expr, bool):
        return sp.sympify(expr)
    if isinstance(expr, (sp.MatrixBase, sp.MatrixExpr)):
        raise SymcalcError(
            f"loss must be a scalar expression; got a {expr.shape[0]}x{expr.shape[1]} "
            f"{'Matrix' if isinstance(expr, sp.MatrixBase) else 'matrix expression'} (reduce it "
            "with sc.sum, sc.dot or sc.norm2, or build one Loss per output)"
        )
    if not isinstance(expr, sp.Expr):
        raise SymcalcError(
            f"loss must be a sympy expression or a formula string; got {describe(expr)} "
            f"of type {type(expr).__name__}"
        )
    if expr.has(sp.I) or expr.has(sp.zoo) or expr.has(sp.nan):
        raise SymcalcError(f"loss must be real and finite as written; got {expr}")
    return expr


def _resolve(given: Iterable[sp.Symbol], by_name: dict[str, sp.Symbol]) -> tuple[sp.Symbol, ...]:
    """Bind symbols given by name (or as plain Symbols) to the expression's own symbols."""
    out = []
    for s in given:
        found = by_name.get(s.name)
        out.append(found if found is not None else s)
    return tuple(out)


class Loss:
    """A loss written as a SymPy expression, with its parameters and data symbols.

    Parameters
    ----------
    expr : sympy.Expr or str
        The loss of one sample (a formula string goes through the safe parser
        :func:`symcalc.parse`).
    params : sequence of Symbol or str
        The parameters to train, in the order used by ``theta`` vectors and gradients.
    data : sequence of Symbol or str, optional
        Symbols whose values come from data columns. With no data symbols the loss is a
        plain function of the parameters.
    reduce : {"mean", "sum"}
        How per-sample values are combined over the rows of the data.

    Raises
    ------
    SymbolError
        A free symbol that is neither a parameter nor data, a symbol listed in both roles, a
        duplicate, or two different symbols sharing one name.
    SymcalcError
        ``expr`` is not a real scalar expression, or ``reduce`` is unknown.

    Examples
    --------
    >>> import sympy as sp
    >>> w, b, x, y = sp.symbols("w b x y")
    >>> loss = Loss((w*x + b - y)**2, params=[w, b], data=[x, y])
    >>> loss.partial(b)
    2*b + 2*w*x - 2*y
    >>> Loss("(w*x + b - y)^2", params=["w", "b"], data=["x", "y"]).params
    (w, b)
    """

    def __init__(
        self,
        expr: sp.Expr | str,
        params: Sequence[SymbolLike] | SymbolLike,
        data: Sequence[SymbolLike] | SymbolLike = (),
        reduce: str = "mean",
    ) -> None:
        params_given = _as_roles(params, "params")
        data_given = _as_roles(data, "data")
        if not params_given:
            raise SymbolError("params is empty; name at least one parameter to differentiate by")
        self.reduce = check_choice(reduce, ("mean", "sum"), "reduce")
        expr = _as_expr(expr, params_given + data_given)
        by_name: dict[str, sp.Symbol] = {}
        for s in expr.free_symbols:
            if s.name in by_name:
                raise SymbolError(
                    f"the loss has two different symbols named {s.name!r} (with different "
                    "assumptions); give them distinct names"
                )
            by_name[s.name] = s  # type: ignore[assignment]
        self.expr: sp.Expr = expr
        self.params: tuple[sp.Symbol, ...] = _resolve(params_given, by_name)
        self.data: tuple[sp.Symbol, ...] = _resolve(data_given, by_name)
        self._check_roles()
        self._gradient: Any = None
        self._hessian: Any = None
        self._derivation: CoreDerivation | None = None
        self._compiled: dict[tuple, CompiledLoss] = {}

    def _check_roles(self) -> None:
        both = sorted({s.name for s in self.params} & {s.name for s in self.data})
        if both:
            raise SymbolError(
                f"symbol(s) {both} are listed as both params and data; each symbol has one role"
            )
        known = set(self.params) | set(self.data)
        stray = sorted(s.name for s in self.expr.free_symbols if s not in known)
        if stray:
            raise SymbolError(
                f"the loss uses symbol(s) {stray} that are neither params "
                f"{[s.name for s in self.params]} nor data {[s.name for s in self.data]}; "
                "add each to params=[...] or data=[...]"
            )
        unused = [s.name for s in self.params if s not in self.expr.free_symbols]
        if unused:
            warnings.warn(
                f"parameter(s) {unused} do not appear in the loss; their gradient is always 0",
                stacklevel=3,
            )

    # ----------------------------------------------------------------------------- derivatives
    @property
    def has_blocks(self) -> bool:
        """Whether a parameter or data symbol is a vector/matrix block."""
        return any(is_block(s) for s in (*self.params, *self.data))

    @property
    def derivation(self) -> CoreDerivation:
        """The one derivation: the loss lowered to a scalar core and its derivatives by the
        core's few variables (for a loss without blocks, the loss itself by its parameters).
        The compile path compiles exactly this."""
        if self._derivation is None:
            lowered = lower(self.expr, self.params, self.data)
            grad = None if self.has_blocks else list(self.gradient())
            self._derivation = CoreDerivation(lowered, grad)
        return self._derivation

    def gradient(self) -> Any:
        """The per-sample partial derivatives, in ``params`` order (cached).

        A column ``Matrix`` for a loss of scalar parameters; with blocks, a
        :class:`~symcalc.blocks.BlockGradient` with one vector/matrix expression per parameter
        (matrix-calculus form, inner expressions named once in its display).
        """
        if self._gradient is None:
            if self.has_blocks:
                from .blocks.display import BlockGradient

                self._gradient = BlockGradient(self)
            else:
                self._gradient = sp.Matrix(derivatives(self.expr, self.params))
        return self._gradient

    def partial(self, param: SymbolLike) -> Any:
        """The per-sample partial derivative with respect to one parameter."""
        return self.gradient()[self._index(param)]

    def hessian(self) -> Any:
        """Symmetric Matrix of second partials (upper triangle derived once, mirrored); with
        blocks, a :class:`~symcalc.blocks.BlockHessian` of one block per parameter pair."""
        if self._hessian is None:
            if self.has_blocks:
                from .blocks.display import BlockHessian

                self._hessian = BlockHessian(self)
                return self._hessian
            grad = self.gradient()
            p = len(self.params)
            h = sp.zeros(p, p)
            for i in range(p):
                row = derivatives(grad[i], self.params[i:])
                for j in range(i, p):
                    h[i, j] = h[j, i] = row[j - i]
            self._hessian = h
        return self._hessian

    def _index(self, param: SymbolLike) -> int:
        sym = param if isinstance(param, sp.MatrixSymbol) else as_symbol(param, "param")
        for i, p in enumerate(self.params):
            if p == sym or p.name == sym.name:
                return i
        raise SymbolError(
            f"{sym.name!r} is not a parameter of this loss; parameters are "
            f"{[p.name for p in self.params]}"
        )

    # ----------------------------------------------------------------------------- display
    def latex(self, *, gradient: bool = True) -> str:
        r"""LaTeX of the loss (and its gradient) as an ``aligned`` block.

        >>> import sympy as sp
        >>> w, x = sp.symbols("w x")
        >>> print(Loss(w**2 * x, params=[w], data=[x]).latex(gradient=False))
        \begin{aligned}\mathcal{L}(w) &= \frac{1}{N}\sum_{i=1}^{N} \ell_i, \quad \ell = w^{2} x\end{aligned}
        """
        args = ", ".join(sp.latex(p) for p in self.params)
        if self.data:
            total = r"\frac{1}{N}\sum_{i=1}^{N}" if self.reduce == "mean" else r"\sum_{i=1}^{N}"
            lines = [rf"\mathcal{{L}}({args}) &= {total} \ell_i, \quad \ell = {sp.latex(self.expr)}"]
            top = r"\ell"
        else:
            lines = [rf"\mathcal{{L}}({args}) &= {sp.latex(self.expr)}"]
            top = r"\mathcal{L}"
        if gradient and self.has_blocks:  # named inner expressions first (z = w . x + b)
            lines += self.gradient().latex_lines()
        elif gradient:
            for p, g in zip(self.params, self.gradient()):
                lines.append(rf"\frac{{\partial {top}}}{{\partial {sp.latex(p)}}} &= {sp.latex(g)}")
        return r"\begin{aligned}" + r" \\ ".join(lines) + r"\end{aligned}"

    def _repr_latex_(self) -> str:
        return "$$" + self.latex() + "$$"

    def __repr__(self) -> str:
        return (
            f"Loss({self.expr}, params={list(self.params)}, data={list(self.data)}, "
            f"reduce={self.reduce!r})"
        )

    # ----------------------------------------------------------------------------- numeric
    def compile(self, backend: str = "numpy", **options: Any) -> CompiledLoss:
        """Compile value, gradient (and, lazily, Hessian) into fast numeric code.

        The result is cached: compiling again with the same options returns the same object.
        See :func:`symcalc.codegen.compile_loss` for the options.
        """
        from .codegen import compile_loss

        key = (backend, tuple(sorted(options.items())))
        if key not in self._compiled:
            self._compiled[key] = compile_loss(self, backend=backend, **options)
        return self._compiled[key]

    def check_gradient(
        self, theta: Any, data: Any = None, *, hessian: bool = True, rtol: float = 1e-6
    ) -> GradientCheck:
        """Compare the compiled gradient (and Hessian) with central finite differences.

        Returns a :class:`symcalc.testing.GradientCheck` with a per-parameter table of
        absolute and relative errors.
        """
        from .testing import check_loss_gradient

        return check_loss_gradient(self.compile(), theta, data, hessian=hessian, rtol=rtol)

    def explain(self, param: SymbolLike) -> Any:
        """The derivative with respect to ``param`` worked out step by step (with blocks:
        the inner-product, matrix-vector, norm and log-sum-exp rules joined by the chain rule)."""
        if self.has_blocks:
            from .explain_blocks import explain_block

            return explain_block(self, self.params[self._index(param)])
        from .explain import explain

        return explain(self.expr, self.params[self._index(param)])
