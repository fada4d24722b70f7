"""The files of a checkout, to warn about patterns that match none of them.

``git ls-files`` when the directory is a repository, else a walk of the directory. Used by
``validate`` and by the action's unmatched-pattern warnings.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator

GIT = "git"
"""Found on PATH, as when the user runs it."""
LS_FILES = ("ls-files", "-z", "--cached", "--others", "--exclude-standard")
"""Tracked files and untracked ones not ignored: what a commit of the checkout could hold."""
SKIPPED_DIRS = frozenset({".git", ".venv", "node_modules", "__pycache__"})


def repository_root(start: str | os.PathLike[str]) -> str | None:
    """The top of the git work tree holding ``start``, or None outside one (or without git)."""
    try:
        found = subprocess.run(  # noqa: S603 - fixed arguments, no shell
            [GIT, "-C", os.fspath(start), "rev-parse", "--show-toplevel"],
            capture_output=True,
            check=False,
            stdin=subprocess.DEVNULL,
        )
    except OSError:
        return None
    top = found.stdout.decode("utf-8", "replace").rstrip("\n")
    return top if found.returncode == 0 and top else None


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


def _walk(top: str) -> Iterator[str]:
    for directory, dirs, files in os.walk(top):
        dirs[:] = [d for d in dirs if d not in SKIPPED_DIRS]
        # os.walk joins the names below ``top`` to it: what follows is the relative directory.
        relative = directory[len(top) :].strip(os.sep).replace(os.sep, "/")
        for name in files:
            yield f"{relative}/{name}" if relative else name
