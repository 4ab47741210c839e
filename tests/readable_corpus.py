"""A corpus of losses for the readable-form tests: regression, classification, softmax,
margin losses, robust losses, counts, focal loss and small network layers.

Each entry is ``(name, expr, params, data)``; symbols are real so that ``Abs`` and ``sign``
differentiate the way a course writes them.
"""

from __future__ import annotations

import sympy as sp

from symcalc.functions import SoftmaxEntry, log_sigmoid, logsumexp, relu, sigmoid, softplus

R = {"real": True}
w, b, x, y, a, c, t = sp.symbols("w b x y a c t", **R)
w1, w2, w3, x1, x2, x3, b1, b2, v1, v2 = sp.symbols("w1 w2 w3 x1 x2 x3 b1 b2 v1 v2", **R)
gamma = sp.Symbol("gamma", positive=True)
delta = sp.Rational(3, 2)
lam = sp.Rational(1, 10)

z1 = w * x + b
z2 = w1 * x1 + w2 * x2 + b
z3 = w1 * x1 + w2 * x2 + w3 * x3 + b
r1 = w * x + b - y

W = sp.Matrix(3, 2, lambda i, j: sp.Symbol(f"w_{i + 1}_{j + 1}", **R))
BS = sp.symbols("b_1:4", **R)
YS = sp.symbols("y_1:4", **R)
LOGITS = [W[k, 0] * x1 + W[k, 1] * x2 + BS[k] for k in range(3)]
SOFTMAX_PARAMS = [*W, *BS]
SOFTMAX_DATA = [x1, x2, *YS]

h1 = sp.tanh(w1 * x + b1)
s_hidden = sigmoid(w1 * x + b1)
two_hidden = v1 * sp.tanh(w1 * x + b1) + v2 * sp.tanh(w2 * x + b2) + b


def _p(s):  # the probability of a logistic model written in full
    return 1 / (1 + sp.exp(-s))


CORPUS = [
    # ---------------------------------------------------------------- regression
    ("mse", r1**2, [w, b], [x, y]),
    ("mse 3 features", (z3 - y) ** 2, [w1, w2, w3, b], [x1, x2, x3, y]),
    ("half mse", (w * x + b - y) ** 2 / 2, [w, b], [x, y]),
    ("ridge", (z2 - y) ** 2 + lam * (w1**2 + w2**2), [w1, w2, b], [x1, x2, y]),
    ("lasso", (z2 - y) ** 2 + lam * (sp.Abs(w1) + sp.Abs(w2)), [w1, w2, b], [x1, x2, y]),
    ("mae", sp.Abs(r1), [w, b], [x, y]),
    ("huber", sp.Piecewise((r1**2 / 2, sp.Abs(r1) <= delta),
                           (delta * (sp.Abs(r1) - delta / 2), True)), [w, b], [x, y]),
    ("pseudo huber", sp.sqrt(1 + r1**2) - 1, [w, b], [x, y]),
    ("log cosh", sp.log(sp.cosh(r1)), [w, b], [x, y]),
    ("cauchy", sp.log(1 + r1**2), [w, b], [x, y]),
    ("pinball", sp.Max(t * r1, (t - 1) * r1), [w, b], [x, y, t]),
    ("polynomial", (a * x**2 + w * x + b - y) ** 2, [a, w, b], [x, y]),
    ("relative", ((w * x + b) / y - 1) ** 2, [w, b], [x, y]),
    # ---------------------------------------------------------------- counts and rates
    ("poisson", sp.exp(z1) - y * z1, [w, b], [x, y]),
    ("poisson 2 features", sp.exp(z2) - y * z2, [w1, w2, b], [x1, x2, y]),
    ("gamma deviance", y * sp.exp(-z1) + z1, [w, b], [x, y]),
    ("exponential loss", sp.exp(-y * z1), [w, b], [x, y]),
    # ---------------------------------------------------------------- logistic
    ("logistic log1pexp", sp.log(1 + sp.exp(z2)) - y * z2, [w1, w2, b], [x1, x2, y]),
    ("logistic softplus", softplus(z2) - y * z2, [w1, w2, b], [x1, x2, y]),
    ("bce sigmoid", -y * sp.log(sigmoid(z2)) - (1 - y) * sp.log(1 - sigmoid(z2)),
     [w1, w2, b], [x1, x2, y]),
    ("bce expanded", -y * sp.log(_p(z1)) - (1 - y) * sp.log(1 - _p(z1)), [w, b], [x, y]),
    ("bce log_sigmoid", -y * log_sigmoid(z2) - (1 - y) * log_sigmoid(-z2),
     [w1, w2, b], [x1, x2, y]),
    ("logistic pm1 labels", sp.log(1 + sp.exp(-y * z2)), [w1, w2, b], [x1, x2, y]),
    ("logistic l2", softplus(z2) - y * z2 + lam * (w1**2 + w2**2), [w1, w2, b], [x1, x2, y]),
    ("weighted bce", -c * y * sp.log(sigmoid(z1)) - (1 - y) * sp.log(1 - sigmoid(z1)),
     [w, b], [x, y, c]),
    ("label smoothing", -(sp.Rational(9, 10) * y + sp.Rational(1, 20)) * sp.log(sigmoid(z1))
     - (sp.Rational(19, 20) - sp.Rational(9, 10) * y) * sp.log(1 - sigmoid(z1)), [w, b], [x, y]),
    ("brier", (sigmoid(z1) - y) ** 2, [w, b], [x, y]),
    ("brier expanded", (_p(z1) - y) ** 2, [w, b], [x, y]),
    ("probit", -y * sp.log((1 + sp.erf(z1)) / 2) - (1 - y) * sp.log((1 - sp.erf(z1)) / 2),
     [w, b], [x, y]),
    ("focal", -y * (1 - sigmoid(z1)) ** gamma * sp.log(sigmoid(z1))
     - (1 - y) * sigmoid(z1) ** gamma * sp.log(1 - sigmoid(z1)), [w, b], [x, y, gamma]),
    ("focal gamma 2", -y * (1 - sigmoid(z1)) ** 2 * sp.log(sigmoid(z1))
     - (1 - y) * sigmoid(z1) ** 2 * sp.log(1 - sigmoid(z1)), [w, b], [x, y]),
    # ---------------------------------------------------------------- margins
    ("squared hinge", sp.Max(0, 1 - y * z2) ** 2, [w1, w2, b], [x1, x2, y]),
    ("hinge", sp.Max(0, 1 - y * z1), [w, b], [x, y]),
    ("smooth hinge", softplus(1 - y * z1), [w, b], [x, y]),
    # ---------------------------------------------------------------- softmax
    ("softmax logsumexp", logsumexp(*LOGITS) - sum(yk * zk for yk, zk in zip(YS, LOGITS)),
     SOFTMAX_PARAMS, SOFTMAX_DATA),
    ("softmax log sum exp", sp.log(sum(sp.exp(zk) for zk in LOGITS))
     - sum(yk * zk for yk, zk in zip(YS, LOGITS)), SOFTMAX_PARAMS, SOFTMAX_DATA),
    ("softmax entries", -sum(yk * sp.log(SoftmaxEntry(k, *LOGITS)) for k, yk in enumerate(YS)),
     SOFTMAX_PARAMS, SOFTMAX_DATA),
    ("softmax ratio", -YS[0] * sp.log(sp.exp(LOGITS[0]) / sum(sp.exp(zk) for zk in LOGITS)),
     SOFTMAX_PARAMS, SOFTMAX_DATA),
    # ---------------------------------------------------------------- network layers
    ("tanh layer mse", (v1 * h1 + b - y) ** 2, [w1, b1, v1, b], [x, y]),
    ("sigmoid layer mse", (v1 * s_hidden + b - y) ** 2, [w1, b1, v1, b], [x, y]),
    ("relu layer mse", (v1 * relu(w1 * x + b1) + b - y) ** 2, [w1, b1, v1, b], [x, y]),
    ("softplus layer", (v1 * softplus(w1 * x + b1) + b - y) ** 2, [w1, b1, v1, b], [x, y]),
    ("two tanh units", (two_hidden - y) ** 2, [w1, b1, w2, b2, v1, v2, b], [x, y]),
    ("tanh then logistic", softplus(v1 * h1 + b) - y * (v1 * h1 + b), [w1, b1, v1, b], [x, y]),
    ("swish unit", (v1 * (w1 * x + b1) * sigmoid(w1 * x + b1) - y) ** 2, [w1, b1, v1], [x, y]),
    ("mish unit", (v1 * (w1 * x) * sp.tanh(sp.log(1 + sp.exp(w1 * x))) - y) ** 2, [w1, v1],
     [x, y]),
    ("sigmoid output bce", -y * sp.log(sigmoid(v1 * h1 + b)) - (1 - y) * sp.log(
        1 - sigmoid(v1 * h1 + b)), [w1, b1, v1, b], [x, y]),
    # ---------------------------------------------------------------- plain functions
    ("rosenbrock", (1 - a) ** 2 + 100 * (c - a**2) ** 2, [a, c], []),
    ("beale", (sp.Rational(3, 2) - a + a * c) ** 2 + (sp.Rational(9, 4) - a + a * c**2) ** 2,
     [a, c], []),
]
