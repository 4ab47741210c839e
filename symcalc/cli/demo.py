"""``symcalc demo``: run all five capabilities on built-in data, print a report, write plots.

The demo is README's first command. It uses only the public API, so it doubles as an
end-to-end check of the installed package: a loss and its gradient, gradient descent with
convergence status, ROC AUC with a confidence interval, a symbolic limit with its numeric
cross-check, and a small network trained by backpropagation with a gradient check.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
import sympy as sp


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "demo",
        help="run all capabilities on built-in data and write plots",
        description="Run the five capabilities of symcalc on built-in data, print a compact "
        "report and write the plots as PNG files into --out.",
    )
    p.add_argument(
        "--out", default="symcalc-demo", help="folder for the PNG plots (default ./symcalc-demo)"
    )
    p.set_defaults(run=run)


def _section(title: str) -> None:
    print(f"\n== {title} ==")


def _save(fig, out: Path, name: str, written: list[Path]) -> None:
    path = out / name
    fig.savefig(path, dpi=100, bbox_inches="tight")
    written.append(path)


def _show(loss) -> None:
    """The loss and its readable gradient, one ``label : value`` line each."""
    for lhs, rhs in loss.display().text_lines():
        print(f"{'loss per sample' if lhs == 'loss' else lhs:<16}: {rhs}")


def run(args: argparse.Namespace) -> int:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    import symcalc as sc
    from symcalc.plotting import plot_contour, plot_loss_curve, plot_roc

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    start = time.perf_counter()
    print(f"symcalc {sc.__version__} demo (plots go to {out}/)")

    # 1 + 4. derivatives and partial derivatives -> gradient descent
    _section("1. Derivatives -> gradient descent (linear regression)")
    w, b, x, y = sp.symbols("w b x y")
    loss = sc.Loss((w * x + b - y) ** 2, params=[w, b], data=[x, y])
    ds = sc.datasets.make_linear(200, noise=0.1, seed=0)
    _show(loss)
    f = loss.compile()
    value, grad = f.value_and_grad([0.0, 0.0], ds)
    print(f"at w=0, b=0     : loss {value:.4f}, gradient {np.round(grad, 4).tolist()}")
    res = sc.gradient_descent(loss, ds, x0={w: 0.0, b: 0.0}, learning_rate="auto", epochs=500, tol=1e-12)
    fitted = ", ".join(f"{k}={v:.4f}" for k, v in res.params.items())
    true = ", ".join(f"{k}={v:.4f}" for k, v in ds.true_params.items())
    print(f"fitted          : {fitted}   (true: {true})")
    print(f"status          : converged={res.converged} after {res.nit} epochs: {res.message}")
    fig, ax = plt.subplots(figsize=(5, 3.5))
    plot_loss_curve(res, ax=ax)
    _save(fig, out, "loss_curve.png", written)
    fig, ax = plt.subplots(figsize=(5, 4))
    plot_contour(loss, ds, result=res, params=(w, b), ax=ax)
    _save(fig, out, "contour_path.png", written)

    _section("4. Partial derivatives -> Newton's method (logistic regression)")
    lg = sc.datasets.make_logistic(300, n_features=2, seed=0)
    w1, w2, x1, x2 = sp.symbols("w1 w2 x1 x2")
    z = w1 * x1 + w2 * x2 + b
    logistic = sc.Loss(sp.log(1 + sp.exp(z)) - y * z, params=[w1, w2, b], data=[x1, x2, y])
    newton = sc.minimize(logistic, lg, x0=[0.0, 0.0, 0.0], method="newton")
    _show(logistic)
    h12 = dict(logistic.display(hessian=True).text_lines())["d2/dw1dw2"]
    print(f"Hessian         : d2/dw1dw2 = {h12}, 3x3, compiled with its upper triangle")
    print(f"Newton          : {newton.nit} iterations, loss {newton.fun:.5f}, converged={newton.converged}")
    print("fitted          : " + ", ".join(f"{k}={v:.3f}" for k, v in newton.params.items()))

    # 2. integrals -> area under the ROC curve
    _section("2. Integrals -> area under the ROC curve")
    y_true, y_score = sc.datasets.make_scores(500, separation=1.0, seed=0)
    ci = sc.roc_auc_ci(y_true, y_score)
    print(f"ROC AUC         : {ci.auc:.4f}, 95% CI ({ci.ci[0]:.4f}, {ci.ci[1]:.4f}) by {ci.method}")
    t = sp.Symbol("t")
    integral = sc.integrate(sp.exp(-(t**2)), (t, -sp.oo, sp.oo))
    print(f"integral        : exp(-t^2) over R = {integral.exact} = {integral.numeric:.10f} (agree={integral.agree})")
    fig, ax = plt.subplots(figsize=(4.5, 4.5))
    plot_roc(y_true, y_score, ax=ax, ci=True)
    _save(fig, out, "roc_curve.png", written)

    # 3. limits -> convergence checks
    _section("3. Limits -> convergence checks")
    n = sp.Symbol("n", positive=True)
    lim = sc.limit((1 + 1 / n) ** n, n, sp.oo)
    print(f"limit           : (1 + 1/n)^n as n -> oo: symbolic {lim.symbolic}, numeric {lim.numeric:.10f}, agree={lim.agree}")
    seq = sc.analyze_sequence(res.history["loss"])
    order = seq.order if isinstance(seq.order, str) else f"{seq.order:.2f}"
    print(f"descent losses  : converged={seq.converged}, order {order}, rate {seq.rate:.3g}")
    bound = sc.stable_learning_rate(loss, ds)
    print(f"stable step     : learning_rate < {bound.bound:.4f} (2 / largest Hessian eigenvalue)")

    # 5. chain rule -> backpropagation
    _section("5. Chain rule -> backpropagation (XOR)")
    X, Y = sc.datasets.make_xor(200, noise=0.1, seed=0)
    model = sc.nn.Sequential(
        [sc.nn.Dense(8, activation="tanh", input_dim=2, seed=0), sc.nn.Dense(1, activation="sigmoid", seed=1)]
    )
    model.compile(optimizer="adam", loss="binary_crossentropy", learning_rate=0.05)
    hist = model.fit(X, Y, epochs=150, batch_size=32, seed=0, verbose=0)
    accuracy = float(np.mean((model.predict(X) > 0.5) == (Y > 0.5)))
    print(f"training loss   : {hist.history['loss'][0]:.4f} -> {hist.history['loss'][-1]:.4f}, accuracy {accuracy:.0%}")
    print(f"gradient check  : max relative error {model.gradient_check(X[:16], Y[:16]):.2e} vs finite differences")
    fig, ax = plt.subplots(figsize=(5, 3.5))
    ax.plot(np.arange(1, len(hist.history["loss"]) + 1), hist.history["loss"])
    ax.set(xlabel="epoch", ylabel="binary cross-entropy", title="network training loss", yscale="log")
    _save(fig, out, "network_loss.png", written)
    plt.close("all")

    _section("Plots")
    for path in written:
        print(f"wrote {path}")
    print(f"\ndone in {time.perf_counter() - start:.1f} s")
    return 0
