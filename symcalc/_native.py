"""Fused kernels as plain machine code: a new process calls them without starting numba's compiler.

numba loads a cached kernel quickly, but before the first one it initializes its whole
compiler (every typing and lowering registry; this also imports ``scipy.linalg``): 0.5 to
0.75 s on the benchmark machine for any cached function, symcalc's or not. For kernels that
allocate nothing (every fused kernel symcalc generates: block sums go straight into their row
of ``parts``), symcalc avoids that:

1. The first process compiles a C-callable entry point with numba (``numba.cfunc``): pointer
   and length arguments, which it turns into the arrays the kernel expects and calls it
   (inlined). The entry's object code (ELF) goes into the kernel cache folder,
   ``<cache>/kernels-v1/n_<key>.o``, beside the kernel module (:mod:`symcalc._kernel_cache`).
2. A later process finds the file, checks it, and links it into an LLVM MCJIT engine
   (llvmlite, which numba is built on) without numba's compiler: milliseconds.

Trust: ``<key>`` is a SHA-256 over the kernel module's own key (its source and the versions
it was compiled with), the argument layout, llvmlite's version and the host CPU's name and
features, so an entry is only ever used by the CPU it was compiled for. The file starts with
a header holding the SHA-256 of the object code, its entry symbol and the external symbols it
calls; a file whose hash does not match (truncated, edited) is deleted and rebuilt. External
symbols are limited to a fixed list (numba's GIL helpers, the array destructor reached only
by arrays numba allocated, which these kernels never do, Python's error functions and the C
math library), and each must resolve in the loading process before anything is linked: a
kernel needing anything else (an array allocation, a raised exception) keeps numba's path.
Linux (ELF) only; elsewhere every kernel keeps numba's path.
"""

from __future__ import annotations

import ctypes
import hashlib
import logging
import os
import struct
import sys
import threading
import weakref
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ._kernel_cache import kernel_dir, write_atomic
from ._safety import compile_generated

__all__ = ["NativeKernel", "load", "build", "enabled"]

_LAYOUT = "native-v2"  # bump when the entry's arguments or the header change
_MAGIC = b"symcalc native kernel v2\n"
#: numba helpers an entry may call: the GIL around reporting an error (never taken: the
#: kernels use numba's "numpy" error model) and the destructor call of a numba-allocated
#: array's release (unreachable: every array here wraps memory the caller owns).
_NUMBA_SYMBOLS = frozenset({"numba_gil_ensure", "numba_gil_release", "NRT_MemInfo_call_dtor"})
_lock = threading.Lock()
_engine: list[Any] = []  # the process's MCJIT engine and its target machine
_loaded: dict[str, int] = {}  # entry symbol -> address in this process
_INT = ctypes.c_ssize_t
_PTR = ctypes.c_void_p


def enabled() -> bool:
    """Whether native entries are used here (Linux ELF; ``SYMCALC_NATIVE=0`` turns them off)."""
    return sys.platform.startswith("linux") and os.environ.get("SYMCALC_NATIVE", "1") != "0"


class NativeKernel:
    """A fused kernel's C entry, called like the numba kernel: ``k(theta, cols, n, b0, b1,
    parts)`` with C-contiguous float64 arrays (the GIL is released during the call).

    The entry takes the columns as one array of pointers and one of extents (the sizes of
    each column's axes after the rows), kept from one call to the next while the same arrays
    come back (the usual case: prepared data), so a call costs a few microseconds.
    """

    def __init__(self, address: int, ndims: tuple[int, ...], keep: Any = None) -> None:
        self.ndims = ndims
        proto = ctypes.CFUNCTYPE(None, _PTR, _INT, _PTR, _PTR, _INT, _INT, _INT, _PTR, _INT, _INT)
        self._call = proto(address)
        self._keep = keep  # the numba cfunc that owns the code, when compiled here
        self._tables: tuple[Any, ...] | None = None

    def __call__(self, theta: np.ndarray, cols: Sequence[np.ndarray], n: int, b0: int, b1: int,
                 parts: np.ndarray) -> None:
        _check(theta, 1, "theta")
        _check(parts, 2, "parts")
        if not 0 <= b0 <= b1 < parts.shape[0]:
            raise ValueError(f"blocks {b0}..{b1} outside the {parts.shape[0] - 1} of parts")
        tables = self._tables  # one read: threads may swap in another table meanwhile
        if tables is None or not _same(cols, tables[0]):
            tables = self._tables = self._describe(tuple(cols))
        _, pointers_at, extents_at, rows, _keep = tables
        if n > rows:
            raise ValueError(f"n = {n} is more than the {rows} rows of the data columns")
        self._call(theta.ctypes.data, theta.shape[0], pointers_at, extents_at, n, b0, b1,
                   parts.ctypes.data, parts.shape[0], parts.shape[1])

    def _describe(self, cols: tuple[np.ndarray, ...]) -> tuple[Any, ...]:
        """(weak references to the columns, the addresses of their pointer and extents
        tables, their rows, the tables themselves): built once per set of column arrays."""
        if len(cols) != len(self.ndims):
            raise ValueError(f"expected {len(self.ndims)} data columns, got {len(cols)}")
        for c, nd in zip(cols, self.ndims):
            _check(c, nd, "a data column")
        rows = min((c.shape[0] for c in cols), default=np.iinfo(np.intp).max)
        pointers = np.array([c.ctypes.data for c in cols] or [0], dtype=np.uintp)
        extents = np.array([e for c in cols for e in c.shape[1:]] or [0], dtype=np.intp)
        known = tuple(weakref.ref(c) for c in cols)  # the data stays the caller's to free
        return known, pointers.ctypes.data, extents.ctypes.data, rows, (pointers, extents)


def _same(cols: Sequence[np.ndarray], known: tuple[Any, ...]) -> bool:
    """Whether ``cols`` are the very arrays the table was built for (a freed array's weak
    reference is dead, so memory reused at the same address never matches)."""
    return len(cols) == len(known) and all(r() is a for a, r in zip(cols, known))


def _check(a: np.ndarray, ndim: int, what: str) -> None:
    if not (isinstance(a, np.ndarray) and a.dtype == np.float64 and a.ndim == ndim
            and a.flags.c_contiguous):
        raise ValueError(f"{what} must be a C-contiguous float64 array of {ndim} dimensions")


# ------------------------------------------------------------------------------ the entry point
def _wrapper_source(ndims: tuple[int, ...], name: str) -> str:
    """``name(theta*, len, cols**, extents*, n, b0, b1, parts*, rows, outputs)``."""
    cols, at = [], 0
    for i, nd in enumerate(ndims):
        shape = ["_n"] + [f"_ep[{at + j}]" for j in range(nd - 1)]
        at += nd - 1
        cols.append(f"numba.carray(_cp[{i}], ({', '.join(shape)},))")
    tup = "(" + "".join(f"{c}, " for c in cols) + ")"
    return (f"def {name}(_tp, _tn, _cp, _ep, _n, _b0, _b1, _pp, _pr, _pc):\n"
            f"    _kernel(numba.carray(_tp, (_tn,)), {tup}, _n, _b0, _b1, "
            "numba.carray(_pp, (_pr, _pc)))\n")


def _signature(ndims: tuple[int, ...]) -> Any:
    import numba

    t = numba.types
    ptr = t.CPointer(t.float64)
    return t.void(ptr, t.intp, t.CPointer(ptr), t.CPointer(t.intp), t.intp, t.intp, t.intp, ptr,
                  t.intp, t.intp)


def _key(fn: Any, ndims: tuple[int, ...]) -> str:
    import llvmlite
    import llvmlite.binding as llvm

    host = f"{llvm.get_host_cpu_name()} {llvm.get_host_cpu_features().flatten()}"
    what = f"{_LAYOUT}\0{fn.py_func.__module__}.{fn.py_func.__qualname__}\0{ndims}\0" \
        f"llvmlite {llvmlite.__version__}\0{host}"
    return hashlib.sha256(what.encode()).hexdigest()[:40]


def _path(fn: Any, ndims: tuple[int, ...]) -> Path | None:
    module = sys.modules.get(fn.py_func.__module__)
    if not enabled() or module is None or not getattr(module, "_CACHE", False):
        return None  # a kernel compiled in memory: nothing to keep
    folder = kernel_dir()
    return None if folder is None else folder / f"n_{_key(fn, ndims)}.o"


def load(fn: Any, ndims: tuple[int, ...]) -> NativeKernel | None:
    """The cached entry of kernel ``fn`` (a numba dispatcher from the kernel cache) for data of
    ``ndims``, linked without numba's compiler; None when there is none that can be trusted."""
    return _guarded(_load, fn, ndims)


def build(fn: Any, ndims: tuple[int, ...]) -> NativeKernel | None:
    """Compile kernel ``fn``'s entry with numba and store its object code in the cache;
    None (numba's own path) when it cannot be kept or calls something outside the list."""
    return _guarded(_build, fn, ndims)


def _guarded(step: Any, fn: Any, ndims: tuple[int, ...]) -> NativeKernel | None:
    """``step``, or None when it fails: the entry point leans on numba and llvmlite internals
    (object code, helper symbols) that another version may lack; numba's path always works."""
    try:
        return step(fn, ndims)
    except Exception as exc:  # noqa: BLE001 - any failure means: use numba's own path
        logging.getLogger("symcalc").debug("native kernel entry unavailable (%s: %s); using "
                                           "numba's path", type(exc).__name__, exc)
        return None


def _load(fn: Any, ndims: tuple[int, ...]) -> NativeKernel | None:
    path = _path(fn, ndims)
    if path is None:
        return None
    try:
        blob = path.read_bytes()
    except OSError:
        return None
    parsed = _parse(blob)
    if parsed is None:  # truncated, edited or from another layout: rebuilt by build()
        path.unlink(missing_ok=True)
        return None
    symbol, externals, obj = parsed
    if path.stem[len("n_"):] not in symbol:  # an entry must be named after its own kernel
        path.unlink(missing_ok=True)
        return None
    address = _link(symbol, externals, obj)
    return None if address is None else NativeKernel(address, ndims)


def _build(fn: Any, ndims: tuple[int, ...]) -> NativeKernel | None:
    path = _path(fn, ndims)
    if path is None or _allocates(fn):
        return None
    import numba

    # The entry's symbol must name this kernel alone: numba's mangled names carry a counter
    # that restarts in every process, so two kernels' entries would otherwise share a name.
    key = path.stem[len("n_"):]
    name = f"_entry_{key}"
    namespace = {"numba": numba, "_kernel": fn, "__name__": f"_symcalc_native_{key}"}
    text = _wrapper_source(ndims, name)
    exec(compile_generated(text, f"<symcalc-native-entry-{key}>"), namespace)  # noqa: S102
    entry = numba.cfunc(_signature(ndims), error_model="numpy", fastmath={"contract"}
                        )(namespace[name])
    _, kind, data = entry._library.serialize_using_object_code()
    obj = data[0] if kind == "object" else b""
    externals = _undefined_symbols(obj)
    symbol = entry.native_name
    if externals is None or not all(_allowed(s) for s in externals) or key not in symbol:
        return None
    header = b"".join([_MAGIC, hashlib.sha256(obj).hexdigest().encode(), b"\n",
                       symbol.encode(), b"\n", " ".join(sorted(externals)).encode(), b"\n"])
    write_atomic(path, header + obj)
    return NativeKernel(entry.address, ndims, keep=entry)


def _allocates(fn: Any) -> bool:
    """Whether kernel ``fn`` creates arrays (a block kernel's scratch vectors): numba's
    allocator is not available to plain machine code, so such a kernel keeps numba's path."""
    import inspect

    try:
        text = inspect.getsource(fn.py_func)
    except (OSError, TypeError):
        return True
    return any(f"numpy.{name}(" in text for name in ("zeros", "empty", "ones", "array", "full"))


def _parse(blob: bytes) -> tuple[str, list[str], bytes] | None:
    if not blob.startswith(_MAGIC):
        return None
    lines = blob[len(_MAGIC):].split(b"\n", 3)
    if len(lines) != 4:
        return None
    digest, symbol, externals, obj = lines
    if hashlib.sha256(obj).hexdigest().encode() != digest:
        return None
    names = externals.decode("ascii", "replace").split()
    return symbol.decode("ascii", "replace"), names, obj


def _allowed(name: str) -> bool:
    """An external symbol an entry may call: numba's GIL helpers, Python's error functions
    (for the unraisable-error report numba's C entries carry) and the C math library."""
    if name in _NUMBA_SYMBOLS:
        return True
    if name.startswith(("numba_", "NRT_", "_ZN")):
        return False  # anything else of numba's runtime (allocation, random state, ...)
    return name.startswith(("Py", "_Py")) or name in _LIBM


#: C math functions LLVM lowers numba's math to.
_LIBM = frozenset(
    "exp exp2 expm1 log log2 log10 log1p pow sqrt cbrt sin cos tan asin acos atan atan2 sinh "
    "cosh tanh asinh acosh atanh erf erfc tgamma lgamma fmod hypot floor ceil trunc round "
    "rint nearbyint copysign fabs fmin fmax ldexp frexp modf memset memcpy memmove".split()
)


# ------------------------------------------------------------------------------- linking
def _link(symbol: str, externals: list[str], obj: bytes) -> int | None:
    """Link ``obj`` into the process's engine and return ``symbol``'s address, or None when
    one of its external symbols is not allowed or does not resolve (nothing is linked then)."""
    with _lock:
        if symbol in _loaded:
            return _loaded[symbol]
        import llvmlite.binding as llvm

        engine = _get_engine(llvm)
        if not all(_allowed(s) and llvm.address_of_symbol(s) for s in externals):
            return None
        engine.add_object_file(llvm.ObjectFileRef.from_data(obj))
        engine.finalize_object()
        address = engine.get_function_address(symbol)
        if not address:
            return None
        _loaded[symbol] = address
        return address


def _get_engine(llvm: Any) -> Any:
    if not _engine:
        import numba._helperlib as helpers

        llvm.initialize_native_target()
        llvm.initialize_native_asmprinter()
        for name, address in helpers.c_helpers.items():
            if f"numba_{name}" in _NUMBA_SYMBOLS:
                llvm.add_symbol(f"numba_{name}", address)
        from numba.core.runtime import _nrt_python

        for name, address in _nrt_python.c_helpers.items():
            if f"NRT_{name}" in _NUMBA_SYMBOLS:
                llvm.add_symbol(f"NRT_{name}", address)
        machine = llvm.Target.from_default_triple().create_target_machine()
        _engine.append(llvm.create_mcjit_compiler(llvm.parse_assembly(""), machine))
        _engine.append(machine)
    return _engine[0]


def _undefined_symbols(obj: bytes) -> list[str] | None:
    """The undefined global symbols of a little-endian ELF64 relocatable object (None when
    ``obj`` is not one)."""
    if len(obj) < 64 or obj[:4] != b"\x7fELF" or obj[4] != 2 or obj[5] != 1:
        return None
    shoff, = struct.unpack_from("<Q", obj, 0x28)
    shentsize, shnum = struct.unpack_from("<HH", obj, 0x3A)
    sections = []
    for i in range(shnum):
        at = shoff + i * shentsize
        if at + 64 > len(obj):
            return None
        kind, = struct.unpack_from("<I", obj, at + 4)
        offset, size, link, _, entsize = struct.unpack_from("<QQIIQ", obj, at + 24)
        sections.append((kind, offset, size, link, entsize))
    names: list[str] = []
    for kind, offset, size, link, entsize in sections:
        if kind != 2 or not entsize:  # SHT_SYMTAB
            continue
        str_off = sections[link][1]
        for at in range(offset + entsize, offset + size, entsize):  # entry 0 is null
            name_at, info, _, shndx = struct.unpack_from("<IBBH", obj, at)
            if shndx == 0 and name_at and info >> 4 in (1, 2):  # undefined, global or weak
                end = obj.index(b"\0", str_off + name_at)
                names.append(obj[str_off + name_at:end].decode("ascii", "replace"))
    return names
