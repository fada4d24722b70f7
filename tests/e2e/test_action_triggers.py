"""The action under the events that carry no pull request of their own (issue 14, item 3).

``workflow_run`` and ``workflow_dispatch`` name the pull request through the ``pr-number``
input: the program reads it from GitHub, picks the flow from its state and reads the mapping
from its base commit, never from the workspace (which may hold a fork's head). A merge queue's
``merge_group`` gets the status of the pull request at the group's tip on the group's commit.
Every run goes through the real program against the sandbox and the fake GitHub on loopback.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from action_harness import (
    MAPPING_PATH,
    RESULT_MARKER,
    ActionHarness,
    ActionRun,
    by_space,
    harness,
    load_payload,
    merge_group_event,
    workflow_dispatch_event,
    workflow_run_event,
)
from approvalflow_sync.sandbox import SandboxServer

CONTEXT = "ApprovalFlow / preflight"
REPO = "Codertocat/Hello-World"
BASE_MAPPING = """\
space: "12345"
pages:
  - path: docs/auth/**
    page: "67890"
  - path: drafts/**
    page: "88800"
    space: "99999"
"""
"""The mapping of the base branch (page 88800's space has no approval workflow: blocked)."""
FORK_MAPPING = 'space: "54321"\npages:\n  - path: "**"\n    page: "76540"\n'
"""What a fork's head says the mapping is: every file to a page of its choosing."""
GROUP_SHA = "d2b9a4e1c7f3065812a4b6c8e0f1a3b5c7d9e2f4"


@pytest.fixture
def h(tmp_path: Path, sandbox: SandboxServer) -> Iterator[ActionHarness]:
    """No checkout, as the recommended workflow_run job has none; the mapping is the base's."""
    with harness(tmp_path, sandbox, None, ActionHarness) as action:
        shutil.rmtree(action.workspace)
        action.workspace.mkdir()
        yield action


def ok(run: ActionRun) -> ActionRun:
    assert run.returncode == 0, run.describe()
    assert "Traceback" not in run.stderr, run.describe()
    return run


def config_error(run: ActionRun) -> str:
    """The one error line of a configuration error (exit 2)."""
    assert run.returncode == 2, run.describe()
    (error,) = run.annotations("error")
    assert "Traceback" not in run.stderr + run.stdout
    return error.message


def pull_request(h: ActionHarness, files: list[str], **fields: Any) -> dict[str, Any]:
    """A pull request in the fake, with the base branch's mapping at its base commit."""
    event = h.add_pull_request(load_payload("opened"), files, **fields)
    pr = event["pull_request"]
    h.github.set_file_content(REPO, MAPPING_PATH, BASE_MAPPING, ref=pr["base"]["sha"])
    return event


def fork_head(event: dict[str, Any]) -> dict[str, Any]:
    head = event["pull_request"]["head"]
    return {**head, "repo": {**head["repo"], "full_name": "someone/Hello-World", "id": 991}}


def open_sets(h: ActionHarness, event: dict[str, Any]) -> dict[str, Any]:
    url = event["pull_request"]["html_url"]
    return by_space([cs for cs in h.change_sets(url) if cs["status"] == "open"])


# -- workflow_run --------------------------------------------------------------------------------


def test_workflow_run_with_pr_number_syncs_then_submits_after_the_merge(h: ActionHarness) -> None:
    event = pull_request(h, ["docs/auth/login.md", "README.md"])
    upstream = workflow_run_event(event, listed=True)

    run = ok(h.run(upstream, event_name="workflow_run", inputs={"pr-number": "2"}))

    assert json.loads(run.outputs["result"])["kind"] == "sync", "open: synced"
    sets = open_sets(h, event)
    assert list(sets) == ["12345"]
    assert sets["12345"]["pageIds"] == ["67890"]
    (status,) = h.statuses(event)
    assert (status["context"], status["state"]) == (CONTEXT, "success")
    assert len(h.ours(event)) == 1
    (read,) = h.github.calls_to("GET", r"/pulls/2$")
    assert read.status == 200

    h.github.update_pull_request(
        REPO, 2, state="closed", merged=True, merged_at="2019-05-16T10:00:00Z"
    )
    h.forget_calls()
    merged = ok(h.run(upstream, event_name="workflow_run", inputs={"pr-number": "2"}))

    assert json.loads(merged.outputs["result"])["kind"] == "submit", "merged: submitted"
    submits = [c for c in h.sandbox_calls() if c["path"] == "/changeSets/submit"]
    assert [c["body"]["changeSetId"] for c in submits] == [sets["12345"]["id"]]
    assert len(h.ours(event, RESULT_MARKER)) == 1


def test_workflow_run_of_a_fork_reads_the_mapping_from_the_base_commit(h: ActionHarness) -> None:
    event = pull_request(h, ["docs/auth/login.md", "src/app.py"])
    event = h.add_pull_request(event, ["docs/auth/login.md", "src/app.py"], head=fork_head(event))
    h.write_mapping(FORK_MAPPING)  # a job that checked out the fork's head
    h.github.set_file_content(
        REPO, MAPPING_PATH, FORK_MAPPING, ref=event["pull_request"]["head"]["sha"]
    )

    upstream = workflow_run_event(event, listed=False)  # GitHub lists no fork pull request
    ok(h.run(upstream, event_name="workflow_run", inputs={"pr-number": "2"}))

    assert list(open_sets(h, event)) == ["12345"], "the base's mapping, not the fork's"
    assert open_sets(h, event)["12345"]["pageIds"] == ["67890"]
    (read,) = h.github.calls_to("GET", r"/contents/\.github/approvalflow\.yml$")
    assert read.query == {"ref": [event["pull_request"]["base"]["sha"]]}


def test_a_number_from_another_runs_artifact_is_left_alone(h: ActionHarness) -> None:
    """A fork controls its artifact: a number naming a pull request at another head than the
    run's is refused, both heads named, nothing written (review finding 1)."""
    victim = pull_request(h, ["docs/auth/login.md"])
    ok(h.run(victim, event_name="pull_request_target"))  # its own run: a change set
    h.github.update_pull_request(REPO, 2, state="closed", merged=False)
    other = h.add_pull_request(
        load_payload("opened"), ["drafts/x.md"], number=7, head=fork_head(victim)
    )
    h.forget_calls()

    run = ok(
        h.run(
            workflow_run_event(other, listed=False),
            event_name="workflow_run",
            inputs={"pr-number": "2"},
        )
    )

    (warning,) = run.annotations("warning")
    head = victim["pull_request"]["head"]["sha"][:12]
    assert f"#2's head is {head} of {REPO}, but this workflow_run ran on" in warning.message
    assert "of someone/Hello-World" in warning.message
    assert h.sandbox_writes() == []
    assert h.github_writes() == []
    assert "result" not in run.outputs


def test_under_another_event_auto_never_submits(h: ActionHarness) -> None:
    event = pull_request(h, ["docs/auth/login.md"])
    h.github.update_pull_request(REPO, 2, state="closed", merged=True)
    h.forget_calls()
    run = ok(
        h.run(workflow_dispatch_event(event), event_name="issue_comment", inputs={"pr-number": "2"})
    )
    (warning,) = run.annotations("warning")
    assert "under issue_comment mode auto never submits" in warning.message
    assert h.sandbox_calls() == []
    assert h.github_writes() == []


@pytest.mark.parametrize(
    ("inputs", "listed", "says"),
    [
        ({}, True, "input pr-number: empty, and a workflow_run event carries no pull request"),
        (
            {"pr-number": "3"},
            True,
            "input pr-number: 3, but the workflow_run event names pull request #2",
        ),
        (
            {"pr-number": "2; rm -rf /"},
            False,
            "input pr-number: '2; rm -rf /' is not a pull request number",
        ),
        ({"pr-number": "0"}, False, "input pr-number: '0' is not a pull request number"),
        (
            {"pr-number": "41"},
            False,
            "input pr-number: Codertocat/Hello-World has no pull request #41",
        ),
    ],
    ids=["missing", "disagrees", "not-a-number", "zero", "no-such-pull-request"],
)
def test_a_bad_pr_number_is_one_configuration_error(
    h: ActionHarness, inputs: dict[str, str], listed: bool, says: str
) -> None:
    event = pull_request(h, ["docs/auth/login.md"])
    h.forget_calls()
    run = h.run(workflow_run_event(event, listed=listed), event_name="workflow_run", inputs=inputs)
    assert says in config_error(run)
    assert h.sandbox_calls() == []
    assert h.github_writes() == []


# -- workflow_dispatch ---------------------------------------------------------------------------


def test_workflow_dispatch_with_pr_number_syncs_the_pull_request(h: ActionHarness) -> None:
    event = pull_request(h, ["docs/auth/login.md", "drafts/idea.md"])
    h.write_mapping(FORK_MAPPING)  # whatever the dispatched ref checked out: not read
    run = ok(
        h.run(
            workflow_dispatch_event(event),
            event_name="workflow_dispatch",
            inputs={"pr-number": "2"},
        )
    )

    assert sorted(open_sets(h, event)) == ["12345", "99999"]
    assert (run.outputs["pages"], run.outputs["blocked"]) == ("2", "1")
    (status,) = h.statuses(event)
    assert (status["state"], status["description"]) == (
        "failure",
        "1 of 2 pages can be submitted, 1 blocked",
    )


def test_explicit_mode_wins_over_the_state(h: ActionHarness) -> None:
    event = pull_request(h, ["docs/auth/login.md"])
    inputs = {"pr-number": "2", "mode": "submit"}
    run = ok(h.run(workflow_dispatch_event(event), event_name="workflow_dispatch", inputs=inputs))
    assert json.loads(run.outputs["result"])["kind"] == "submit"
    assert [c["path"] for c in h.sandbox_writes()] == ["/changeSets", "/changeSets/submit"]


# -- merge_group ---------------------------------------------------------------------------------


def queued(h: ActionHarness, files: list[str]) -> dict[str, Any]:
    """A pull request synced by its own run, then queued: the group's commit exists."""
    event = pull_request(h, files)
    h.write_mapping(BASE_MAPPING)
    (h.workspace / ".git").mkdir()
    ok(h.run(event))
    h.github.add_commit(REPO, GROUP_SHA)
    h.forget_calls()
    return event


@pytest.mark.parametrize(
    ("files", "state", "description"),
    [
        (["docs/auth/login.md"], "success", "#2: 1 of 1 page can be submitted"),
        (["drafts/idea.md"], "failure", "#2 failure: 0 of 1 page can be submitted, 1 blocked"),
    ],
    ids=["passed", "blocked"],
)
def test_merge_group_gets_the_status_of_its_pull_request(
    h: ActionHarness, files: list[str], state: str, description: str
) -> None:
    event = queued(h, files)
    group = merge_group_event(event, GROUP_SHA)

    # No ApprovalFlow credentials needed: nothing of ApprovalFlow is read or written.
    run = ok(h.run(group, event_name="merge_group", inputs={"access-token": ""}))

    (status,) = h.statuses(event, GROUP_SHA)
    assert (status["context"], status["state"], status["description"]) == (
        CONTEXT,
        state,
        description,
    )
    assert status["target_url"].endswith("/actions/runs/4242")
    assert h.github_writes() == [("POST", f"/repos/{REPO}/statuses/{GROUP_SHA}")]
    assert h.sandbox_calls() == []
    assert f"`{GROUP_SHA}`" in run.summary
    assert len(h.statuses(event)) == 1, "the pull request's own status is left alone"

    h.forget_calls()
    ok(h.run(group, event_name="merge_group"))
    assert h.github_writes() == [], "a rerun writes nothing"


def test_merge_group_of_a_pull_request_never_checked_fails(h: ActionHarness) -> None:
    event = pull_request(h, ["docs/auth/login.md"])
    h.github.add_commit(REPO, GROUP_SHA)
    ok(h.run(merge_group_event(event, GROUP_SHA), event_name="merge_group"))
    (status,) = h.statuses(event, GROUP_SHA)
    assert status["state"] == "failure"
    assert status["description"] == f"#2 has no {CONTEXT} status; run the workflow on it first"


def test_merge_group_never_writes_change_sets(h: ActionHarness) -> None:
    event = queued(h, ["docs/auth/login.md"])
    run = h.run(
        merge_group_event(event, GROUP_SHA), event_name="merge_group", inputs={"mode": "submit"}
    )
    assert "input mode: 'submit' cannot run under merge_group" in config_error(run)
    assert h.sandbox_calls() == []
    assert h.github.calls == []
