"""The files of a checkout (to warn of patterns matching none) and a commit's files in it."""

from __future__ import annotations

import os
import re
import subprocess
from collections.abc import Iterator
from typing import IO, cast

from approvalflow_sync.github.git_files import GIT

LS_FILES = ("ls-files", "-z", "--cached", "--others", "--exclude-standard")
"""Tracked files and untracked ones not ignored: what a commit of the checkout could hold."""
_OBJECT = re.compile(rb"[0-9a-f]{40,64} ([a-z]+) ([0-9]+)\n")
"""``git cat-file --batch``'s header of an object found: id, type, size."""
SKIPPED_DIRS = frozenset({".git", ".venv", "node_modules", "__pycache__"})


def repository_root(start: str | os.PathLike[str]) -> str | None:
    """The top of the git work tree holding ``start``, or None outside one (or without git)."""
    try:
        found = _git(os.fspath(start), "rev-parse", "--show-toplevel")
    except OSError:
        return None
    top = found.stdout.decode("utf-8", "replace").rstrip("\n")
    return top if found.returncode == 0 and top else None


class Listing:
    """The repository's files, from a ``git ls-files`` started at once: ``validate`` loads the
    mapping meanwhile. Outside a repository (or without git) the directory is walked."""

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
            if self._process.returncode == 0:  # -z ends every name with NUL, the last one too
                return listed.decode("utf-8", "replace").split("\0")[:-1]
        return list(_walk(self._root))

    def cancel(self) -> None:
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


def _git(root: str, *args: str) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(  # noqa: S603 - fixed arguments, no shell
        [GIT, "-C", root, *args], capture_output=True, check=False, stdin=subprocess.DEVNULL
    )


def commit_in_checkout(root: str | os.PathLike[str], commit: str, *, merge_of: bool) -> str | None:
    """What to read ``commit``'s files from in the checkout at ``root``, or None: the commit
    itself, or with ``merge_of`` a ``HEAD`` merging it as second parent (``actions/checkout`` on
    ``pull_request``), which holds the head's version of every file the head changed."""
    root = os.fspath(root)
    try:
        if _git(root, "cat-file", "-e", f"{commit}^{{commit}}").returncode == 0:
            return commit
        if not merge_of:
            return None
        head = _git(root, "cat-file", "commit", "HEAD")
    except OSError:
        return None
    parents = [line[7:] for line in head.stdout.split(b"\n") if line.startswith(b"parent ")]
    return "HEAD" if head.returncode == 0 and parents[1:] == [commit.encode()] else None


def read_blobs(
    root: str | os.PathLike[str], commit: str, paths: list[str], limit: int
) -> dict[str, bytes | None]:
    """The first ``limit`` bytes of each path at ``commit`` (None: no such file). One ``git
    ls-tree`` finds the blobs, one ``git cat-file --batch`` reads them: asking ``commit:path``
    walks the commit's tree again for every file, quadratic time."""
    root = os.fspath(root)
    found: dict[str, bytes | None] = dict.fromkeys(paths)
    listing = _git(root, "ls-tree", "-r", "-z", "--full-tree", commit)
    blobs: dict[str, str] = {}
    for entry in listing.stdout.split(b"\0") if listing.returncode == 0 else ():
        meta, _, name = entry.partition(b"\t")
        _mode, kind, blob = [*meta.split(b" "), b"", b""][:3]
        path = name.decode("utf-8", "surrogateescape")
        if kind == b"blob" and path in found:
            blobs[path] = blob.decode("ascii")
    with subprocess.Popen(  # noqa: S603 - fixed arguments, no shell
        [GIT, "-C", root, "cat-file", "--batch"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
    ) as git:
        stdin, stdout = cast("IO[bytes]", git.stdin), cast("IO[bytes]", git.stdout)  # PIPEs
        for path, blob_id in blobs.items():  # one at a time: git answers each before the next
            stdin.write(f"{blob_id}\n".encode("ascii"))
            stdin.flush()
            header = _OBJECT.fullmatch(stdout.readline())
            if header is None:  # "<id> missing"
                continue
            size = int(header[2])
            found[path] = stdout.read(min(size, limit))
            rest = size - len(found[path] or b"") + 1  # the rest, and the newline
            while rest > 0:
                rest -= len(stdout.read(min(rest, 1 << 16))) or rest
    return found
