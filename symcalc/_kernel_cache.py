"""On-disk cache of generated kernel modules: a numba kernel is compiled once per machine.

The numba backend's generated source (printed by symcalc's own printers, every user symbol
renamed) is written to ``<cache>/kernels-v1/k_<key>.py`` and executed as a real module, so
numba's own on-disk cache (``cache=True``, kept in ``__pycache__`` beside the file) can keep
the machine code: a second process compiling the same loss loads it instead of compiling.
Kernels that allocate nothing keep their machine code as a C entry point's object code beside
the module instead (``n_<key>.o``, :mod:`symcalc._native`), linked without numba's compiler.

- ``<cache>`` is ``$SYMCALC_CACHE_DIR`` when set, else the user cache folder
  (``platformdirs.user_cache_dir("symcalc")``, e.g. ``~/.cache/symcalc`` on Linux). The folder
  is safe to delete at any time: whatever is missing is compiled again.
- ``<key>`` is a SHA-256 over the module text and the versions it was compiled with (Python,
  NumPy, numba, symcalc, and a ``salt`` naming the helper code the kernels call), so a stale
  entry is never found; a file whose content is not exactly the expected text (truncated,
  edited, half-written) is rewritten, and a numba cache entry that fails to load is deleted
  and compiled afresh.
- Files are written to a temporary name and renamed into place (``os.replace``), so processes
  compiling the same loss at once all succeed and none reads a half-written file.
- Only a folder owned by the current user and writable by no one else is used (numba's cache
  entries are executable code). When the folder cannot be used (unwritable, a file in the
  way, shared), kernels are compiled in memory, with one warning per folder and process.
"""

from __future__ import annotations

import hashlib
import itertools
import linecache
import os
import sys
import threading
import types
import warnings
from pathlib import Path
from typing import Any

from ._safety import compile_generated

__all__ = ["ENV_VAR", "cache_root", "kernel_dir", "load", "compile_kernel", "is_cached", "write_atomic"]

#: Environment variable naming the cache folder.
ENV_VAR = "SYMCALC_CACHE_DIR"
_LAYOUT = "kernels-v1"  # bump when the file layout changes
_PREFIX = "k_"
_lock = threading.Lock()
_warned: set[str] = set()
_counter = itertools.count()


def cache_root() -> Path:
    """The cache folder: ``$SYMCALC_CACHE_DIR``, else the user cache folder (platformdirs)."""
    env = os.environ.get(ENV_VAR, "").strip()
    if env:
        return Path(env).expanduser()
    try:
        import platformdirs
    except ImportError:  # pragma: no cover - platformdirs comes with symcalc[fast]
        base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
        return Path(base) / "symcalc"
    return Path(platformdirs.user_cache_dir("symcalc", appauthor=False))


def kernel_dir() -> Path | None:
    """The folder of cached kernel modules, created if needed; None when it cannot be used
    (one warning per folder per process says why)."""
    root = cache_root()
    path = root / _LAYOUT
    try:
        path.mkdir(mode=0o700, parents=True, exist_ok=True)
        _check_private(path)
        probe = path / f".probe-{os.getpid()}-{threading.get_ident()}"
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as exc:
        _warn_once(root, exc)
        return None
    return path


def _check_private(path: Path) -> None:
    """Refuse a folder other users could write to (they could plant compiled code there)."""
    if not hasattr(os, "getuid"):  # pragma: no cover - Windows: per-user profile folders
        return
    st = path.stat()
    if st.st_uid != os.getuid() or st.st_mode & 0o022:
        raise PermissionError(
            f"{path} is writable by other users (owner uid {st.st_uid}, mode "
            f"{oct(st.st_mode & 0o777)}); compiled kernels are only cached in a private folder"
        )


def _warn_once(root: Path, exc: BaseException) -> None:
    key = str(root)
    if key in _warned:
        return
    _warned.add(key)
    warnings.warn(
        f"symcalc cannot use the kernel cache folder {root} ({exc}); compiling in memory "
        f"instead, so kernels are compiled again in every process. Set {ENV_VAR} to a "
        "writable folder of your own to keep them.",
        UserWarning,
        stacklevel=_user_stacklevel(),
    )


def _user_stacklevel() -> int:
    """The ``stacklevel`` that points a warning at the first frame outside symcalc."""
    package = os.path.dirname(os.path.abspath(__file__))
    frame, level = sys._getframe(1), 1
    while frame is not None and os.path.abspath(frame.f_code.co_filename).startswith(package):
        frame, level = frame.f_back, level + 1
    return level


def _versions(salt: str) -> str:
    from ._version import __version__

    mods = {name: getattr(sys.modules.get(name), "__version__", "-") for name in ("numpy", "numba")}
    return f"python {sys.version}; numpy {mods['numpy']}; numba {mods['numba']}; " \
        f"symcalc {__version__}; {salt}"


def load(source: str, namespace: dict[str, Any], *, salt: str = "") -> types.ModuleType:
    """Execute generated ``source`` as a module backed by a file in the kernel cache.

    ``namespace`` (the names the source uses: numba, numpy, helper functions) is copied into
    the module before it runs; the module's ``_CACHE`` is True when it is file-backed (numba
    may cache its kernels on disk), False when it was compiled in memory.
    """
    text = f"# Generated by symcalc: a compiled-kernel module. Safe to delete.\n{source}"
    key = hashlib.sha256(f"{text}\0{_versions(salt)}".encode()).hexdigest()[:40]
    name = f"_symcalc_kernel_{key}"
    with _lock:
        if name in sys.modules:
            return sys.modules[name]
        folder = kernel_dir()
        path = None if folder is None else _write_verified(folder / f"{_PREFIX}{key}.py", text)
        try:
            module = _exec_module(name, text, namespace, path)
        except (OSError, RuntimeError):  # the file vanished before numba looked at it
            module = _exec_module(name, text, namespace, None)
        sys.modules[name] = module  # numba's cache finds a kernel's globals by module name
        return module


def _write_verified(path: Path, text: str) -> Path | None:
    """``path`` holding exactly ``text``: kept when it does, else (re)written atomically."""
    data = text.encode()
    try:
        if path.read_bytes() == data:
            return path
    except OSError:
        pass  # missing or unreadable: write it
    return path if write_atomic(path, data) else None


def write_atomic(path: Path, data: bytes) -> bool:
    """Write ``data`` to a temporary file beside ``path`` and rename it into place, so no
    process ever reads a half-written file; False (with the one warning) when it cannot."""
    import tempfile

    try:
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.stem}.", suffix=".tmp")
        try:
            with os.fdopen(fd, "wb") as f:
                f.write(data)
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
    except OSError as exc:
        _warn_once(path.parent.parent, exc)
        return False
    return True


def _exec_module(name: str, text: str, namespace: dict[str, Any], path: Path | None
                 ) -> types.ModuleType:
    module = types.ModuleType(name)
    module.__dict__.update(namespace)
    if path is None:
        filename = f"<symcalc-generated-numba-{next(_counter)}>"
        linecache.cache[filename] = (len(text), None, text.splitlines(True), filename)
    else:
        filename = str(path)
    module.__file__ = filename  # also names the linecache entry of an in-memory module
    module._CACHE = path is not None
    code = compile_generated(text, filename)  # every name checked before anything runs
    exec(code, module.__dict__)  # noqa: S102 - symcalc's own, audited code
    return module


def is_cached(module: types.ModuleType) -> bool:
    """Whether ``module`` is file-backed (its numba kernels may be cached on disk)."""
    return bool(getattr(module, "_CACHE", False))


def compile_kernel(dispatcher: Any, signature: Any) -> bool:
    """Compile a numba kernel (made by a module from :func:`load`) for ``signature``, or load
    it from numba's disk cache; True when it was loaded. A cache entry that fails to load is
    deleted and the kernel compiled afresh."""
    module = sys.modules.get(dispatcher.py_func.__module__)
    try:
        dispatcher.compile(signature)
    except Exception:
        if module is None or not is_cached(module):
            raise
        _purge_numba_entries(Path(module.__file__))
        dispatcher.compile(signature)
    return sum(dispatcher.stats.cache_hits.values()) > 0


def _purge_numba_entries(path: Path) -> None:
    for entry in (path.parent / "__pycache__").glob(f"{path.stem}.*"):
        entry.unlink(missing_ok=True)
