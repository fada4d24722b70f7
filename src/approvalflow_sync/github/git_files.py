"""A pull request's changed files from git (``git diff base...head``, from the merge base as
GitHub does), past the 3,000 GitHub's API lists; else the checkout settings that allow it."""

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
STATUSES = {"A": "added", "M": "modified", "D": "removed", "T": "changed"}
STATUSES |= {"C": "copied", "R": "renamed"}  # these two carry the old path too
DIFF_OPTIONS = ("--name-status", "-z", "-M", "--no-color", "--no-ext-diff", "--no-relative")
"""What :func:`parse_name_status` reads, whatever the user's git configuration says."""
Runner = Callable[..., subprocess.CompletedProcess[bytes]]

_STATUS = re.compile(r"[AMDTCR][0-9]{0,3}")
_COMMIT = re.compile(r"[0-9a-fA-F]{4,64}")


def needs_git_fallback(listed: int, changed_files: int | None) -> bool:
    """Whether GitHub's list was cut short: :data:`FILES_CAP` listed, more changed."""
    return listed == FILES_CAP and changed_files is not None and changed_files > listed


def parse_name_status(output: str) -> list[ChangedFile]:
    """The files in ``git diff --name-status -z`` output: ``STATUS NUL path NUL``, or
    ``R|C<score> NUL old NUL new NUL``. ValueError on a status git does not print here."""
    fields = iter(output.split("\0")[:-1])
    files: list[ChangedFile] = []
    for status in fields:
        if not _STATUS.fullmatch(status):
            raise ValueError(f"unknown git diff status {status!r} in record {len(files) + 1}")
        old = next(fields) if status[0] in "RC" else None
        files.append(ChangedFile(next(fields), STATUSES[status[0]], old))
    return files


def changed_files_from_git(
    workspace: Path,
    base_sha: str,
    head_sha: str,
    *,
    runner: Runner = subprocess.run,
) -> list[ChangedFile]:
    """The pull request's files as git sees them in ``workspace``: ``git diff base...head``; a
    :class:`ConfigError` when the repository lacks a commit or the merge base."""
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

    diff = git("diff", *DIFF_OPTIONS, f"{base_sha}...{head_sha}")
    if diff.returncode == 0:
        return parse_name_status(diff.stdout.decode("utf-8", "surrogateescape"))
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
    if git("merge-base", base_sha, head_sha).returncode != 0:
        raise _history_error(
            f"the base commit {base_sha} and the head commit {head_sha} have no common "
            f"ancestor in the fetched history{_shallow(git)}",
            base_sha,
            head_sha,
        )
    raise ConfigError(
        f"git diff {base_sha}...{head_sha} failed in {workspace}: {_said(diff)}; the "
        "repository checked out in the workspace cannot list the pull request's files"
    )


def _said(done: subprocess.CompletedProcess[bytes]) -> str:
    lines: Sequence[str] = done.stderr.decode("utf-8", "replace").strip().splitlines()
    return lines[0] if lines else f"exit status {done.returncode}"


def _shallow(git: Callable[..., subprocess.CompletedProcess[bytes]]) -> str:
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
