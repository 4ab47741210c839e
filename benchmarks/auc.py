"""ROC AUC: symcalc vs scikit-learn in the same run, and the DeLong / bootstrap intervals.

Targets (issue 15): binary ``roc_auc_score`` on N = 10,000,000 scores at most 0.3x
scikit-learn's time; one-vs-rest with 10 classes at N = 1,000,000 no slower than
scikit-learn (<= 1x); every value identical to scikit-learn's (``==``, not close).
``roc_auc_ci`` (DeLong) on N = 1,000,000 in under 3 s.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from ._util import have, table, timeit


def _binary(n: int, decimals: int | None, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, n)
    s = rng.normal(size=n) + 0.7 * y
    return y, (s if decimals is None else np.round(s, decimals))


def _multiclass(n: int, k: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    y = rng.integers(0, k, n)
    logits = rng.normal(size=(n, k)) + (y[:, None] == np.arange(k))
    return y, np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)


def _row(case: str, n: int, ours: Callable[[], Any], ref: Callable[[], Any] | None,
         target: str, repeats: int, warmup: int) -> tuple[Any, ...]:
    t_ours = timeit(ours, repeats=repeats, warmup=warmup)
    if ref is None:
        return (case, f"{n:,}", t_ours, "-", "-", target, "-")
    t_ref = timeit(ref, repeats=repeats, warmup=warmup)
    same = np.array_equal(ours(), ref(), equal_nan=True)
    return (case, f"{n:,}", t_ours, t_ref, t_ours / t_ref, target, "yes" if same else "NO")


def run(quick: bool) -> str:
    import symcalc as sc

    n_bin = 100_000 if quick else 10_000_000
    n_mc = 20_000 if quick else 1_000_000
    n_ci = 100_000 if quick else 1_000_000
    repeats, warmup = (3, 1) if quick else (2, 0)
    skm = None
    if have("sklearn"):
        from sklearn import metrics as skm
    rows = []

    def ref(fn: str, *args: Any, **kwargs: Any) -> Callable[[], Any] | None:
        return None if skm is None else (lambda: getattr(skm, fn)(*args, **kwargs))

    for case, decimals in (("binary, no ties", None), ("binary, ties (2 decimals)", 2)):
        y, s = _binary(n_bin, decimals)
        rows.append(_row(case, n_bin, lambda: sc.roc_auc_score(y, s),
                         ref("roc_auc_score", y, s), "<= 0.3", repeats, warmup))
    y, s = _binary(n_ci, 2)
    w = np.random.default_rng(1).uniform(0, 2, n_ci)
    rows.append(_row("binary, float weights", n_ci,
                     lambda: sc.roc_auc_score(y, s, sample_weight=w),
                     ref("roc_auc_score", y, s, sample_weight=w), "-", repeats, warmup))
    y, p = _multiclass(n_mc, 10)
    for mc, avg in (("ovr", "macro"), ("ovr", "weighted"), ("ovo", "macro")):
        n = n_mc if mc == "ovr" else n_mc // 10
        yy, pp = y[:n], p[:n]
        rows.append(_row(f"10 classes, {mc} {avg}", n,
                         lambda: sc.roc_auc_score(yy, pp, multi_class=mc, average=avg),
                         ref("roc_auc_score", yy, pp, multi_class=mc, average=avg),
                         "<= 1" if mc == "ovr" else "-", repeats, warmup))
    y, s = _binary(n_ci, None)
    rows.append(_row("roc_auc_ci DeLong", n_ci, lambda: sc.roc_auc_ci(y, s).auc, None,
                     "< 3 s", repeats, warmup))
    other = s + np.random.default_rng(2).normal(size=n_ci)
    rows.append(_row("roc_auc_compare DeLong", n_ci,
                     lambda: sc.roc_auc_compare(y, s, other).p_value, None, "-", repeats, 0))
    n_boot = 2_000 if quick else 10_000
    y, s = _binary(n_boot, 2)
    rows.append(_row("roc_auc_ci bootstrap x2000", n_boot,
                     lambda: sc.roc_auc_ci(y, s, method="bootstrap").ci, None, "-", 1, 0))
    y, p = _multiclass(n_boot, 3)
    rows.append(_row("roc_auc_ci 3 classes (bootstrap x2000)", n_boot,
                     lambda: sc.roc_auc_ci(y, p).ci, None, "-", 1, 0))
    header = ("case", "N", "symcalc s", "sklearn s", "ratio", "target", "identical")
    return table("ROC AUC (time in seconds, ratio = symcalc / scikit-learn)", header, rows)
