"""Which pull request a run acts on, and how: events, the pr-number input, the flow (pure)."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest
from test_plan import PR

from approvalflow_sync.action.inputs import Mode, parse_pr_number
from approvalflow_sync.action.run import number_to_fetch, resolve_mode, unbound
from approvalflow_sync.core.report import merge_group_status
from approvalflow_sync.errors import ConfigError
from approvalflow_sync.github.event import Event, MergeGroup, parse_event

REPO_ID = 186853002
SHA = "d2b9a4e1c7f3065812a4b6c8e0f1a3b5c7d9e2f4"


def listed(number: int, repo_id: int) -> dict[str, Any]:
    """An entry of ``workflow_run.pull_requests`` (the pull-request-minimal shape)."""
    side = {"ref": "main", "sha": SHA, "repo": {"id": repo_id, "url": "u", "name": "n"}}
    return {"id": number * 10, "number": number, "url": "u", "head": side, "base": side}


def test_workflow_run_names_only_this_repositorys_pull_requests() -> None:
    payload = {
        "action": "completed",
        "repository": {"id": REPO_ID, "full_name": "o/r"},
        "workflow_run": {
            "pull_requests": [listed(2, REPO_ID), listed(9, 555), "junk"],
            "head_sha": SHA,
            "head_repository": {"full_name": "fork/r"},
        },
    }
    assert parse_event("workflow_run", payload) == Event(
        "workflow_run", "completed", None, (2,), run_head=(SHA, "fork/r")
    )
    assert parse_event("workflow_run", {"workflow_run": {}}).run_head == ("", "")


def group_event(head_ref: str, action: str = "checks_requested") -> dict[str, Any]:
    return {"action": action, "merge_group": {"head_sha": SHA, "head_ref": head_ref}}


def test_a_merge_group_is_named_after_the_pull_request_at_its_tip() -> None:
    ref = f"refs/heads/gh-readonly-queue/release/v2/pr-123-{SHA}"
    event = parse_event("merge_group", group_event(ref))
    assert event.merge_group == MergeGroup(head_sha=SHA, number=123)
    assert event.numbers == (123,)
    destroyed = parse_event("merge_group", group_event(ref, "destroyed"))
    assert (destroyed.merge_group, destroyed.numbers) == (None, ())


@pytest.mark.parametrize(
    "ref",
    [
        "refs/heads/main",
        f"refs/heads/gh-readonly-queue/main/pr-0-{SHA}",
        f"refs/heads/gh-readonly-queue/main/pr-012-{SHA}",
        f"refs/heads/gh-readonly-queue/main/pr-12-{SHA.upper()}",
        f"refs/heads/gh-readonly-queue/main/pr-12-{SHA}\n",
        f"refs/heads/feature/pr-12-{SHA}",
    ],
)
def test_a_merge_group_ref_of_another_shape_is_refused(ref: str) -> None:
    with pytest.raises(ConfigError, match="holds no merge queue commit and ref"):
        parse_event("merge_group", group_event(ref))


@pytest.mark.parametrize(("given", "number"), [("", None), ("7", 7), (" 12\n", 12)])
def test_pr_number_is_a_positive_whole_number(given: str, number: int | None) -> None:
    assert parse_pr_number({"INPUT_PR-NUMBER": given}) == number


@pytest.mark.parametrize("given", ["0", "012", "+3", "-3", "1e3", "3.0", "#3", "٣", "1" * 11])
def test_anything_else_as_pr_number_is_refused(given: str) -> None:
    with pytest.raises(ConfigError, match="is not a pull request number"):
        parse_pr_number({"INPUT_PR-NUMBER": given})


RUN = Event("workflow_run", "completed", None, (2,))
FORK_RUN = Event("workflow_run", "completed", None, ())
OPENED = Event("pull_request", "opened", PR, (PR.number,))


def test_the_number_to_fetch() -> None:
    assert number_to_fetch(2, RUN) == 2
    assert number_to_fetch(5, FORK_RUN) == 5, "a fork's run lists nothing: the input decides"
    assert number_to_fetch(5, Event("schedule", "", None)) == 5
    assert number_to_fetch(None, Event("push", "", None)) is None
    assert number_to_fetch(PR.number, OPENED) is None, "the event carries it"
    for given, event, says in [
        (None, RUN, "input pr-number: empty"),
        (None, Event("workflow_dispatch", "", None), "input pr-number: empty"),
        (3, RUN, "the workflow_run event names pull request #2"),
        (PR.number + 1, OPENED, f"the pull_request event names pull request #{PR.number}"),
    ]:
        with pytest.raises(ConfigError, match=says):
            number_to_fetch(given, event)


def test_a_number_is_acted_on_only_where_someone_vouches_for_it() -> None:
    bound = Event("workflow_run", "completed", None, (), run_head=(PR.head_sha, PR.head_repo))
    merged = replace(PR, merged=True)
    assert unbound(bound, merged, Mode.SUBMIT, auto=True) is None
    elsewhere = replace(bound, run_head=("f" * 40, "mallory/r"))
    says = str(unbound(elsewhere, PR, Mode.SYNC, auto=False))
    assert f"#{PR.number}'s head is {PR.head_sha[:12]} of {PR.head_repo}" in says
    assert "workflow_run ran on ffffffffffff of mallory/r" in says
    dispatch, comment = Event("workflow_dispatch", "", None), Event("issue_comment", "", None)
    assert unbound(dispatch, merged, Mode.SUBMIT, auto=True) is None, "write access dispatches"
    assert "auto never submits" in str(unbound(comment, merged, Mode.SUBMIT, auto=True))
    assert unbound(comment, merged, Mode.SUBMIT, auto=False) is None, "an explicit mode wins"
    assert unbound(comment, PR, Mode.SYNC, auto=True) is None
    assert unbound(OPENED, PR, Mode.SYNC, auto=True) is None, "the event's own pull request"


@pytest.mark.parametrize(
    ("state", "merged", "mode"),
    [("open", False, Mode.SYNC), ("closed", True, Mode.SUBMIT), ("closed", False, Mode.ARCHIVE)],
)
def test_a_fetched_pull_requests_state_picks_the_flow(state: str, merged: bool, mode: Mode) -> None:
    fetched = replace(PR, state=state, merged=merged)
    assert resolve_mode(Mode.AUTO, RUN, fetched) is mode
    assert resolve_mode(Mode.SYNC, RUN, fetched) is Mode.SYNC, "an explicit mode wins"


def test_merge_group_status_passes_on_the_pull_requests_verdict() -> None:
    context = "ApprovalFlow / preflight"
    assert merge_group_status(4, context, ("success", "2 of 2 pages can be submitted")) == (
        "success",
        "#4: 2 of 2 pages can be submitted",
    )
    assert merge_group_status(4, context, ("pending", "x"))[0] == "failure"
    state, description = merge_group_status(4, context, None)
    assert (state, description) == (
        "failure",
        f"#4 has no {context} status; run the workflow on it first",
    )
    assert len(merge_group_status(4, context, ("failure", "y" * 300))[1]) == 140
