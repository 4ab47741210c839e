"""The one gate between SymPy objects and executed code.

symcalc turns SymPy expressions into Python source (its own kernels, and ``sympy.lambdify``
for the numeric side of :func:`~symcalc.integrate` and :func:`~symcalc.limit`) and runs it.
Symbol and function names are user data (a CSV header, a name given to ``sympy.Symbol`` or
``sympy.Function``), and SymPy's printers write them into the source verbatim. Every such
path therefore goes through this module:

1. :func:`check_expression` walks the expression and refuses every node that the numeric
   code cannot evaluate or that would carry a name into it: undefined functions
   (``sympy.Function("f")``), bound variables (``Integral``, ``Sum``, ``Product``, ``Lambda``,
   ``Derivative``, ``Subs``), ``Dummy``/``Wild`` symbols, ``Indexed`` and matrix symbols,
   relations outside a ``Piecewise`` condition. Only numbers, plain symbols, ``+ - * / **``,
   ``Piecewise`` and the functions in :data:`ALLOWED_FUNCTIONS` (plus symcalc's own function
   classes) pass, and constant subterms must obey the parser's magnitude bounds
   (``sin(exp(exp(20)))`` would make any sign query run for hours).
2. Every symbol is renamed to a generated identifier (``_p0``, ``_d1``, ``_x0``) before any
   source is printed (:func:`generated_names`, :func:`safe_lambdify`).
3. :func:`compile_generated` parses symcalc's own generated source and refuses it unless every
   name in it is generated or one of a few known modules and builtins, before compiling it: a
   second line of defence should a printer ever write something unexpected.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Callable, Iterable, Sequence
from typing import Any

import sympy as sp
from sympy.codegen import cfunctions
from sympy.core.function import AppliedUndef, UndefinedFunction
from sympy.logic.boolalg import Boolean, BooleanFalse, BooleanTrue

from .errors import SymcalcError

__all__ = [
    "ALLOWED_FUNCTIONS",
    "check_expression",
    "generated_names",
    "safe_lambdify",
    "compile_generated",
]

#: SymPy function classes whose numeric evaluation symcalc trusts (by class, never by name).
ALLOWED_FUNCTIONS: frozenset[type] = frozenset({
    sp.exp, sp.log, sp.sin, sp.cos, sp.tan, sp.cot, sp.sec, sp.csc,
    sp.asin, sp.acos, sp.atan, sp.acot, sp.asec, sp.acsc, sp.atan2,
    sp.sinh, sp.cosh, sp.tanh, sp.coth, sp.sech, sp.csch,
    sp.asinh, sp.acosh, sp.atanh, sp.acoth, sp.asech, sp.acsch,
    sp.Abs, sp.sign, sp.Max, sp.Min, sp.floor, sp.ceiling, sp.frac, sp.Heaviside,
    sp.erf, sp.erfc, sp.erfi, sp.erfinv, sp.erfcinv, sp.gamma, sp.loggamma, sp.lowergamma,
    sp.uppergamma, sp.digamma, sp.polygamma, sp.beta, sp.factorial, sp.binomial, sp.LambertW,
    sp.sinc, sp.Piecewise, sp.besselj, sp.bessely, sp.besseli, sp.besselk, sp.fresnels,
    sp.fresnelc, sp.Si, sp.Ci, sp.Ei, sp.zeta,
    cfunctions.log1p, cfunctions.expm1, cfunctions.exp2, cfunctions.log2, cfunctions.log10,
    cfunctions.hypot, cfunctions.Sqrt, cfunctions.Cbrt,
})

_RELATIONS = (sp.StrictLessThan, sp.LessThan, sp.StrictGreaterThan, sp.GreaterThan,
              sp.Equality, sp.Unequality)
_LOGIC = (sp.And, sp.Or, sp.Not, sp.Xor)
_ARITHMETIC = (sp.Add, sp.Mul, sp.Pow)

# Nodes that bind a variable or stand for an operation the numeric code cannot carry out.
_BINDING = {
    sp.Integral: "an integral", sp.Sum: "a sum", sp.Product: "a product",
    sp.Lambda: "a lambda", sp.Derivative: "an unevaluated derivative",
    sp.Subs: "a substitution (Subs)", sp.Limit: "an unevaluated limit",
}


def _is_symcalc_function(cls: type) -> bool:
    """symcalc's own Function classes (Expit, LogAddExp0, sigmoid, ...), known by module."""
    module = getattr(cls, "__module__", None) or ""
    return (
        isinstance(cls, type)
        and issubclass(cls, sp.Function)
        and not isinstance(cls, UndefinedFunction)
        and module.split(".")[0] == "symcalc"
        and cls.__name__.isidentifier()
    )


def _short(node: Any, limit: int = 60) -> str:
    """A quoted, single-line, truncated text of ``node`` for messages."""
    text = " ".join(str(node).split())
    return repr(text if len(text) <= limit else text[: limit - 3] + "...")


def _refusal(node: sp.Basic, what: str) -> SymcalcError:
    """The error for one node that may not reach executed code."""
    hint = ("symcalc evaluates numbers, plain symbols, + - * / **, Piecewise and known "
            "functions (exp, log, sin, ..., erf, gamma, Max, Heaviside)")
    if isinstance(node, AppliedUndef):
        return SymcalcError(
            f"{what} uses the undefined function {_short(node.func.__name__)} "
            f"(a sympy.Function with no numeric definition) in {_short(node)}: {hint}"
        )
    for cls, label in _BINDING.items():
        if isinstance(node, cls):
            return SymcalcError(
                f"{what} contains {label}, {_short(node)}, which symcalc cannot evaluate "
                f"numerically; evaluate it first (e.g. with .doit()) or write it out: {hint}"
            )
    if isinstance(node, sp.Symbol):
        return SymcalcError(
            f"{what} contains the symbol {_short(node)} of type {type(node).__name__} "
            "(Dummy and Wild symbols are not allowed); use a plain sympy.Symbol"
        )
    if isinstance(node, (sp.Rel, Boolean)):
        return SymcalcError(
            f"{what} contains the condition {_short(node)} outside a Piecewise condition; a "
            "loss is a number, not a truth value"
        )
    if isinstance(node, sp.Function):
        return SymcalcError(
            f"{what} uses the function {type(node).__name__}, which symcalc does not evaluate "
            f"numerically ({_short(node)}): {hint}"
        )
    return SymcalcError(
        f"{what} contains {type(node).__name__} {_short(node)}, which symcalc cannot evaluate "
        f"numerically: {hint}"
    )


def _children(node: sp.Basic, in_condition: bool) -> Iterable[tuple[sp.Basic, bool]]:
    if isinstance(node, sp.Piecewise):
        for pair in node.args:
            yield pair.expr, False
            yield pair.cond, True
        return
    for arg in node.args:
        yield arg, in_condition


def _node_ok(node: sp.Basic, in_condition: bool) -> bool:
    cls = type(node)
    if cls is sp.Symbol or isinstance(node, (sp.Number, sp.NumberSymbol)):
        return True
    if node is sp.I or cls in _ARITHMETIC:
        return True
    if in_condition and (isinstance(node, _RELATIONS + _LOGIC)
                         or isinstance(node, (BooleanTrue, BooleanFalse))):
        return True
    if isinstance(node, AppliedUndef):
        return False
    return cls in ALLOWED_FUNCTIONS or _is_symcalc_function(cls)


def check_expression(expr: Any, what: str = "the expression", *,
                     extra_functions: frozenset[type] = frozenset()) -> None:
    """Refuse every node of ``expr`` that may not reach generated or lambdified code.

    Parameters
    ----------
    expr : sympy.Basic
        The expression (a loss, an activation, an integrand, ...).
    what : str
        How the message names ``expr`` (e.g. ``"the loss"``).
    extra_functions : frozenset of SymPy function classes
        Also allowed here: a caller that evaluates ``expr`` only with symcalc's own mpmath
        tree walker (no generated code) may accept the functions that walker knows.

    Raises
    ------
    SymcalcError
        Naming the first offending node: an undefined function, a bound variable
        (``Integral``, ``Sum``, ``Lambda``, ...), a ``Dummy``/``Wild``/``Indexed``/matrix symbol,
        a relation outside a ``Piecewise`` condition, or a function outside
        :data:`ALLOWED_FUNCTIONS`.

    Examples
    --------
    >>> import sympy as sp
    >>> x = sp.Symbol("x")
    >>> check_expression(sp.exp(-x**2))
    >>> check_expression(sp.Function("f")(x))
    Traceback (most recent call last):
    ...
    symcalc.errors.SymcalcError: the expression uses the undefined function 'f' ...
    """
    if not isinstance(expr, sp.Basic):
        raise SymcalcError(f"{what} must be a SymPy expression; got {type(expr).__name__}")
    seen: set[tuple[sp.Basic, bool]] = set()
    stack: list[tuple[sp.Basic, bool]] = [(expr, False)]
    while stack:
        item = stack.pop()
        if item in seen:
            continue
        seen.add(item)
        node, in_condition = item
        if not (_node_ok(node, in_condition) or type(node) in extra_functions):
            raise _refusal(node, what)
        stack.extend(_children(node, in_condition))
    _check_constants(expr, what)


def _check_constants(expr: sp.Basic, what: str) -> None:
    """Refuse constant subterms too large to evaluate (``sin(exp(exp(20)))`` needs 210 million
    digits): the parser's bounds, applied children first, so each measurement is cheap."""
    from .parsing._bounds import check_call, check_power

    constant: dict[sp.Basic, bool] = {}
    stack: list[tuple[sp.Basic, bool]] = [(expr, False)]
    while stack:  # iterative post-order: every node after its arguments
        node, expanded = stack.pop()
        if node in constant:
            continue
        if not expanded:
            stack.append((node, True))
            stack.extend((a, False) for a in node.args if a not in constant)
            continue
        if isinstance(node, (sp.Number, sp.NumberSymbol)) or node is sp.I:
            constant[node] = True
            continue
        constant[node] = bool(node.args) and all(constant.get(a, False) for a in node.args)
        if not constant[node] or not isinstance(node, sp.Expr):
            continue
        if node.is_Pow:
            why = check_power(node.base, node.exp)
        elif isinstance(node, sp.Function):
            why = check_call(type(node).__name__, list(node.args))
        else:
            why = None
        if why:
            raise SymcalcError(f"{what} contains {_short(node)}: {why}")


def generated_names(symbols: Sequence[sp.Symbol], prefix: str) -> dict[sp.Symbol, sp.Symbol]:
    """``{symbol: Symbol("_<prefix><i>")}``: every user symbol gets a generated identifier.

    The original names never reach generated source (they can be any text, e.g. ``abs``,
    ``numpy`` or ``t=__import__('os')``); assumptions are kept so SymPy simplifies alike.
    """
    if not re.fullmatch(r"[a-z]+", prefix):
        raise ValueError(f"prefix must be lowercase letters; got {prefix!r}")
    return {s: sp.Symbol(f"_{prefix}{i}", **s.assumptions0) for i, s in enumerate(symbols)}


def safe_lambdify(args: Sequence[sp.Symbol], expr: sp.Basic, modules: Any) -> Callable[..., Any]:
    """``sympy.lambdify(args, expr, modules)`` after :func:`check_expression` and renaming.

    Use this instead of ``sympy.lambdify`` everywhere: ``lambdify`` prints the names of
    symbols and undefined functions verbatim into the source it executes.
    """
    check_expression(expr)
    others = sorted(expr.free_symbols - set(args), key=sp.default_sort_key)
    names = generated_names([*args, *others], "x")
    return sp.lambdify([names[a] for a in args], expr.xreplace(names), modules=modules)


# ------------------------------------------------------------------------- generated source
_GENERATED = re.compile(r"_[a-z][a-z0-9_]*\Z")
_MODULES = frozenset({"numpy", "scipy", "math", "numba"})
_BUILTINS = frozenset({"min", "max", "abs", "range", "float", "len"})
#: Flags the kernel cache sets in a generated module (``cache=_CACHE`` in numba kernels).
_FLAGS = frozenset({"_CACHE"})
_METHODS = frozenset({"sum"})  # array methods the emitters call on generated arrays
_FORBIDDEN_NODES = (
    ast.Lambda, ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp, ast.Import,
    ast.ImportFrom, ast.Global, ast.Nonlocal, ast.Delete, ast.With, ast.Try, ast.Raise,
    ast.ClassDef, ast.AsyncFunctionDef, ast.Await, ast.Yield, ast.YieldFrom, ast.NamedExpr,
    ast.JoinedStr, ast.Starred, ast.While,
)


def _generated(name: str) -> bool:
    return bool(_GENERATED.match(name)) and "__" not in name


def _audit_node(node: ast.AST, filename: str, modules: frozenset[str]) -> None:
    def refuse(why: str) -> SymcalcError:
        line = getattr(node, "lineno", "?")
        return SymcalcError(f"internal error: generated code {filename} line {line} {why}; "
                            "nothing was run (please report this formula)")

    if isinstance(node, _FORBIDDEN_NODES):
        raise refuse(f"contains a {type(node).__name__} node")
    if isinstance(node, ast.Name):
        ok = _generated(node.id) or (
            isinstance(node.ctx, ast.Load) and node.id in modules | _BUILTINS | _FLAGS)
        if not ok:
            raise refuse(f"uses the name {node.id!r}")
    elif isinstance(node, ast.Attribute):
        root: ast.AST = node
        while isinstance(root, ast.Attribute):
            if root.attr.startswith("_"):
                raise refuse(f"reads the private attribute {root.attr!r}")
            root = root.value
        if not (isinstance(root, ast.Name) and root.id in modules) and node.attr not in _METHODS:
            raise refuse(f"reads the attribute {node.attr!r} of something other than a module")
    elif isinstance(node, (ast.FunctionDef, ast.arg)):
        name = node.name if isinstance(node, ast.FunctionDef) else node.arg
        if not _generated(name):
            raise refuse(f"defines the name {name!r}")
    elif isinstance(node, ast.Constant) and isinstance(node.value, (bytes, complex)):
        raise refuse(f"contains the constant {node.value!r}")


def compile_generated(source: str, filename: str, modules: Iterable[str] = ()) -> Any:
    """Compile symcalc's generated ``source`` after checking every name and construct in it.

    Allowed: function definitions, assignments, loops and expressions whose names are
    generated identifiers (``_p0``, ``_t3``, ...), the modules numpy/scipy/math/numba (public
    attributes only; ``modules`` adds module names such as ``jnp`` or ``torch`` for the
    exports) and the builtins min/max/abs/range/float/len.

    Raises
    ------
    SymcalcError
        When anything else appears (never expected: symbols are renamed before printing).
    """
    tree = ast.parse(source, filename=filename, mode="exec")
    allowed = _MODULES | frozenset(modules)
    for node in ast.walk(tree):
        _audit_node(node, filename, allowed)
    return compile(tree, filename, "exec")
