"""Matplotlib helpers (pyplot is imported lazily, inside each function).

Every function takes ``ax=None`` (a new figure when None) and returns the Axes it drew on.
Each area adds its helper module here with one re-export line.
"""

from __future__ import annotations

from .roc import plot_roc
from .descent import plot_contour, plot_gradient_field, plot_loss_curve

__all__ = ["plot_roc", "plot_loss_curve", "plot_contour", "plot_gradient_field"]
