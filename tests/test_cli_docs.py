"""``symcalc docs`` (the build itself runs in CI: .ci/run calls ``symcalc docs``) and
``symcalc --version`` against the installed package's metadata."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

import pytest

import symcalc as sc
from symcalc.cli import main
from symcalc.cli import docs as docs_cmd

ROOT = Path(__file__).resolve().parent.parent


def test_version_matches_package_metadata(capsys) -> None:
    try:
        installed = version("symcalc")
    except PackageNotFoundError:
        pytest.skip("symcalc is not installed (metadata comes from an install)")
    assert sc.__version__ == installed
    assert main(["--version"]) == 0
    assert capsys.readouterr().out.strip() == f"symcalc {installed}"


def test_version_has_one_source() -> None:
    """pyproject.toml reads the version from symcalc/_version.py (no second copy to drift)."""
    text = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    assert 'dynamic = ["version"]' in text
    assert 'version = { attr = "symcalc._version.__version__" }' in text


def test_cli_import_stays_light() -> None:
    """--version/--help must not pay for heavy optional imports (mkdocs, sklearn, torch, jax)."""
    code = ("import sys; from symcalc.cli import main; main(['--help'])\n"
            "heavy = [m for m in ('mkdocs', 'sklearn', 'torch', 'jax') if m in sys.modules]\n"
            "assert not heavy, heavy")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          env={"PYTHONPATH": str(ROOT), "PATH": ""})
    assert proc.returncode == 0, proc.stderr
    assert "docs" in proc.stdout


def test_docs_finds_the_checkout(tmp_path) -> None:
    assert docs_cmd.find_config(ROOT / "docs") == ROOT / "mkdocs.yml"
    assert docs_cmd.find_config(tmp_path) == ROOT / "mkdocs.yml"  # beside the package


def test_docs_outside_a_checkout_is_one_line_error(tmp_path, monkeypatch, capsys) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(docs_cmd, "__file__", str(tmp_path / "a" / "b" / "docs.py"))
    assert main(["docs"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "run it inside a clone of symcalc" in err


def test_docs_without_mkdocs_names_the_extra(monkeypatch, capsys) -> None:
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *a: None if name == "mkdocs" else real(name, *a))
    assert main(["docs", "--no-execute"]) == 2
    assert "pip install -e '.[docs]'" in capsys.readouterr().err
