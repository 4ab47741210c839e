"""Shared test configuration: deterministic hypothesis profile, headless matplotlib."""

import gc
import os

import matplotlib

matplotlib.use("Agg")
os.environ.setdefault("MPLBACKEND", "Agg")

import pytest  # noqa: E402
from hypothesis import HealthCheck, settings  # noqa: E402

settings.register_profile(
    "symcalc",
    derandomize=True,
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
    print_blob=True,
)
settings.load_profile(os.environ.get("SYMCALC_HYPOTHESIS_PROFILE", "symcalc"))


@pytest.fixture(scope="module")
def quiet_heap():
    """Move the session's long-lived objects out of the garbage collector's view.

    For modules that time single calls against a budget (the formula fuzz tests): in a long
    pytest session each GC pass also walks every object earlier tests left alive, work a real
    CLI process never does and that must not be billed to one input.
    """
    gc.collect()
    gc.freeze()
    yield
    gc.unfreeze()
