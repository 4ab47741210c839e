"""ROC AUC: symcalc vs scikit-learn in the same run, and the DeLong / bootstrap intervals.

Targets (issue 5): ``roc_auc_score`` on N = 10,000,000 scores at most 0.5x scikit-learn's time;
``roc_auc_ci`` (DeLong) on N = 1,000,000 in under 3 s.
"""

from __future__ import annotations

import numpy as np

from ._util import have, table, timeit


def _data(n: int, decimals: int | None, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, n)
    s = rng.normal(size=n) + 0.7 * y
    return y, (s if decimals is None else np.round(s, decimals))


def run(quick: bool) -> str:
    import symcalc as sc

    n_auc = 100_000 if quick else 10_000_000
    n_ci = 100_000 if quick else 1_000_000
    repeats = 3 if quick else 2
    rows = []
    for case, decimals in (("no ties", None), ("ties (2 decimals)", 2)):
        y, s = _data(n_auc, decimals)
        ours = timeit(lambda: sc.roc_auc_score(y, s), repeats=repeats, warmup=1 if quick else 0)
        if have("sklearn"):
            from sklearn.metrics import roc_auc_score

            ref = timeit(lambda: roc_auc_score(y, s), repeats=repeats, warmup=1 if quick else 0)
            diff = abs(sc.roc_auc_score(y, s) - roc_auc_score(y, s))
            rows.append((f"roc_auc_score, {case}", f"{n_auc:,}", ours, ref, ours / ref,
                         "<= 0.5", f"{diff:.1e}"))
        else:
            rows.append((f"roc_auc_score, {case}", f"{n_auc:,}", ours, "-", "-", "<= 0.5", "-"))
    y, s = _data(n_ci, None)
    t_delong = timeit(lambda: sc.roc_auc_ci(y, s), repeats=repeats)
    rows.append(("roc_auc_ci DeLong", f"{n_ci:,}", t_delong, "-", "-", "< 3 s", "-"))
    n_boot = 10_000
    y, s = _data(n_boot, 2)
    t_boot = timeit(lambda: sc.roc_auc_ci(y, s, method="bootstrap", n_bootstraps=2000),
                    repeats=1 if not quick else 2)
    rows.append(("roc_auc_ci bootstrap x2000", f"{n_boot:,}", t_boot, "-", "-", "-", "-"))
    header = ("case", "N", "symcalc s", "sklearn s", "ratio", "target", "|diff|")
    return table("ROC AUC (time in seconds, ratio = symcalc / scikit-learn)", header, rows)
