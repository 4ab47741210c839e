"""The work of ``symcalc auc`` (imported when the command runs, so ``symcalc --help`` stays
light): read the columns, print the AUC (binary, multiclass or a DeLong comparison), its
interval and the per-class figures, and save the ROC plot."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any, cast

import numpy as np

from ..errors import DataError
from ..metrics import MulticlassAUCInterval, roc_auc_ci, roc_auc_compare, roc_auc_score
from ._common import read_csv_columns


def _labels_and_positive(cells: np.ndarray, pos_label: str | None) -> tuple[np.ndarray, Any]:
    """Numeric labels when every cell is a number (so 10 > 9), else the strings."""
    try:
        labels: np.ndarray = cells.astype(np.float64)
    except ValueError:
        return cells, pos_label
    if pos_label is None:
        return labels, None
    try:
        return labels, float(pos_label)
    except ValueError:
        return labels, pos_label  # not a number: reported as not among the labels


def _show(label: object) -> str:
    if isinstance(label, float) and label.is_integer():
        return str(int(label))
    return str(label)


def _shown(classes: np.ndarray) -> str:
    return "[" + ", ".join(_show(c) for c in classes.tolist()) + "]"


def _binary_classes(args: argparse.Namespace, labels: np.ndarray, pos_label: Any) -> Any:
    """The positive label, after checking that the problem has two classes."""
    classes = np.unique(labels)
    if pos_label is not None and not (classes == pos_label).any():
        raise DataError(f"--pos-label {args.pos_label!r} is not one of the labels in column "
                        f"{args.label!r}: {_shown(classes)}")
    if classes.size < 2:
        raise DataError(f"column {args.label!r} holds only one class ({_show(classes[0])}); "
                        "ROC AUC needs positive and negative samples")
    if classes.size > 2 and pos_label is None:
        raise DataError(
            f"column {args.label!r} holds {classes.size} classes {_shown(classes)}: give one "
            "--score column per class (multiclass), or --pos-label for one class against "
            "the rest"
        )
    return classes[-1] if pos_label is None else pos_label


def _print_header(args: argparse.Namespace, labels: np.ndarray, positive: Any, text: str) -> None:
    n_pos = int((labels == positive).sum())
    print(f"{text}  (n = {labels.size}: {n_pos} positive [{args.label} = {_show(positive)}], "
          f"{labels.size - n_pos} negative)")


def _run_binary(args: argparse.Namespace, labels: np.ndarray, scores: np.ndarray,
                pos_label: Any, other: np.ndarray | None) -> Any:
    """Print the binary AUC (and CI or comparison); returns the positive label."""
    positive = _binary_classes(args, labels, pos_label)
    value = roc_auc_score(labels, scores, pos_label=positive)
    if other is None:
        _print_header(args, labels, positive, f"AUC = {value:.6f}")
    else:
        test = roc_auc_compare(labels, scores, other, level=args.level, pos_label=positive)
        _print_header(args, labels, positive, f"AUC({args.score[0]}) = {test.auc_a:.6f}, "
                      f"AUC({args.compare}) = {test.auc_b:.6f}")
        low, high = test.ci
        print(f"difference = {test.difference:.6f}, {100 * test.level:g}% CI {low:.6f} to "
              f"{high:.6f}  (DeLong, std error {test.std_error:.6f}, correlation "
              f"{test.correlation:.3f})")
        print(f"z = {test.z:.4f}, p = {test.p_value:.4g} (two-sided)")
    if args.ci:
        rep = roc_auc_ci(labels, scores, args.level, method=args.method, pos_label=positive)
        low, high = rep.ci
        print(
            f"{100 * rep.level:g}% CI ({rep.method}): {low:.6f} to {high:.6f}  "
            f"(std error {rep.std_error:.6f})"
        )
    return positive


def _run_multiclass(args: argparse.Namespace, labels: np.ndarray, scores: np.ndarray) -> None:
    classes = np.unique(labels)
    if classes.size == 2:
        raise DataError(f"column {args.label!r} holds 2 classes {_shown(classes)}: give one "
                        "--score column, the score of the positive (larger) class")
    if classes.size != len(args.score):
        raise DataError(
            f"{len(args.score)} --score columns for {classes.size} classes {_shown(classes)} "
            f"in column {args.label!r}: give one probability column per class, in sorted "
            "class order"
        )
    value = roc_auc_score(labels, scores, multi_class=args.multi_class, average=args.average)
    print(f"AUC ({args.multi_class}, {args.average}) = {value:.6f}  (n = {labels.size}, "
          f"{classes.size} classes)")
    if args.multi_class == "ovr":
        per_class = roc_auc_score(labels, scores, multi_class="ovr", average=None)
        for c, column, auc in zip(classes.tolist(), args.score, per_class):
            n_c = int((labels == c).sum())
            print(f"  class {_show(c)} [{column}]: AUC = {auc:.6f}  ({n_c} samples)")
    if args.ci:
        rep = cast(MulticlassAUCInterval,  # 2-D scores give the multiclass report
                   roc_auc_ci(labels, scores, args.level, method=args.method))
        low, high = rep.ci
        print(f"{100 * rep.level:g}% CI of the macro average (bootstrap, "
              f"{rep.n_bootstraps} resamples): {low:.6f} to {high:.6f}")
        for c, (lo, hi) in zip(rep.classes, rep.class_ci):
            print(f"  class {_show(c)}: {lo:.6f} to {hi:.6f} ({rep.class_method})")


def _save_plot(args: argparse.Namespace, labels: np.ndarray, scores: np.ndarray,
               pos_label: Any) -> None:
    from matplotlib.figure import Figure

    from ..plotting import plot_roc

    fig = Figure(figsize=(5, 5))
    ax = fig.subplots()
    name = args.score[0] if scores.ndim == 1 else None
    plot_roc(labels, scores, ax=ax, label=name, ci=args.ci, level=args.level,
             pos_label=pos_label if scores.ndim == 1 else None)
    out = Path(args.plot)
    if not out.suffix:  # matplotlib would add ".png": say so
        out = out.with_name(out.name + ".png")
    try:
        fig.savefig(out, dpi=120, bbox_inches="tight")
    except ValueError as exc:  # e.g. an unknown file extension
        raise DataError(f"--plot {args.plot!r}: {exc}") from None
    print(f"saved ROC plot to {out}")


def report(args: argparse.Namespace) -> int:
    if args.compare and len(args.score) > 1:
        raise DataError("--compare works with one --score column (binary labels)")
    numeric = [*args.score, *([args.compare] if args.compare else [])]
    cols = read_csv_columns(args.file, [args.label, *numeric], numeric=numeric)
    labels, pos_label = _labels_and_positive(cols[args.label], args.pos_label)
    if len(args.score) > 1:
        if args.pos_label is not None:
            raise DataError("--pos-label applies to one --score column (binary labels)")
        scores = np.column_stack([cols[c] for c in args.score])
        _run_multiclass(args, labels, scores)
    else:
        scores = cols[args.score[0]]
        other = cols[args.compare] if args.compare else None
        pos_label = _run_binary(args, labels, scores, pos_label, other)
    if args.plot:
        _save_plot(args, labels, scores, pos_label)
    return 0
