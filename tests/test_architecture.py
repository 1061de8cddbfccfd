"""The dependency rules of docs/design.md, read from the source: nothing imports downstream."""

from __future__ import annotations

import ast
import importlib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ["asset_model", "bim_ingest", "simulation", "predict", "planner", "patrimoine"]
# what each package may import of ours (besides itself)
ALLOWED = {
    "asset_model": set(),
    "bim_ingest": {"asset_model"},
    "predict": {"asset_model"},
    # the simulated world reads the registry and writes landlord files, never model internals
    "simulation": {"asset_model"},
    "planner": {"asset_model", "predict"},
    "patrimoine": {"asset_model", "bim_ingest", "simulation", "predict", "planner"},
}


def _imports_of(package: str) -> dict[str, set[str]]:
    found: dict[str, set[str]] = {}
    for path in (ROOT / package).rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            names: list[str] = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names = [node.module]
            for name in names:
                top = name.split(".")[0]
                if top in PACKAGES and top != package:
                    found.setdefault(top, set()).add(str(path.relative_to(ROOT)))
    return found


@pytest.mark.parametrize("package", PACKAGES)
def test_imports_point_one_way(package: str) -> None:
    illegal = {k: v for k, v in _imports_of(package).items() if k not in ALLOWED[package]}
    assert not illegal, f"{package} imports downstream packages: {illegal}"


def test_nothing_imports_the_composition_root_but_the_app() -> None:
    for package in ["asset_model", "bim_ingest", "simulation", "predict", "planner"]:
        assert "patrimoine" not in _imports_of(package)


@pytest.mark.parametrize("package", PACKAGES)
def test_public_names_exist(package: str) -> None:
    module = importlib.import_module(package)
    for name in getattr(module, "__all__", []):
        assert hasattr(module, name), f"{package}.__all__ lists {name!r}, which does not exist"


@pytest.mark.parametrize("package", PACKAGES)
def test_every_package_has_tests(package: str) -> None:
    tests = list((ROOT / "tests" / package).glob("test_*.py"))
    assert tests, f"tests/{package}/ has no test module"
