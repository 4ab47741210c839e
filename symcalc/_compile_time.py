"""What compiling a loss cost: :class:`CompileTime`, the type of ``CompiledLoss.compile_time``."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

__all__ = ["CompileTime", "STEPS"]

#: What each entry of a CompileTime counts, in the order they are shown.
STEPS: dict[str, str] = {
    "derive": "stable rewrites, derivatives, CSE and code generation of value and gradient",
    "value_and_grad": "numba compilation (or disk-cache load) of the value+gradient kernel",
    "value": "numba compilation (or disk-cache load) of the value-only kernel",
    "hessian": "derivation, CSE, code generation and compilation of the Hessian kernel",
}


class CompileTime(float):
    """Seconds spent compiling a loss: a float (the total), itemized by what was built.

    ``CompiledLoss.compile_time`` is one of these. Entries, by key (see :data:`STEPS`):
    ``"derive"`` (stable rewrites, derivatives, CSE and code generation),
    ``"value_and_grad"`` / ``"value"`` (numba compilation of that kernel, or its load from
    the on-disk cache) and ``"hessian"`` (everything the Hessian kernel needed). Kernels
    built later, on first use, are added when they are built: the attribute is replaced by
    a new CompileTime. ``from_cache`` names the kernels loaded from the on-disk cache.

    Examples
    --------
    >>> t = CompileTime({"derive": 0.25, "value_and_grad": 1.5})
    >>> float(t), t["value_and_grad"]
    (1.75, 1.5)
    >>> t
    CompileTime(1.75 s: derive 0.25 s, value_and_grad 1.5 s)
    """

    _parts: dict[str, float]
    from_cache: frozenset[str]

    def __new__(cls, parts: Mapping[str, float] | None = None,
                from_cache: Iterable[str] = ()) -> CompileTime:
        parts = dict(parts or {})
        self = super().__new__(cls, sum(parts.values()))
        self._parts = parts
        self.from_cache = frozenset(from_cache)
        return self

    def added(self, step: str, seconds: float, *, cached: bool = False) -> CompileTime:
        """A new CompileTime with ``seconds`` added to ``step``."""
        parts = dict(self._parts)
        parts[step] = parts.get(step, 0.0) + seconds
        return CompileTime(parts, self.from_cache | ({step} if cached else set()))

    @property
    def parts(self) -> dict[str, float]:
        """Seconds per step, in the order the steps were done."""
        return dict(self._parts)

    def __getitem__(self, step: str) -> float:
        return self._parts[step]

    def __contains__(self, step: object) -> bool:
        return step in self._parts

    def keys(self) -> list[str]:
        return list(self._parts)

    def items(self) -> list[tuple[str, float]]:
        return list(self._parts.items())

    def __reduce__(self) -> tuple[Any, ...]:
        return (CompileTime, (self._parts, self.from_cache))

    def __repr__(self) -> str:
        shown = ", ".join(
            f"{k} {v:.3g} s" + (" (disk cache)" if k in self.from_cache else "")
            for k, v in self._parts.items()
        )
        return f"CompileTime({float(self):.3g} s: {shown})"

    __str__ = __repr__
