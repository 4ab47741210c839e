"""``symcalc docs``: build (or serve) the documentation site of a source checkout with MkDocs.

The site's sources (``mkdocs.yml``, ``docs/``, the notebooks) live in the repository, not in
the installed package, so the command looks for ``mkdocs.yml`` in the current directory and
its parents, then beside the imported package (an editable install). MkDocs runs in a child
process (``python -m mkdocs``), with the checkout first on ``PYTHONPATH`` so the reference
pages and the executed notebooks show this checkout's symcalc.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import subprocess
import sys
from pathlib import Path

from ..errors import MissingDependencyError, SymcalcError

__all__ = ["add_parser", "run", "find_config"]


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "docs",
        help="build or serve the documentation site (needs symcalc[docs])",
        description="Build the documentation site strictly (a broken reference fails the "
        "build) into --out, or serve it locally with live reload. Run it inside a symcalc "
        "source checkout, after pip install -e '.[docs]'.",
    )
    p.add_argument("--serve", action="store_true",
                   help="serve at http://ADDR (default 127.0.0.1:8000) instead of building")
    p.add_argument("--addr", default="127.0.0.1:8000", help="address for --serve")
    p.add_argument("--out", default=None, metavar="DIR",
                   help="build into DIR (default: site/ in the checkout)")
    p.add_argument("--no-execute", action="store_true",
                   help="render the tutorial notebooks without running them (faster)")
    p.set_defaults(run=run)


def find_config(start: Path | None = None) -> Path:
    """``mkdocs.yml`` of the symcalc checkout around ``start`` (the working directory) or
    around the imported package; SymcalcError when there is none."""
    here = (start or Path.cwd()).resolve()
    package_root = Path(__file__).resolve().parents[2]
    for folder in (here, *here.parents, package_root):
        config = folder / "mkdocs.yml"
        if config.is_file() and (folder / "symcalc").is_dir():
            return config
    raise SymcalcError(
        "symcalc docs builds the site from a source checkout (mkdocs.yml, docs/, notebooks/); "
        "none was found here or beside the installed package: run it inside a clone of symcalc"
    )


def run(args: argparse.Namespace) -> int:
    config = find_config()
    if importlib.util.find_spec("mkdocs") is None:
        raise MissingDependencyError(
            "symcalc docs needs MkDocs and its plugins: pip install -e '.[docs]' in the checkout"
        )
    root = config.parent
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(root), *filter(None, [env.get("PYTHONPATH")])])
    env.setdefault("NO_MKDOCS_2_WARNING", "1")
    if args.no_execute:
        env["SYMCALC_DOCS_EXECUTE"] = "false"
    command = [sys.executable, "-m", "mkdocs"]
    if args.serve:
        command += ["serve", "-f", str(config), "-a", args.addr]
    else:
        out = Path(args.out).resolve() if args.out else root / "site"
        command += ["build", "--strict", "-f", str(config), "-d", str(out)]
    return subprocess.run(command, env=env, check=False).returncode
