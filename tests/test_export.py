"""Exports to JAX, PyTorch and C against symcalc's own compiled value and gradient.

Each framework test is skipped when the framework is not installed (CI installs the
``symcalc[export]`` extra and runs them). The reference is ``CompiledLoss.value_and_grad``
(itself checked against finite differences elsewhere); exports must agree to 1e-10 in float64,
the gradient coming from the framework's own autodiff.
"""

from __future__ import annotations

import ctypes
import math
import shutil
import subprocess
import sys

import numpy as np
import pytest
import sympy as sp

import symcalc as sc
from symcalc.errors import DataError, MissingDependencyError, ShapeError, SymbolError, SymcalcError

w, b, c, s, x, x2, y = sp.symbols("w b c s x x2 y", real=True)
z = w * x + b
r = z - y
RNG = np.random.default_rng(0)
N = 40
DATA = {
    "x": RNG.normal(size=N),
    "x2": RNG.normal(size=N),
    "y": RNG.normal(size=N),
}
LABELS = {"x": DATA["x"], "x2": DATA["x2"], "y": np.where(RNG.random(N) < 0.5, -1.0, 1.0)}
BITS = {"x": DATA["x"], "x2": DATA["x2"], "y": (LABELS["y"] > 0).astype(float)}
COUNTS = {"x": DATA["x"], "x2": DATA["x2"], "y": RNG.poisson(2.0, size=N).astype(float)}


def _sig(u: sp.Expr) -> sp.Expr:
    return 1 / (1 + sp.exp(-u))


# (id, expr, params, data symbols, data, theta): 22 losses, stable forms among them.
CORPUS = [
    ("least_squares", r**2, [w, b], [x, y], DATA, [0.3, -0.2]),
    ("least_squares_sum", r**2, [w, b], [x, y], DATA, [0.3, -0.2]),
    ("logistic_pm1", sp.log(1 + sp.exp(-y * z)), [w, b], [x, y], LABELS, [0.7, 0.1]),
    ("logistic_softplus", sp.log(1 + sp.exp(z)) - y * z, [w, b], [x, y], BITS, [0.7, 0.1]),
    ("bce_sigmoid", -y * sp.log(_sig(z)) - (1 - y) * sp.log(1 - _sig(z)), [w, b], [x, y],
     BITS, [-0.4, 0.2]),
    ("logistic_l2", sp.log(1 + sp.exp(-y * (w * x + c * x2 + b))) + sp.Rational(1, 100)
     * (w**2 + c**2), [w, c, b], [x, x2, y], LABELS, [0.5, -0.3, 0.2]),
    ("poisson", sp.exp(z) - y * z, [w, b], [x, y], COUNTS, [0.2, 0.5]),
    ("huber", sp.Piecewise((r**2 / 2, sp.Abs(r) <= 1), (sp.Abs(r) - sp.Rational(1, 2), True)),
     [w, b], [x, y], DATA, [2.0, 0.1]),
    ("log_cosh", sp.log(sp.cosh(r)), [w, b], [x, y], DATA, [0.8, -0.5]),
    ("hinge_squared", sp.Max(0, 1 - y * z) ** 2, [w, b], [x, y], LABELS, [0.6, 0.05]),
    ("pinball", sp.Max(sp.Rational(3, 10) * (y - z), -sp.Rational(7, 10) * (y - z)), [w, b],
     [x, y], DATA, [0.4, 0.3]),
    ("gaussian_nll", sp.log(s) + (y - z) ** 2 / (2 * s**2), [w, b, s], [x, y], DATA,
     [0.1, 0.2, 1.3]),
    ("tanh_regression", (sp.tanh(z) - y) ** 2, [w, b], [x, y], DATA, [0.9, -0.1]),
    ("cauchy", sp.log(1 + r**2), [w, b], [x, y], DATA, [0.5, 0.5]),
    ("expm1", (sp.exp(w * x) - 1 - y) ** 2, [w], [x, y], DATA, [0.3]),
    ("pseudo_huber", sp.sqrt(1 + r**2) - 1, [w, b], [x, y], DATA, [1.5, 0.0]),
    ("trig", (sp.sin(w * x) + sp.cos(b) * x2 - y) ** 2, [w, b], [x, x2, y], DATA, [0.4, 1.1]),
    ("erf_probit", (sp.erf(w * x + b) - y) ** 2, [w, b], [x, y], DATA, [0.3, 0.1]),
    ("atan_pow", sp.atan(w * x) ** 2 + sp.Abs(b) ** 3 * sp.pi, [w, b], [x], DATA, [0.7, -0.6]),
    ("rosenbrock", (1 - w) ** 2 + 100 * (b - w**2) ** 2, [w, b], [], {}, [-1.2, 1.0]),
    ("ml_functions", sc.softplus(z) - y * z + sc.relu(w - b) ** 2 - sc.log_sigmoid(b * x2),
     [w, b], [x, x2, y], BITS, [0.9, 0.3]),
    ("softmax_xent", -sum(t * sp.log(p) for t, p in zip(
        (y, x2, 1 - y - x2), sc.softmax(w * x, b * x, c))), [w, b, c], [x, x2, y], BITS,
     [0.5, -0.5, 0.1]),
]
IDS = [case[0] for case in CORPUS]

# The stable forms at logits of +-1e3: the naive formulas overflow to inf/nan there.
STABLE = [
    ("logistic_pm1", sp.log(1 + sp.exp(-y * z)), [w, b], [x, y], LABELS),
    ("logistic_softplus", sp.log(1 + sp.exp(z)) - y * z, [w, b], [x, y], BITS),
    ("bce_sigmoid", -y * sp.log(_sig(z)) - (1 - y) * sp.log(1 - _sig(z)), [w, b], [x, y], BITS),
    ("sc_sigmoid_bce", -y * sp.log(sc.sigmoid(z)) - (1 - y) * sp.log(1 - sc.sigmoid(z)),
     [w, b], [x, y], BITS),
    ("softmax_xent", -sum(t * sp.log(p) for t, p in zip(
        (y, 1 - y, sp.S.Zero), sc.softmax(z, -z, b))), [w, b], [x, y], BITS),
]
BIG = [[1e3 / 3, 0.0], [-1e3 / 3, 0.0], [0.0, 1e3], [0.0, -1e3]]


def _loss(case: tuple) -> sc.Loss:
    name, expr, params, data, *_ = case
    return sc.Loss(expr, params=params, data=data, reduce="sum" if name.endswith("_sum") else "mean")


LOSSES = {case[0]: _loss(case) for case in CORPUS}


def _reference(loss: sc.Loss, theta: list[float], data: dict) -> tuple[float, np.ndarray]:
    return loss.compile().value_and_grad(theta, data or None)


def _assert_close(value: float, grad: np.ndarray, ref: tuple[float, np.ndarray]) -> None:
    np.testing.assert_allclose(value, ref[0], rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(grad, ref[1], rtol=1e-10, atol=1e-12)


def _used(loss: sc.Loss, data: dict) -> dict:
    return {d.name: data[d.name] for d in loss.data}


# ---------------------------------------------------------------------------------- JAX
@pytest.fixture(scope="module")
def jax():
    jax = pytest.importorskip("jax")
    jax.config.update("jax_enable_x64", True)
    return jax


def _jax_value_and_grad(jax, loss: sc.Loss, theta: list[float], data: dict):
    f = loss.to_jax()
    value, grad = jax.value_and_grad(f)(jax.numpy.asarray(theta, dtype=float), _used(loss, data))
    return float(value), np.asarray(grad)


@pytest.mark.parametrize("case", CORPUS, ids=IDS)
def test_jax_value_and_autodiff_gradient_match_compiled(jax, case) -> None:
    name, *_, data, theta = case
    loss = LOSSES[name]
    _assert_close(*_jax_value_and_grad(jax, loss, theta, data), _reference(loss, theta, data))


@pytest.mark.parametrize("case", STABLE, ids=[c[0] for c in STABLE])
def test_jax_stable_forms_at_logits_of_1e3(jax, case) -> None:
    loss = _loss(case)
    for theta in BIG:
        value, grad = _jax_value_and_grad(jax, loss, theta, case[4])
        assert math.isfinite(value) and np.isfinite(grad).all()
        _assert_close(value, grad, _reference(loss, theta, case[4]))


def test_jax_function_jits_and_takes_params_by_name(jax) -> None:
    loss = LOSSES["logistic_l2"]
    f = jax.jit(loss.to_jax())
    theta = {"w": 0.5, "c": -0.3, "b": 0.2}
    assert float(f(theta, _used(loss, LABELS))) == pytest.approx(
        loss.compile().value(theta, LABELS), rel=1e-12)


# ---------------------------------------------------------------------------------- PyTorch
@pytest.fixture(scope="module")
def torch():
    return pytest.importorskip("torch")


def _torch_value_and_grad(torch, loss: sc.Loss, theta: list[float], data: dict):
    f = loss.to_torch()
    t = torch.tensor(theta, dtype=torch.float64, requires_grad=True)
    value = f(t, _used(loss, data))
    value.backward()
    return value.item(), t.grad.numpy()


@pytest.mark.parametrize("case", CORPUS, ids=IDS)
def test_torch_value_and_autograd_gradient_match_compiled(torch, case) -> None:
    name, *_, data, theta = case
    loss = LOSSES[name]
    _assert_close(*_torch_value_and_grad(torch, loss, theta, data), _reference(loss, theta, data))


@pytest.mark.parametrize("case", STABLE, ids=[c[0] for c in STABLE])
def test_torch_stable_forms_at_logits_of_1e3(torch, case) -> None:
    loss = _loss(case)
    for theta in BIG:
        value, grad = _torch_value_and_grad(torch, loss, theta, case[4])
        assert math.isfinite(value) and np.isfinite(grad).all()
        _assert_close(value, grad, _reference(loss, theta, case[4]))


def test_torch_trains_in_a_torch_loop(torch) -> None:
    """The export inside a plain PyTorch optimizer loop reaches symcalc's Newton solution."""
    loss = LOSSES["logistic_l2"]
    f = loss.to_torch()
    data = {k: torch.as_tensor(v) for k, v in _used(loss, LABELS).items()}
    theta = torch.zeros(3, dtype=torch.float64, requires_grad=True)
    opt = torch.optim.LBFGS([theta], tolerance_grad=1e-12, tolerance_change=0, max_iter=200)

    def closure():
        opt.zero_grad()
        value = f(theta, data)
        value.backward()
        return value

    opt.step(closure)
    newton = sc.minimize(loss, LABELS, method="newton")
    np.testing.assert_allclose(theta.detach().numpy(), newton.x, atol=1e-7)


# ---------------------------------------------------------------------------------- errors
@pytest.fixture(params=["to_jax", "to_torch"])
def exporter(request):
    pytest.importorskip("jax" if request.param == "to_jax" else "torch")
    if request.param == "to_jax":
        import jax

        jax.config.update("jax_enable_x64", True)
    return request.param


def test_bad_params_and_data_are_named(exporter) -> None:
    loss = LOSSES["least_squares"]
    f = getattr(loss, exporter)()
    with pytest.raises(ShapeError, match=r"params has shape \(3,\); expected \(2,\).*\['w', 'b'\]"):
        f(np.zeros(3), DATA)
    with pytest.raises(SymbolError, match="params is missing symbol 'b'"):
        f({"w": 1.0}, DATA)
    with pytest.raises(SymbolError, match="data is missing symbol 'y'"):
        f(np.zeros(2), {"x": DATA["x"]})
    with pytest.raises(ShapeError, match=r"data\['x'\] must be 1-D.*\(4, 10\)"):
        f(np.zeros(2), {"x": np.zeros((4, 10)), "y": np.zeros(4)})
    with pytest.raises(ShapeError, match=r"different lengths \[3, 4\]"):
        f(np.zeros(2), {"x": np.zeros(3), "y": np.zeros(4)})
    with pytest.raises(DataError, match="no rows"):
        f(np.zeros(2), {"x": np.zeros(0), "y": np.zeros(0)})


def test_unsupported_function_is_refused_by_name(exporter) -> None:
    # refused where the loss is made (nothing numeric can evaluate them), named
    foo = sp.Function("foo")
    with pytest.raises(SymcalcError, match="undefined function 'foo'"):
        getattr(sc.Loss(foo(w) * x, params=[w], data=[x]), exporter)()
    with pytest.raises(SymcalcError, match="Derivative"):
        getattr(sc.Loss(sp.Derivative(foo(w), w) + w, params=[w]), exporter)()


def test_user_symbol_names_never_reach_the_source(exporter) -> None:
    evil = sp.Symbol("__import__('os').system('x')")
    loss = sc.Loss((evil * w - 1) ** 2, params=[w], data=[evil])
    f = getattr(loss, exporter)()
    assert "system" not in f.source and "import" not in f.source and "'" not in f.source
    assert "_d0" in f.source and "_p0" in f.source
    assert float(f(np.array([2.0]), {evil: np.array([1.0, 0.5])})) == pytest.approx(0.5)


def test_missing_framework_is_a_missing_dependency_error(monkeypatch) -> None:
    monkeypatch.setitem(sys.modules, "jax", None)
    monkeypatch.setitem(sys.modules, "torch", None)
    with pytest.raises(MissingDependencyError, match=r"symcalc\[export\]"):
        LOSSES["least_squares"].to_jax()
    with pytest.raises(MissingDependencyError, match=r"symcalc\[export\]"):
        LOSSES["least_squares"].to_torch()


# ---------------------------------------------------------------------------------- C
def _build_c(loss: sc.Loss, tmp_path) -> ctypes.CDLL:
    cc = shutil.which("cc") or shutil.which("gcc")
    if cc is None:
        pytest.skip("no C compiler")
    code = loss.to_c(name="f")
    src = tmp_path / "loss.c"
    src.write_text(code.source)
    lib = tmp_path / "libloss.so"
    subprocess.run([cc, "-std=c99", "-Wall", "-Werror", "-O2", "-shared", "-fPIC", str(src),
                    "-o", str(lib), "-lm"], check=True, capture_output=True)
    dll = ctypes.CDLL(str(lib))
    dll.f_value.restype = ctypes.c_double
    return dll


def _call_c(dll: ctypes.CDLL, loss: sc.Loss, theta: list[float], data: dict):
    th = np.ascontiguousarray(theta, dtype=np.float64)
    cols = [np.ascontiguousarray(data[d.name], dtype=np.float64) for d in loss.data]
    ptrs = (ctypes.POINTER(ctypes.c_double) * max(len(cols), 1))(
        *[col.ctypes.data_as(ctypes.POINTER(ctypes.c_double)) for col in cols])
    n = ctypes.c_long(len(cols[0]) if cols else 1)
    pth = th.ctypes.data_as(ctypes.POINTER(ctypes.c_double))
    out = np.zeros(1 + len(theta))
    dll.f_value_and_grad(pth, ptrs, n, out.ctypes.data_as(ctypes.POINTER(ctypes.c_double)))
    value = dll.f_value(pth, ptrs, n)
    assert value == pytest.approx(out[0], rel=1e-14)
    return value, out[1:]


@pytest.mark.parametrize("case", CORPUS, ids=IDS)
def test_c_value_and_gradient_match_compiled(case, tmp_path) -> None:
    name, *_, data, theta = case
    loss = LOSSES[name]
    dll = _build_c(loss, tmp_path)
    _assert_close(*_call_c(dll, loss, theta, data), _reference(loss, theta, data))
    if name in ("logistic_pm1", "logistic_softplus", "bce_sigmoid", "ml_functions"):
        for big in BIG:
            value, grad = _call_c(dll, loss, big, data)
            assert math.isfinite(value) and np.isfinite(grad).all()
            _assert_close(value, grad, _reference(loss, big, data))


def test_c_refuses_bad_names_and_unknown_functions() -> None:
    loss = LOSSES["least_squares"]
    with pytest.raises(SymcalcError, match=r"name must be a C identifier.*'f\(\); evil'"):
        loss.to_c(name="f(); evil")
    foo = sp.Function("foo")
    with pytest.raises(SymcalcError, match="undefined function 'foo'"):
        sc.Loss(foo(w) * x, params=[w], data=[x]).to_c()
    text = str(sc.Loss((sp.Symbol("*/ evil(); /*") * w) ** 2, params=[w],
                       data=[sp.Symbol("*/ evil(); /*")]).to_c())
    assert "evil" not in text
