"""``symcalc auc``: ROC AUC of a score column against a label column of a CSV file."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from ..errors import DataError
from ._common import read_csv_columns

if TYPE_CHECKING:  # pragma: no cover
    import numpy as np


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "auc",
        help="ROC AUC (and its confidence interval) of scores in a CSV file",
        description="Area under the ROC curve of SCORE against binary LABEL columns of a CSV "
        "file with a header row. Labels may be numbers or strings; by default the larger label "
        "is the positive class.",
    )
    p.add_argument("file", metavar="FILE.csv", help="CSV file with a header row")
    p.add_argument("--label", required=True, metavar="COL", help="column of binary labels")
    p.add_argument("--score", required=True, metavar="COL", help="column of numeric scores")
    p.add_argument("--pos-label", metavar="V", help="the positive label (default: the larger)")
    p.add_argument("--ci", action="store_true", help="also print a confidence interval")
    p.add_argument("--level", type=float, default=0.95, help="confidence level (default 0.95)")
    p.add_argument(
        "--method", choices=("delong", "bootstrap"), default="delong", help="CI method"
    )
    p.add_argument("--plot", metavar="OUT.png", help="save the ROC curve plot to this file")
    p.set_defaults(run=run)


def _labels_and_positive(cells: np.ndarray, pos_label: str | None) -> tuple[np.ndarray, object]:
    """Numeric labels when every cell is a number (so 10 > 9), else the strings."""
    import numpy as np

    try:
        labels: np.ndarray = cells.astype(np.float64)
    except ValueError:
        return cells, pos_label
    if pos_label is None:
        return labels, None
    try:
        return labels, float(pos_label)
    except ValueError:
        raise DataError(
            f"--pos-label {pos_label!r} is not one of the labels {sorted(set(cells.tolist()))}"
        ) from None


def _show(label: object) -> str:
    if isinstance(label, float) and label.is_integer():
        return str(int(label))
    return str(label)


def run(args: argparse.Namespace) -> int:
    import numpy as np

    from ..metrics import roc_auc_ci, roc_auc_score

    cols = read_csv_columns(args.file, [args.label, args.score], numeric=[args.score])
    labels, pos_label = _labels_and_positive(cols[args.label], args.pos_label)
    scores = cols[args.score]
    value = roc_auc_score(labels, scores, pos_label=pos_label)
    positive = pos_label if pos_label is not None else np.unique(labels)[-1]
    n_pos = int((labels == positive).sum())
    print(
        f"AUC = {value:.6f}  (n = {labels.size}: {n_pos} positive [{args.label} = "
        f"{_show(positive)}], {labels.size - n_pos} negative)"
    )
    if args.ci:
        rep = roc_auc_ci(labels, scores, args.level, method=args.method, pos_label=pos_label)
        low, high = rep.ci
        print(
            f"{100 * rep.level:g}% CI ({rep.method}): {low:.6f} to {high:.6f}  "
            f"(std error {rep.std_error:.6f})"
        )
    if args.plot:
        from matplotlib.figure import Figure

        from ..plotting import plot_roc

        fig = Figure(figsize=(5, 5))
        ax = fig.subplots()
        plot_roc(labels, scores, ax=ax, label=args.score, ci=args.ci, level=args.level,
                 pos_label=pos_label)
        try:
            fig.savefig(args.plot, dpi=120, bbox_inches="tight")
        except ValueError as exc:  # e.g. an unknown file extension
            raise DataError(f"--plot {args.plot!r}: {exc}") from None
        print(f"saved ROC plot to {args.plot}")
    return 0
