"""The documentation site's sources stay complete: every public name has a reference entry,
every page is in the navigation, every included README section exists.

Building the site (``mkdocs build --strict``, which also executes the notebooks) is a CI step
of its own (.ci/run); these checks are fast and need no MkDocs.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

import symcalc as sc

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
API = DOCS / "api"
BLOCK = re.compile(r"^::: (symcalc(?:\.\w+)*)\s*$", re.M)


def _documented() -> dict[str, Path]:
    """``symcalc.NAME`` -> the reference page whose ``::: symcalc.NAME`` block shows it."""
    found: dict[str, Path] = {}
    for page in sorted(API.glob("*.md")):
        for ident in BLOCK.findall(page.read_text(encoding="utf-8")):
            assert ident not in found, f"{ident} is documented twice ({found[ident].name}, {page.name})"
            found[ident] = page
    return found


def test_every_public_name_has_a_reference_entry() -> None:
    documented = _documented()
    public = [n for n in sc.__all__ if not n.startswith("__")]
    missing = [n for n in public if f"symcalc.{n}" not in documented]
    assert not missing, (
        f"public names without a reference entry: {missing}; add '::: symcalc.NAME' to the "
        f"page of its area in docs/api/ ({', '.join(p.name for p in sorted(API.glob('*.md')))})"
    )


def test_every_reference_entry_is_a_public_name() -> None:
    stale = [ident for ident in _documented()
             if ident.split(".", 1)[1] not in sc.__all__ and ident not in ("symcalc.sklearn",)]
    assert not stale, f"reference entries for names symcalc does not export: {stale}"


@pytest.mark.parametrize("module, page", [("export", "export.md"), ("sklearn", "sklearn.md")])
def test_submodule_pages_list_every_public_name(module: str, page: str) -> None:
    if module == "sklearn":
        pytest.importorskip("sklearn")
    names = getattr(sc, module).__all__
    text = (API / page).read_text(encoding="utf-8")
    members = re.search(r"members: \[(.*)\]", text)
    assert members is not None, f"{page} lists the members of symcalc.{module} explicitly"
    listed = [m.strip() for m in members.group(1).split(",")]
    assert sorted(listed) == sorted(names), f"{page}: members {listed}, symcalc.{module}.__all__ {names}"


def test_every_page_is_in_the_navigation() -> None:
    nav = (ROOT / "mkdocs.yml").read_text(encoding="utf-8")
    pages = [p.relative_to(DOCS).as_posix() for p in DOCS.rglob("*.md")]
    orphans = [p for p in pages if p not in nav]
    assert not orphans, f"pages missing from the nav of mkdocs.yml: {orphans}"


def test_included_readme_sections_exist() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    includes = re.findall(r'--8<-- "README\.md:(\w+)"', "".join(
        p.read_text(encoding="utf-8") for p in DOCS.rglob("*.md")))
    assert includes, "the guides include README sections"
    for name in includes:
        assert f"--8<-- [start:{name}]" in readme and f"--8<-- [end:{name}]" in readme, name


def test_the_hook_puts_every_notebook_in_the_tutorials() -> None:
    pytest.importorskip("mkdocs")
    import importlib.util

    spec = importlib.util.spec_from_file_location("docs_hooks", DOCS / "hooks.py")
    hooks = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(hooks)
    config = {"nav": [{"Home": "index.md"}, {"Tutorials": []}]}
    tutorials = hooks.on_config(config)["nav"][1]["Tutorials"]
    notebooks = sorted(p.name for p in (ROOT / "notebooks").glob("*.ipynb"))
    assert [next(iter(t.values())) for t in tutorials] == [f"notebooks/{n}" for n in notebooks]
    assert next(iter(tutorials[0])) == "1 · Derivatives → gradient descent"


def _python_blocks(page: str) -> list[str]:
    text = (DOCS / page).read_text(encoding="utf-8")
    return re.findall(r"```python\n(.*?)```", text, re.S)


GUIDE_BLOCKS = [(page, i, code) for page in ("migration.md", "ecosystem.md")
                for i, code in enumerate(_python_blocks(page))]


@pytest.mark.parametrize("page, index, code", GUIDE_BLOCKS,
                         ids=[f"{p}-{i}" for p, i, _ in GUIDE_BLOCKS])
def test_guide_examples_run(page: str, index: int, code: str) -> None:
    """The guides' examples run as written (their optional frameworks permitting)."""
    for module in ("sklearn", "torch", "jax"):
        if re.search(rf"^\s*(import|from) {module}\b", code, re.M):
            pytest.importorskip(module)
    exec(compile(code, f"{page}[{index}]", "exec"), {})  # noqa: S102 - our own docs
