"""Matplotlib helpers (pyplot is imported lazily inside each function)."""

from __future__ import annotations

from .descent import plot_contour, plot_gradient_field, plot_loss_curve
