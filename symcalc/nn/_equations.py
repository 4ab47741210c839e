"""The chain-rule equations of a Sequential network, as LaTeX (for notebooks)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import sympy as sp

if TYPE_CHECKING:  # pragma: no cover
    from .model import Sequential

__all__ = ["BackpropEquations", "backprop_equations"]


@dataclass
class BackpropEquations:
    """The forward and backward equations of a network, one group per layer.

    Attributes
    ----------
    latex : str
        All equations in one ``aligned`` environment (``str(eq)`` returns it).
    layers : list of list of str
        Per layer (1-based order), its LaTeX equations (forward, delta, gradients).
    loss : list of str
        The loss and the output delta.
    """

    latex: str
    layers: list[list[str]] = field(default_factory=list)
    loss: list[str] = field(default_factory=list)

    def __str__(self) -> str:
        return self.latex

    def _repr_latex_(self) -> str:
        return f"$$\n{self.latex}\n$$"


def _at(expr: sp.Expr, symbol: sp.Symbol, l: int) -> str:
    """LaTeX of ``expr`` with the activation symbol replaced by ``z^{(l)}``."""
    return sp.latex(expr.xreplace({symbol: sp.Symbol(f"z^{{({l})}}")}))


def backprop_equations(model: Sequential) -> BackpropEquations:
    """Build the equations; see :meth:`symcalc.nn.Sequential.backprop_equations`."""
    n_layers = len(model.layers)
    per_layer: list[list[str]] = []
    for l, layer in enumerate(model.layers, start=1):
        act = layer.activation
        bias = f" + b^{{({l})}}" if layer.use_bias else ""
        eqs = [f"z^{{({l})}} &= a^{{({l - 1})}} W^{{({l})}}{bias}"]
        value, deriv = act.latex()
        eqs.append(f"a^{{({l})}} &= \\sigma_{{{l}}}(z^{{({l})}}) = {_at(act.expr, act.symbol, l)}"
                   f" \\quad \\left(\\sigma_{{{l}}}(z) = {value},\\ "
                   f"\\sigma_{{{l}}}'(z) = {deriv}\\right)")
        per_layer.append(eqs)
    L = n_layers
    out = model.layers[-1].activation if model.layers else None
    loss_eqs: list[str] = []
    if model.loss is not None and out is not None:
        ell, dell = model.loss.latex()
        loss_eqs.append(f"\\mathcal{{L}} &= \\frac{{1}}{{n k}} \\sum_{{i, j}} \\ell\\left(a^{{({L})}}_{{ij}}, "
                        f"y_{{ij}}\\right), \\quad \\ell(\\hat{{y}}, y) = {ell}")
        if model._fused:
            loss_eqs.append(f"\\delta^{{({L})}} &= \\frac{{1}}{{n k}}\\left(\\sigma(z^{{({L})}}) - y\\right)"
                            " \\quad \\text{(sigmoid and cross-entropy combined on the logits)}")
        else:
            factor = "" if out.is_identity else f" \\odot \\left({_at(out.derivative, out.symbol, L)}\\right)"
            loss_eqs.append(f"\\delta^{{({L})}} &= \\frac{{1}}{{n k}} \\left. {dell} "
                            f"\\right|_{{\\hat{{y}} = a^{{({L})}}}}{factor}")
    for l in range(L - 1, 0, -1):
        act = model.layers[l - 1].activation
        back = f"\\delta^{{({l + 1})}} W^{{({l + 1})\\top}}"
        if not act.is_identity:
            back = f"\\left({back}\\right) \\odot \\left({_at(act.derivative, act.symbol, l)}\\right)"
        per_layer[l - 1].append(f"\\delta^{{({l})}} &= {back}")
    for l, layer in enumerate(model.layers, start=1):
        grads = f"\\frac{{\\partial \\mathcal{{L}}}}{{\\partial W^{{({l})}}}} &= a^{{({l - 1})\\top}} \\delta^{{({l})}}"
        if layer.use_bias:
            grads += f", \\quad \\frac{{\\partial \\mathcal{{L}}}}{{\\partial b^{{({l})}}}} = \\mathbf{{1}}^\\top \\delta^{{({l})}}"
        per_layer[l - 1].append(grads)
    lines = ["a^{(0)} &= X"]
    for eqs in per_layer:
        lines += eqs[:2]
    lines += loss_eqs
    for eqs in reversed(per_layer):
        lines += eqs[2:]
    latex = "\\begin{aligned}\n" + " \\\\\n".join(lines) + "\n\\end{aligned}"
    return BackpropEquations(latex=latex, layers=per_layer, loss=loss_eqs)
