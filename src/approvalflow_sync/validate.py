"""``approvalflow-sync validate [FILE]``: check a mapping file before a workflow depends on it.

Problems print as ``file:line:col: message``, one per line, errors first; patterns that match no
file of the repository are warnings. Exit 2 when there is an error, else 0.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import TextIO

from approvalflow_sync.mapping import (
    DEFAULT_MAPPING_FILE,
    MappingError,
    read_mapping,
    unmatched_patterns,
)

GIT = "git"
GIT = "git"
"""Found on PATH, as when the user runs it."""
SKIPPED_DIRS = frozenset({".git", ".venv", "node_modules", "__pycache__"})


def repository_files(root: Path) -> Iterator[str]:
    """The repository's files relative to ``root``: ``git ls-files`` when it is a repository."""
    try:
        listed = subprocess.run(  # noqa: S603 - fixed arguments, no shell
            [GIT, "-C", str(root), "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
            capture_output=True,
            check=True,
        )
    except (OSError, subprocess.CalledProcessError):
        yield from _walk(root)
        return
    yield from (name for name in listed.stdout.decode("utf-8", "replace").split("\0") if name)


def _walk(root: Path) -> Iterator[str]:
    for directory, dirs, files in os.walk(root):
        dirs[:] = [d for d in dirs if d not in SKIPPED_DIRS]
        relative = Path(directory).relative_to(root)
        for name in files:
            yield (relative / name).as_posix()


def run(file: str | None, repo: str | None, out: TextIO, err: TextIO) -> int:
    """Check ``file`` (default ``.github/approvalflow.yml``) and its patterns against ``repo``."""
    path = Path(file or DEFAULT_MAPPING_FILE)
    try:
        mapping = read_mapping(path)
    except MappingError as error:
        for problem in error.problems:
            print(f"{problem} [{problem.severity}]", file=err)
        return error.exit_code
    root = Path(repo) if repo else Path.cwd()
    warnings = unmatched_patterns(mapping, repository_files(root))
    for problem in warnings:
        print(f"{problem} [warning]", file=err)
    pages = {(rule.space, page) for rule in mapping.rules for page in rule.pages}
    spaces = {space for space, _page in pages}
    print(
        f"{path}: OK: {len(mapping.rules)} rules, {len(pages)} pages in {len(spaces)} spaces"
        + (f", {len(warnings)} warning{'' if len(warnings) == 1 else 's'}" if warnings else ""),
        file=out,
    )
    return 0
