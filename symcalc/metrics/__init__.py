"""Areas under curves: ROC curves and AUC (scikit-learn identical, binary, multiclass and
multilabel), AUC confidence intervals, DeLong's comparison of two AUCs, and exact-plus-numeric
integrals of analytic curves."""

from __future__ import annotations

from .ci import AUCInterval, MulticlassAUCInterval, roc_auc_ci
from .compare import AUCComparison, roc_auc_compare
from .integrals import IntegralReport, integrate
from .roc import auc, roc_auc_score, roc_curve

__all__ = ["roc_curve", "auc", "roc_auc_score", "roc_auc_ci", "roc_auc_compare",
           "AUCInterval", "MulticlassAUCInterval", "AUCComparison",
           "integrate", "IntegralReport"]
