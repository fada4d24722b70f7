"""changed_files_from_git against real repositories made here, shallow clones included.

git runs with an environment of its own (no global or system configuration, fixed names and
dates), so the machine's git configuration cannot change the answers.
"""

from __future__ import annotations

import os
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from approvalflow_sync.core.plan import changed_paths
from approvalflow_sync.errors import ConfigError
from approvalflow_sync.github.event import ChangedFile
from approvalflow_sync.github.git_files import (
    FILES_CAP,
    changed_files_from_git,
    needs_git_fallback,
    parse_name_status,
)

GIT_ENV = {
    **{key: value for key, value in os.environ.items() if not key.startswith("GIT_")},
    "GIT_CONFIG_GLOBAL": os.devnull,
    "GIT_CONFIG_NOSYSTEM": "1",
    "GIT_AUTHOR_NAME": "Ada Author",
    "GIT_AUTHOR_EMAIL": "ada@example.com",
    "GIT_COMMITTER_NAME": "Cy Committer",
    "GIT_COMMITTER_EMAIL": "cy@example.com",
    "GIT_AUTHOR_DATE": "2024-05-01T12:00:00+00:00",
    "GIT_COMMITTER_DATE": "2024-05-01T12:00:00+00:00",
    "GIT_TERMINAL_PROMPT": "0",
    "LC_ALL": "C",
}


def run_git(
    args: list[str], *, cwd: Path | None = None, capture_output: bool = True, check: bool = False
) -> subprocess.CompletedProcess[bytes]:
    """The runner the tests hand to changed_files_from_git: git with the environment above."""
    return subprocess.run(args, cwd=cwd, env=GIT_ENV, capture_output=capture_output, check=check)


HOSTILE = [
    "docs/with space.md",
    "docs/tab\there.md",
    "docs/new\nline.md",
    'docs/double"quote.md',
    "docs/single'quote.md",
    "docs/back\\slash.md",
    "docs/-leading-dash.md",
    "-rf",
    "--output=pwned",
    "docs/ünïcødé/日本語.md",
    "docs/emoji 🎉.md",
    " leading and trailing .md ",
]
LATIN1 = b"docs/latin1-\xe9.md"
"""A name that is not UTF-8: git stores bytes."""


def git(repo: Path, *args: str) -> str:
    done = run_git(["git", *args], cwd=repo, capture_output=True, check=False)
    assert done.returncode == 0, done.stderr.decode()
    return done.stdout.decode("utf-8", "surrogateescape").strip()


def write(repo: Path, name: str | bytes, text: str) -> None:
    path = Path(os.fsdecode(repo)) / os.fsdecode(name)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


def commit(repo: Path, message: str) -> str:
    git(repo, "add", "--all")
    git(repo, "commit", "--quiet", "--no-verify", "-m", message)
    return git(repo, "rev-parse", "HEAD")


def body(seed: str) -> str:
    """Text long and distinct enough for git's rename detection."""
    return "".join(f"{seed} line {n}: some documentation text\n" for n in range(40))


@dataclass(frozen=True)
class PullRequest:
    repo: Path
    base: str
    """The base branch's tip, which moved on after the pull request branched off."""
    head: str
    fork_point: str


@pytest.fixture(scope="module")
def pull(tmp_path_factory: pytest.TempPathFactory) -> PullRequest:
    repo = tmp_path_factory.mktemp("origin")
    git(repo, "init", "--quiet", "--initial-branch=main")
    for name in (
        "README.md",
        "docs/keep.md",
        "docs/modify.md",
        "docs/delete.md",
        "docs/rename-me.md",
        "docs/rename-and-edit.md",
        "docs/type.md",
        "docs/old name.md",
        "docs/source.md",
    ):
        write(repo, name, body(name))
    fork_point = commit(repo, "base docs")

    git(repo, "checkout", "--quiet", "-b", "feature")
    (repo / "docs/moved").mkdir()
    write(repo, "docs/modify.md", body("docs/modify.md") + "one more line\n")
    (repo / "docs/delete.md").unlink()
    git(repo, "mv", "docs/rename-me.md", "docs/moved/renamed.md")
    git(repo, "mv", "docs/rename-and-edit.md", "docs/moved/edited.md")
    write(repo, "docs/moved/edited.md", body("docs/rename-and-edit.md") + "an edit\n")
    (repo / "docs/type.md").unlink()
    (repo / "docs/type.md").symlink_to("keep.md")
    git(repo, "mv", "docs/old name.md", "docs/new\tname.md")
    write(repo, "docs/copy-of-source.md", body("docs/source.md"))
    write(repo, "docs/source.md", body("docs/source.md") + "source edited\n")
    for name in HOSTILE:
        write(repo, name, body(name))
    write(repo, LATIN1, body("latin1"))
    commit(repo, "feature: every kind of change")
    write(repo, "docs/later.md", body("later"))
    head = commit(repo, "feature: a second commit")

    git(repo, "checkout", "--quiet", "main")
    write(repo, "base-only.md", body("base only"))
    write(repo, "README.md", body("README.md") + "changed on main after the fork\n")
    base = commit(repo, "main moves on")
    return PullRequest(repo, base, head, fork_point)


EXPECTED = {
    "docs/modify.md": ("modified", None),
    "docs/delete.md": ("removed", None),
    "docs/moved/renamed.md": ("renamed", "docs/rename-me.md"),
    "docs/moved/edited.md": ("renamed", "docs/rename-and-edit.md"),
    "docs/type.md": ("changed", None),
    "docs/new\tname.md": ("renamed", "docs/old name.md"),
    "docs/copy-of-source.md": ("added", None),
    "docs/source.md": ("modified", None),
    "docs/later.md": ("added", None),
    os.fsdecode(LATIN1): ("added", None),
    **dict.fromkeys(HOSTILE, ("added", None)),
}


def by_path(files: list[ChangedFile]) -> dict[str, tuple[str, str | None]]:
    found = {changed.path: (changed.status, changed.previous_path) for changed in files}
    assert len(found) == len(files), "a path is listed twice"
    return found


@pytest.fixture
def clean_git_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """The process environment of GIT_ENV, for the default runner (subprocess.run itself)."""
    for key in os.environ:
        if key.startswith("GIT_"):
            monkeypatch.delenv(key)
    for key, value in GIT_ENV.items():
        monkeypatch.setenv(key, value)


@pytest.mark.usefixtures("clean_git_env")
def test_the_files_are_the_pull_requests_view_since_the_merge_base(pull: PullRequest) -> None:
    files = changed_files_from_git(pull.repo, pull.base, pull.head)

    assert by_path(files) == EXPECTED
    assert "base-only.md" not in changed_paths(files)
    assert "README.md" not in changed_paths(files)


def test_the_answer_is_git_diff_base_three_dots_head(pull: PullRequest) -> None:
    three_dots = run_git(
        ["git", "diff", "--name-status", "-z", "-M", f"{pull.base}...{pull.head}"],
        cwd=pull.repo,
        check=True,
    ).stdout.decode("utf-8", "surrogateescape")

    assert changed_files_from_git(
        pull.repo, pull.base, pull.head, runner=run_git
    ) == parse_name_status(three_dots)


def test_a_rename_counts_under_both_paths_for_the_mapping(pull: PullRequest) -> None:
    paths = changed_paths(changed_files_from_git(pull.repo, pull.base, pull.head, runner=run_git))

    assert {"docs/rename-me.md", "docs/moved/renamed.md", "docs/old name.md"} <= set(paths)


def test_a_copy_that_git_reports_parses_with_its_source(pull: PullRequest) -> None:
    output = run_git(
        ["git", "diff", "--name-status", "-z", "-C", "-C", pull.fork_point, pull.head],
        cwd=pull.repo,
        capture_output=True,
        check=True,
    ).stdout.decode("utf-8", "surrogateescape")

    files = by_path(parse_name_status(output))

    assert files["docs/copy-of-source.md"] == ("copied", "docs/source.md")
    assert files["docs/moved/renamed.md"] == ("renamed", "docs/rename-me.md")


def test_the_workspace_may_be_a_subdirectory_and_paths_stay_from_the_root(
    pull: PullRequest,
) -> None:
    files = changed_files_from_git(pull.repo / "docs", pull.base, pull.head, runner=run_git)

    assert by_path(files) == EXPECTED


def test_three_thousand_one_hundred_files_come_back_quickly(tmp_path: Path) -> None:
    repo = tmp_path / "big"
    repo.mkdir()
    git(repo, "init", "--quiet", "--initial-branch=main")
    write(repo, "README.md", "start\n")
    base = commit(repo, "start")
    git(repo, "checkout", "--quiet", "-b", "feature")
    names = [f"docs/area-{n % 31}/page-{n}.md" for n in range(3_100)]
    for name in names:
        write(repo, name, f"page {name}\n")
    head = commit(repo, "3,100 pages")

    started = time.perf_counter()
    files = changed_files_from_git(repo, base, head, runner=run_git)
    elapsed = time.perf_counter() - started

    assert needs_git_fallback(FILES_CAP, len(files))
    assert sorted(f.path for f in files) == sorted(names)
    assert {f.status for f in files} == {"added"}
    assert elapsed < 10, f"took {elapsed:.2f}s"


def clone(pull: PullRequest, destination: Path, *args: str) -> Path:
    git(destination.parent, "clone", "--quiet", *args, f"file://{pull.repo}", destination.name)
    return destination


def test_a_shallow_clone_says_which_checkout_settings_give_the_history(
    pull: PullRequest, tmp_path: Path
) -> None:
    shallow = clone(pull, tmp_path / "shallow", "--depth", "1", "--branch", "feature")

    with pytest.raises(ConfigError) as caught:
        changed_files_from_git(shallow, pull.base, pull.head, runner=run_git)

    message = str(caught.value)
    assert f"the base commit {pull.base} is not in the repository (a shallow clone)" in message
    assert "3,000 files" in message
    assert "actions/checkout" in message
    assert "`fetch-depth: 0`" in message
    assert f"`git fetch --no-tags origin {pull.base}`" in message
    assert caught.value.exit_code == 2


def test_both_commits_without_the_history_between_them_is_no_merge_base(
    pull: PullRequest, tmp_path: Path
) -> None:
    shallow = clone(pull, tmp_path / "shallow", "--depth", "1", "--branch", "feature")
    git(shallow, "fetch", "--quiet", "--no-tags", "--depth", "1", "origin", pull.base)

    with pytest.raises(ConfigError) as caught:
        changed_files_from_git(shallow, pull.base, pull.head, runner=run_git)

    message = str(caught.value)
    assert "have no common ancestor in the fetched history (a shallow clone)" in message
    assert "`fetch-depth: 0`" in message


def test_following_the_advice_gives_the_same_files_as_the_full_history(
    pull: PullRequest, tmp_path: Path
) -> None:
    # A depth greater than the pull request's two commits, then the base commit fetched.
    shallow = clone(pull, tmp_path / "shallow", "--depth", "3", "--branch", "feature")
    git(shallow, "fetch", "--quiet", "--no-tags", "origin", pull.base)

    files = changed_files_from_git(shallow, pull.base, pull.head, runner=run_git)

    assert by_path(files) == EXPECTED


def test_a_clone_of_the_base_branch_only_asks_for_the_head_commit(
    pull: PullRequest, tmp_path: Path
) -> None:
    base_only = clone(pull, tmp_path / "base-only", "--single-branch", "--branch", "main")

    with pytest.raises(ConfigError) as caught:
        changed_files_from_git(base_only, pull.base, pull.head, runner=run_git)

    message = str(caught.value)
    assert f"the head commit {pull.head} is not in the repository." in message
    assert f"`git fetch --no-tags origin {pull.head}`" in message


def test_a_workspace_that_is_no_repository_asks_for_a_checkout(
    pull: PullRequest, tmp_path: Path
) -> None:
    with pytest.raises(ConfigError) as caught:
        changed_files_from_git(tmp_path, pull.base, pull.head, runner=run_git)

    message = str(caught.value)
    assert f"{tmp_path} is not a git repository (fatal: not a git repository" in message
    assert "add an actions/checkout step before this one, with `fetch-depth: 0`" in message


def test_git_missing_from_path_is_a_config_error(pull: PullRequest) -> None:
    def no_git(*args: object, **kwargs: object) -> subprocess.CompletedProcess[bytes]:
        raise FileNotFoundError("git")

    with pytest.raises(ConfigError, match="git is not installed or not on PATH"):
        changed_files_from_git(pull.repo, pull.base, pull.head, runner=no_git)


@pytest.mark.parametrize("sha", ["", "main", "--output=/tmp/x", "HEAD~1", "abc"])
def test_only_commit_ids_reach_git(pull: PullRequest, sha: str) -> None:
    def refuse(*args: object, **kwargs: object) -> subprocess.CompletedProcess[bytes]:
        raise AssertionError("git must not run")

    with pytest.raises(ValueError, match="hexadecimal commit id"):
        changed_files_from_git(pull.repo, sha, pull.head, runner=refuse)
