"""``approvalflow-sync validate``: each problem with its line and column, warnings apart."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from conftest import clean_env


def validate(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "approvalflow_sync", "validate", *args],
        cwd=cwd,
        env=clean_env(),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_problems_print_with_line_and_column_and_exit_2(tmp_path: Path) -> None:
    (tmp_path / "map.yml").write_text(
        'space: "1"\npages:\n  - path: docs/**\n    page: "12a"\n  - path: x.md\n    pgae: "2"\n'
    )
    result = validate("map.yml", cwd=tmp_path)
    assert result.returncode == 2
    assert result.stdout == ""
    assert "map.yml:4:11:" in result.stderr
    assert "map.yml:6:5:" in result.stderr
    assert "Traceback" not in result.stderr


def test_a_good_file_reports_its_size_and_unmatched_patterns_as_warnings(tmp_path: Path) -> None:
    (tmp_path / ".github").mkdir()
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "a.md").write_text("a")
    (tmp_path / ".github" / "approvalflow.yml").write_text(
        'space: "1"\npages:\n  - path: docs/**\n    page: ["10", "11"]\n'
        '  - path: missing/**\n    page: 12\n    space: "2"\n'
    )
    result = validate(cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == (
        ".github/approvalflow.yml: OK: 2 rules, 3 pages in 2 spaces, 1 warning"
    )
    assert ".github/approvalflow.yml:5:" in result.stderr
    assert "'missing/**' matches no file" in result.stderr


def test_a_missing_file_is_a_configuration_error(tmp_path: Path) -> None:
    result = validate("nope.yml", cwd=tmp_path)
    assert result.returncode == 2
    assert "nope.yml does not exist" in result.stderr
