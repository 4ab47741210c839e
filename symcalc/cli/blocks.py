"""Vector and matrix symbols on the command line: ``--vector x=*``, ``--vector w=30``.

A data block names its CSV columns (``x=col1,col2,...``, or ``x=*`` for every column the
formula does not use otherwise); a parameter block gives its length (``w=30``) or takes it
from the data block it meets in ``dot(w, x)``. Matrices are ``--matrix W=3x4`` (``3x*``: as
many columns as the vector ``W`` multiplies has entries).
"""

from __future__ import annotations

import argparse
import re
from typing import Any

from ..errors import SymcalcError

__all__ = ["add_block_arguments", "BlockPlan", "plan_blocks"]

_NAME = re.compile(r"[A-Za-z_][A-Za-z_0-9]*")
_DOT = re.compile(r"\bdot\(\s*([A-Za-z_]\w*)\s*,\s*([A-Za-z_]\w*)\s*\)")
_MATVEC = re.compile(r"\b([A-Za-z_]\w*)\s*[@*]\s*([A-Za-z_]\w*)")


def add_block_arguments(p: argparse.ArgumentParser, *, data: bool = True) -> None:
    """The ``--vector`` and ``--matrix`` options."""
    what = ("NAME=* or NAME=col1,col2,... (a data block of CSV columns) or NAME=n (a parameter "
            "vector of length n; inferred from dot(NAME, x) when omitted)") if data else \
        "NAME=n (a vector of length n)"
    p.add_argument("--vector", action="append", default=[], metavar="NAME=SPEC", help=what)
    p.add_argument("--matrix", action="append", default=[], metavar="NAME=MxN",
                   help="an M x N matrix symbol, e.g. W=3x4 (N may be * when W multiplies a vector)")


class BlockPlan:
    """The blocks a formula uses: symbols, and the CSV columns of each data block."""

    def __init__(self) -> None:
        self.symbols: dict[str, Any] = {}
        self.columns: dict[str, list[str]] = {}


def _split(spec: str, option: str) -> tuple[str, str]:
    name, sep, value = spec.partition("=")
    name, value = name.strip(), value.strip()
    if not sep or not name.isidentifier() or not value:
        raise SymcalcError(f"{option} must look like NAME=SPEC (e.g. x=* or w=30); got {spec!r}")
    return name, value


def plan_blocks(text: str, vectors: list[str], matrices: list[str], params: list[str],
                header: list[str] | None, scalars: set[str]) -> BlockPlan:
    """Resolve ``--vector``/``--matrix`` specs into block symbols and data columns.

    ``header`` are the CSV's columns (None without data), ``scalars`` the names the formula
    uses that are not blocks (their columns are not swept up by ``*``).
    """
    from ..blocks.symbols import matrix, vector

    plan, sizes = BlockPlan(), {}
    star: str | None = None
    for spec in vectors:
        name, value = _split(spec, "--vector")
        if value.isdigit():
            sizes[name] = int(value)
        elif header is None:
            raise SymcalcError(f"--vector {spec}: a data block needs --data FILE.csv")
        elif value == "*":
            star = name
        else:
            plan.columns[name] = [c.strip() for c in value.split(",") if c.strip()]
    if star is not None and header is not None:
        used = set(scalars) | set(params) | {c for cols in plan.columns.values() for c in cols}
        plan.columns[star] = [c for c in header if c not in used]
    for name, cols in plan.columns.items():
        sizes[name] = len(cols)
    _infer_vectors(text, params, sizes)
    shapes = {}
    for spec in matrices:
        name, value = _split(spec, "--matrix")
        shapes[name] = _matrix_shape(text, name, value, sizes)
    for name, n in sizes.items():
        if n < 1:
            raise SymcalcError(f"the vector {name!r} has no entries (no columns left for it)")
        plan.symbols[name] = vector(name, n)
    for name, (m, n) in shapes.items():
        plan.symbols[name] = matrix(name, m, n)
    return plan


def _infer_vectors(text: str, params: list[str], sizes: dict[str, int]) -> None:
    """A parameter in ``dot(p, v)`` with a known vector ``v`` has ``v``'s length."""
    for _ in range(len(params) + 1):
        changed = False
        for a, b in _DOT.findall(text):
            for p, v in ((a, b), (b, a)):
                if p in params and p not in sizes and v in sizes:
                    sizes[p] = sizes[v]
                    changed = True
        if not changed:
            return


def _matrix_shape(text: str, name: str, value: str, sizes: dict[str, int]) -> tuple[int, int]:
    m, sep, n = value.lower().partition("x")
    if not sep or not m.strip().isdigit() or not (n.strip().isdigit() or n.strip() == "*"):
        raise SymcalcError(f"--matrix {name}={value}: expected MxN, e.g. {name}=3x4 or {name}=3x*")
    if n.strip() != "*":
        return int(m), int(n)
    for left, right in _MATVEC.findall(text):
        if left == name and right in sizes:
            return int(m), sizes[right]
    raise SymcalcError(
        f"--matrix {name}={value}: cannot tell the number of columns; {name} multiplies no "
        "declared vector (write it out, e.g. 3x4)"
    )


def formula_names(text: str) -> set[str]:
    """Every identifier in the formula text (functions and constants included)."""
    return set(_NAME.findall(text))
