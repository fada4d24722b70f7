"""``approvalflow-sync validate [FILE]``: check a mapping file before a workflow depends on it.

Problems print as ``file:line:col: message``, one per line, errors first; patterns that match no
file of the repository are warnings. Exit 2 when there is an error, else 0.
"""

from __future__ import annotations

import os
import subprocess
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Iterator
    from typing import TextIO

from approvalflow_sync.mapping import (
    DEFAULT_MAPPING_FILE,
    MappingError,
    read_mapping,
    unmatched_patterns,
)

GIT = "git"
"""Found on PATH, as when the user runs it."""
SKIPPED_DIRS = frozenset({".git", ".venv", "node_modules", "__pycache__"})


def repository_files(root: str | os.PathLike[str]) -> Iterator[str]:
    """The repository's files relative to ``root``: ``git ls-files`` when it is a repository."""
    try:
        listed = subprocess.run(  # noqa: S603 - fixed arguments, no shell
            [
                GIT,
                "-C",
                os.fspath(root),
                "ls-files",
                "-z",
                "--cached",
                "--others",
                "--exclude-standard",
            ],
            capture_output=True,
            check=True,
        )
    except (OSError, subprocess.CalledProcessError):
        yield from _walk(root)
        return
    yield from (name for name in listed.stdout.decode("utf-8", "replace").split("\0") if name)


def _walk(root: str | os.PathLike[str]) -> Iterator[str]:
    top = os.fspath(root)
    for directory, dirs, files in os.walk(top):
        dirs[:] = [d for d in dirs if d not in SKIPPED_DIRS]
        # os.walk joins the names below ``top`` to it: what follows is the relative directory.
        relative = directory[len(top) :].strip(os.sep).replace(os.sep, "/")
        for name in files:
            yield f"{relative}/{name}" if relative else name


def _path_text(name: str) -> str:
    """``str(Path(name))`` without importing :mod:`pathlib` (start-up time) on POSIX.

    pathlib drops empty and ``.`` segments, keeps a leading ``//`` and makes ``/`` of more.
    """
    if os.sep != "/":
        from pathlib import Path  # noqa: PLC0415 - Windows' rules are pathlib's to know

        return str(Path(name))
    stripped = name.lstrip("/")
    root = "//" if len(name) - len(stripped) == 2 else "/" if stripped != name else ""
    return root + "/".join(part for part in stripped.split("/") if part and part != ".") or "."


def run(file: str | None, repo: str | None, out: TextIO, err: TextIO) -> int:
    """Check ``file`` (default ``.github/approvalflow.yml``) and its patterns against ``repo``."""
    path = _path_text(file or DEFAULT_MAPPING_FILE)
    try:
        mapping = read_mapping(path)
    except MappingError as error:
        for problem in error.problems:
            print(f"{problem} [{problem.severity}]", file=err)
        return error.exit_code
    root = repo or os.getcwd()
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
