"""``symcalc fit`` and ``symcalc diff`` with vectors: --vector x=*, x=col,..., w=n, --matrix."""

from __future__ import annotations

import json

import numpy as np
import pytest
import sympy as sp

import symcalc as sc
from symcalc.cli import main

FORMULA = "softplus(dot(w, x) + b) - t*(dot(w, x) + b) + 0.005*norm2(w)"


@pytest.fixture(scope="module")
def cancer_like(tmp_path_factory):
    rng = np.random.default_rng(3)
    X = rng.normal(size=(120, 4))
    t = (rng.random(120) < 1 / (1 + np.exp(-(X @ [1.0, -2.0, 0.5, 0.0] + 0.3)))).astype(float)
    path = tmp_path_factory.mktemp("cli") / "cancer.csv"
    header = "radius,texture,smooth,noise,t\n"
    path.write_text(header + "".join(",".join(repr(float(v)) for v in [*row, y]) + "\n" for row, y in zip(X, t)))
    w, x = sc.vector("w", 4), sc.vector("x", 4)
    b, ts = sp.symbols("b t")
    z = sc.dot(w, x) + b
    loss = sc.Loss(sc.softplus(z) - ts * z + 0.005 * sc.norm2(w), params=[w, b], data=[x, ts])
    ref = sc.minimize(loss, {x: X, ts: t}, method="newton")
    return path, X, t, ref.params[w], ref.params[b]


@pytest.mark.parametrize("spec", ["x=*", "x=radius,texture,smooth,noise"])
def test_fit_with_a_data_vector_matches_the_library(cancer_like, capsys, spec):
    path, _, _, w_ref, b_ref = cancer_like
    code = main(["fit", FORMULA, "--params", "w,b", "--vector", spec, "--data", str(path),
                 "--newton", "--json"])
    assert code == 0
    got = json.loads(capsys.readouterr().out)
    assert got["converged"] is True
    np.testing.assert_allclose(got["params"]["w"], w_ref, atol=1e-8)
    assert got["params"]["b"] == pytest.approx(b_ref, abs=1e-8)


def test_fit_text_output_prints_the_vector(cancer_like, capsys):
    path, *_ = cancer_like
    assert main(["fit", FORMULA, "--params", "w,b", "--vector", "x=*", "--data", str(path),
                 "--newton"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith("w = [") and out[0].count(",") == 3 and out[1].startswith("b = ")


def test_diff_shows_the_block_gradient(capsys):
    assert main(["diff", FORMULA, "--wrt", "w", "b", "--vector", "w=30", "x=30"]) == 0
    assert capsys.readouterr().out.splitlines() == [
        "z = b + dot(w, x)", "d/dw = (-t + sigmoid(z))*x + 0.01*w", "d/db = -t + sigmoid(z)"]
    assert main(["diff", "logsumexp(W*x) - dot(y, W*x)", "--wrt", "W", "--vector", "x=4", "y=3",
                 "--matrix", "W=3x4"]) == 0
    assert "d/dW = (-y + softmax(W*x))*x.T" in capsys.readouterr().out


@pytest.mark.parametrize(
    "argv, match",
    [
        (["fit", FORMULA, "--params", "w,b", "--vector", "x=radius,zz", "--data", "{csv}"],
         "no column 'zz'"),
        (["fit", FORMULA, "--params", "w,b", "--vector", "x"], r"--vector must look like NAME=SPEC"),
        (["fit", FORMULA, "--params", "w,b", "--vector", "x=*"], "a data block needs --data"),
        (["diff", "dot(w, x)", "--wrt", "w", "--vector", "w=3", "x=4"],
         r"dot\(w, x\): lengths differ; w \(3 x 1\) expects a vector of length 3, got x \(4 x 1\)"),
        (["diff", "W*x", "--wrt", "W", "--vector", "x=4", "--matrix", "W=3"], "expected MxN"),
    ],
)
def test_bad_block_options_are_one_line_errors(cancer_like, capsys, argv, match):
    path = cancer_like[0]
    argv = [a.replace("{csv}", str(path)) for a in argv]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and __import__("re").search(match, err), err
