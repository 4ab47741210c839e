"""Roles of a formula inside an estimator: features, target, hyperparameters, parameters.

An estimator's formula is the loss of one sample (a :class:`~symcalc.Loss`, a SymPy expression
or a formula string) and, optionally, an ``output`` expression (what ``predict`` returns). Its data symbols play three
roles: *features* (fed by the columns of ``X``, in order), the *target* (fed by ``y``) and
*hyperparameters* (set by keyword on the estimator, e.g. an L2 weight ``alpha``; fed to the
compiled loss as constant columns, so changing them never recompiles). Everything else is a
trained parameter.

Specs are cached by the formula's content: clones of an estimator (``GridSearchCV`` makes one
per fit) share one :class:`~symcalc.Loss` and so one compilation.
"""

from __future__ import annotations

import functools
from collections.abc import Hashable, Sequence
from dataclasses import dataclass
from typing import Any

import sympy as sp

from .._validate import as_symbol_tuple, describe
from ..errors import SymbolError, SymcalcError
from ..functions import sigmoid, softplus
from ..loss import Loss
from ..parsing import parse

__all__ = ["Spec", "spec_for", "linear_spec", "LINEAR_HYPERPARAMETERS"]

#: The built-in linear model's hyperparameters and their defaults (an L2 weight).
LINEAR_HYPERPARAMETERS: dict[str, float] = {"alpha": 0.0}


@dataclass(frozen=True)
class Spec:
    """A formula with every data symbol's role resolved (cached; shared by clones)."""

    loss: Loss  # data = (*features, target?, *hypers), in that order
    output: sp.Expr | None
    features: tuple[sp.Symbol, ...]
    target: sp.Symbol | None
    hypers: tuple[sp.Symbol, ...]
    linear: bool  # the built-in linear model (coef_ and intercept_ are defined)

    @property
    def params(self) -> tuple[sp.Symbol, ...]:
        return self.loss.params


@functools.lru_cache(maxsize=64)
def linear_spec(kind: str, n_features: int) -> Spec:
    """The built-in model for ``n_features`` columns: ``z = w1*x1 + ... + wm*xm + b`` with an
    L2 term ``alpha * sum(w_j**2)``; least squares with ``output = z`` (``kind="regressor"``)
    or the logistic loss ``softplus(z) - y*z`` with ``output = sigmoid(z)``
    (``kind="classifier"``)."""
    xs = sp.symbols(f"x1:{n_features + 1}", real=True)
    ws = sp.symbols(f"w1:{n_features + 1}", real=True)
    b, y, alpha = sp.symbols("b y alpha", real=True)
    z = sum((wj * xj for wj, xj in zip(ws, xs)), sp.S.Zero) + b
    penalty = alpha * sum((wj**2 for wj in ws), sp.S.Zero)
    if kind == "classifier":
        expr, output = softplus(z) - y * z + penalty, sigmoid(z)
    else:
        expr, output = (y - z) ** 2 + penalty, z
    loss = Loss(expr, params=[*ws, b], data=[*xs, y, alpha])
    return Spec(loss, output, tuple(xs), y, (alpha,), True)


def _key(value: Any) -> Hashable:
    """A hashable, content-based key for a formula argument (deep copies give equal keys)."""
    if isinstance(value, Loss):
        return ("Loss", value.expr, value.params, value.data, value.reduce)
    if value is None or isinstance(value, (str, sp.Basic)):
        return value
    if isinstance(value, (list, tuple)):
        return tuple(_key(v) for v in value)
    raise SymcalcError(
        f"expected a symcalc.Loss, a SymPy expression or a formula string; got "
        f"{describe(value)} of type {type(value).__name__}"
    )


def spec_for(loss: Any, output: Any, features: Any, target: Any,
             hyper_names: Sequence[str]) -> Spec:
    """The spec of a user formula (raises SymbolError/SymcalcError naming what is wrong)."""
    names = tuple(sorted(hyper_names))
    return _spec(_key(loss), _key(output), _key(features), _key(target), names)


@functools.lru_cache(maxsize=64)
def _spec(loss_key: Hashable, output_key: Hashable, features_key: Hashable,
          target_key: Hashable, hyper_names: tuple[str, ...]) -> Spec:
    features = as_symbol_tuple(features_key, "features") if features_key is not None else None
    target = as_symbol_tuple(target_key, "target") if target_key is not None else None
    if target is not None and len(target) != 1:
        raise SymbolError(f"target must be one symbol; got {[s.name for s in target]}")
    if isinstance(loss_key, tuple) and loss_key[:1] == ("Loss",):
        _, expr, params, data, reduce = loss_key
    else:
        if not features:
            raise SymbolError(
                "features is required when loss is a formula rather than a symcalc.Loss: "
                "name the data symbols fed by the columns of X, e.g. features=['x1', 'x2']"
            )
        taken = {s.name for s in features} | set(hyper_names)
        taken |= {target[0].name} if target else set()
        if not isinstance(loss_key, (str, sp.Expr)):
            raise SymcalcError(f"loss must be a symcalc.Loss, a SymPy expression or a formula "
                               f"string; got {describe(loss_key)}")
        expr = parse(loss_key) if isinstance(loss_key, str) else loss_key
        free = sorted(expr.free_symbols, key=lambda s: s.name)
        params = tuple(s for s in free if s.name not in taken)
        data = tuple(s for s in free if s.name in taken)
        reduce = "mean"
    by_name = {s.name: s for s in (*params, *data)}
    out = _bind_output(output_key, by_name)
    roles = _roles(data, by_name, out, features, target, hyper_names, {p.name for p in params})
    feats, tgt, hypers = roles
    bound = Loss(expr, params=list(params), data=[*feats, *([tgt] if tgt else []), *hypers],
                 reduce=reduce)
    return Spec(bound, out, feats, tgt, hypers, False)


def _bind_output(output: Hashable, by_name: dict[str, sp.Symbol]) -> sp.Expr | None:
    """``output`` with its symbols bound (by name) to the loss's own symbols."""
    if output is None:
        return None
    expr = parse(output, symbols=list(by_name.values())) if isinstance(output, str) else output
    if not isinstance(expr, sp.Expr):
        raise SymcalcError(f"output must be a SymPy expression or a formula string; got "
                           f"{describe(output)}")
    stray = sorted(s.name for s in expr.free_symbols if s.name not in by_name)
    if stray:
        raise SymbolError(
            f"output uses symbol(s) {stray} that the loss does not have; its symbols are "
            f"{sorted(by_name)}"
        )
    return expr.xreplace({s: by_name[s.name] for s in expr.free_symbols})


def _roles(data: Sequence[sp.Symbol], by_name: dict[str, sp.Symbol], output: sp.Expr | None,
           features: tuple[sp.Symbol, ...] | None, target: tuple[sp.Symbol, ...] | None,
           hyper_names: tuple[str, ...], param_names: set[str],
           ) -> tuple[tuple[sp.Symbol, ...], sp.Symbol | None, tuple[sp.Symbol, ...]]:
    """Split the loss's data symbols into features, target and hyperparameters."""
    data_names = [s.name for s in data]
    for name in hyper_names:
        if name not in data_names:
            where = "a parameter" if name in param_names else "not a symbol"
            raise SymbolError(
                f"hyperparameter {name!r} is {where} of the loss; hyperparameters are data "
                f"symbols that are neither features nor the target: {data_names}"
            )
    hypers = tuple(by_name[n] for n in data_names if n in hyper_names)
    rest = [s for s in data if s.name not in hyper_names]
    chosen = set() if features is None else {f.name for f in features}
    used = set() if output is None else {s.name for s in output.free_symbols}
    tgt: sp.Symbol | None = None
    if target is not None:
        tgt = _known(target[0], by_name, data_names, "target")
    elif output is not None:
        left = [s.name for s in rest if s.name not in used and s.name not in chosen]
        if len(left) != 1:
            raise SymbolError(
                f"cannot tell the target among the data symbols {left} (those not used by "
                "output and not given as hyperparameters): pass target=... and give every "
                f"hyperparameter symbol a value by keyword, e.g. {left[-1] if left else 'alpha'}"
                "=0.1"
            )
        tgt = by_name[left[0]]
    if features is not None:
        feats = tuple(_known(f, by_name, data_names, "features") for f in features)
    elif output is not None:
        feats = tuple(s for s in rest if s.name in used)
    else:
        feats = tuple(s for s in rest if s != tgt)
    if tgt is not None and tgt in feats:
        raise SymbolError(f"{tgt.name!r} is both the target and a feature; give it one role")
    missing = [s.name for s in rest if s != tgt and s not in feats]
    if missing:
        raise SymbolError(
            f"data symbol(s) {missing} have no role: each data symbol is a feature "
            "(features=[...]), the target (target=...) or a hyperparameter, given a value by "
            f"keyword (e.g. {missing[0]}=0.1)"
        )
    return feats, tgt, hypers


def _known(sym: sp.Symbol, by_name: dict[str, sp.Symbol], data_names: list[str],
           what: str) -> sp.Symbol:
    if sym.name not in data_names:
        raise SymbolError(f"{what} names {sym.name!r}, which is not a data symbol of the loss; "
                          f"its data symbols are {data_names}")
    return by_name[sym.name]
