"""Small deterministic built-in data for the demo, the notebooks and the tests.

Every generator is seeded (``seed``: an int, a :class:`numpy.random.Generator` or ``None``),
draws from its own :func:`numpy.random.default_rng` (never the global random state) and needs no
download. Arrays are float64 unless they are labels.

Return types
------------
- :func:`make_linear`, :func:`make_logistic` return a :class:`Dataset`: named 1-D columns
  (``data``, e.g. ``{"x": ..., "y": ...}``) together with the parameters that generated them
  (``true_params``, e.g. ``{"w": 2.0, "b": -1.0}``) and a one-line ``description``. A Dataset is
  itself a read-only mapping of its columns, so it can be passed wherever symcalc takes ``data``.
- :func:`make_scores` returns ``(y_true, y_score)``, two 1-D arrays for ROC analysis.
- :func:`make_xor`, :func:`make_sine` return ``(X, y)`` as 2-D arrays of shape
  ``(n_samples, n_inputs)`` and ``(n_samples, 1)``, ready for :mod:`symcalc.nn`.

Examples
--------
>>> from symcalc import datasets
>>> ds = datasets.make_linear(100, noise=0.0)
>>> sorted(ds.data), ds.true_params
(['x', 'y'], {'w': 2.0, 'b': -1.0})
>>> bool(abs(ds["y"] - (2.0 * ds["x"] - 1.0)).max() < 1e-12)
True
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field

import numpy as np

from ._validate import as_finite_float, as_rng, check_int, check_positive
from .results import Result

__all__ = ["Dataset", "make_linear", "make_logistic", "make_scores", "make_xor", "make_sine"]

#: True weights used by make_linear / make_logistic, cycled when there are more features.
_WEIGHTS = (2.0, -1.0, 0.5, -1.5, 1.0, -0.5)
_LINEAR_BIAS = -1.0
_LOGISTIC_BIAS = 0.5

Seed = int | np.random.Generator | None


@dataclass(frozen=True, repr=False, eq=False)
class Dataset(Result, Mapping):
    """Named columns with the parameters that generated them.

    Attributes
    ----------
    data : dict of str to ndarray of shape (n_samples,)
        The columns: features ``"x"`` (one feature) or ``"x1"``, ``"x2"``, ... and target ``"y"``.
    true_params : dict of str to float
        The generating parameters: ``"w"`` (or ``"w1"``, ``"w2"``, ...) and ``"b"``.
    description : str
        One line saying how the data were generated.

    A Dataset is a read-only mapping of its columns (``ds["x"]``, ``list(ds)``, ``len(ds)``);
    ``ds.X`` stacks the features into shape ``(n_samples, n_features)``.
    """

    data: dict[str, np.ndarray]
    true_params: dict[str, float]
    description: str = field(default="")

    def __getitem__(self, name: str) -> np.ndarray:
        return self.data[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self.data)

    def __len__(self) -> int:
        return len(self.data)

    __eq__ = object.__eq__  # arrays do not compare to a single bool
    __hash__ = object.__hash__

    @property
    def feature_names(self) -> list[str]:
        """The feature column names, in order (every column except ``"y"``)."""
        return [k for k in self.data if k != "y"]

    @property
    def X(self) -> np.ndarray:  # noqa: N802 - the conventional name of a design matrix
        """The features as an array of shape ``(n_samples, n_features)``."""
        return np.column_stack([self.data[k] for k in self.feature_names])

    @property
    def y(self) -> np.ndarray:
        """The target column, shape ``(n_samples,)``."""
        return self.data["y"]


def _names(prefix: str, k: int) -> list[str]:
    return [prefix] if k == 1 else [f"{prefix}{j}" for j in range(1, k + 1)]


def _weights(k: int) -> np.ndarray:
    return np.array([_WEIGHTS[j % len(_WEIGHTS)] for j in range(k)])


def _formula(w: np.ndarray, b: float, names: list[str]) -> str:
    terms = " + ".join(f"{wj:g}*{n}" for wj, n in zip(w, names))
    return f"{terms} + {b:g}".replace("+ -", "- ")


def _linear_model(
    n_samples: object, n_features: object, seed: Seed, bias: float
) -> tuple[int, np.random.Generator, np.ndarray, np.ndarray, float, list[str], np.ndarray]:
    n = check_int(n_samples, "n_samples", minimum=1)
    k = check_int(n_features, "n_features", minimum=1)
    rng = as_rng(seed)
    X = rng.standard_normal((n, k))
    w = _weights(k)
    names = _names("x", k)
    return n, rng, X, w, bias, names, X @ w + bias


def _dataset(X: np.ndarray, y: np.ndarray, w: np.ndarray, b: float, names: list[str],
             description: str) -> Dataset:
    data = {name: np.ascontiguousarray(X[:, j]) for j, name in enumerate(names)}
    data["y"] = y
    params = {name: float(wj) for name, wj in zip(_names("w", len(w)), w)}
    params["b"] = float(b)
    return Dataset(data=data, true_params=params, description=description)


def make_linear(
    n_samples: int = 200, n_features: int = 1, *, noise: float = 0.1, seed: Seed = 0
) -> Dataset:
    """Linear-regression data ``y = x·w + b + noise·ε`` with known ``w`` and ``b``.

    Parameters
    ----------
    n_samples : int
        Number of rows (>= 1).
    n_features : int
        Number of features (>= 1). Columns are ``"x"`` for one feature, else ``"x1"``, ``"x2"``, ...
    noise : float, keyword-only
        Standard deviation of the Gaussian noise ε added to ``y`` (>= 0).
    seed : int, Generator or None, keyword-only
        Seed of the generator; the same seed gives the same data.

    Returns
    -------
    Dataset
        ``data`` with the feature columns (standard normal) and ``"y"``; ``true_params`` with
        ``"w"`` (or ``"w1"``, ...) taken from the fixed sequence 2, -1, 0.5, -1.5, 1, -0.5 and
        ``"b" = -1``.

    Raises
    ------
    SymcalcError
        ``n_samples`` or ``n_features`` below 1 or not integers; negative ``noise``; a bad seed.

    Examples
    --------
    >>> from symcalc.datasets import make_linear
    >>> ds = make_linear(5, 2, seed=1)
    >>> list(ds), ds.true_params
    (['x1', 'x2', 'y'], {'w1': 2.0, 'w2': -1.0, 'b': -1.0})
    """
    sd = check_positive(noise, "noise", allow_zero=True)
    n, rng, X, w, b, names, signal = _linear_model(n_samples, n_features, seed,
                                                   _LINEAR_BIAS)
    y = signal + sd * rng.standard_normal(n)
    text = (f"linear regression: y = {_formula(w, b, names)} + N(0, {sd:g}^2) noise; "
            f"features ~ N(0, 1); {n} samples")
    return _dataset(X, y, w, b, names, text)


def make_logistic(n_samples: int = 300, n_features: int = 2, *, seed: Seed = 0) -> Dataset:
    """Logistic-regression data: labels ``y ~ Bernoulli(sigmoid(x·w + b))`` with known ``w, b``.

    Parameters
    ----------
    n_samples : int
        Number of rows (>= 1).
    n_features : int
        Number of features (>= 1); columns ``"x"`` or ``"x1"``, ``"x2"``, ...
    seed : int, Generator or None, keyword-only
        Seed of the generator.

    Returns
    -------
    Dataset
        Feature columns (standard normal), ``"y"`` with labels 0.0/1.0 (float64) and
        ``true_params`` ``"w"``/``"w1"``, ... (2, -1, 0.5, ...) and ``"b" = 0.5``.

    Raises
    ------
    SymcalcError
        ``n_samples`` or ``n_features`` below 1 or not integers; a bad seed.

    Examples
    --------
    >>> from symcalc.datasets import make_logistic
    >>> ds = make_logistic(300, seed=0)
    >>> ds.true_params
    {'w1': 2.0, 'w2': -1.0, 'b': 0.5}
    >>> sorted(set(ds["y"].tolist()))
    [0.0, 1.0]
    """
    from scipy.special import expit  # lazy: keeps `import symcalc` light

    n, rng, X, w, b, names, logit = _linear_model(n_samples, n_features, seed,
                                                  _LOGISTIC_BIAS)
    y = (rng.random(n) < expit(logit)).astype(np.float64)
    text = (f"logistic regression: P(y = 1) = sigmoid({_formula(w, b, names)}); "
            f"features ~ N(0, 1); {n} samples")
    return _dataset(X, y, w, b, names, text)


def make_scores(
    n_samples: int = 500, *, separation: float = 1.0, seed: Seed = 0
) -> tuple[np.ndarray, np.ndarray]:
    """Two-class scores for ROC analysis from the binormal model.

    Negatives score ``N(0, 1)``, positives ``N(separation, 1)``; half of the samples (rounded
    down) are positive, in shuffled order.

    Parameters
    ----------
    n_samples : int
        Number of samples (>= 2, so that both classes occur).
    separation : float, keyword-only
        Difference of the class means in units of the common standard deviation.
    seed : int, Generator or None, keyword-only
        Seed of the generator.

    Returns
    -------
    y_true : ndarray of shape (n_samples,), int64
        Labels 0/1.
    y_score : ndarray of shape (n_samples,), float64
        Scores.

    Notes
    -----
    The population AUC is ``P(S+ > S-) = Φ(separation / √2)``, with Φ the standard normal CDF,
    because ``S+ - S-`` is ``N(separation, 2)``. For ``separation = 1`` that is about 0.760.

    Examples
    --------
    >>> from symcalc.datasets import make_scores
    >>> y_true, y_score = make_scores(10, seed=0)
    >>> int(y_true.sum()), y_score.shape
    (5, (10,))
    """
    n = check_int(n_samples, "n_samples", minimum=2)
    sep = as_finite_float(separation, "separation")
    rng = as_rng(seed)
    n_pos = n // 2
    y_true = np.zeros(n, dtype=np.int64)
    y_true[:n_pos] = 1
    y_true = rng.permutation(y_true)
    y_score = rng.standard_normal(n) + sep * y_true
    return y_true, y_score


def make_xor(
    n_samples: int = 200, *, noise: float = 0.1, seed: Seed = 0
) -> tuple[np.ndarray, np.ndarray]:
    """The XOR problem: four noisy clusters at (±1, ±1), labelled 1 where the signs differ.

    The corners are used equally often (``n_samples % 4`` corners get one extra point), in
    shuffled order; each point is its corner plus Gaussian noise.

    Parameters
    ----------
    n_samples : int
        Number of points (>= 1).
    noise : float, keyword-only
        Standard deviation of the Gaussian noise around each corner (>= 0). The label is that of
        the corner, so with ``noise`` well below 1 it is ``x1 * x2 < 0``.
    seed : int, Generator or None, keyword-only
        Seed of the generator.

    Returns
    -------
    X : ndarray of shape (n_samples, 2)
    y : ndarray of shape (n_samples, 1)
        0.0 for corners (1, 1) and (-1, -1), 1.0 for (1, -1) and (-1, 1).

    Examples
    --------
    >>> from symcalc.datasets import make_xor
    >>> X, y = make_xor(8, noise=0.0)
    >>> bool(((X[:, 0] * X[:, 1] < 0) == (y[:, 0] == 1)).all())
    True
    """
    n = check_int(n_samples, "n_samples", minimum=1)
    sd = check_positive(noise, "noise", allow_zero=True)
    rng = as_rng(seed)
    corners = np.array([[1.0, 1.0], [1.0, -1.0], [-1.0, 1.0], [-1.0, -1.0]])
    which = rng.permutation(np.arange(n) % 4)
    X = corners[which] + sd * rng.standard_normal((n, 2))
    y = (corners[which, 0] != corners[which, 1]).astype(np.float64).reshape(n, 1)
    return X, y


def make_sine(
    n_samples: int = 200, *, noise: float = 0.0, seed: Seed = 0
) -> tuple[np.ndarray, np.ndarray]:
    """A 1-D regression problem: ``y = sin(x) + noise·ε`` with ``x`` uniform on ``[-π, π]``.

    Parameters
    ----------
    n_samples : int
        Number of points (>= 1); the ``x`` values are random (not sorted).
    noise : float, keyword-only
        Standard deviation of the Gaussian noise added to ``y`` (>= 0).
    seed : int, Generator or None, keyword-only
        Seed of the generator.

    Returns
    -------
    X : ndarray of shape (n_samples, 1)
    y : ndarray of shape (n_samples, 1)

    Examples
    --------
    >>> import numpy as np
    >>> from symcalc.datasets import make_sine
    >>> X, y = make_sine(50)
    >>> X.shape, y.shape, bool(np.allclose(y, np.sin(X)))
    ((50, 1), (50, 1), True)
    """
    n = check_int(n_samples, "n_samples", minimum=1)
    sd = check_positive(noise, "noise", allow_zero=True)
    rng = as_rng(seed)
    X = rng.uniform(-np.pi, np.pi, size=(n, 1))
    y = np.sin(X) + sd * rng.standard_normal((n, 1))
    return X, y
