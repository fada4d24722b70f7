"""A pull request with more files than GitHub lists (3,000): read the rest from the checkout."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from action_harness import ActionHarness, harness, load_payload
from approvalflow_sync.sandbox import SandboxServer
from git_repo import GIT_ENV, git

COUNT = 3_100
LAST = "docs/zz-beyond-the-cap.md"
MAPPING = (
    'space: "12345"\npages:\n  - path: docs/bulk/**\n    page: "67890"\n'
    f'  - path: {LAST}\n    page: "67891"\n'
)


@pytest.fixture
def h(tmp_path: Path, sandbox: SandboxServer) -> Iterator[ActionHarness]:
    with harness(tmp_path, sandbox, None, ActionHarness) as action:
        yield action


def history(workspace: Path) -> tuple[str, str, list[str]]:
    """A repository whose feature branch adds 3,100 docs files; (base sha, head sha, files)."""
    git(workspace, "init", "-q", "-b", "main")
    (workspace / "README.md").write_text("base\n")
    git(workspace, "add", "-A")
    git(workspace, "commit", "-q", "-m", "base")
    base = git(workspace, "rev-parse", "HEAD")
    files = [f"docs/bulk/page-{i:04}.md" for i in range(COUNT - 1)] + [LAST]
    for name in files:
        path = workspace / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(name)
    git(workspace, "add", "-A")
    git(workspace, "commit", "-q", "-m", "many docs")
    return base, git(workspace, "rev-parse", "HEAD"), files


def event_for(h: ActionHarness, base: str, head: str, files: list[str]) -> dict[str, Any]:
    payload = load_payload("opened")
    pr = payload["pull_request"]
    return h.add_pull_request(
        payload,
        files,
        head={**pr["head"], "sha": head},
        base={**pr["base"], "sha": base},
    )


def test_files_beyond_githubs_cap_come_from_git_diff(h: ActionHarness) -> None:
    base, head, files = history(h.workspace)
    h.write_mapping(MAPPING)
    event = event_for(h, base, head, files)
    assert event["pull_request"]["changed_files"] == COUNT

    run = h.run(event)
    assert run.returncode == 0, run.describe()
    result = json.loads(run.outputs["result"])
    pages = {p["pageId"]: p["files"] for p in result["spaces"][0]["pages"]}
    assert pages["67891"] == [LAST], "a file GitHub never listed still maps to its page"
    assert len(pages["67890"]) == COUNT - 1
    assert "reading them all from the checkout" in run.stdout


def test_a_shallow_checkout_says_which_checkout_settings_give_the_history(
    h: ActionHarness, tmp_path: Path
) -> None:
    source = tmp_path / "source"
    source.mkdir()
    base, head, files = history(source)
    shutil.rmtree(h.workspace)  # the checkout replaces the harness's empty workspace
    subprocess.run(
        ["git", "clone", "-q", "--depth", "1", f"file://{source}", str(h.workspace)],
        env={**os.environ, **GIT_ENV},
        check=True,
    )
    h.write_mapping(MAPPING)
    run = h.run(event_for(h, base, head, files))
    assert run.returncode == 2, run.describe()
    (error,) = [c for c in run.commands if c.name == "error"]
    assert "fetch-depth: 0" in error.message
    assert h.sandbox_writes() == []
