"""The chain-rule equations of a Sequential network, as LaTeX (for notebooks)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import sympy as sp

from ..readable import readable_form, rename, to_latex
from .losses import Y_PRED, Y_TRUE

Sequential = Any  # the model (symcalc.nn.model imports this module, so not the other way)

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
    return to_latex(rename(readable_form(expr), {symbol: sp.Symbol(f"z^{{({l})}}")}))


def _shown(expr: sp.Expr, sub: dict[sp.Symbol, sp.Symbol]) -> str:
    """LaTeX of ``expr`` in readable form (``sigmoid`` folded, factors pulled out)."""
    return to_latex(rename(readable_form(expr), sub))


def _partial(wrt: str) -> str:
    return rf"\frac{{\partial \mathcal{{L}}}}{{\partial {wrt}}}"


def _loss_equations(model: Sequential, out: object, L: int) -> list[str]:
    """The loss and the output layer's delta (combined forms on the logits when fused)."""
    sub = {Y_PRED: sp.Symbol(r"\hat{y}"), Y_TRUE: sp.Symbol("y")}
    ell, dell = _shown(model.loss.expr, sub), _shown(model.loss.derivative, sub)
    row_sum = model.loss.name.endswith("categorical_crossentropy")
    mean = r"\frac{1}{n}" if row_sum else r"\frac{1}{n k}"
    eqs = [rf"\mathcal{{L}} &= {mean} \sum_{{i, j}} \ell\left(a^{{({L})}}_{{ij}}, "
           rf"y_{{ij}}\right), \quad \ell(\hat{{y}}, y) = {ell}"]
    z = f"z^{{({L})}}"
    if model._fused:
        which = "softmax" if row_sum else r"\sigma"
        name = "softmax" if row_sum else "sigmoid"
        eqs.append(rf"\delta^{{({L})}} &= {mean}\left(\operatorname{{{which}}}({z}) - y\right)"
                   rf" \quad \text{{({name} and cross-entropy combined on the logits)}}")
    elif out.rowwise:  # type: ignore[attr-defined]
        a = f"a^{{({L})}}"
        eqs.append(rf"\delta^{{({L})}} &= {a} \odot \left(g - ({a} \cdot g)\mathbf{{1}}^\top"
                   rf"\right), \quad g = {mean} \left. {dell} \right|_{{\hat{{y}} = {a}}}")
    else:
        factor = "" if out.is_identity else (  # type: ignore[attr-defined]
            rf" \odot \left({_at(out.derivative, out.symbol, L)}\right)")  # type: ignore
        eqs.append(rf"\delta^{{({L})}} &= {mean} \left. {dell} "
                   rf"\right|_{{\hat{{y}} = a^{{({L})}}}}{factor}")
    return eqs


def backprop_equations(model: Sequential) -> BackpropEquations:
    """Build the equations; see :meth:`symcalc.nn.Sequential.backprop_equations`."""
    n_layers = len(model.layers)
    per_layer: list[list[str]] = []
    for l, layer in enumerate(model.layers, start=1):
        act = layer.activation
        bias = f" + b^{{({l})}}" if layer.use_bias else ""
        eqs = [f"z^{{({l})}} &= a^{{({l - 1})}} W^{{({l})}}{bias}"]
        if act.rowwise:  # softmax: a function of the whole row, shown by the activation
            value, deriv = act.latex()
        else:
            z = {act.symbol: sp.Symbol("z")}
            value, deriv = _shown(act.expr, z), _shown(act.derivative, z)
        at = _at(act.expr, act.symbol, l)
        eqs.append(rf"a^{{({l})}} &= \sigma_{{{l}}}(z^{{({l})}}) = {at} \quad "
                   rf"\left(\sigma_{{{l}}}(z) = {value},\ \sigma_{{{l}}}'(z) = {deriv}\right)")
        per_layer.append(eqs)
    L = n_layers
    out = model.layers[-1].activation if model.layers else None
    loss_eqs: list[str] = []
    if model.loss is not None and out is not None:
        loss_eqs = _loss_equations(model, out, L)
    for l in range(L - 1, 0, -1):
        act = model.layers[l - 1].activation
        back = rf"\delta^{{({l + 1})}} W^{{({l + 1})\top}}"
        if act.rowwise:
            a = f"a^{{({l})}}"
            back = (rf"{a} \odot \left(g - ({a} \cdot g)\mathbf{{1}}^\top\right), \quad "
                    rf"g = {back}")
        elif not act.is_identity:
            deriv = _at(act.derivative, act.symbol, l)
            back = rf"\left({back}\right) \odot \left({deriv}\right)"
        per_layer[l - 1].append(rf"\delta^{{({l})}} &= {back}")
    for l, layer in enumerate(model.layers, start=1):
        grads = rf"{_partial(f'W^{{({l})}}')} &= a^{{({l - 1})\top}} \delta^{{({l})}}"
        if layer.use_bias:
            grads += rf", \quad {_partial(f'b^{{({l})}}')} = \mathbf{{1}}^\top \delta^{{({l})}}"
        per_layer[l - 1].append(grads)
    lines = ["a^{(0)} &= X"]
    for eqs in per_layer:
        lines += eqs[:2]
    lines += loss_eqs
    for eqs in reversed(per_layer):
        lines += eqs[2:]
    latex = "\\begin{aligned}\n" + " \\\\\n".join(lines) + "\n\\end{aligned}"
    return BackpropEquations(latex=latex, layers=per_layer, loss=loss_eqs)
