"""The README's first command: ``approvalflow-sync demo`` runs a pull request's whole life."""

from __future__ import annotations

import subprocess
import sys

from conftest import clean_env


def test_demo_runs_open_push_merge_and_rerun() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "approvalflow_sync", "demo"],
        env=clean_env(),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "commit status: success: 3 of 3 pages can be submitted" in out
    assert "commit status: failure: 4 of 5 pages can be submitted, 1 blocked" in out
    assert "⛔ blocked: No workflow assigned to page" in out
    assert "### ApprovalFlow: Submitted 4 pages for approval, 1 skipped" in out
    assert "nothing submitted again" in out
    # one sticky comment and one result comment, never a third
    assert "--- PR comment #2 ---" in out
    assert "--- PR comment #3" not in out
    assert "Traceback" not in result.stderr


def test_demo_as_an_instance_names_its_comments_and_status() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "approvalflow_sync", "demo", "--instance", "handbook"],
        env=clean_env(),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "<!-- approvalflow-sync@handbook:sticky -->" in result.stdout
    assert "### ApprovalFlow (handbook): Submitted 4 pages for approval" in result.stdout
    assert "<!-- approvalflow-sync:" not in result.stdout
