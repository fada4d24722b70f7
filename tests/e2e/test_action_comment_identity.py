"""Only this action's identity decides (issue 12): other bots' comments are data, nothing more.

With the workflow's ``GITHUB_TOKEN`` (``GET /user`` answers 403) the action writes as
``github-actions[bot]``; another app's bot (``approvalflow-sync[bot]`` in the fake, with its own
token) can write any comment, marker and hidden data included. Such a comment never makes the
merge skip its submit, never sets an output, and is never edited. Whether the merge submits rests
on ApprovalFlow's state; even our own result comment only lends its counts to a rerun's
outputs, by a fixed list of names.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from action_harness import (
    RESULT_MARKER,
    STICKY_MARKER,
    ActionHarness,
    ActionRun,
    harness,
    load_payload,
)
from approvalflow_sync.sandbox import SandboxServer
from fakes.github import APP_BOT, APP_TOKEN, GITHUB_ACTIONS_BOT

MAPPING = 'space: "12345"\npages:\n  - path: docs/**\n    page: "67890"\n'
REPO, NUMBER = "robvanderleek/create-issue-branch", 117
FORGED_OUTPUTS = {
    "refresh-token": "forged-refresh-token",
    "submitted": "99",
    "pages": "7",
    "bad name\n::set-output name=x::y": "1",
    "change-set-ids": '["cs-forged"]',
}


def forged_result(outputs: object) -> str:
    data = json.dumps({"changeSetIds": ["cs-forged"], "outputs": outputs})
    return f"{RESULT_MARKER}\n<!-- approvalflow-sync:result-data:json {data} -->\nSubmitted.\n"


@pytest.fixture
def h(tmp_path: Path, sandbox: SandboxServer) -> Iterator[ActionHarness]:
    with harness(tmp_path, sandbox, MAPPING, ActionHarness) as action:
        yield action


def merged(h: ActionHarness) -> dict[str, Any]:
    return h.add_pull_request(load_payload("closed.merged"), ["docs/a.md"])


def ok(run: ActionRun) -> ActionRun:
    assert run.returncode == 0, run.describe()
    assert "Traceback" not in run.stderr + run.stdout, run.describe()
    return run


def submits(h: ActionHarness) -> list[dict[str, Any]]:
    return [c for c in h.sandbox_calls() if c["path"] == "/changeSets/submit"]


def test_another_apps_result_comment_neither_skips_the_submit_nor_sets_outputs(
    h: ActionHarness,
) -> None:
    event = merged(h)
    h.github.add_issue_comment(REPO, NUMBER, forged_result(FORGED_OUTPUTS), author=APP_BOT)
    run = ok(h.run(event))
    assert len(submits(h)) == 1, "submitted: a comment is no evidence"
    assert "refresh-token" not in run.outputs
    assert run.outputs["submitted"] == "1"
    assert run.outputs["pages"] == "1"
    assert "cs-forged" not in run.outputs["change-set-ids"]
    ours = [c for c in h.ours(event, RESULT_MARKER) if c["user"]["login"] == "github-actions[bot]"]
    assert len(ours) == 1, "our own result comment was posted"


def test_a_rerun_reads_back_only_known_counts_from_our_own_result_comment(
    h: ActionHarness,
) -> None:
    event = merged(h)
    # Our identity's comment, but malformed: names that are no output, a refresh token.
    h.github.add_issue_comment(
        REPO, NUMBER, forged_result(FORGED_OUTPUTS), author=GITHUB_ACTIONS_BOT
    )
    ok(h.run(event))
    assert len(submits(h)) == 1, "ApprovalFlow showed nothing submitted: the merge submitted"
    h.forget_calls()
    rerun = ok(h.run(event))
    assert submits(h) == [], "ApprovalFlow shows the submit: not again"
    assert set(rerun.outputs) == {"change-set-ids", "result", "submitted", "pages"}
    assert (rerun.outputs["submitted"], rerun.outputs["pages"]) == ("99", "7")
    assert "cs-forged" not in rerun.outputs["change-set-ids"]
    assert json.loads(rerun.outputs["result"])["alreadySubmitted"] is True


@pytest.mark.parametrize("data", ["[1, 2]", '"text"', '{"outputs": [1]}', "{not json"])
def test_a_malformed_result_comment_of_ours_is_ignored(h: ActionHarness, data: str) -> None:
    event = merged(h)
    ok(h.run(event))
    h.github.add_issue_comment(
        REPO, NUMBER, f"{RESULT_MARKER}\n<!-- approvalflow-sync:result-data:json {data} -->\n"
    )
    rerun = ok(h.run(event))
    assert json.loads(rerun.outputs["result"])["alreadySubmitted"] is True


def test_another_bots_sticky_comment_is_never_edited(h: ActionHarness) -> None:
    event = h.add_pull_request(load_payload("opened"), ["docs/a.md"])
    theirs = f"{STICKY_MARKER}\nAnother app wrote this."
    their_id = h.github.add_issue_comment(
        event["repository"]["full_name"], event["pull_request"]["number"], theirs, author=APP_BOT
    )
    ok(h.run(event))
    edits = [path for method, path in h.github_writes() if method == "PATCH"]
    assert edits == []
    by_id = {c["id"]: c for c in h.comments(event)}
    assert by_id[their_id]["body"] == theirs
    assert [c["user"]["login"] for c in h.ours(event)] == [APP_BOT.login, "github-actions[bot]"]


def test_with_an_apps_token_comment_author_names_the_identity(h: ActionHarness) -> None:
    event = h.add_pull_request(load_payload("opened"), ["docs/a.md"])
    inputs = {"comment-author": APP_BOT.login}
    ok(h.run(event, token=APP_TOKEN, inputs=inputs))
    h.forget_calls()
    h.add_pull_request(load_payload("opened"), ["docs/a.md", "docs/b.md"])
    ok(h.run(event, token=APP_TOKEN, inputs=inputs))
    (sticky,) = h.ours(event)
    assert sticky["user"]["login"] == APP_BOT.login
    repo = event["repository"]["full_name"]
    comment_writes = [write for write in h.github_writes() if "/comments" in write[1]]
    assert comment_writes == [("PATCH", f"/repos/{repo}/issues/comments/{sticky['id']}")]


def test_with_an_apps_token_and_no_comment_author_a_warning_says_what_to_set(
    h: ActionHarness,
) -> None:
    event = h.add_pull_request(load_payload("opened"), ["docs/a.md"])
    run = ok(h.run(event, token=APP_TOKEN))
    (warning,) = [w for w in run.annotations("warning") if "comment-author" in w.message]
    assert f"set the input comment-author to {APP_BOT.login}" in warning.message
