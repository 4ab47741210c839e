"""The one compile path: derived loss -> stable rewrites -> one CSE pass -> generated code.

Modules, in the order they depend on each other:

``stable``            overflow-free rewrites (``logaddexp``, ``expit``, ``log1p``, ...)
``symengine_bridge``  optional SymEngine acceleration of derivatives and CSE
``printing``          the code printers (whitelisted functions only)
``ir``                the one common-subexpression pass every emitter prints
``execution``         executing generated source (registered with ``linecache``)
``emit_numpy``        chunked, vectorized NumPy kernels (default backend)
``emit_numba``        fused parallel numba kernels (``backend="numba"``, extra ``fast``)
``kernel``            picklable kernel handles and chunked evaluation
``data``              data prepared once per compiled loss
``dask_blocks``       blockwise evaluation of Dask collections (extra ``dask``)
``compiled``          :class:`CompiledLoss` and :func:`compile_loss`
``elementwise``       :func:`compile_elementwise` (activation functions of ``symcalc.nn``)
"""

from __future__ import annotations

from .compiled import BACKENDS, DEFAULT_CHUNK_ROWS, CompiledLoss, compile_loss
from .data import PreparedData
from .elementwise import ElementwiseFunction, compile_elementwise

__all__ = [
    "CompiledLoss",
    "PreparedData",
    "ElementwiseFunction",
    "compile_elementwise",
    "compile_loss",
    "BACKENDS",
    "DEFAULT_CHUNK_ROWS",
]
