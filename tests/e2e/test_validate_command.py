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


def repository(root: Path) -> Path:
    """``root`` as a git work tree with the mapping of two rules, one matching no file."""
    subprocess.run(["git", "init", "-q", str(root)], check=True, env=clean_env())
    (root / ".github").mkdir()
    (root / "docs").mkdir()
    (root / "docs" / "a.md").write_text("a")
    (root / ".github" / "approvalflow.yml").write_text(
        'space: "1"\npages:\n  - path: docs/**\n    page: ["10", "11"]\n'
        '  - path: missing/**\n    page: 12\n    space: "2"\n'
    )
    return root


def test_a_good_file_reports_its_size_and_unmatched_patterns_as_warnings(tmp_path: Path) -> None:
    repository(tmp_path)
    result = validate(cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == (
        ".github/approvalflow.yml: OK: 2 rules, 3 pages in 2 spaces, 1 warning"
    )
    assert ".github/approvalflow.yml:5:" in result.stderr
    assert "'missing/**' matches no file" in result.stderr


def test_from_a_subdirectory_it_finds_the_repositorys_mapping(tmp_path: Path) -> None:
    repository(tmp_path)
    result = validate(cwd=tmp_path / "docs")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == (
        "../.github/approvalflow.yml: OK: 2 rules, 3 pages in 2 spaces, 1 warning"
    )
    assert "'missing/**' matches no file" in result.stderr
    assert "'docs/**' matches no file" not in result.stderr


def test_outside_a_repository_it_says_so_once_instead_of_warning_per_pattern(
    tmp_path: Path,
) -> None:
    (tmp_path / "map.yml").write_text(
        'space: "1"\npages:\n  - path: a/**\n    page: "1"\n  - path: b/**\n    page: "2"\n'
    )
    result = validate("map.yml", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "matches no file" not in result.stderr
    assert result.stderr.count("no git repository here") == 1
    assert result.stdout.strip() == "map.yml: OK: 2 rules, 2 pages in 1 spaces"


def test_a_rule_key_dedented_to_the_top_level_is_named_as_such(tmp_path: Path) -> None:
    (tmp_path / "map.yml").write_text('space: "1"\npages:\n  - path: docs/**\npage: "2"\n')
    result = validate("map.yml", cwd=tmp_path)
    assert result.returncode == 2
    assert "map.yml:4:1: unknown key 'page' in the top level" in result.stderr
    assert "belongs to a rule under 'pages:'" in result.stderr
    assert "did you mean" not in result.stderr


def test_a_missing_file_is_a_configuration_error_that_names_validates_own_argument(
    tmp_path: Path,
) -> None:
    result = validate("nope.yml", cwd=tmp_path)
    assert result.returncode == 2
    assert "nope.yml does not exist" in result.stderr
    assert "approvalflow-sync validate FILE" in result.stderr
    assert "mapping-file" not in result.stderr
