"""What compiling cost and when it happens: CompileTime, hessian=True, lazy builds logged."""

import logging
import pickle

import numpy as np
import pytest
import sympy as sp

import symcalc as sc
from symcalc import CompileTime

w, b, x = sp.symbols("w b x")
DATA = {"x": np.array([1.0, 2.0, -1.0])}
try:
    import numba  # noqa: F401

    BACKENDS = ["numpy", "numba"]
except ImportError:  # pragma: no cover - depends on the environment
    BACKENDS = ["numpy"]


def _loss():  # a new Loss each time: Loss.compile caches compiled objects per options
    return sc.Loss((w * x + b) ** 2 + w**2 * b**2, params=[w, b], data=[x])


# Hessian of mean (w x + b)^2 + w^2 b^2 at (w, b) = (1, 2), x = (1, 2, -1):
#   d2/dw2 = 2 mean(x^2) + 2 b^2 = 4 + 8 = 12; d2/db2 = 2 + 2 w^2 = 4;
#   d2/dwdb = 2 mean(x) + 4 w b = 4/3 + 8 = 28/3
HESSIAN = np.array([[12.0, 28 / 3], [28 / 3, 4.0]])


def test_compile_time_is_a_float_itemized_by_step():
    t = CompileTime({"derive": 0.25, "value_and_grad": 1.5}, from_cache=["value_and_grad"])
    assert float(t) == 1.75 and t > 1.0 and f"{t:.1f}" == "1.8"
    assert t["derive"] == 0.25 and "hessian" not in t and t.keys() == ["derive", "value_and_grad"]
    assert repr(t) == "CompileTime(1.75 s: derive 0.25 s, value_and_grad 1.5 s (disk cache))"
    later = t.added("hessian", 0.5)
    assert float(later) == 2.25 and later.from_cache == {"value_and_grad"} and float(t) == 1.75
    again = pickle.loads(pickle.dumps(later))
    assert again.parts == later.parts and again.from_cache == later.from_cache


@pytest.mark.parametrize("backend", BACKENDS)
def test_hessian_is_built_on_first_use_and_logged(backend, caplog):
    f = _loss().compile(backend=backend)
    steps = ["derive"] + (["value_and_grad"] if backend == "numba" else [])
    assert f.compile_time.keys() == steps
    assert float(f.compile_time) == pytest.approx(sum(f.compile_time.parts.values()))
    with caplog.at_level(logging.INFO, logger="symcalc"):
        h = f.hessian([1.0, 2.0], DATA)
    np.testing.assert_allclose(h, HESSIAN, rtol=1e-13)
    assert f.compile_time.keys() == steps + ["hessian"]
    (record,) = [r for r in caplog.records if "hessian kernel" in r.getMessage()]
    assert record.levelno == logging.INFO and record.name == "symcalc"
    assert "on first use in" in record.getMessage() and "hessian=True" in record.getMessage()
    caplog.clear()
    with caplog.at_level(logging.INFO, logger="symcalc"):
        f.hessian([0.0, 0.0], DATA)
    assert not caplog.records  # built once


@pytest.mark.parametrize("backend", BACKENDS)
def test_hessian_true_builds_it_up_front(backend, caplog):
    f = _loss().compile(backend=backend, hessian=True)
    assert "hessian" in f.compile_time
    with caplog.at_level(logging.INFO, logger="symcalc"):
        np.testing.assert_allclose(f.hessian([1.0, 2.0], DATA), HESSIAN, rtol=1e-13)
    assert not [r for r in caplog.records if "hessian" in r.getMessage()]


def test_numba_value_kernel_is_compiled_on_first_value_call():
    pytest.importorskip("numba")
    f = _loss().compile(backend="numba")
    assert "value" not in f.compile_time
    # mean (w x + b)^2 + w^2 b^2 at (1, 2): mean(9, 16, 1) + 4
    assert f.value([1.0, 2.0], DATA) == pytest.approx(26 / 3 + 4, rel=1e-14)
    assert "value" in f.compile_time
