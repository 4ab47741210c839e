"""Execute every tutorial notebook in ``notebooks/`` top to bottom, as a user would.

How the kernel finds this checkout of symcalc
--------------------------------------------
The notebooks simply ``import symcalc``. The kernel is a separate process started by nbclient,
so it gets the test environment explicitly:

- the interpreter: the ``python3`` kernelspec, whose ``python`` command jupyter_client replaces
  by ``sys.executable`` (in a fresh venv ipykernel's native spec does the same). When the
  installed ``python3`` spec points at some other interpreter, a spec for the running
  interpreter is written into a temporary directory and used instead;
- the package: ``PYTHONPATH`` starts with the repository root, so the kernel imports the same
  ``symcalc`` as the tests (installed or not);
- plots: ``MPLBACKEND`` is the inline backend, so figures become ``image/png`` outputs (the
  test process itself uses Agg, see conftest.py);
- the working directory is ``notebooks/`` (nbclient's ``resources["metadata"]["path"]``).

Each notebook must run without error or RuntimeWarning, show at least one LaTeX output (a
``Loss`` or a derivation) and at least one PNG figure, and be stored clean (no outputs or
execution counts). Notebooks that need a module not merged yet (``REQUIRES``) are skipped, with
the reason, only while that module cannot be imported.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")
pytest.importorskip("ipykernel")

from jupyter_client.kernelspec import KernelSpecManager, NoSuchKernel  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOK_DIR = ROOT / "notebooks"
NOTEBOOKS = sorted(NOTEBOOK_DIR.glob("*.ipynb"))
EXPECTED = [
    "01_derivatives_gradient_descent.ipynb",
    "02_integrals_auc.ipynb",
    "03_limits_convergence.ipynb",
    "04_partial_derivatives_multivariate.ipynb",
    "05_chain_rule_backprop.ipynb",
    "06_vector_losses.ipynb",
]
# A notebook that needs a module still being merged is skipped (with the reason) only while
# that module cannot be imported; once it is there the notebook runs like the others.
REQUIRES = {
    "01_derivatives_gradient_descent.ipynb": ("symcalc.optimize",),
    "04_partial_derivatives_multivariate.ipynb": ("symcalc.optimize",),
    "05_chain_rule_backprop.ipynb": ("symcalc.nn",),
}
_PYTHON_NAMES = {"python", f"python{sys.version_info[0]}", "python%d.%d" % sys.version_info[:2]}


def _kernel_setup(tmp_path: Path) -> dict:
    """NotebookClient arguments that start a kernel running this very interpreter."""
    from ipykernel.kernelspec import KERNEL_NAME, write_kernel_spec

    try:
        spec = KernelSpecManager().get_kernel_spec(KERNEL_NAME)
        runs_here = spec.argv[0] in _PYTHON_NAMES or spec.argv[0] == sys.executable
    except NoSuchKernel:
        runs_here = False
    if runs_here:
        return {"kernel_name": KERNEL_NAME}
    # Fallback: a kernelspec for sys.executable in a private directory.
    from jupyter_client.manager import AsyncKernelManager

    kernels = tmp_path / "kernels"
    if not (kernels / "symcalc-test").exists():
        write_kernel_spec(kernels / "symcalc-test")  # argv: [sys.executable, "-m", ...]
    manager = KernelSpecManager(kernel_dirs=[str(kernels)], ensure_native_kernel=False)
    km = AsyncKernelManager(kernel_name="symcalc-test", kernel_spec_manager=manager)
    return {"kernel_name": "symcalc-test", "km": km}


def _kernel_env() -> dict[str, str]:
    env = dict(os.environ)
    paths = [str(ROOT)] + [p for p in env.get("PYTHONPATH", "").split(os.pathsep) if p]
    env["PYTHONPATH"] = os.pathsep.join(paths)
    env["MPLBACKEND"] = "module://matplotlib_inline.backend_inline"
    env["PYDEVD_DISABLE_FILE_VALIDATION"] = "1"  # silence the debugger's frozen-modules note
    return env


def _mime_types(nb) -> set[str]:
    found: set[str] = set()
    for cell in nb.cells:
        for out in cell.get("outputs", []):
            if out.get("output_type") in ("display_data", "execute_result"):
                found.update(out.get("data", {}))
    return found


def test_all_notebooks_exist() -> None:
    assert [p.name for p in NOTEBOOKS] == EXPECTED


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_is_stored_clean_and_valid(path: Path) -> None:
    nb = nbformat.read(path, as_version=4)
    nbformat.validate(nb)
    assert nb.nbformat == 4
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert code and any(c.cell_type == "markdown" for c in nb.cells)
    for i, cell in enumerate(code):
        assert cell.outputs == [], f"{path.name}: code cell {i} is stored with outputs"
        assert cell.execution_count is None, f"{path.name}: code cell {i} has an execution count"


@pytest.mark.slow
@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_executes(path: Path, tmp_path: Path) -> None:
    for module in REQUIRES.get(path.name, ()):
        try:
            __import__(module)
        except ImportError as exc:
            pytest.skip(f"{path.name} needs {module}, which is not in this build yet ({exc})")
    nb = nbformat.read(path, as_version=4)
    client = nbclient.NotebookClient(
        nb,
        timeout=300,
        resources={"metadata": {"path": str(NOTEBOOK_DIR)}},
        **_kernel_setup(tmp_path),
    )
    client.execute(env=_kernel_env())  # raises CellExecutionError on the first failing cell
    for cell in nb.cells:
        for out in cell.get("outputs", []):
            assert out.output_type != "error", f"{path.name}: {out.ename}: {out.evalue}"
            if out.output_type == "stream" and out.name == "stderr":
                # the project's policy: no NumPy RuntimeWarning escapes for accepted input
                assert "RuntimeWarning" not in out.text, f"{path.name}: {out.text}"
    mimes = _mime_types(nb)
    assert "text/latex" in mimes, f"{path.name}: no LaTeX output (display a Loss or explain())"
    assert "image/png" in mimes, f"{path.name}: no figure was shown"
