"""The package's import direction (STYLE.md): lower layers never import higher ones."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PKG = Path(__file__).resolve().parents[2] / "review"

LAYER = {
    "errors": 1,
    "records": 1,
    "windows": 1,
    "twobytwo": 1,
    "effects": 2,
    "pooling": 2,
    "nma": 2,
    "conversions": 2,
    "protocol": 3,
    "sources": 3,
    "dedup": 3,
    "screening": 3,
    "extraction": 3,
    "prisma": 3,
    "plots": 3,
    "workbooks": 3,
    "diagram": 3,
    "store": 4,
    "project": 5,
    "cli": 6,
    "__main__": 7,
}


def _layer(module: str) -> int | None:
    parts = module.split(".")
    if parts[0] != "review" or len(parts) == 1:
        return None
    return LAYER.get(parts[1])


def _modules() -> list[Path]:
    return sorted(p for p in PKG.rglob("*.py") if p.name != "__init__.py" or p.parent != PKG)


@pytest.mark.parametrize("path", _modules(), ids=lambda p: str(p.relative_to(PKG)))
def test_imports_go_downward(path: Path) -> None:
    rel = path.relative_to(PKG.parent).with_suffix("")
    name = ".".join(p for p in rel.parts if p != "__init__")
    own = _layer(name)
    assert own is not None, f"{name}: module not placed in a layer (add it to LAYER)"
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        targets: list[str] = []
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            targets = [node.module]
        elif isinstance(node, ast.Import):
            targets = [a.name for a in node.names]
        for target in targets:
            other = _layer(target)
            if other is None:
                continue
            if target.split(".")[1] == name.split(".")[1]:
                continue  # within one stage or package
            if own == 3 and other == 3:
                pytest.fail(f"{name} imports {target}: stages pass data, never import each other")
            assert other < own, f"{name} (layer {own}) imports {target} (layer {other})"


def test_only_store_uses_sqlite() -> None:
    for path in _modules():
        if "store" in path.relative_to(PKG).parts:
            continue
        text = path.read_text(encoding="utf-8")
        assert "import sqlite3" not in text, f"{path.name} uses sqlite3; only review.store may"


def test_package_never_reads_shared() -> None:
    for path in _modules():
        assert "../shared" not in path.read_text(encoding="utf-8"), f"{path.name} names ../shared"
