"""A quick start: what ``import symcalc`` and ``symcalc --version/--help`` import (behaviour, not
timing: the speed itself is measured by ``python -m benchmarks --only startup``)."""

import importlib.metadata
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

import symcalc as sc

ROOT = Path(__file__).resolve().parents[1]
#: Imported where first used, never by importing symcalc or touching its public names.
HEAVY = ("scipy.integrate", "scipy.optimize", "scipy.special", "scipy.linalg", "matplotlib",
         "numba", "symengine", "dask", "sklearn", "pandas", "tqdm")


def _modules_after(code: str) -> set[str]:
    """The modules a fresh interpreter has loaded after running ``code``."""
    script = f"{code}\nimport json, sys\nprint(json.dumps(sorted(sys.modules)))"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    out = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True,
                         text=True, check=True, timeout=300).stdout
    return set(json.loads(out.strip().splitlines()[-1]))


def _heavy(modules: set[str]) -> list[str]:
    return sorted(h for h in HEAVY if h in modules or any(m.startswith(h + ".") for m in modules))


def test_import_symcalc_loads_no_heavy_module():
    loaded = _modules_after("import symcalc")
    assert _heavy(loaded) == []
    assert "sympy" not in loaded  # public names load on first use


def test_every_public_name_loads_without_heavy_modules():
    loaded = _modules_after("import symcalc as sc\nfor n in sc.__all__: getattr(sc, n)")
    assert "sympy" in loaded and "symcalc.loss" in loaded
    assert _heavy(loaded) == []


@pytest.mark.parametrize("flag", ["--version", "--help"])
def test_cli_version_and_help_do_not_import_sympy(flag):
    code = (f"import sys\nsys.argv = ['symcalc', {flag!r}]\nfrom symcalc.cli import main\n"
            "assert main() == 0")
    loaded = _modules_after(code)
    assert "sympy" not in loaded and "numpy" not in loaded


def test_version_matches_the_package_metadata():
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    out = subprocess.run([sys.executable, "-m", "symcalc", "--version"], env=env,
                         capture_output=True, text=True, check=True, timeout=300).stdout
    assert out.strip() == f"symcalc {sc.__version__}"
    assert importlib.metadata.version("symcalc") == sc.__version__


def test_lazy_names_behave_like_eager_ones():
    import symcalc.explain as module_or_function  # the submodule shares the function's name

    assert callable(sc.explain) and sc.explain is module_or_function
    assert sc.nn.Sequential is not None and sc.datasets.make_logistic is not None
    assert set(sc.__all__) <= set(dir(sc))
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        sc.nope  # noqa: B018
