"""Threads for the numba kernels: per-call serial/parallel choice, identical results, BLAS limits."""

import numpy as np
import pytest
import sympy as sp

import symcalc as sc
from symcalc import _threads
from symcalc.errors import SymcalcError

numba = pytest.importorskip("numba", reason="numba not installed (symcalc[fast])")
from symcalc.codegen import emit_numba as _numba  # noqa: E402

w, b, x, y = sp.symbols("w b x y")
RNG = np.random.default_rng(3)
N = 5003  # ragged last block
DATA = {"x": RNG.normal(size=N), "y": np.where(RNG.random(N) < 0.5, -1.0, 1.0)}
LOSS = sc.Loss(sp.log(1 + sp.exp(-y * (w * x + b))), params=[w, b], data=[x, y])
THETA = np.array([0.7, -0.2])


def _runner(f) -> _threads.BlockRunner:
    return _numba._RUNNERS[f._runners["value_and_grad"]]


@pytest.fixture(scope="module")
def serial_and_threaded():
    return (LOSS.compile(backend="numba", block_rows=256, threads=1),
            LOSS.compile(backend="numba", block_rows=256, threads=2))


def test_results_are_bit_identical_serial_or_threaded(serial_and_threaded, monkeypatch):
    one, two = serial_and_threaded
    ref = one.evaluate(THETA, DATA)
    assert _runner(one).last_threads == 1
    monkeypatch.setattr(_threads, "PARALLEL_MIN_SECONDS", 0.0)  # parallel whenever it can be
    monkeypatch.setattr(_threads, "GUESS_PARALLEL_ROWS", 0)
    got = two.evaluate(THETA, DATA)
    assert _runner(two).last_threads == 2
    assert np.array_equal(got, ref)  # same blocks, added in the same order
    numpy_ref = LOSS.compile().evaluate(THETA, DATA)
    np.testing.assert_allclose(got, numpy_ref, rtol=1e-12)


def test_small_calls_stay_serial(serial_and_threaded):
    _, two = serial_and_threaded
    two.evaluate(THETA, {k: v[:569] for k, v in DATA.items()})
    assert _runner(two).last_threads == 1  # 3 blocks of 256 rows: microseconds of work


def test_only_big_calls_are_candidates_for_threads():
    runner = _threads.BlockRunner(lambda *a: np.zeros(1), 1, 1000, threads=4)
    assert not runner.candidate(_threads.GUESS_PARALLEL_ROWS - 1)  # nothing measured yet
    assert runner.candidate(_threads.GUESS_PARALLEL_ROWS)
    runner.row_seconds = 1e-6  # 1 microsecond per row: 200 rows make the crossover
    assert not runner.candidate(1000)  # one block: nothing to share
    assert runner.candidate(2000) and runner.parallel(2000) == 2  # two blocks, 2 ms of work
    assert runner.parallel(10**6) == 4
    runner.row_seconds = 1e-9
    assert not runner.candidate(100_000)  # 0.1 ms: threads would not pay
    assert not _threads.BlockRunner(lambda *a: 0, 1, 10, threads=1).candidate(10**9)


def test_the_faster_mode_wins_and_the_other_is_retried():
    runner = _threads.BlockRunner(lambda *a: np.zeros(1), 1, 100, threads=2)
    runner.row_seconds = 1e-6
    n = 10_000
    assert runner.parallel(n) == 2  # parallel first...
    runner.cost(n)["parallel"] = 2e-6  # (a loaded machine: threads were slower)
    assert runner.parallel(n) == 1  # ... then serial once
    runner.cost(n)["serial"] = 1e-6
    modes = [runner.parallel(n) for _ in range(2 * _threads.RETRY_EVERY)]
    assert modes.count(2) == 2 and modes.count(1) == 2 * _threads.RETRY_EVERY - 2
    assert runner.parallel(100 * n) == 2  # another size is measured on its own
    runner.cost(n)["parallel"] = 0.5e-6  # the load went away
    assert runner.parallel(n) == 2


def test_timings_feed_the_moving_averages():
    runner = _threads.BlockRunner(lambda *a: np.zeros(1), 1, 100, threads=2)
    runner.row_seconds = 1e-6
    runner._measured(10_000, 0.02, 1, True)
    assert runner.cost(10_000)["serial"] == pytest.approx(2e-6) and runner.row_seconds == 1e-6
    runner._measured(10_000, 0.01, 1, True)
    assert runner.cost(10_000)["serial"] == pytest.approx(2e-6 + 0.3 * (1e-6 - 2e-6))
    assert runner.cost(12_000)["serial"] == runner.cost(10_000)["serial"]  # one size class
    assert runner.cost(10**6) == {"serial": None, "parallel": None}  # another one
    runner._measured(500, 1e-5, 1, False)  # not a candidate: only the crossover estimate
    assert runner.row_seconds == pytest.approx(2e-8) and runner.cost(10_000)["parallel"] is None


def test_threads_option_is_validated():
    with pytest.raises(SymcalcError, match="threads must be >= 1; got 0"):
        LOSS.compile(backend="numba", threads=0)
    assert _threads.resolve_threads(None) == _threads.available_cores() >= 1
    assert _threads.resolve_threads(3) == 3


def test_blas_is_limited_inside_and_restored_after():
    threadpoolctl = pytest.importorskip("threadpoolctl")
    np.ones((4, 4)) @ np.ones((4, 4))  # BLAS loaded

    def blas_threads():
        return [i["num_threads"] for i in threadpoolctl.threadpool_info() if i["user_api"] == "blas"]

    before = blas_threads()
    with _threads.limit_blas(1):
        assert all(n == 1 for n in blas_threads())
    assert blas_threads() == before


def test_numpy_kernels_over_many_rows_keep_blas_on_one_thread():
    threadpoolctl = pytest.importorskip("threadpoolctl")
    from symcalc.codegen.kernel import BLAS_SERIAL_ROWS, sum_chunks

    np.ones((4, 4)) @ np.ones((4, 4))  # BLAS loaded
    seen = []

    def kernel(theta, cols, n):  # records the BLAS thread count it runs under
        seen.append(max(i["num_threads"] for i in threadpoolctl.threadpool_info()
                        if i["user_api"] == "blas"))
        return (float(n),)

    before = max(i["num_threads"] for i in threadpoolctl.threadpool_info() if i["user_api"] == "blas")
    big = BLAS_SERIAL_ROWS + 1
    assert sum_chunks(kernel, np.zeros(1), (np.zeros(big),), big, 4096)[0] == big  # 3 chunks
    assert seen == [1, 1, 1]
    seen.clear()
    sum_chunks(kernel, np.zeros(1), (np.zeros(10),), 10, 4096)
    assert seen == [before]  # small calls are left alone
