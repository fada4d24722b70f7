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

GIT = "git"
"""Found on PATH, as when the user runs it."""
LS_FILES = ("ls-files", "-z", "--cached", "--others", "--exclude-standard")
"""Tracked files and untracked ones not ignored: what a commit of the checkout could hold."""
SKIPPED_DIRS = frozenset({".git", ".venv", "node_modules", "__pycache__"})


def repository_files(root: str | os.PathLike[str]) -> list[str]:
    """The repository's files relative to ``root``: ``git ls-files`` when it is a repository."""
    return Listing(root).files()


class Listing:
    """The repository's files, listed by a ``git ls-files`` started at once in the background.

    ``validate`` starts it before loading the mapping: git walks the working tree on one core
    while the mapping loads on the other. Outside a repository (or without git) the directory
    is walked instead, when the files are asked for.
    """

    def __init__(self, root: str | os.PathLike[str]) -> None:
        self._root = os.fspath(root)
        self._process: subprocess.Popen[bytes] | None
        try:
            self._process = subprocess.Popen(  # noqa: S603 - fixed arguments, no shell
                [GIT, "-C", self._root, *LS_FILES],
                stdout=subprocess.PIPE,
                stderr=subprocess.DEVNULL,
                stdin=subprocess.DEVNULL,
            )
        except OSError:
            self._process = None

    def files(self) -> list[str]:
        """The files (git's order), once git has finished."""
        if self._process is not None:
            listed, _ = self._process.communicate()
            if self._process.returncode == 0:
                names = listed.decode("utf-8", "replace").split("\0")
                if names[-1] == "":
                    names.pop()  # -z ends every name with NUL, the last one too
                return names
        return list(_walk(self._root))

    def cancel(self) -> None:
        """Stop git: its answer is not needed."""
        if self._process is not None and self._process.poll() is None:
            self._process.kill()
            self._process.wait()


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
    listing = Listing(repo or os.getcwd())  # first: git walks the tree while the rest loads
    from approvalflow_sync.core.mapping import (  # noqa: PLC0415 - imported while git runs
        DEFAULT_MAPPING_FILE,
        MappingError,
        PatternSearch,
        read_mapping,
    )

    path = _path_text(file or DEFAULT_MAPPING_FILE)
    try:
        mapping = read_mapping(path)
    except MappingError as error:
        listing.cancel()
        for problem in error.problems:
            print(f"{problem} [{problem.severity}]", file=err)
        return error.exit_code
    search = PatternSearch(mapping)  # made ready while git lists the files
    warnings = search.unmatched(listing.files())
    err.write("".join(f"{problem} [warning]\n" for problem in warnings))  # one write, not 10,000
    pages = {(rule.space, page) for rule in mapping.rules for page in rule.pages}
    spaces = {space for space, _page in pages}
    print(
        f"{path}: OK: {len(mapping.rules)} rules, {len(pages)} pages in {len(spaces)} spaces"
        + (f", {len(warnings)} warning{'' if len(warnings) == 1 else 's'}" if warnings else ""),
        file=out,
    )
    return 0
