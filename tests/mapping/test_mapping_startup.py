"""Start-up: ``--version`` and ``validate`` load only what they need (issue 6, target 2).

Each case runs the real command under ``python -X importtime`` and reads the modules it loaded
from stderr: a check of what is imported, not a timing (the benchmark measures the time).
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

NEVER = (
    "pydantic",
    "httpx",
    "github",
    "approvalflow_sync.sandbox",
    "approvalflow_sync.approvalflow.client",
    "approvalflow_sync.approvalflow.models",
)
"""What neither command needs: the wire models, HTTP, PyGithub, the sandbox and the API client.

(The scope table, ``approvalflow.scopes``, is plain constants the help texts name.)"""

GLOBS = """\
space: "12345"
confluence-url: https://acme.atlassian.net/wiki
title-template: "Docs: PR-{number} {title}"
pages:
  - path: docs/auth/**
    page: "67890"
  - path: ["docs/api/**/*.md", "!docs/api/**/draft-*.md"]
    page: ["67891", "67892"]
  - path: handbook/onboarding.md
    page: 70001
    space: "54321"
"""

_LINE = re.compile(r"^import time:\s+\d+ \|\s+\d+ \|\s*(\S+)$")


def imported(argv: list[str], cwd: Path) -> tuple[set[str], subprocess.CompletedProcess[str]]:
    """The modules ``python -X importtime -m approvalflow_sync ARGV`` loads, and its result."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("APPROVALFLOW_")}
    env.pop("PYTHONPROFILEIMPORTTIME", None)
    done = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "approvalflow_sync", *argv],
        capture_output=True,
        text=True,
        cwd=cwd,
        env=env,
        timeout=60,
        check=False,
    )
    modules = {match.group(1) for line in done.stderr.splitlines() if (match := _LINE.match(line))}
    assert "approvalflow_sync.cli.main" in modules, done.stderr[-2000:]
    return modules, done


def loaded(modules: set[str], package: str) -> list[str]:
    return sorted(m for m in modules if m == package or m.startswith(package + "."))


def repository(tmp_path: Path) -> Path:
    """A directory of docs (not a git repository: validate walks it)."""
    repo = tmp_path / "repo"
    for name in ("docs/auth/login.md", "docs/api/v1/users.md", "handbook/onboarding.md"):
        (repo / name).parent.mkdir(parents=True, exist_ok=True)
        (repo / name).write_text("# doc\n", encoding="utf-8")
    return repo


def test_version_imports_no_heavy_module(tmp_path: Path) -> None:
    modules, done = imported(["--version"], tmp_path)

    assert done.returncode == 0
    assert done.stdout.startswith("approvalflow-sync ")
    for package in (*NEVER, "yaml", "pathspec", "approvalflow_sync.core.mapping"):
        assert not loaded(modules, package), f"--version imports {loaded(modules, package)}"


def test_validate_imports_neither_pydantic_nor_http_nor_the_client(tmp_path: Path) -> None:
    mapping_file = tmp_path / "approvalflow.yml"
    mapping_file.write_text(GLOBS, encoding="utf-8")

    modules, done = imported(
        ["validate", str(mapping_file), "--repo", str(repository(tmp_path))], tmp_path
    )

    assert done.returncode == 0, done.stderr[-2000:]
    assert ": OK: 3 rules" in done.stdout
    for package in NEVER:
        assert not loaded(modules, package), f"validate imports {loaded(modules, package)}"
    assert "approvalflow_sync.core.mapping.load" in modules


def test_an_invalid_mapping_is_reported_without_the_heavy_modules(tmp_path: Path) -> None:
    mapping_file = tmp_path / "approvalflow.yml"
    mapping_file.write_text('space: "1"\npages:\n  - path: docs/**\n    page: abc\n', "utf-8")

    modules, done = imported(["validate", str(mapping_file), "--repo", str(tmp_path)], tmp_path)

    assert done.returncode == 2
    assert "approvalflow.yml:4:11: page:" in done.stderr
    for package in NEVER:
        assert not loaded(modules, package), f"validate imports {loaded(modules, package)}"
