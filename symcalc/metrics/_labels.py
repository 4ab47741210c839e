"""Validation of ROC/AUC inputs: class labels, scores and sample weights.

The rules are scikit-learn's (``type_of_target`` and ``_check_pos_label_consistency``), so the
same inputs are accepted and refused, with messages that start with scikit-learn's wording and
then say what was found: bytes labels are a :class:`LabelTypeError` (also a ``TypeError``),
non-integer float labels are "continuous", a multiclass ``y_true`` needs ``pos_label`` in
``roc_curve``. Scores keep an integer dtype, so int64 scores above 2**53 are ranked exactly.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np

from .._validate import as_float_array, check_equal_lengths, describe
from ..errors import DataError, LabelTypeError, NonFiniteError, ShapeError

__all__ = ["as_labels", "as_scores", "as_weights", "check_lengths", "classes_of", "target_kind",
           "BinaryInputs", "binary_inputs", "binary_problem", "UNDEFINED_ONE_CLASS"]

UNDEFINED_ONE_CLASS = (
    "Only one class is present in y_true. ROC AUC score is not defined in that case."
)
_BYTES = (
    "Support for labels represented as bytes is not supported. Convert the labels to a "
    "string or integer format."
)


def _to_numpy(x: Any, name: str) -> np.ndarray:
    if hasattr(x, "to_numpy") and not isinstance(x, np.ndarray):
        x = x.to_numpy()
    if isinstance(x, (str, bytes)):
        raise DataError(f"{name} must be an array; got the string {describe(x)}")
    if x is None:
        raise DataError(f"{name} must be an array; got None")
    try:
        return np.asarray(x)
    except Exception as exc:  # ragged input
        raise DataError(f"{name} could not be converted to an array: {exc}") from None


def _as_float(x: Any, name: str, **options: Any) -> np.ndarray:
    """:func:`as_float_array`, with numbers beyond float64 (Python ints such as 10**400)
    reported as a :class:`DataError` instead of an ``OverflowError``."""
    try:
        return as_float_array(x, name, **options)
    except OverflowError:
        raise DataError(f"{name} holds a number too large for float64 (above about 1.8e308); "
                        "rescale it first") from None


def as_labels(y_true: Any, name: str = "y_true", *, allow_2d: bool = False) -> np.ndarray:
    """``y_true`` as a 1-D label array (or a 2-D indicator matrix when ``allow_2d``).

    A column of shape ``(n, 1)`` is flattened. Raises :class:`LabelTypeError` for bytes,
    :class:`NonFiniteError` for NaN/inf, :class:`ShapeError` for other shapes.
    """
    y = _to_numpy(y_true, name)
    if y.ndim == 2 and y.shape[1] == 1:
        y = y[:, 0]
    if y.ndim != 1 and not (allow_2d and y.ndim == 2):
        got = "a scalar" if y.ndim == 0 else f"shape {y.shape}"
        wanted = "a 1-D array of labels" + (" or a 2-D indicator matrix" if allow_2d else "")
        raise ShapeError(f"{name} must be {wanted}; got {got}")
    if y.size == 0:
        raise DataError(f"{name} is empty; at least one positive and one negative label are needed")
    if y.dtype.kind == "S" or (y.dtype.kind == "O" and isinstance(y.flat[0], bytes)):
        raise LabelTypeError(f"{_BYTES} Got {name} = {describe(y.tolist())}")
    if y.dtype.kind == "c":
        raise DataError(f"{name} must hold class labels; got complex values (dtype {y.dtype})")
    if y.dtype.kind == "f" and not np.isfinite(y).all():
        i = np.argwhere(~np.isfinite(y))[0]
        where = int(i[0]) if y.ndim == 1 else tuple(int(v) for v in i)
        raise NonFiniteError(
            f"{name} contains {y[tuple(i)]} at index {where}; labels must be finite"
        )
    return y


def classes_of(y: np.ndarray, name: str = "y_true") -> np.ndarray:
    """The sorted distinct labels; an O(n) scan instead of a sort when there are at most two."""
    if y.dtype.kind in "biuf" and y.ndim == 1:
        first = y[0]
        others = y[y != first]
        if others.size == 0 or not (others != others[0]).any():
            return np.unique(np.concatenate([[first], others[:1]]))
    if y.dtype.kind == "O" and any(v is None for v in y.ravel().tolist()):
        raise DataError(f"{name} contains None; every sample needs a label")
    try:
        classes = np.unique(y)
    except TypeError:
        kinds = sorted({type(v).__name__ for v in y.ravel().tolist()})
        raise LabelTypeError(
            f"{name} mixes label types {kinds}; labels must be all numbers or all strings"
        ) from None
    if y.dtype.kind == "O":
        values = classes.tolist()
        if any(isinstance(v, bytes) for v in values):
            raise LabelTypeError(f"{_BYTES} Got {name} = {describe(values)}")
    return classes


def target_kind(y: np.ndarray, classes: np.ndarray, name: str = "y_true") -> str:
    """``"binary"``, ``"multiclass"`` or ``"multilabel-indicator"`` (scikit-learn's names).

    Raises :class:`DataError` for non-integer float labels ("continuous") and for a 2-D
    ``y_true`` that is not a 0/1 indicator matrix.
    """
    if y.dtype.kind == "f":
        frac = classes != np.trunc(classes)
        if frac.any():
            example = classes[np.flatnonzero(frac)[0]]
            suffix = "-multioutput" if y.ndim == 2 else ""
            raise DataError(
                f"continuous{suffix} format is not supported: {name} holds non-integer values "
                f"such as {example:g}; ROC curves need class labels"
            )
    if y.ndim == 2:
        numeric = y.dtype.kind in "biuf"
        if not numeric or not set(classes.tolist()) <= {0, 1}:
            raise DataError(
                f"multiclass-multioutput format is not supported: a 2-D {name} must be a "
                f"label indicator matrix of 0/1; found values {describe(classes.tolist())}"
            )
        return "multilabel-indicator"
    return "binary" if classes.size <= 2 else "multiclass"


def as_scores(y_score: Any, name: str = "y_score", *, ndim: tuple[int, ...] = (1,)) -> np.ndarray:
    """Scores as an array that ranks exactly: integer dtypes are kept (int64 above 2**53
    would collide as float64), everything else becomes finite float64."""
    raw = _to_numpy(y_score, name)
    if raw.dtype.kind not in "iu":
        return _as_float(raw, name, ndim=raw.ndim if raw.ndim in ndim else ndim[0])
    if raw.ndim not in ndim:
        wanted = " or ".join(f"{d}-D" for d in ndim)
        got = f"a scalar {describe(y_score)}" if raw.ndim == 0 else f"shape {raw.shape}"
        raise ShapeError(f"{name} must be {wanted}; got {got}")
    if raw.size == 0:
        raise DataError(f"{name} is empty; at least one value is required")
    return raw


def as_weights(sample_weight: Any) -> np.ndarray | None:
    """Non-negative finite float64 weights (None stays None); lengths are checked by the caller."""
    if sample_weight is None:
        return None
    weight = _as_float(sample_weight, "sample_weight", allow_empty=True)
    if (weight < 0).any():
        i = int(np.flatnonzero(weight < 0)[0])
        raise DataError(f"sample_weight must be >= 0; got {weight[i]:g} at index {i}")
    if weight.size and not weight.any():
        raise DataError("Sample weights must contain at least one non-zero number; every "
                        f"one of the {weight.size} sample_weight values is 0")
    return weight


def check_lengths(**arrays: np.ndarray | None) -> int:
    """Equal lengths of the named arrays (None skipped); the message lists them all."""
    given = {k: v for k, v in arrays.items() if v is not None}
    names = list(given)
    what = " and ".join(names) if len(names) < 3 else ", ".join(names[:-1]) + " and " + names[-1]
    return check_equal_lengths(given, what=what)


def _implicit_positive(classes: np.ndarray) -> Any:
    """scikit-learn's rule when ``pos_label`` is None: labels within {0, 1} or {-1, 1}."""
    values = set(classes.tolist())
    numeric = classes.dtype.kind in "biuf"
    if numeric and classes.size <= 2 and any(values <= s for s in ({0, 1}, {-1, 1})):
        return 1
    shown = ", ".join(repr(c) for c in classes.tolist())
    raise DataError(
        f"y_true takes value in {{{shown}}} and pos_label is not specified: either make "
        "y_true take value in {0, 1} or {-1, 1} or pass pos_label explicitly."
    )


class BinaryInputs(NamedTuple):
    """Validated binary problem: ``is_pos``/``score``/``weight`` without zero-weight samples."""

    is_pos: np.ndarray
    score: np.ndarray
    weight: np.ndarray | None
    classes: np.ndarray
    pos_label: Any


def binary_inputs(
    y_true: Any,
    y_score: Any,
    sample_weight: Any = None,
    pos_label: Any = None,
    *,
    default: str = "one",
) -> BinaryInputs:
    """Validate a binary ROC problem (see :func:`binary_problem` for ``default``)."""
    y = as_labels(y_true)
    score = as_scores(y_score)
    weight = as_weights(sample_weight)
    check_lengths(y_true=y, y_score=score, sample_weight=weight)
    return binary_problem(y, classes_of(y), score, weight, pos_label, default=default)


def binary_problem(
    y: np.ndarray,
    classes: np.ndarray,
    score: np.ndarray,
    weight: np.ndarray | None,
    pos_label: Any,
    *,
    default: str = "one",
) -> BinaryInputs:
    """The positive mask of validated arrays of equal length, zero-weight samples removed.

    Parameters
    ----------
    default : {"one", "larger"}
        The positive class when ``pos_label`` is None: ``"one"`` requires labels within
        {0, 1} or {-1, 1} and takes 1 (``roc_curve``); ``"larger"`` takes the larger label
        (``roc_auc_score``). With ``pos_label`` given, a multiclass ``y_true`` is allowed
        (that class against the rest), as in scikit-learn's ``roc_curve``.
    """
    kind = target_kind(y, classes)
    if kind == "multiclass" and pos_label is None:
        raise DataError(
            f"multiclass format is not supported: y_true has {classes.size} classes "
            f"{describe(classes.tolist())}; binary labels are needed, or pass pos_label= to "
            "take one class against the rest"
        )
    if pos_label is None:
        pos_label = classes[-1] if default == "larger" else _implicit_positive(classes)
    is_pos = y == pos_label
    if not isinstance(is_pos, np.ndarray) or is_pos.shape != y.shape:  # incomparable types
        is_pos = np.zeros(y.shape, dtype=bool)
    if weight is not None:
        keep = weight != 0
        if not keep.all():
            is_pos, score, weight = is_pos[keep], score[keep], weight[keep]
    return BinaryInputs(is_pos, score, weight, classes, pos_label)
