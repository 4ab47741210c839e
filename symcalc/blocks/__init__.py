"""Vector and matrix losses: parameter blocks, data blocks and their derivation.

``sc.vector``/``sc.matrix`` make blocks (SymPy ``MatrixSymbol``s, :mod:`.symbols`);
``sc.dot``, ``W @ x``, ``sc.elementwise``, ``sc.sum``, ``sc.norm2`` (:mod:`.api`) and the
block nodes (:mod:`.nodes`) build losses from them. A loss with blocks is lowered to a scalar
core in a few variables (:mod:`.lower`), derived once (:mod:`.derive`) and shown in
matrix-calculus form (:mod:`.display`, :mod:`.hessian_blocks`); :mod:`.columns` feeds data
blocks from DataFrame columns.

This package's ``__init__`` imports nothing, so that :mod:`symcalc.functions` can use the
block nodes without importing the rest (the public names are re-exported by ``symcalc``).
"""
