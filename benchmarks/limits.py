"""The numeric cross-check of ``sc.limit`` on SymPy's own limit tests.

Extracts every ``assert limit(expr, var, point[, dir]) == value`` from
``sympy/series/tests/test_limits.py`` and ``test_gruntz.py`` of the installed SymPy (the
files ship with the wheel; the source distribution of the same version has them too), keeps
the real-valued cases (a real or infinite expected value, no other free symbols) and runs
``sc.limit`` on each. Counts: numeric estimate within 1e-6 of the expected value, no
estimate, a wrong estimate; and the two failures that must never happen: ``agree=True`` with
a wrong value, and a wrong estimate reported with an error estimate smaller than its error.

The test files are SymPy's own trusted source; their expressions are rebuilt by evaluating
the assert's argument expressions in a namespace of SymPy names and the file's symbol
definitions (nothing here takes user input).

Usage: ``python -m benchmarks.limits [--quick] [--timeout S] [--show KIND]``.
"""

from __future__ import annotations

import argparse
import ast
import math
import os
import sys
import time
from typing import Any

import sympy as sp

_FILES = ("test_limits.py", "test_gruntz.py")
_TOL = 1e-6


def _namespace() -> dict[str, Any]:
    ns: dict[str, Any] = {}
    exec("from sympy import *", ns)  # noqa: S102 - SymPy's own names, trusted
    from sympy.series.gruntz import gruntz

    ns["gruntz"] = gruntz
    return ns


def _is_limit_assert(node: ast.AST) -> bool:
    if not isinstance(node, ast.Assert) or not isinstance(node.test, ast.Compare):
        return False
    cmp = node.test
    return (len(cmp.ops) == 1 and isinstance(cmp.ops[0], (ast.Eq, ast.Is))
            and isinstance(cmp.left, ast.Call) and isinstance(cmp.left.func, ast.Name)
            and cmp.left.func.id in ("limit", "gruntz") and 3 <= len(cmp.left.args) <= 4)


def _simple_assign(node: ast.AST) -> bool:
    """Symbol-style definitions (x = Symbol(...), a, b = symbols(...), f = Function(...))
    and imports from SymPy (``from sympy.abc import x``)."""
    if isinstance(node, ast.ImportFrom):
        return (node.module or "").startswith("sympy")
    return isinstance(node, ast.Assign) and isinstance(node.value, (ast.Call, ast.Name,
                                                                    ast.BinOp, ast.Constant))


def extract(directory: str | None = None) -> list[dict[str, Any]]:
    """Every ``assert limit(...) == value`` case: expr, var, point, dir, expected, where."""
    directory = directory or os.path.join(os.path.dirname(sp.__file__), "series", "tests")
    cases: list[dict[str, Any]] = []
    for name in _FILES:
        path = os.path.join(directory, name)
        tree = ast.parse(open(path, encoding="utf-8").read())
        base = _namespace()
        for node in tree.body:
            if _simple_assign(node):
                _run(node, base)
        for fn in tree.body:
            if not isinstance(fn, ast.FunctionDef) or not fn.name.startswith("test"):
                continue
            local = dict(base)
            for node in ast.walk(fn):
                if _simple_assign(node):
                    _run(node, local)
                elif _is_limit_assert(node):
                    case = _case(node, local, f"{name}:{node.lineno}")
                    if case is not None:
                        cases.append(case)
    return cases


def _run(node: ast.AST, ns: dict[str, Any]) -> None:
    try:
        exec(compile(ast.Module([node], []), "<sympy test>", "exec"), ns)  # noqa: S102
    except Exception:  # noqa: BLE001 - a definition we cannot replay: skip it
        pass


def _case(node: ast.Assert, ns: dict[str, Any], where: str) -> dict[str, Any] | None:
    call = node.test.left
    try:
        args = [eval(compile(ast.Expression(a), "<sympy test>", "eval"), ns)  # noqa: S307
                for a in call.args]
        expected = eval(compile(ast.Expression(node.test.comparators[0]), "<sympy test>",
                                "eval"), ns)  # noqa: S307
    except Exception:  # noqa: BLE001
        return None
    expr, var, point = (sp.sympify(a) for a in args[:3])
    keywords = {k.arg: eval(compile(ast.Expression(k.value), "<sympy test>", "eval"), ns)  # noqa: S307
                for k in call.keywords if k.arg == "dir"}
    direction = args[3] if len(args) == 4 else keywords.get("dir", "+")
    direction = "+" if direction == sp.S.Infinity else direction
    return {"expr": expr, "var": var, "point": point, "dir": str(direction),
            "expected": sp.sympify(expected), "where": where}


def real_valued(case: dict[str, Any]) -> bool:
    """A real (or infinite) expected value and nothing free but the variable."""
    e, want = case["expr"], case["expected"]
    if not isinstance(e, sp.Expr) or e.free_symbols != {case["var"]}:
        return False
    if want.free_symbols or want.has(sp.AccumBounds) or want is sp.zoo or want is sp.nan:
        return False
    if want in (sp.oo, -sp.oo):
        return True
    try:
        value = complex(sp.N(want, 30))
    except (TypeError, ValueError):
        return False
    return value.imag == 0 and math.isfinite(value.real)


def _expected_float(want: sp.Basic) -> float:
    if want == sp.oo:
        return math.inf
    if want == -sp.oo:
        return -math.inf
    return float(sp.N(want, 30))


def judge(case: dict[str, Any], report: Any) -> str:
    """``good`` (within 1e-6), ``none`` (no estimate) or ``wrong``."""
    want = _expected_float(case["expected"])
    got = report.numeric
    if math.isnan(got):
        return "none"
    if math.isinf(want) or math.isinf(got):
        return "good" if got == want else "wrong"
    return "good" if abs(got - want) <= _TOL * max(1.0, abs(want)) else "wrong"


def _same(symbolic: Any, expected: sp.Basic) -> bool:
    """Whether sympy.limit's value (as reported) is the expected one."""
    if symbolic is None:
        return False
    if expected in (sp.oo, -sp.oo) or symbolic in (sp.oo, -sp.oo):
        return symbolic == expected
    try:
        return abs(complex(sp.N(symbolic - expected, 30))) <= 1e-12 * max(
            1.0, abs(_expected_float(expected)))
    except (TypeError, ValueError):
        return False


def run_cases(cases: list[dict[str, Any]], timeout: float) -> list[dict[str, Any]]:
    import symcalc as sc

    out = []
    for case in cases:
        start = time.perf_counter()
        try:
            rep = sc.limit(case["expr"], case["var"], case["point"], case["dir"],
                           timeout=timeout)
        except Exception as exc:  # noqa: BLE001 - count it, keep going
            out.append({**case, "kind": "error", "report": None, "note": repr(exc)[:120]})
            continue
        kind = judge(case, rep)
        want = _expected_float(case["expected"])
        bad_agree = bool(rep.agree) and not _same(rep.symbolic, case["expected"])
        bad_error = kind == "wrong" and not math.isinf(want) and not math.isinf(rep.numeric) \
            and rep.numeric_error < abs(rep.numeric - want)
        out.append({**case, "kind": kind, "report": rep, "bad_agree": bad_agree,
                    "bad_error": bad_error, "seconds": time.perf_counter() - start})
    return out


def summary(results: list[dict[str, Any]]) -> dict[str, int]:
    counts = {k: 0 for k in ("cases", "good", "none", "wrong", "error", "agree_wrong",
                             "wrong_small_error", "agree")}
    for r in results:
        counts["cases"] += 1
        counts[r["kind"]] += 1
        counts["agree_wrong"] += r.get("bad_agree", False)
        counts["wrong_small_error"] += r.get("bad_error", False)
        counts["agree"] += bool(r["report"] is not None and r["report"].agree)
    return counts


def run(quick: bool) -> str:
    from ._util import table

    cases = [c for c in extract() if real_valued(c)]
    if quick:
        cases = cases[::25]
    results = run_cases(cases, timeout=5.0)
    c = summary(results)
    rows = [(f"SymPy limit tests ({'every 25th ' if quick else ''}real-valued cases)",
             c["cases"], c["good"], c["none"], c["wrong"], c["error"], c["agree"],
             c["agree_wrong"], c["wrong_small_error"])]
    header = ("suite", "cases", "numeric within 1e-6", "no estimate", "wrong estimate",
              "error", "agree=True", "agree=True but wrong", "wrong with small error")
    return table("limit: numeric cross-check on SymPy's own tests (targets: >= 405 of 423 "
                 "within 1e-6; 0 in the last two columns)", header, rows)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.limits", description=__doc__)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--timeout", type=float, default=5.0)
    parser.add_argument("--show", nargs="*", default=(), help="kinds to list: none wrong ...")
    parser.add_argument("--start", type=int, default=0)
    parser.add_argument("--stop", type=int, default=None)
    args = parser.parse_args(argv)
    every = [c for c in extract()]
    cases = [c for c in every if real_valued(c)][args.start:args.stop]
    if args.quick:
        cases = cases[::25]
    print(f"{len(every)} limit asserts extracted, {len(cases)} real-valued cases run")
    results = run_cases(cases, args.timeout)
    print(summary(results))
    for r in results:
        if r["kind"] in args.show or (r.get("bad_agree") or r.get("bad_error")):
            rep = r["report"]
            print(f"{r['kind']:6s} {r['where']}: limit({r['expr']}, {r['var']}, {r['point']}, "
                  f"{r['dir']!r}) = {r['expected']}; numeric "
                  f"{None if rep is None else rep.numeric} +- "
                  f"{None if rep is None else rep.numeric_error} agree="
                  f"{None if rep is None else rep.agree} {r.get('note', '')}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
