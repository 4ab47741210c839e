"""Readable derivatives: gradients shown the way a textbook writes them.

SymPy's raw derivative of the logistic loss ``log(1 + exp(z)) - y*z`` with
``z = w1*x1 + w2*x2 + b`` is ``-x1*y + x1*exp(z)/(exp(z) + 1)``; a textbook writes
``x1*(sigmoid(z) - y)``. This package produces the textbook form, in three layers:

* :mod:`.fold` recognises ``sigmoid``, ``softplus``, ``logsumexp``, ``softmax`` and ``tanh`` in
  expanded expressions and folds them (exact identities);
* :mod:`.tidy` pulls common factors out and cancels quotients, one style for every partial;
* :mod:`.display` names the shared inner expressions, groups partials that share a structure
  and prints terms in the order the loss lists its parameters (:mod:`.naming`,
  :mod:`.grouping`, :mod:`.printing`).

The readable expressions are exactly equal to the raw ones and use the original symbols; the
names (``z``) exist only in the display. Everything runs under a CPU-time budget
(``symcalc.readable._budget.DEFAULT_SECONDS``, one CPU second); past it, or past a size cap, the raw form is shown. SymPy only: no
NumPy, no compile path.

Examples
--------
>>> import sympy as sp
>>> from symcalc.readable import readable_form, display
>>> w, b, x, y = sp.symbols("w b x y")
>>> readable_form(2*b + 2*w*x - 2*y)
2*(b + w*x - y)
"""

from .core import OnDemand, readable_form, readable_gradient, readable_hessian
from .display import DerivativeDisplay, display
from .printing import Ordering, to_latex, to_text
from .tidy import rebuild as rename

__all__ = [
    "OnDemand",
    "readable_form",
    "readable_gradient",
    "readable_hessian",
    "DerivativeDisplay",
    "display",
    "Ordering",
    "to_text",
    "to_latex",
    "rename",
]
