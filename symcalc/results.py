"""A shared base for result and report objects.

Results are small dataclasses with named fields. They print with a fixed field order (the
order of declaration, so ``message``/``converged`` style fields come first), show short
summaries of arrays and histories, and render as an HTML table in notebooks.
"""

from __future__ import annotations

import dataclasses
import html
from typing import Any

import numpy as np

__all__ = ["Result"]


def _short(value: Any) -> str:
    if isinstance(value, np.ndarray):
        if value.size > 12:
            body = np.array2string(value.ravel()[:6], precision=6, separator=", ")
            return f"array(shape={value.shape}, first={body[:-1]}, ...])"
        return np.array2string(value, precision=8, separator=", ")
    if isinstance(value, dict) and value and all(
        isinstance(v, (list, np.ndarray)) for v in value.values()
    ):
        parts = ", ".join(f"{k!r}: <{len(v)} values>" for k, v in value.items())
        return "{" + parts + "}"
    if isinstance(value, list) and len(value) > 12:
        return f"<list of {len(value)}>"
    if isinstance(value, float):
        return f"{value:.10g}"
    text = repr(value)
    return text if len(text) <= 200 else text[:197] + "..."


class Result:
    """Mixin for dataclass results: fixed-order repr, ``as_dict`` and ``_repr_html_``."""

    def _items(self) -> list[tuple[str, Any]]:
        return [
            (f.name, getattr(self, f.name))
            for f in dataclasses.fields(self)  # type: ignore[arg-type]
            if f.repr
        ]

    def as_dict(self) -> dict[str, Any]:
        """The fields as a plain dict (arrays kept as arrays)."""
        return dict(self._items())

    def __repr__(self) -> str:
        items = self._items()
        width = max((len(k) for k, _ in items), default=0)
        lines = [f"{k.rjust(width)}: {_short(v)}" for k, v in items]
        return f"{type(self).__name__}(\n" + "\n".join("  " + line for line in lines) + "\n)"

    def _repr_html_(self) -> str:
        rows = "".join(
            f"<tr><th style='text-align:right'>{html.escape(k)}</th>"
            f"<td style='text-align:left'><code>{html.escape(_short(v))}</code></td></tr>"
            for k, v in self._items()
        )
        return f"<b>{html.escape(type(self).__name__)}</b><table>{rows}</table>"
