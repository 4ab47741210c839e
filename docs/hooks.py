"""MkDocs hooks: render every notebook in notebooks/ as a tutorial page.

The notebooks live outside docs/ (the test suite executes them there); this hook adds each one
to the site (under notebooks/) and to the "Tutorials" section of the navigation, titled by its
first heading, so a new notebook appears without editing mkdocs.yml. mkdocs-jupyter then
executes and renders them (``execute: true`` in mkdocs.yml).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from mkdocs.plugins import event_priority
from mkdocs.structure.files import File, Files

NOTEBOOKS = Path(__file__).resolve().parent.parent / "notebooks"


def _notebooks() -> list[Path]:
    return sorted(NOTEBOOKS.glob("*.ipynb"))


def _title(path: Path) -> str:
    """The notebook's first markdown heading (its file name if it has none)."""
    for cell in json.loads(path.read_text(encoding="utf-8"))["cells"]:
        if cell["cell_type"] == "markdown":
            for line in "".join(cell["source"]).splitlines():
                if line.startswith("#"):
                    return line.lstrip("#").strip()
    return path.stem


def on_config(config: Any) -> Any:
    for section in config["nav"]:
        if isinstance(section, dict) and "Tutorials" in section:
            section["Tutorials"] = [{_title(p): f"notebooks/{p.name}"} for p in _notebooks()]
    return config


@event_priority(100)  # before mkdocs-jupyter's on_files, which converts the notebooks
def on_files(files: Files, config: Any) -> Files:
    for path in _notebooks():
        files.append(File(f"notebooks/{path.name}", src_dir=str(NOTEBOOKS.parent),
                          dest_dir=config["site_dir"],
                          use_directory_urls=config["use_directory_urls"]))
    return files
