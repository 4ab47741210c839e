"""The time budget of the readable form: CPU seconds of this thread, checked between steps.

CPU time of the calling thread (not wall time) so that a loaded machine does not turn a
readable display into a raw one; every step of the pattern search calls :meth:`Budget.check`,
and the few SymPy calls that could run long (``cancel``) only see expressions below a size cap.
"""

from __future__ import annotations

import time

__all__ = ["Budget", "OutOfBudget", "DEFAULT_SECONDS", "MAX_NODES", "too_large"]

#: CPU seconds one readable gradient (or one display) may take before falling back to raw.
DEFAULT_SECONDS = 1.0
#: Expressions with more tree nodes than this (all entries together) are shown raw at once.
MAX_NODES = 60_000


class OutOfBudget(Exception):
    """Raised inside the readable machinery when the budget is spent (never escapes it)."""


class Budget:
    """A deadline in CPU seconds of the current thread.

    >>> Budget(0).exhausted()
    True
    """

    def __init__(self, seconds: float | None = None) -> None:
        self.seconds = float(DEFAULT_SECONDS if seconds is None else seconds)
        self.deadline = time.thread_time() + self.seconds

    def exhausted(self) -> bool:
        return time.thread_time() >= self.deadline

    def check(self) -> None:
        if self.exhausted():
            raise OutOfBudget(f"the readable form took more than {self.seconds:g} s of CPU time")


def too_large(exprs: object) -> bool:
    """Whether the expressions have more than :data:`MAX_NODES` distinct tree nodes."""
    return count_nodes(exprs, MAX_NODES) > MAX_NODES


def count_nodes(exprs: object, cap: int) -> int:
    """Tree nodes of the expressions (shared sub-trees counted once), stopping past ``cap``."""
    seen: set[object] = set()
    stack = list(exprs)  # type: ignore[call-overload]
    while stack and len(seen) <= cap:
        node = stack.pop()
        if node in seen:
            continue
        seen.add(node)
        stack.extend(getattr(node, "args", ()))
    return len(seen)
