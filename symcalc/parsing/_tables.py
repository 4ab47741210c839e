"""The parser's whitelists and limits: callable functions, named constants, size bounds."""

from __future__ import annotations

import math
from collections.abc import Callable

import sympy as sp

from ..blocks.formula import BLOCK_FUNCTIONS
from ..functions import log_sigmoid, logsumexp, relu, sigmoid, softplus

MAX_LENGTH = 10_000  # characters of formula text
MAX_NESTING = 100  # bracket depth; the syntax tree may be at most 2x as deep
MAX_LITERAL_DIGITS = 1000  # digits of one number literal
MAX_EXACT_BITS = 13_000  # ~3900 decimal digits: largest exact number a formula may produce
MAX_ROOT_BASE_DIGITS = 100  # largest exact number SymPy is asked to take a fractional power of
MAX_FLOAT_EXP2 = 1100  # nonzero floats must lie within 2**(-4*1100) .. 2**1100 in magnitude
MAX_GAMMA_ARG = 1000  # gamma/loggamma of an exact number is evaluated exactly (a factorial)
MAX_MINMAX_ARGS = 10  # SymPy compares Max/Min arguments pairwise (quadratic, slow)
MAX_LOGSUMEXP_ARGS = 256  # logits of one logsumexp
TIME_BUDGET = 0.5  # seconds SymPy may spend building one formula

LOG2_10 = math.log2(10)
#: constant arguments of functions whose evaluation needs about log2|argument| bits of
#: precision (exp, sin, floor, ...) must stay below 2**MAX_ARG_BITS (~1e331, beyond float64):
#: SymPy's exp(n) alone costs ~0.1 s at 1100 bits and grows quadratically
MAX_ARG_BITS = 1100

#: name -> (min args, max args, builder). Only these names may be called.
FUNCTIONS: dict[str, tuple[int, int, Callable[..., sp.Expr]]] = {
    "exp": (1, 1, sp.exp),
    "log": (1, 2, sp.log),
    "ln": (1, 1, sp.log),
    "log10": (1, 1, lambda x: sp.log(x, 10)),
    "log2": (1, 1, lambda x: sp.log(x, 2)),
    "log1p": (1, 1, lambda x: sp.log(1 + x)),
    "sqrt": (1, 1, sp.sqrt),
    "sin": (1, 1, sp.sin),
    "cos": (1, 1, sp.cos),
    "tan": (1, 1, sp.tan),
    "asin": (1, 1, sp.asin),
    "acos": (1, 1, sp.acos),
    "atan": (1, 1, sp.atan),
    "atan2": (2, 2, sp.atan2),
    "sinh": (1, 1, sp.sinh),
    "cosh": (1, 1, sp.cosh),
    "tanh": (1, 1, sp.tanh),
    "asinh": (1, 1, sp.asinh),
    "acosh": (1, 1, sp.acosh),
    "atanh": (1, 1, sp.atanh),
    "abs": (1, 1, sp.Abs),
    "Abs": (1, 1, sp.Abs),
    "sign": (1, 1, sp.sign),
    "max": (1, MAX_MINMAX_ARGS, sp.Max),
    "Max": (1, MAX_MINMAX_ARGS, sp.Max),
    "min": (1, MAX_MINMAX_ARGS, sp.Min),
    "Min": (1, MAX_MINMAX_ARGS, sp.Min),
    "floor": (1, 1, sp.floor),
    "ceiling": (1, 1, sp.ceiling),
    "ceil": (1, 1, sp.ceiling),
    "erf": (1, 1, sp.erf),
    "erfc": (1, 1, sp.erfc),
    "gamma": (1, 1, sp.gamma),
    "loggamma": (1, 1, sp.loggamma),
    # ML functions stay folded (symcalc.functions): exact derivatives, stable code
    "sigmoid": (1, 1, sigmoid),
    "expit": (1, 1, sigmoid),
    "softplus": (1, 1, softplus),
    "log_sigmoid": (1, 1, log_sigmoid),
    "relu": (1, 1, relu),
    "logsumexp": (1, MAX_LOGSUMEXP_ARGS, logsumexp),
    "Heaviside": (1, 2, sp.Heaviside),
}
# the block functions (dot, norm2, softmax) need declared vectors; applied to a block, the
# one-argument functions act entry by entry (see _builder.Builder._call)
FUNCTIONS.update(BLOCK_FUNCTIONS)

#: names that mean a constant unless the caller binds the name to a symbol.
CONSTANTS: dict[str, sp.Expr] = {
    "pi": sp.pi,
    "E": sp.E,
    "e": sp.E,
    "oo": sp.oo,
    "inf": sp.oo,
    "infinity": sp.oo,
}

#: Names of Python machinery that never belong in a formula, refused even as plain symbols.
FORBIDDEN_NAMES = frozenset(
    "eval exec compile open input breakpoint globals locals vars getattr setattr delattr "
    "hasattr dir exit quit help memoryview os sys subprocess builtins importlib sympify "
    "lambdify".split()
)
