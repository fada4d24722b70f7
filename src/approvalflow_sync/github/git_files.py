"""A pull request's changed files from git, for the pull requests GitHub lists only in part.

GitHub's API lists at most :data:`FILES_CAP` files of a pull request, while the pull request's
``changed_files`` counts them all; :func:`needs_git_fallback` compares the two. Past the cap the
files come from the checked-out repository instead: :func:`changed_files_from_git` runs
``git diff --name-status -z -M`` from the merge base to the head commit (what ``base...head``
means, and what GitHub's "Files changed" shows), and :func:`parse_name_status` turns its output
into :class:`~approvalflow_sync.github.event.ChangedFile` values with GitHub's status names.

``-z`` separates fields with NUL bytes and quotes nothing, so every file name git can store
(spaces, tabs, newlines, quotes, a leading dash, any Unicode) comes back exactly; bytes that are
not UTF-8 are kept as surrogate escapes, as :func:`os.fsdecode` does. When the history is not
there (no repository, a commit missing, a shallow clone without the merge base) the error says
which ``actions/checkout`` settings bring it.
"""

from __future__ import annotations

import re
import subprocess
from collections.abc import Callable, Sequence
from pathlib import Path

from approvalflow_sync.errors import ConfigError
from approvalflow_sync.github.event import ChangedFile

FILES_CAP = 3000
"""The most files GitHub's API lists for one pull request."""

GIT = "git"
"""Found on PATH, as on GitHub's runners."""

STATUSES = {
    "A": "added",
    "M": "modified",
    "D": "removed",
    "T": "changed",
    "C": "copied",
    "R": "renamed",
}
"""git's status letters and GitHub's names for them; C and R carry the old path."""

Runner = Callable[..., subprocess.CompletedProcess[bytes]]
"""``subprocess.run``, or a stand-in with its signature."""

_STATUS = re.compile(r"([AMDTCR])([0-9]{0,3})")
_COMMIT = re.compile(r"[0-9a-fA-F]{4,64}")


def needs_git_fallback(listed: int, changed_files: int | None) -> bool:
    """Whether GitHub's list of files was cut short: :data:`FILES_CAP` listed, more changed.

    ``listed`` is how many files the API returned and ``changed_files`` the pull request's own
    count; ``None`` (unknown) means no fallback.
    """
    return listed == FILES_CAP and changed_files is not None and changed_files > listed


def parse_name_status(output: str) -> list[ChangedFile]:
    """The files in the output of ``git diff --name-status -z`` (with or without ``-M``/``-C``).

    Each record is ``STATUS NUL path NUL``, or ``R|C<score> NUL old NUL new NUL`` for a rename or
    copy, which keeps the old path in ``previous_path``. Raises ``ValueError`` on output that git
    does not print (an unknown status, a record cut short).
    """
    if not output:
        return []
    if not output.endswith("\0"):
        raise ValueError("git diff -z output must end with NUL; was -z given?")
    fields = output[:-1].split("\0")
    files: list[ChangedFile] = []
    index = 0
    while index < len(fields):
        status = fields[index]
        match = _STATUS.fullmatch(status)
        if match is None:
            raise ValueError(f"unknown git diff status {status!r} in record {len(files) + 1}")
        letter = match.group(1)
        paths = 2 if letter in "RC" else 1
        if index + paths >= len(fields):
            raise ValueError(f"git diff output ends inside record {len(files) + 1} ({status})")
        if paths == 2:
            files.append(
                ChangedFile(
                    path=fields[index + 2],
                    status=STATUSES[letter],
                    previous_path=fields[index + 1],
                )
            )
        else:
            files.append(ChangedFile(path=fields[index + 1], status=STATUSES[letter]))
        index += paths + 1
    return files


def changed_files_from_git(
    workspace: Path,
    base_sha: str,
    head_sha: str,
    *,
    runner: Runner = subprocess.run,
) -> list[ChangedFile]:
    """The pull request's files as git sees them in ``workspace``: ``git diff base...head``.

    Checks first that ``workspace`` is a repository holding both commits and their merge base,
    and raises :class:`ConfigError` naming the ``actions/checkout`` settings that bring the
    history when it does not. Renames are detected (``-M``, git's default similarity), so a
    renamed file is one ``renamed`` entry with its old path, as GitHub lists it; copies show as
    ``added``. Past git's rename limit (``diff.renameLimit``) only exact renames are found and
    the others come as ``removed`` plus ``added``: the same paths either way.
    ``runner`` stands in for :func:`subprocess.run` in tests.
    """
    for name, sha in (("base", base_sha), ("head", head_sha)):
        if not _COMMIT.fullmatch(sha):
            raise ValueError(f"the {name} commit must be a hexadecimal commit id, not {sha!r}")

    def git(*args: str) -> subprocess.CompletedProcess[bytes]:
        try:
            return runner([GIT, "-C", str(workspace), *args], capture_output=True, check=False)
        except FileNotFoundError:
            raise _history_error(
                "git is not installed or not on PATH", base_sha, head_sha, checkout=True
            ) from None

    found = git("rev-parse", "--git-dir")
    if found.returncode != 0:
        raise _history_error(
            f"{workspace} is not a git repository ({_said(found)})",
            base_sha,
            head_sha,
            checkout=True,
        )
    for name, sha in (("base", base_sha), ("head", head_sha)):
        if git("cat-file", "-e", f"{sha}^{{commit}}").returncode != 0:
            raise _history_error(
                f"the {name} commit {sha} is not in the repository{_shallow(git)}",
                base_sha,
                head_sha,
                missing=name,
            )
    merge_base = git("merge-base", base_sha, head_sha)
    if merge_base.returncode != 0 or not merge_base.stdout.strip():
        raise _history_error(
            f"the base commit {base_sha} and the head commit {head_sha} have no common "
            f"ancestor in the fetched history{_shallow(git)}",
            base_sha,
            head_sha,
        )
    since = merge_base.stdout.decode("ascii").strip()
    diff = git(
        "diff",
        "--name-status",
        "-z",
        "-M",
        "--no-color",
        "--no-ext-diff",
        "--no-relative",
        since,
        head_sha,
    )
    if diff.returncode != 0:
        raise ConfigError(
            f"git diff {base_sha}...{head_sha} failed in {workspace}: {_said(diff)}; the "
            "repository checked out in the workspace cannot list the pull request's files"
        )
    return parse_name_status(diff.stdout.decode("utf-8", "surrogateescape"))


def _said(done: subprocess.CompletedProcess[bytes]) -> str:
    """git's own complaint: the first line of its stderr."""
    lines: Sequence[str] = done.stderr.decode("utf-8", "replace").strip().splitlines()
    return lines[0] if lines else f"exit status {done.returncode}"


def _shallow(git: Callable[..., subprocess.CompletedProcess[bytes]]) -> str:
    """`` (a shallow clone)`` when the repository is one, else nothing."""
    answer = git("rev-parse", "--is-shallow-repository")
    return " (a shallow clone)" if answer.stdout.strip() == b"true" else ""


def _history_error(
    reason: str,
    base_sha: str,
    head_sha: str,
    *,
    checkout: bool = False,
    missing: str | None = None,
) -> ConfigError:
    """The reason, why the history is needed, and the checkout settings that give it."""
    step = (
        "add an actions/checkout step before this one, with"
        if checkout
        else "check out with actions/checkout and"
    )
    if missing == "head":
        fetch = (
            "fetch the head commit too, which a pull_request_target checkout (the base "
            f"branch) does not include: `git fetch --no-tags origin {head_sha}`"
        )
    else:
        fetch = (
            "on pull_request fetch the base commit too, which a shallow checkout may not "
            f"include: `git fetch --no-tags origin {base_sha}`"
        )
    return ConfigError(
        f"cannot list the pull request's files with git: {reason}. GitHub's API lists at most "
        f"{FILES_CAP:,} files of a pull request, so for this one approvalflow-sync runs git diff "
        "and needs the history from where the pull request left its base branch to its head: "
        f"{step} `fetch-depth: 0` (or a fetch-depth greater than the "
        f"pull request's number of commits), and {fetch}"
    )
