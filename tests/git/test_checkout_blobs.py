"""Files of a commit read from the checkout with one ``git cat-file --batch``, and which commit
of the checkout holds a pull request's versions of its files."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from approvalflow_sync.github.checkout import commit_in_checkout, read_blobs
from git_repo import GIT_ENV, git


def commit(repo: Path, files: dict[str, bytes], message: str) -> str:
    for name, data in files.items():
        path = repo / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", message)
    return git(repo, "rev-parse", "HEAD")


def test_each_file_as_the_commit_has_it_cut_at_the_limit(tmp_path: Path) -> None:
    git(tmp_path, "init", "-q", "-b", "main")
    big = b"<!-- confluence-page-id: 1 -->\n" + b"x" * 200_000
    base = commit(tmp_path, {"a.md": b"base a", "dir/b c.md": b"spaces", "big.md": big}, "one")
    commit(tmp_path, {"a.md": b"head a"}, "two")
    paths = ["a.md", "dir/b c.md", "big.md", "gone.md", "dir", "x\nmain:a.md"]
    found = read_blobs(tmp_path, base, paths, 1000)
    assert found == {
        "a.md": b"base a",
        "dir/b c.md": b"spaces",
        "big.md": big[:1000],
        "gone.md": None,
        "dir": None,  # a tree, not a file
        "x\nmain:a.md": None,  # no such file (a line break asks nothing else)
    }


def test_the_commit_itself_or_the_merge_commit_of_its_pull_request(tmp_path: Path) -> None:
    source = tmp_path / "source"
    source.mkdir()
    git(source, "init", "-q", "-b", "main")
    base = commit(source, {"a.md": b"base"}, "base")
    git(source, "checkout", "-q", "-b", "feature")
    head = commit(source, {"a.md": b"head"}, "head")
    git(source, "checkout", "-q", "main")
    commit(source, {"b.md": b"later on main"}, "main moves on")
    git(source, "merge", "-q", "--no-ff", "-m", "merge", "feature")
    assert commit_in_checkout(source, base, merge_of=False) == base

    # actions/checkout on pull_request: the merge commit alone (depth 1)
    clone = tmp_path / "clone"
    subprocess.run(
        ["git", "clone", "-q", "--depth", "1", f"file://{source}", str(clone)],
        env={**os.environ, **GIT_ENV},
        check=True,
    )
    assert commit_in_checkout(clone, head, merge_of=True) == "HEAD"
    assert read_blobs(clone, "HEAD", ["a.md"], 100) == {"a.md": b"head"}
    assert commit_in_checkout(clone, head, merge_of=False) is None, "only the head may merge"
    assert commit_in_checkout(clone, base, merge_of=True) is None, "the first parent is not it"
    assert commit_in_checkout(tmp_path / "nowhere", base, merge_of=True) is None
