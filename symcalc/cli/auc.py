"""``symcalc auc``: ROC AUC of score columns against a label column of a CSV file.

One ``--score`` column: the binary AUC (``--ci`` for its interval, ``--compare COL`` for
DeLong's test against a second model's scores). Several ``--score`` columns: a multiclass
AUC, one probability column per class in sorted class order.
"""

from __future__ import annotations

import argparse


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "auc",
        help="ROC AUC (with its confidence interval, or compared with a second model) of "
        "scores in a CSV file",
        description="Area under the ROC curve of SCORE against the LABEL column of a CSV file "
        "with a header row. Labels may be numbers or strings; by default the larger label is "
        "the positive class. Several --score columns give a multiclass AUC: one probability "
        "column per class, in sorted class order.",
    )
    p.add_argument("file", metavar="FILE.csv", help="CSV file with a header row")
    p.add_argument("--label", required=True, metavar="COL", help="column of class labels")
    p.add_argument("--score", required=True, nargs="+", metavar="COL",
                   help="column of numeric scores; several for multiclass probabilities")
    p.add_argument("--compare", metavar="COL",
                   help="a second model's scores: DeLong's test of the two AUCs")
    p.add_argument("--pos-label", metavar="V", help="the positive label (default: the larger)")
    p.add_argument("--multi-class", choices=("ovr", "ovo"), default="ovr",
                   help="multiclass: one-vs-rest (default) or one-vs-one (Hand & Till)")
    p.add_argument("--average", choices=("macro", "weighted", "micro"), default="macro",
                   help="multiclass average (default macro; micro needs ovr)")
    p.add_argument("--ci", action="store_true", help="also print a confidence interval")
    p.add_argument("--level", type=float, default=0.95, help="confidence level (default 0.95)")
    p.add_argument(
        "--method", choices=("delong", "bootstrap"), default="delong", help="CI method"
    )
    p.add_argument("--plot", metavar="OUT.png", help="save the ROC curve plot to this file")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from ._auc_report import report  # NumPy and the metrics load only when the command runs

    return report(args)
