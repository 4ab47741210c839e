"""Matplotlib helpers (pyplot is imported lazily, inside each function).

Every function takes ``ax=None`` (a new figure when None) and returns the Axes it drew on.
Each area adds its helper module here with one re-export line.
"""

from __future__ import annotations

from .roc import plot_roc

__all__ = ["plot_roc"]
