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

from ._safety import check_expression
from ._layout import is_block
from ._validate import as_symbol, as_symbol_tuple, check_choice, describe
from .blocks.derive import CoreDerivation
from .blocks.lower import lower
from .codegen.realdiff import real_gradient
from .codegen.symengine_bridge import derivatives
from .errors import SymbolError, SymcalcError
from .readable import DerivativeDisplay, display, readable_gradient, readable_hessian

if TYPE_CHECKING:  # pragma: no cover
    from .codegen import CompiledLoss
    from .export import CSource, ExportedLoss
    from .testing import GradientCheck

__all__ = ["Loss"]

SymbolLike = sp.Symbol | sp.MatrixSymbol | str
_FORMS = ("readable", "raw")
_FALLBACK_NOTE = "raw form: the readable one did not fit in its time budget"


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
    if not expr.has(sp.MatrixSymbol):  # with blocks: checked once lowered (CompiledLoss)
        check_expression(expr, "the loss")
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
    2*(b + w*x - y)
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
        self._gradient: sp.Matrix | None = None
        self._hessian: sp.Matrix | None = None
        self._readable: sp.Matrix | None = None
        self._readable_hessian: sp.Matrix | None = None
        self._readable_note = ""
        self._derivation: CoreDerivation | None = None
        self._blocks: dict[str, Any] = {}
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
        core's few variables (for a loss without blocks, the loss itself by its parameters:
        the raw gradient). The compile path compiles exactly this."""
        if self._derivation is None:
            lowered = lower(self.expr, self.params, self.data)
            grad = None if self.has_blocks else real_gradient(self)  # Abs, sign: as reals
            self._derivation = CoreDerivation(lowered, grad)
        return self._derivation

    def gradient(self, *, form: str = "readable") -> Any:
        """Column Matrix of the per-sample partial derivatives, in ``params`` order (cached).

        With blocks, a :class:`~symcalc.blocks.display.BlockGradient`: one vector/matrix
        expression per parameter in matrix-calculus form (``(sigmoid(z) - t)*x + 0.01*w``),
        the inner expression named once in its display (``z = b + dot(w, x)``); ``form`` is
        accepted for symmetry (the block form is the one form).

        Parameters
        ----------
        form : {"readable", "raw"}, keyword-only
            ``"readable"`` (default): ``sigmoid``/``softplus``/``softmax``/``logsumexp``
            recognised and kept folded, common factors pulled out (``x1*(sigmoid(z) - y)``,
            ``2*(w*x + b - y)``), exactly equal to the raw form. ``"raw"``: the plain
            ``sympy.diff`` output. A gradient too large to tidy within the time budget
            (one CPU second) comes back raw.

        Examples
        --------
        >>> import sympy as sp
        >>> w, b, x, y = sp.symbols("w b x y")
        >>> loss = Loss(sp.log(1 + sp.exp(w*x + b)) - y*(w*x + b), params=[w, b], data=[x, y])
        >>> loss.gradient().T
        Matrix([[x*(-y + sigmoid(b + w*x)), -y + sigmoid(b + w*x)]])
        >>> loss.gradient(form="raw")[1]
        -y + exp(b + w*x)/(exp(b + w*x) + 1)
        """
        raw = check_choice(form, _FORMS, "form") == "raw"
        if self.has_blocks:
            return self._block("gradient")
        if raw:
            return self._raw_gradient()
        if self._readable is None:
            raw_grad = self._raw_gradient()
            entries = readable_gradient(list(raw_grad))
            self._readable_note = "" if entries is not None else _FALLBACK_NOTE
            self._readable = raw_grad if entries is None else sp.Matrix(entries)
        return self._readable

    def _block(self, what: str) -> Any:
        """The block gradient or Hessian (matrix-calculus form), built once."""
        if what not in self._blocks:
            from .blocks.display import BlockGradient, BlockHessian

            self._blocks[what] = (BlockGradient if what == "gradient" else BlockHessian)(self)
        return self._blocks[what]

    def _raw_gradient(self) -> sp.Matrix:
        if self._gradient is None:
            self._gradient = sp.Matrix(derivatives(self.expr, self.params))
        return self._gradient

    def partial(self, param: SymbolLike, *, form: str = "readable") -> Any:
        """The per-sample partial derivative with respect to one parameter (``form`` as in
        :meth:`gradient`)."""
        return self.gradient(form=form)[self._index(param)]

    def hessian(self, *, form: str = "readable") -> Any:
        """Symmetric Matrix of second partials (upper triangle derived once, mirrored).

        ``form="readable"`` (default) differentiates the readable gradient, so ``sigmoid``
        stays folded (``x1*x2*sigmoid(z)*(1 - sigmoid(z))``); ``form="raw"`` differentiates
        the raw one. Both are exactly equal. With blocks, a
        :class:`~symcalc.blocks.display.BlockHessian` of one block per parameter pair
        (``x x^T f''(z)`` for ``(w, w)``).
        """
        raw = check_choice(form, _FORMS, "form") == "raw"
        if self.has_blocks:
            return self._block("hessian")
        if raw:
            return self._raw_hessian()
        if self._readable_hessian is None:
            grad = self.gradient()
            h = None if self._readable_note else readable_hessian(list(grad), self.params)
            self._readable_hessian = self._raw_hessian() if h is None else h
        return self._readable_hessian

    def _raw_hessian(self) -> sp.Matrix:
        if self._hessian is None:
            grad = self._raw_gradient()
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
    def display(self, *, hessian: bool = False) -> Any:
        """The loss and its gradient as a textbook shows them (text via ``print``, LaTeX in
        Jupyter).

        Shared inner expressions are named once (``z = w1*x1 + w2*x2 + b``), partials that
        share a structure are grouped (``d/dw_j = x_j*(sigmoid(z) - y)   for j = 1..30``),
        and terms are ordered the way ``params`` lists the parameters.

        Examples
        --------
        >>> import sympy as sp
        >>> w, b, x, y = sp.symbols("w b x y")
        >>> print(Loss((w*x + b - y)**2, params=[w, b], data=[x, y]).display())
        loss = (w*x + b - y)**2
        d/dw = 2*x*(w*x + b - y)
        d/db = 2*(w*x + b - y)
        """
        if self.has_blocks:
            from .blocks.display import LossDisplay

            return LossDisplay(self, self.gradient(), self.hessian() if hessian else None)
        grad = self.gradient()
        h = self.hessian() if hessian else None
        return display(self.expr, self.params, list(grad), has_data=bool(self.data),
                       reduce=self.reduce, hessian=h, note=self._readable_note)

    def latex(self, *, gradient: bool = True) -> str:
        r"""LaTeX of the loss (and its readable gradient) as an ``aligned`` block.

        >>> import sympy as sp
        >>> w, x = sp.symbols("w x")
        >>> print(Loss(w**2 * x, params=[w], data=[x]).latex(gradient=False))
        \begin{aligned}\mathcal{L}(w) &= \frac{1}{N}\sum_{i=1}^{N} \ell_i, \quad \ell = w^{2} x\end{aligned}
        """
        if self.has_blocks:
            from .blocks.display import LossDisplay

            return LossDisplay(self, self.gradient() if gradient else None).latex()
        if gradient:
            return self.display().latex()
        return display(self.expr, self.params, [], has_data=bool(self.data),
                       reduce=self.reduce).latex()

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

    def __getstate__(self) -> dict[str, Any]:
        """Pickle the symbolic content only: compiled kernels are rebuilt on first use (so a
        Loss travels to worker processes, e.g. inside a scikit-learn estimator)."""
        state = dict(self.__dict__)
        state["_compiled"] = {}
        return state

    # ----------------------------------------------------------------------------- export
    def to_jax(self) -> ExportedLoss:
        """The loss as a JAX function ``f(params, data)`` of the same stable expression.

        ``f`` returns the total loss (mean or sum over rows) as a JAX scalar, so ``jax.grad``,
        ``jax.jit`` and ``jax.vmap`` apply. ``params`` is a 1-D array in ``params`` order or a
        mapping by name; ``data`` maps each data symbol (or name) to a 1-D array. JAX computes
        in float32 unless ``jax.config.update("jax_enable_x64", True)``. Needs the extra
        ``symcalc[export]``; see :class:`symcalc.export.ExportedLoss`.

        Examples
        --------
        >>> import sympy as sp, symcalc as sc
        >>> w, x = sp.symbols("w x")
        >>> f = sc.Loss(sp.log(1 + sp.exp(-w*x)), params=[w], data=[x]).to_jax()  # doctest: +SKIP
        >>> import jax; jax.grad(f)(jax.numpy.array([1.0]), {"x": [1.0, 2.0]})  # doctest: +SKIP
        """
        from .export import to_jax

        return to_jax(self)

    def to_torch(self) -> ExportedLoss:
        """The loss as a PyTorch function ``f(params, data)`` of the same stable expression.

        ``f`` returns the total loss as a tensor; pass ``params`` as a tensor with
        ``requires_grad=True`` (or a mapping of such tensors) and call ``backward()``. Needs
        the extra ``symcalc[export]``; see :class:`symcalc.export.ExportedLoss`.

        Examples
        --------
        >>> import sympy as sp, symcalc as sc, torch  # doctest: +SKIP
        >>> w, x = sp.symbols("w x")
        >>> f = sc.Loss((w*x - 1)**2, params=[w], data=[x]).to_torch()  # doctest: +SKIP
        >>> theta = torch.tensor([0.5], dtype=torch.float64, requires_grad=True)  # doctest: +SKIP
        >>> f(theta, {"x": [1.0, 2.0]}).backward(); theta.grad  # doctest: +SKIP
        tensor([-0.5000], dtype=torch.float64)
        """
        from .export import to_torch

        return to_torch(self)

    def to_c(self, *, name: str = "symcalc_loss") -> CSource:
        """C99 source of the loss value and its exact gradient (see :mod:`symcalc.export.c`).

        Examples
        --------
        >>> import sympy as sp, symcalc as sc
        >>> w, x = sp.symbols("w x")
        >>> code = sc.Loss((w*x - 1)**2, params=[w], data=[x]).to_c(name="ls")
        >>> code.value_function, code.grad_function
        ('ls_value', 'ls_value_and_grad')
        """
        from .export import to_c

        return to_c(self, name=name)

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
