"""Validation of binary-classification inputs shared by the ROC functions.

Turns ``(y_true, y_score, sample_weight, pos_label)`` into a boolean "is positive" mask, a
float64 score array and optional float64 weights, or raises a :class:`SymcalcError` naming the
argument, what was found and what was expected.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .._validate import as_float_array, check_equal_lengths, describe
from ..errors import DataError, NonFiniteError, ShapeError

__all__ = ["binary_inputs"]


def _as_label_array(y_true: Any) -> np.ndarray:
    if hasattr(y_true, "to_numpy") and not isinstance(y_true, np.ndarray):
        y_true = y_true.to_numpy()
    if isinstance(y_true, (str, bytes)):
        raise DataError(f"y_true must be an array of labels; got the string {describe(y_true)}")
    try:
        y = np.asarray(y_true)
    except Exception as exc:  # ragged input
        raise DataError(f"y_true could not be converted to an array: {exc}") from None
    if y.ndim != 1:
        got = "a scalar" if y.ndim == 0 else f"shape {y.shape}"
        raise ShapeError(f"y_true must be a 1-D array of labels; got {got}")
    if y.size == 0:
        raise DataError("y_true is empty; at least one positive and one negative label are needed")
    if y.dtype.kind == "f" and not np.isfinite(y).all():
        i = int(np.flatnonzero(~np.isfinite(y))[0])
        raise NonFiniteError(f"y_true contains {y[i]} at index {i}; labels must be finite")
    if y.dtype.kind == "c":
        raise DataError(f"y_true must hold class labels; got complex values (dtype {y.dtype})")
    return y


def _classes(y: np.ndarray) -> np.ndarray:
    """The sorted distinct labels (all of them when there are at most 3)."""
    if y.dtype.kind in "biuf":  # O(n) scan instead of np.unique's sort
        first = y[0]
        others = y[y != first]
        if others.size == 0 or not (others != others[0]).any():
            return np.unique(np.concatenate([[first], others[:1]]))
    try:
        classes = np.unique(y)
    except TypeError:
        kinds = sorted({type(v).__name__ for v in y.tolist()})
        raise DataError(
            f"y_true mixes label types {kinds}; labels must be all numbers or all strings"
        ) from None
    if y.dtype.kind == "O" and any(v is None for v in classes.tolist()):
        raise DataError("y_true contains None; every sample needs a label")
    return classes


def _plain(value: Any) -> Any:
    return value.item() if isinstance(value, np.generic) else value


def _positive_label(classes: np.ndarray, pos_label: Any, default: str) -> Any:
    shown = describe(classes.tolist())
    if pos_label is not None:
        if not (classes == pos_label).any():
            raise DataError(
                f"pos_label={_plain(pos_label)!r} is not one of the labels in y_true {shown}"
            )
        return pos_label
    if default == "larger":
        return classes[-1]
    numeric = classes.dtype.kind in "biuf"
    if numeric and (set(classes.tolist()) <= {0, 1} or set(classes.tolist()) <= {-1, 1}):
        return 1
    raise DataError(
        f"y_true has labels {shown}, not {{0, 1}} or {{-1, 1}}; pass pos_label= to say "
        "which label is the positive class"
    )


def binary_inputs(
    y_true: Any,
    y_score: Any,
    sample_weight: Any = None,
    pos_label: Any = None,
    *,
    default: str = "one",
) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """Validate binary-classification inputs.

    Parameters
    ----------
    default : {"one", "larger"}
        How the positive class is chosen when ``pos_label`` is None: ``"one"`` requires labels
        in {0, 1} or {-1, 1} and takes 1 (``sklearn.metrics.roc_curve``); ``"larger"`` takes
        the larger of the two labels (``sklearn.metrics.roc_auc_score``).

    Returns
    -------
    is_pos : bool ndarray, score : float64 ndarray, weight : float64 ndarray or None
        Samples with zero weight are removed.
    """
    y = _as_label_array(y_true)
    score = as_float_array(y_score, "y_score")
    arrays = {"y_true": y, "y_score": score}
    weight = None
    if sample_weight is not None:
        weight = as_float_array(sample_weight, "sample_weight")
        arrays["sample_weight"] = weight
    what = "y_true and y_score" if weight is None else "y_true, y_score and sample_weight"
    check_equal_lengths(arrays, what=what)
    classes = _classes(y)
    if len(classes) > 2:
        raise DataError(
            f"y_true must hold binary labels (two classes); found {len(classes)} distinct "
            f"values {describe(classes.tolist())}"
        )
    if len(classes) < 2:
        raise DataError(
            f"y_true contains only one class ({classes.tolist()[0]!r}); ROC AUC needs both "
            "positive and negative samples"
        )
    is_pos = y == _positive_label(classes, pos_label, default)
    if weight is not None:
        if (weight < 0).any():
            i = int(np.flatnonzero(weight < 0)[0])
            raise DataError(f"sample_weight must be >= 0; got {weight[i]:g} at index {i}")
        keep = weight != 0
        if not keep.all():
            is_pos, score, weight = is_pos[keep], score[keep], weight[keep]
        for cls, mask in (("positive", is_pos), ("negative", ~is_pos)):
            if not mask.any():
                raise DataError(
                    f"every {cls} sample has sample_weight 0; ROC AUC needs weight on both "
                    "classes"
                )
    return is_pos, score, weight
