"""``gradient_descent``: full-batch and mini-batch first-order training of a compiled loss.

The loop is deliberately lean: the loss is compiled and the data prepared once, every step is
one call of the compiled value+gradient kernel (:meth:`CompiledLoss.evaluate`) and one update
of the shared optimizer object (:mod:`symcalc.optimizers`); the history is appended to and the
stopping rule costs O(1) per epoch.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np

from .._validate import as_rng, check_choice, check_int, check_positive, describe
from ..codegen import CompiledLoss, PreparedData
from ..errors import SymcalcError
from ..optimizers import (OPTIMIZERS, Adam, GradientDescent, Momentum, Nesterov, Optimizer,
                          get_optimizer)
from ._common import Counter, best_index, quietly, setup, trim_history
from ..convergence import check_convergence, stable_learning_rate
from ._result import DescentResult, make_result

__all__ = ["gradient_descent", "auto_learning_rate", "LOSS_WINDOW"]

#: Epochs in a row whose loss change must be below the loss tolerance.
LOSS_WINDOW = 5
#: Smallest relative loss tolerance (a few units in the last place of float64).
_LOSS_FLOOR = 1e-15

Callback = Callable[[int, np.ndarray, float], Any]


def gradient_descent(
    loss: Any,
    data: Any = None,
    x0: Any = None,
    learning_rate: float | str = 0.01,
    epochs: int = 100,
    method: str | Optimizer = "gd",
    tol: float = 1e-10,
    batch_size: int | None = None,
    shuffle: bool = True,
    seed: int | np.random.Generator | None = None,
    callback: Callback | None = None,
    progress: bool = False,
    backend: str = "numpy",
) -> DescentResult:
    """Train the parameters of a loss by (mini-batch) gradient descent.

    Parameters
    ----------
    loss : Loss or CompiledLoss
        The loss; it is compiled once (``loss.compile(backend=backend)``, cached).
    data : mapping {Symbol or name: array-like of shape (n_samples,)} or DataFrame, optional
        Values of the loss's data symbols (omit for a loss of the parameters only).
    x0 : array-like of shape (n_params,) or mapping {Symbol or name: float}, optional
        Starting parameters (every parameter named once); zeros by default.
    learning_rate : float or "auto"
        Step size of the optimizer. ``"auto"`` uses ``1/L``, ``L`` the largest eigenvalue of
        the exact Hessian at ``x0`` over the full data (see Notes). Ignored when ``method``
        is an :class:`~symcalc.optimizers.Optimizer` object.
    epochs : int
        Maximum number of passes over the data (>= 1).
    method : {"gd", "sgd", "momentum", "nesterov", "adam"} or Optimizer
        The update rule, from :mod:`symcalc.optimizers` (an object is used as given, with
        its state reset).
    tol : float
        Stop when the gradient norm is at most ``tol``, or when the loss changed by at most
        ``max(tol**2, 1e-15)`` relative to ``1 + |loss|`` in each of the last 5 epochs (the
        loss is quadratic in the distance to a minimum, so a loss change of ``tol**2``
        matches a parameter change of order ``tol``). ``tol=0`` disables the gradient rule.
    batch_size : int, optional
        Rows per mini-batch (1 <= batch_size <= n_samples); ``None`` is full batch.
    shuffle : bool
        Reshuffle the rows each epoch (mini-batch only).
    seed : int, numpy Generator or None
        Randomness of the shuffling; a seed makes mini-batch runs reproducible.
    callback : callable ``callback(epoch, x, loss) -> bool``, optional
        Called after each epoch (epoch 0 is ``x0``) with the current parameters (do not
        modify them) and loss; returning ``True`` stops the run cleanly
        (``status="callback"``, ``converged=False``).
    progress : bool
        Show a tqdm progress bar with the current loss.
    backend : str
        Compile backend (``"numpy"`` default).

    Returns
    -------
    DescentResult
        ``x``, ``params``, ``fun``, ``nit`` (epochs), ``converged``, ``message``, ``history``.
        A non-finite loss or gradient ends the run with ``converged=False``, a message naming
        the epoch and ``x`` the last finite iterate; Ctrl-C returns the best iterate so far
        (``status="interrupted"``). Neither raises.

    Raises
    ------
    SymcalcError
        Bad options (unknown method, ``learning_rate <= 0``, ``epochs < 1``, ``batch_size``
        out of range, ...), or bad ``x0``/``data`` (:class:`SymbolError`, :class:`ShapeError`).

    Notes
    -----
    ``learning_rate="auto"`` picks ``1/L`` (``L`` the largest eigenvalue of the Hessian at
    ``x0``, via :func:`symcalc.stable_learning_rate`): the classical safe step of an
    L-smooth loss. It is half the stability limit ``2/L`` of a quadratic, where the steepest direction would
    oscillate without decaying; at ``1/L`` it is solved in one step. It suits ``"gd"``,
    ``"momentum"`` and ``"nesterov"`` (heavy-ball momentum 0.9 is stable up to ``3.8/L``);
    Adam's steps do not scale with the gradient, so Adam needs a number. When the Hessian at
    ``x0`` has no positive eigenvalue, a backtracking (Armijo) line search along the
    negative gradient, starting at 1, picks the step instead. Curvature may grow away from
    ``x0``; divergence is then reported, not raised.

    With mini-batches, ``history["loss"][k]`` (k >= 1) is the mean of the batch losses
    seen during epoch ``k`` (as Keras reports it) and ``history["grad_norm"][k]`` the norm
    of their mean gradient; ``fun`` and ``grad_norm`` are re-evaluated on the full data at
    the final ``x``.

    Examples
    --------
    >>> import numpy as np, sympy as sp, symcalc as sc
    >>> w, b, x, y = sp.symbols("w b x y")
    >>> loss = sc.Loss((w*x + b - y)**2, params=[w, b], data=[x, y])
    >>> data = {x: [0.0, 1.0, 2.0, 3.0], y: [1.0, 3.0, 5.0, 7.0]}
    >>> res = sc.gradient_descent(loss, data, learning_rate=0.1, epochs=2000)
    >>> res.converged, round(res.params[w], 6), round(res.params[b], 6)
    (True, 2.0, 1.0)
    """
    spec = _check_method(method)
    epochs = check_int(epochs, "epochs", minimum=1)
    tol = check_positive(tol, "tol", allow_zero=True)
    auto = _check_learning_rate(learning_rate, spec)
    if callback is not None and not callable(callback):
        raise SymcalcError(f"callback must be callable(epoch, x, loss) or None; got {describe(callback)}")
    rng = as_rng(seed)
    f, prepared, x = setup(loss, data, x0, backend)
    start = x.copy()
    batch = _check_batch_size(batch_size, prepared.n)
    counter = Counter()
    with quietly(f):
        lr = auto_learning_rate(f, data, x, prepared, counter) if auto else learning_rate
        opt = get_optimizer(spec, lr)
        opt.reset()
        bar = _progress_bar(epochs) if progress else None
        history: dict[str, list[Any]] = {"loss": [], "grad_norm": [], "x": []}
        loss_tol = 0.0 if tol == 0 else max(tol * tol, _LOSS_FLOOR)
        run = _Run(f, opt, tol, loss_tol, callback, bar, history, counter)
        try:
            if batch is None:
                status, k, last_good = run.full_batch(x, prepared, epochs)
            else:
                status, k, last_good = run.mini_batch(x, prepared, epochs, batch, shuffle, rng)
        finally:
            if bar is not None:
                bar.close()
        suggest = _divergence_hint(f, data, start, opt) if status == "diverged" else ""
        return _finish(run, status, k, last_good, prepared, batch is not None, spec, suggest)


class _Run:
    """The state of one gradient_descent run (the loops are methods to share it)."""

    def __init__(self, f: CompiledLoss, opt: Optimizer, tol: float, loss_tol: float,
                 callback: Callback | None, bar: Any, history: dict[str, list[Any]],
                 counter: Counter) -> None:
        self.f, self.opt, self.tol, self.loss_tol = f, opt, tol, loss_tol
        self.callback, self.bar, self.history, self.counter = callback, bar, history, counter

    def _stop(self, k: int, x: np.ndarray, loss: float, gn: float, prev: float) -> str | None:
        """The stopping rule after epoch ``k`` (O(1) unless the loss has nearly settled)."""
        if gn <= self.tol:
            return "grad_tol"
        lt = self.loss_tol
        if abs(loss - prev) <= lt * (1.0 + abs(loss)) and check_convergence(
            self.history["loss"], tol=lt, window=LOSS_WINDOW, rtol=lt
        ):
            return "loss_tol"
        if self.callback is not None and self.callback(k, x, loss):
            return "callback"
        if self.bar is not None:
            _tick(self.bar, k, loss)
        return None

    def full_batch(self, x: np.ndarray, P: PreparedData, epochs: int) -> tuple[str, int, np.ndarray]:
        # The hot loop: the checks of _stop are inlined (one compiled call, one optimizer
        # step, three appends and a few float comparisons per epoch).
        evaluate, step, stop = self.f.evaluate, self.opt.step, self._stop
        losses, gnorms, path = self.history["loss"], self.history["grad_norm"], self.history["x"]
        sqrt, hypot, isfinite = math.sqrt, math.hypot, math.isfinite
        small = len(x) <= 32
        tol, lt, slow = self.tol, self.loss_tol, self.callback is not None or self.bar is not None
        status, prev, k = "max_epochs", math.inf, 0
        try:
            for k in range(epochs + 1):
                out = evaluate(x, P, order=1)
                g = out[1:]
                if small:  # a few parameters: Python floats are cheaper than NumPy calls
                    loss, *parts = out.tolist()
                    gn = hypot(*parts)
                else:
                    loss = float(out[0])
                    gn = sqrt(float(g @ g))
                if not isfinite(loss + gn):
                    status = "diverged"
                    break
                losses.append(loss)
                gnorms.append(gn)
                path.append(x)
                if gn <= tol or abs(loss - prev) <= lt * (1.0 + abs(loss)) or slow:
                    reason = stop(k, x, loss, gn, prev)
                    if reason is not None:
                        status = reason
                        break
                if k == epochs:
                    break
                prev = loss
                x = step(x, g)
        except KeyboardInterrupt:
            status = "interrupted"
        self.counter.nfev = self.counter.njev = k + 1
        return status, k, path[-1] if path else x

    def mini_batch(self, x: np.ndarray, P: PreparedData, epochs: int, batch: int,
                   shuffle: bool, rng: np.random.Generator) -> tuple[str, int, np.ndarray]:
        evaluate, step, stop = self.f.evaluate, self.opt.step, self._stop
        losses, gnorms, path = self.history["loss"], self.history["grad_norm"], self.history["x"]
        n, isfinite = P.n, math.isfinite
        mean = self.f.reduce == "mean"
        starts = range(0, n, batch)
        status, prev, k, good = "max_epochs", math.inf, 0, x
        try:
            out = evaluate(x, P, order=1)  # epoch 0: the full-data loss at x0
            self.counter.nfev += 1
            loss, g = float(out[0]), out[1:]
            gn = math.sqrt(float(g @ g))
            if not isfinite(loss + gn):
                return "diverged", 0, x
            losses.append(loss), gnorms.append(gn), path.append(x)
            if (reason := stop(0, x, loss, gn, prev)) is not None:
                return reason, 0, x
            prev = loss
            for k in range(1, epochs + 1):
                cols = P.take(rng.permutation(n)).columns if shuffle else P.columns
                total, gsum = 0.0, 0.0
                for lo in starts:
                    part = tuple(c[lo : lo + batch] for c in cols)
                    m = len(part[0])
                    out = evaluate(x, PreparedData(part, m), order=1)
                    self.counter.nfev += 1
                    g = out[1:]
                    if not isfinite(float(out[0]) + float(g @ g)):
                        status = "diverged"
                        raise _Diverged
                    weight = m / n if mean else 1.0
                    total += weight * float(out[0])
                    gsum = gsum + weight * g
                    good = x
                    x = step(x, g)
                gn = math.sqrt(float(gsum @ gsum))
                losses.append(total), gnorms.append(gn), path.append(x)
                good = x
                if (reason := stop(k, x, total, gn, prev)) is not None:
                    status = reason
                    break
                prev = total
        except _Diverged:
            pass
        except KeyboardInterrupt:
            status = "interrupted"
        self.counter.njev = self.counter.nfev
        return status, k, good


class _Diverged(Exception):
    """Internal: leave the nested mini-batch loops."""


def _finish(run: _Run, status: str, k: int, last_good: np.ndarray, P: PreparedData,
            minibatch: bool, spec: str | Optimizer, suggest: str) -> DescentResult:
    f, history, counter = run.f, run.history, run.counter
    trim_history(history)
    losses, gnorms, path = history["loss"], history["grad_norm"], history["x"]
    opt = run.opt
    name = spec if isinstance(spec, str) else getattr(opt, "name", type(opt).__name__)
    common = dict(nit=k, history=history, method=name, param_symbols=tuple(f.params), tol=run.tol,
                  loss_tol=run.loss_tol, window=LOSS_WINDOW, epoch=k)
    if status == "diverged" and not path:
        status = "bad_start"
    if status == "interrupted" and path:
        i = best_index(losses)
        x, fun, gn = path[i], losses[i], gnorms[i]
    elif minibatch or not path:
        x = last_good
        out = f.evaluate(x, P, order=1)
        counter.add(1)
        fun, gn = float(out[0]), float(np.sqrt(out[1:] @ out[1:]))
    else:
        x, fun, gn = path[-1], losses[-1], gnorms[-1]
    return make_result(status, x=x, fun=fun, grad_norm=gn, counts=counter.as_tuple(),
                       suggest=suggest, **common)


def _divergence_hint(f: CompiledLoss, data: Any, x0: np.ndarray, opt: Optimizer) -> str:
    """What to try after a divergence: the stability bound of ``opt`` when it is known.

    For an eigenvalue ``L`` of the Hessian, plain gradient descent is stable for
    ``eta < 2/L``, heavy-ball momentum ``mu`` for ``eta < 2(1+mu)/L`` and this Nesterov form
    for ``eta < 2(1+mu)/((1+2mu)L)`` (the 2x2 iteration on a quadratic). The bound is exact
    when the Hessian is constant, else local at ``x0``.
    """
    lr = opt.learning_rate
    fallback = f"e.g. {lr / 10:g}"
    if type(opt) not in (GradientDescent, Momentum, Nesterov):
        return fallback
    try:
        report = stable_learning_rate(f.loss, data, at=x0)
    except Exception:  # noqa: BLE001 - a hint must never turn a result into an exception
        return fallback
    mu = getattr(opt, "momentum", 0.0)
    factor = {GradientDescent: 1.0, Momentum: 1.0 + mu,
              Nesterov: (1.0 + mu) / (1.0 + 2.0 * mu)}[type(opt)]
    bound = report.bound * factor
    if not (math.isfinite(bound) and 0 < bound < lr):
        return fallback
    where = "exact, as the Hessian is constant" if report.exact else "local, at x0"
    formula = {GradientDescent: "2/L", Momentum: "2(1+momentum)/L",
               Nesterov: "2(1+momentum)/((1+2 momentum) L)"}[type(opt)]
    return (f"below the stability bound {bound:.6g} = {formula} with L = "
            f"{report.lambda_max:.6g} the largest Hessian eigenvalue; {where}")


# ------------------------------------------------------------------------------ options
def _check_method(method: Any) -> str | Optimizer:
    if isinstance(method, Optimizer):
        return method
    return check_choice(method, OPTIMIZERS, "method")


def _check_learning_rate(learning_rate: Any, spec: str | Optimizer) -> bool:
    """Validate ``learning_rate``; True when it is ``"auto"``."""
    if isinstance(learning_rate, str):
        if learning_rate != "auto":
            raise SymcalcError(
                f"learning_rate must be a positive number or 'auto'; got {learning_rate!r}"
            )
        if isinstance(spec, Optimizer):
            raise SymcalcError(
                "learning_rate='auto' cannot be applied to an Optimizer object; give the "
                "object its learning rate or pass the method by name"
            )
        if OPTIMIZERS[spec] is Adam:
            raise SymcalcError(
                "learning_rate='auto' picks 1/L from the curvature, which suits 'gd', "
                "'momentum' and 'nesterov'; Adam's steps do not scale with the gradient, so "
                "pass a number (Adam's usual default is 0.001)"
            )
        return True
    check_positive(learning_rate, "learning_rate")
    return False


def _check_batch_size(batch_size: Any, n: int) -> int | None:
    """None for full batch (also when batch_size == n), else the validated size."""
    if batch_size is None:
        return None
    size = check_int(batch_size, "batch_size", minimum=1)
    if size > n:
        raise SymcalcError(f"batch_size must be at most the number of data rows ({n}); got {size}")
    return None if size == n else size


def auto_learning_rate(f: CompiledLoss, data: Any, x: np.ndarray, P: PreparedData,
                       counter: Counter | None = None) -> float:
    """Half the stability bound of :func:`symcalc.stable_learning_rate` at ``x`` (``1/L``,
    ``L`` the largest Hessian eigenvalue), or an Armijo backtracking step along ``-grad``
    when the Hessian has no positive eigenvalue."""
    counter = counter or Counter()
    bound = stable_learning_rate(f.loss, data, at=x, timeout=None).bound  # no budget documented
    counter.add(2)
    if math.isfinite(bound) and bound > 0:
        return bound / 2
    with np.errstate(all="ignore"):
        out = f.evaluate(x, P, order=1)
        counter.add(1)
        value, g = float(out[0]), out[1:]
        g2 = float(g @ g)
        t = 1.0
        if not (math.isfinite(value) and math.isfinite(g2)) or g2 == 0:
            return t
        for _ in range(60):
            trial = float(f.evaluate(x - t * g, P, order=0)[0])
            counter.add(0)
            if trial <= value - 0.5 * t * g2:
                break
            t *= 0.5
        return t


def _progress_bar(epochs: int) -> Any:
    from tqdm.auto import tqdm

    return tqdm(total=epochs, desc="gradient_descent", unit="epoch")


def _tick(bar: Any, k: int, loss: float) -> None:
    if k % max(1, bar.total // 200) == 0:
        bar.set_postfix(loss=f"{loss:.6g}", refresh=False)
    if k:
        bar.update(1)
