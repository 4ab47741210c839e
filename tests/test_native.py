"""Fused kernels linked as plain machine code (symcalc._native): same numbers as numba's
path, verified cache entries, a new process that never starts numba's compiler, and numba's
path kept for whatever the entry point cannot carry.

Each test points ``SYMCALC_CACHE_DIR`` at its own temporary folder.
"""

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import sympy as sp

import symcalc as sc
from symcalc import _native
from symcalc.codegen import execution

numba = pytest.importorskip("numba", reason="numba not installed (symcalc[fast])")
from symcalc.codegen import emit_numba as _numba  # noqa: E402

if not _native.enabled():
    pytest.skip("native entries are Linux-only", allow_module_level=True)

ROOT = Path(__file__).resolve().parents[1]
w1, w2, x1, x2, y = sp.symbols("w1 w2 x1 x2 y")
LOSS = sp.log(1 + sp.exp(-y * (w1 * x1 + w2 * x2))) + (w1**2 + w2**2) / 10
RNG = np.random.default_rng(7)
DATA = {"x1": RNG.normal(size=9000), "x2": RNG.normal(size=9000),
        "y": np.where(RNG.random(9000) < 0.5, -1.0, 1.0)}
THETA = np.array([0.7, -1.3])


@pytest.fixture()
def cache(tmp_path, monkeypatch):
    folder = tmp_path / "cache"
    monkeypatch.setenv("SYMCALC_CACHE_DIR", str(folder))
    monkeypatch.delenv("SYMCALC_NATIVE", raising=False)
    return folder


def _forget() -> None:
    """Drop this process's memory of generated kernels, as a new process would start."""
    execution.NAMESPACES.clear()
    _numba._RUNNERS.clear()
    _numba._ENTRIES.clear()
    for name in [m for m in sys.modules if m.startswith("_symcalc_kernel_")]:
        del sys.modules[name]


def _compile(expr=LOSS, **options):
    _forget()
    params = sorted(expr.free_symbols & {w1, w2}, key=str)
    data = sorted(expr.free_symbols - set(params), key=str)
    return sc.Loss(expr, params=params, data=data).compile(backend="numba", **options)


def _entry_kinds() -> set[str]:
    return {type(call).__name__ for call, _ in _numba._ENTRIES.values()}


def _objects(cache: Path) -> list[Path]:
    return sorted((cache / "kernels-v1").glob("n_*.o"))


def _assert_matches_numpy(f, expr=LOSS) -> None:
    ref = sc.Loss(expr, params=f.params, data=f.data_symbols).compile()
    v, g = f.value_and_grad(THETA, DATA)
    rv, rg = ref.value_and_grad(THETA, DATA)
    assert v == pytest.approx(rv, rel=1e-12) and g == pytest.approx(rg, rel=1e-12)
    assert f.hessian(THETA, DATA) == pytest.approx(ref.hessian(THETA, DATA), rel=1e-12)


def test_scalar_kernels_run_as_native_entries_with_numpys_numbers(cache):
    f = _compile(hessian=True)
    assert _entry_kinds() == {"NativeKernel"}
    assert len(_objects(cache)) == 2  # value_and_grad and hessian
    _assert_matches_numpy(f)
    # a hand-derived check too: at theta = 0 the loss is log 2 and the gradient -mean(y x)/2
    v, g = f.value_and_grad([0.0, 0.0], DATA)
    assert v == pytest.approx(np.log(2), rel=1e-14)
    expect = [-np.mean(DATA["y"] * DATA["x1"]) / 2, -np.mean(DATA["y"] * DATA["x2"]) / 2]
    assert g == pytest.approx(expect, rel=1e-12)


def test_threaded_calls_of_a_native_entry_equal_serial_ones_bit_for_bit(cache):
    f = _compile(block_rows=500)
    f.value_and_grad(THETA, DATA)
    runner = _numba._RUNNERS[f._runners["value_and_grad"]]
    assert type(runner.fn).__name__ == "NativeKernel"
    P = f.prepare(DATA)
    theta = np.ascontiguousarray(THETA)
    serial = runner.__class__(runner.fn, runner.outputs, 500, threads=1)(theta, P.columns, 9000)
    two = runner.__class__(runner.fn, runner.outputs, 500, threads=2)
    two.row_seconds = 1.0  # always parallel
    assert np.array_equal(two(theta, P.columns, 9000), serial) and two.last_threads == 2


CHILD = r"""
import json, sys
import numpy as np, sympy as sp, symcalc as sc
w1, w2, x1, x2, y = sp.symbols("w1 w2 x1 x2 y")
loss = sc.Loss(sp.log(1 + sp.exp(-y * (w1 * x1 + w2 * x2))) + (w1**2 + w2**2) / 10,
               params=[w1, w2], data=[x1, x2, y])
f = loss.compile(backend="numba")
v, g = f.value_and_grad([0.0, 0.0], {"x1": [1.0, 2.0], "x2": [0.5, -1.0], "y": [1.0, -1.0]})
print(json.dumps({"value": v, "grad": g.tolist(), "from_cache": sorted(f.compile_time.from_cache),
                  "numba_compiler_started": "numba.np.arraymath" in sys.modules}))
"""


def _child(cache: Path) -> dict:
    env = {**os.environ, "SYMCALC_CACHE_DIR": str(cache), "PYTHONPATH": str(ROOT)}
    env.pop("SYMCALC_NATIVE", None)
    out = subprocess.run([sys.executable, "-c", CHILD], env=env, capture_output=True, text=True,
                         timeout=600)
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_a_new_process_links_the_cached_entry_without_starting_numbas_compiler(cache):
    first, second = _child(cache), _child(cache)
    # log 2, and the gradient -mean(y x)/2 at theta = 0: x1: -(1 - 2)/4, x2: -(0.5 + 1)/4
    for res in (first, second):
        assert res["value"] == pytest.approx(np.log(2), rel=1e-14)
        assert res["grad"] == pytest.approx([0.25, -0.375], rel=1e-14)
    assert first["numba_compiler_started"] and first["from_cache"] == []
    assert not second["numba_compiler_started"] and second["from_cache"] == ["value_and_grad"]


def test_truncated_object_file_is_deleted_and_rebuilt(cache):
    _compile()
    (path,) = _objects(cache)
    good = path.read_bytes()
    path.write_bytes(good[: len(good) // 2])
    f = _compile()
    assert "value_and_grad" not in f.compile_time.from_cache  # compiled, not linked
    assert _native._parse(path.read_bytes()) is not None  # a whole entry again
    _assert_matches_numpy(f)


def test_object_code_that_does_not_match_its_hash_is_never_linked(cache):
    _compile()
    (path,) = _objects(cache)
    blob = bytearray(path.read_bytes())
    blob[-40] ^= 0xFF  # one flipped byte in the machine code, header untouched
    assert _native._parse(bytes(blob)) is None
    path.write_bytes(bytes(blob))
    f = _compile()
    assert "value_and_grad" not in f.compile_time.from_cache
    _assert_matches_numpy(f)


def test_entries_call_only_the_listed_external_symbols(cache):
    _compile()
    (path,) = _objects(cache)
    symbol, externals, obj = _native._parse(path.read_bytes())
    assert sorted(_native._undefined_symbols(obj)) == sorted(externals)
    assert externals and all(_native._allowed(s) for s in externals)
    assert symbol.startswith("cfunc.")
    # numba's allocator, exception raising and anything unknown are refused
    for name in ("NRT_MemInfo_alloc_safe_aligned", "NRT_Free", "numba_do_raise",
                 "numba_unpickle", "system", "dlopen", "_ZN5numba4some4kernel"):
        assert not _native._allowed(name)


def test_an_entry_calling_an_unlisted_symbol_keeps_numbas_path(cache, monkeypatch):
    monkeypatch.setattr(_native, "_allowed", lambda name: False)
    f = _compile()
    assert _entry_kinds() == {"CPUDispatcher"} and _objects(cache) == []
    _assert_matches_numpy(f)


@pytest.mark.parametrize("k", [3, 40])
def test_block_kernels_go_native_unless_they_allocate(cache, k):
    # a 3-vector's loops are unrolled into scalars; a 40-vector's kernel keeps scratch arrays
    wv, xv = sc.vector("w", k), sc.vector("x", k)
    loss = sc.Loss(sp.log(1 + sp.exp(-y * sc.dot(wv, xv))), params=[wv], data=[xv, y])
    _forget()
    f = loss.compile(backend="numba")
    data = {"x": RNG.normal(size=(50, k)), "y": np.where(RNG.random(50) < 0.5, -1.0, 1.0)}
    theta = RNG.normal(size=k) / k
    v, g = f.value_and_grad(theta, data)
    rv, rg = loss.compile().value_and_grad(theta, data)
    assert v == pytest.approx(rv, rel=1e-12) and g == pytest.approx(rg, rel=1e-12)
    allocating = [fn for fn, _ in _numba._ENTRIES if _native._allocates(fn)]
    if k == 40:
        assert allocating and _objects(cache) == [] and _entry_kinds() == {"CPUDispatcher"}
    else:
        assert not allocating and len(_objects(cache)) == 1
        assert _entry_kinds() == {"NativeKernel"}


def test_switching_native_entries_off(cache, monkeypatch):
    monkeypatch.setenv("SYMCALC_NATIVE", "0")
    f = _compile()
    assert _entry_kinds() == {"CPUDispatcher"} and _objects(cache) == []
    _assert_matches_numpy(f)


def test_the_key_names_the_host_cpu(cache, monkeypatch):
    import llvmlite.binding as llvm

    _compile()
    fn, ndims = next(iter(_numba._ENTRIES))
    here = _native._key(fn, ndims)
    monkeypatch.setattr(llvm, "get_host_cpu_name", lambda: "another-cpu")
    assert _native._key(fn, ndims) != here  # an entry is only used by the CPU it was built for


def test_native_kernel_refuses_arrays_it_cannot_read(cache):
    f = _compile()
    f.value_and_grad(THETA, DATA)
    entry = _numba._RUNNERS[f._runners["value_and_grad"]].fn
    cols = (np.ones(4), np.ones(4), np.ones(4))
    parts = np.zeros((2, 3))  # one block and the row-free terms; value and two gradients
    entry(np.ones(2), cols, 4, 0, 1, parts)
    assert parts[0, 0] == pytest.approx(4 * np.log(1 + np.exp(-2.0)))  # 4 rows of z = 2
    with pytest.raises(ValueError, match="C-contiguous float64"):
        entry(np.ones(2, dtype=np.float32), cols, 4, 0, 1, parts)
    with pytest.raises(ValueError, match="C-contiguous float64"):
        entry(np.ones(2), (np.ones(8)[::2], np.ones(4), np.ones(4)), 4, 0, 1, parts)
    with pytest.raises(ValueError, match="more than the 4 rows"):
        entry(np.ones(2), cols, 5, 0, 1, parts)
    with pytest.raises(ValueError, match="expected 3 data columns"):
        entry(np.ones(2), cols[:2], 4, 0, 1, parts)
    with pytest.raises(ValueError, match="outside"):
        entry(np.ones(2), cols, 4, 0, 2, parts)


def test_elf_reader_refuses_what_is_not_an_elf_object():
    assert _native._undefined_symbols(b"") is None
    assert _native._undefined_symbols(b"\x7fELF" + b"\0" * 10) is None
    assert _native._undefined_symbols(b"#!/bin/sh\n" * 20) is None
