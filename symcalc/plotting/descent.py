"""Plots of an optimization run: loss curve, loss contour with the descent path, gradient field.

pyplot is imported lazily inside each function; every function takes ``ax=None`` (a new
figure then) and returns the Axes it drew on.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from .._validate import as_float_array, as_symbol, check_int, describe
from ..errors import SymbolError, SymcalcError

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.axes import Axes

#: A :class:`symcalc.DescentResult` (not imported: optimize results import these plots)
DescentResult = Any

__all__ = ["plot_loss_curve", "plot_contour", "plot_gradient_field"]


def _axes(ax: Axes | None) -> Axes:
    if ax is not None:
        return ax
    import matplotlib.pyplot as plt

    return plt.figure().add_subplot()


def plot_loss_curve(result: DescentResult | Sequence[float], ax: Axes | None = None,
                    log: bool = True) -> Axes:
    """The loss per epoch (or iteration) of a run.

    Parameters
    ----------
    result : DescentResult or sequence of float
        A run (its ``history["loss"]`` is drawn) or the loss values themselves.
    ax : matplotlib Axes, optional
    log : bool
        Logarithmic y axis (``symlog`` when some loss is <= 0).

    Returns
    -------
    matplotlib.axes.Axes

    Examples
    --------
    >>> import matplotlib; matplotlib.use("Agg")
    >>> ax = plot_loss_curve([4.0, 2.0, 1.0, 0.5])
    >>> ax.get_yscale()
    'log'
    """
    history = getattr(result, "history", None)
    values = history["loss"] if history is not None else result
    y = as_float_array(values, "loss history", finite=False)
    ax = _axes(ax)
    ax.plot(np.arange(len(y)), y, color="C0", lw=1.5)
    if log:
        finite = y[np.isfinite(y)]
        if finite.size and finite.min() > 0:
            ax.set_yscale("log")
        else:
            ax.set_yscale("symlog", linthresh=1e-8)
    method = getattr(result, "method", "")
    step = "iteration" if method and method not in ("gd", "sgd", "momentum", "nesterov", "adam") else "epoch"
    ax.set_xlabel(step)
    ax.set_ylabel("loss")
    if method:
        ax.set_title(f"{method}: {'converged' if result.converged else result.status}")
    return ax


# ------------------------------------------------------------------------- 2-D slices
def _slice(loss: Any, data: Any, result: Any, params: Any, center: Any) -> tuple:
    """Compiled loss, prepared data, the two parameter indices and the centre point."""
    from ..codegen.compiled import setup

    x0 = center if center is not None else (result.x if result is not None else None)
    f, prepared, x = setup(loss, data, x0, "numpy")
    names = [p.name for p in f.params]
    if len(names) < 2:
        raise SymcalcError(f"a 2-D plot needs a loss with at least two parameters; got {names}")
    if params is None:
        params = (f.params[0], f.params[1])
    if isinstance(params, (str, bytes)) or len(params) != 2:
        raise SymcalcError(f"params must name two parameters, e.g. (w, b); got {describe(params)}")
    idx = []
    for p in params:
        name = as_symbol(p, "params entry").name
        if name not in names:
            raise SymbolError(f"params names {name!r}, which is not a parameter; parameters are {names}")
        idx.append(names.index(name))
    if idx[0] == idx[1]:
        raise SymcalcError(f"params must name two different parameters; got {names[idx[0]]!r} twice")
    return f, prepared, idx[0], idx[1], x


def _limits(result: Any, x: np.ndarray, i: int, j: int, xlim: Any, ylim: Any) -> tuple:
    pts = np.array([x[[i, j]]])
    if result is not None and result.history.get("x"):
        pts = np.vstack([pts, np.array(result.history["x"])[:, [i, j]]])
    pts = pts[np.isfinite(pts).all(axis=1)]
    lo, hi = pts.min(axis=0), pts.max(axis=0)
    pad = np.maximum((hi - lo) * 0.25, 0.5)
    auto = [(lo[k] - pad[k], hi[k] + pad[k]) for k in range(2)]
    out = []
    for given, default, label in ((xlim, auto[0], "xlim"), (ylim, auto[1], "ylim")):
        if given is None:
            out.append(default)
            continue
        lim = as_float_array(given, label)
        if lim.shape != (2,) or not lim[0] < lim[1]:
            raise SymcalcError(f"{label} must be (low, high) with low < high; got {describe(given)}")
        out.append((lim[0], lim[1]))
    return out[0], out[1]


def _grid(f: Any, prepared: Any, x: np.ndarray, i: int, j: int, xlim: tuple, ylim: tuple,
          resolution: int, order: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Loss (order 0) or value+gradient (order 1) on a resolution x resolution grid."""
    gx = np.linspace(*xlim, resolution)
    gy = np.linspace(*ylim, resolution)
    width = 1 if order == 0 else 1 + len(x)
    out = np.empty((resolution, resolution, width))
    theta = x.copy()
    for r, vy in enumerate(gy):
        for c, vx in enumerate(gx):
            theta[i], theta[j] = vx, vy
            out[r, c] = f.evaluate(theta, prepared, order=order)[:width]
    return gx, gy, out


def plot_contour(
    loss: Any,
    data: Any = None,
    result: DescentResult | None = None,
    params: Sequence[Any] | None = None,
    ax: Axes | None = None,
    *,
    center: Any = None,
    xlim: Sequence[float] | None = None,
    ylim: Sequence[float] | None = None,
    resolution: int = 60,
    levels: int = 30,
    log: bool = True,
) -> Axes:
    """Contours of the loss over two parameters, with the descent path of ``result`` on top.

    The other parameters are held at ``center`` (default ``result.x``, else zeros).

    Parameters
    ----------
    loss : Loss or CompiledLoss
    data : mapping or DataFrame, optional
        The data the loss is evaluated on.
    result : DescentResult, optional
        A run whose ``history["x"]`` path is drawn.
    params : pair of Symbol or name, optional
        The two parameters on the axes (default: the first two).
    ax : matplotlib Axes, optional
    center : array-like or mapping, optional
        Values of all parameters for the slice.
    xlim, ylim : (low, high), optional
        Plot ranges (default: the path and centre, padded).
    resolution : int
        Grid points per axis.
    levels : int
        Number of contour levels.
    log : bool
        Geometrically spaced levels (when the loss is positive on the grid).

    Returns
    -------
    matplotlib.axes.Axes

    Examples
    --------
    >>> import matplotlib; matplotlib.use("Agg")
    >>> import sympy as sp, symcalc as sc
    >>> a, b = sp.symbols("a b")
    >>> ax = plot_contour(sc.Loss(a**2 + 10*b**2 + 1, params=[a, b]), resolution=20)
    >>> ax.get_xlabel(), ax.get_ylabel()
    ('a', 'b')
    """
    resolution = check_int(resolution, "resolution", minimum=3)
    levels = check_int(levels, "levels", minimum=2)
    f, prepared, i, j, x = _slice(loss, data, result, params, center)
    xl, yl = _limits(result, x, i, j, xlim, ylim)
    with np.errstate(all="ignore"):
        gx, gy, out = _grid(f, prepared, x, i, j, xl, yl, resolution, order=0)
    z = np.ma.masked_invalid(out[..., 0])
    ax = _axes(ax)
    lv: Any = levels
    if log and z.count() and z.min() > 0 and z.max() > z.min():
        lv = np.geomspace(z.min(), z.max(), levels)
    cs = ax.contour(gx, gy, z, levels=lv, cmap="viridis", linewidths=0.8)
    from matplotlib.ticker import FormatStrFormatter

    # 3 significant digits: log-spaced levels near 0 must not all read "0.0"
    ax.figure.colorbar(cs, ax=ax, label="loss", format=FormatStrFormatter("%.3g"))
    if result is not None and result.history.get("x"):
        path = np.array(result.history["x"])[:, [i, j]]
        ax.plot(path[:, 0], path[:, 1], ".-", color="C3", ms=3, lw=1, label=result.method)
        ax.plot(*path[0], "o", color="C3", mfc="white", label="start")
        ax.plot(*path[-1], "*", color="C3", ms=10, label="end")
        ax.legend(loc="best", fontsize="small")
    ax.set_xlabel(f.params[i].name)
    ax.set_ylabel(f.params[j].name)
    return ax


def plot_gradient_field(
    loss: Any,
    data: Any = None,
    result: DescentResult | None = None,
    params: Sequence[Any] | None = None,
    ax: Axes | None = None,
    *,
    center: Any = None,
    xlim: Sequence[float] | None = None,
    ylim: Sequence[float] | None = None,
    resolution: int = 20,
) -> Axes:
    """Arrows of the descent direction ``-grad`` over two parameters (unit length, coloured
    by the log10 of the gradient norm), with the path of ``result`` if given.

    Parameters are as in :func:`plot_contour`.

    Returns
    -------
    matplotlib.axes.Axes

    Examples
    --------
    >>> import matplotlib; matplotlib.use("Agg")
    >>> import sympy as sp, symcalc as sc
    >>> a, b = sp.symbols("a b")
    >>> ax = plot_gradient_field(sc.Loss(a**2 + 10*b**2, params=[a, b]), resolution=8)
    >>> len(ax.collections)
    1
    """
    resolution = check_int(resolution, "resolution", minimum=2)
    f, prepared, i, j, x = _slice(loss, data, result, params, center)
    xl, yl = _limits(result, x, i, j, xlim, ylim)
    with np.errstate(all="ignore"):
        gx, gy, out = _grid(f, prepared, x, i, j, xl, yl, resolution, order=1)
        u, v = -out[..., 1 + i], -out[..., 1 + j]
        norm = np.hypot(u, v)
        safe = np.where(norm > 0, norm, 1.0)
        color = np.log10(np.where(norm > 0, norm, np.nan))
    ax = _axes(ax)
    X, Y = np.meshgrid(gx, gy)
    ax.quiver(X, Y, u / safe, v / safe, np.ma.masked_invalid(color), cmap="viridis",
              angles="xy", pivot="mid")
    if result is not None and result.history.get("x"):
        path = np.array(result.history["x"])[:, [i, j]]
        ax.plot(path[:, 0], path[:, 1], ".-", color="C3", ms=3, lw=1)
    ax.set_xlabel(f.params[i].name)
    ax.set_ylabel(f.params[j].name)
    return ax
