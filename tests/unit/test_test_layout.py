"""Every test directory runs on its own (``pytest tests/reliability``).

pytest puts a test directory on ``sys.path`` only once it collects a test there, so a helper
module another directory imports must live in ``tests/`` itself (on ``pythonpath``).
"""

from __future__ import annotations

import ast
from pathlib import Path

TESTS = Path(__file__).resolve().parents[1]


def _top_level_imports(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
        elif isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
    return names


def test_no_test_directory_imports_a_helper_of_another() -> None:
    helpers = {  # modules of plain directories (a package such as fakes/ is imported whole)
        path.stem: path.parent
        for path in TESTS.glob("*/*.py")
        if not (path.parent / "__init__.py").exists()
    }
    borrowed = [
        f"{path.relative_to(TESTS)} imports {name} from {helpers[name].name}/"
        for path in sorted(TESTS.glob("*/*.py"))
        for name in sorted(_top_level_imports(path))
        if name in helpers and helpers[name] != path.parent and not (TESTS / f"{name}.py").exists()
    ]
    assert borrowed == []
