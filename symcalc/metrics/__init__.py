"""Areas under curves: ROC curves and AUC (scikit-learn identical), AUC confidence
intervals, and exact-plus-numeric integrals of analytic curves."""

from __future__ import annotations

from .ci import AUCInterval, roc_auc_ci
from .integrals import IntegralReport, integrate
from .roc import auc, roc_auc_score, roc_curve

__all__ = ["roc_curve", "auc", "roc_auc_score", "roc_auc_ci", "AUCInterval",
           "integrate", "IntegralReport"]
