"""Imports point down: cli → action → core → edges (approvalflow, github, sandbox) → errors."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "src" / "approvalflow_sync"
LAYERS = {"cli": 3, "action": 2, "core": 1, "approvalflow": 0, "github": 0, "sandbox": 0}
"""A module may import only from its own package or from packages of a lower layer."""
ROOT_MODULES = {
    "__init__.py",
    "__main__.py",
    "atomic_file.py",
    "errors.py",
    "retry.py",
    "safe_text.py",
    "_version.py",
}
"""The bottom layer: errors, the one retry engine, the one text scrubber, atomic file writes
(and the version)."""


def _package_of(module: str) -> str | None:
    parts = module.split(".")
    if parts[0] != "approvalflow_sync" or len(parts) < 2:
        return None
    return parts[1] if parts[1] in LAYERS else None


def _imports(path: Path) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.ImportFrom) and node.module == "approvalflow_sync":
            found.update(f"approvalflow_sync.{alias.name}" for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
    return found


def _violations() -> list[str]:
    problems = []
    for path in sorted(PACKAGE.rglob("*.py")):
        home = _package_of("approvalflow_sync." + ".".join(path.relative_to(PACKAGE).parts))
        if home is None:
            continue
        for module in sorted(_imports(path)):
            target = _package_of(module)
            if target is None or target == home:
                continue
            if LAYERS[target] >= LAYERS[home]:
                problems.append(f"{path.relative_to(PACKAGE)} imports {module}")
    return problems


def test_every_module_lives_in_a_layer() -> None:
    # _version.py: written by the build from the git tag (hatch-vcs), git-ignored
    loose = sorted(p.name for p in PACKAGE.glob("*.py") if p.name not in ROOT_MODULES)
    assert loose == []


def test_imports_point_down_only() -> None:
    assert _violations() == []


@pytest.mark.parametrize(("home", "target"), [("core", "action"), ("github", "core")])
def test_the_check_catches_an_upward_import(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, home: str, target: str
) -> None:
    fake = tmp_path / "approvalflow_sync"
    (fake / home).mkdir(parents=True)
    (fake / home / "bad.py").write_text(f"from approvalflow_sync.{target} import thing\n")
    monkeypatch.setattr(__import__(__name__, fromlist=["PACKAGE"]), "PACKAGE", fake)
    assert _violations() == [f"{home}/bad.py imports approvalflow_sync.{target}"]
