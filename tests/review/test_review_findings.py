"""Adversarial review of issue 14 item 3 (pr-number, workflow_run, merge_group) and issue 15
item 1 (instances): each finding is a test of the secure behaviour, xfail while it is open.

Every run is the real program against the sandbox and the fake GitHub on loopback, as in
``tests/e2e``. A finding's fix turns its test into an unexpected pass: drop the mark then.
"""

from __future__ import annotations

import json
import shutil
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from action_harness import (
    MAPPING_PATH,
    RESULT_MARKER,
    ActionHarness,
    ActionRun,
    harness,
    load_payload,
    merge_group_event,
    workflow_run_event,
)
from approvalflow_sync.sandbox import SandboxServer
from fakes.github import CODERTOCAT

REPO = "Codertocat/Hello-World"
CONTEXT = "ApprovalFlow / preflight"
BASE_MAPPING = """\
space: "12345"
pages:
  - path: docs/auth/**
    page: "67890"
  - path: drafts/**
    page: "88800"
    space: "99999"
"""
"""The base branch's mapping (page 88800's space has no approval workflow: blocked)."""
ATTACKER_SHA = "badc0ffee0ddf00dbadc0ffee0ddf00dbadc0ffe"
GROUP_SHA = "d2b9a4e1c7f3065812a4b6c8e0f1a3b5c7d9e2f4"
MERGED = {"state": "closed", "merged": True, "merged_at": "2019-05-16T10:00:00Z"}


@pytest.fixture
def h(tmp_path: Path, sandbox: SandboxServer) -> Iterator[ActionHarness]:
    """No checkout, as the recommended pull_request_target and workflow_run jobs have none."""
    with harness(tmp_path, sandbox, None, ActionHarness) as action:
        shutil.rmtree(action.workspace)
        action.workspace.mkdir()
        yield action


def ok(run: ActionRun) -> ActionRun:
    assert run.returncode == 0, run.describe()
    assert "Traceback" not in run.stderr, run.describe()
    return run


def pull_request(h: ActionHarness, files: list[str], **fields: Any) -> dict[str, Any]:
    """Pull request #2 in the fake, with the base branch's mapping at its base commit."""
    event = h.add_pull_request(load_payload("opened"), files, **fields)
    sha = event["pull_request"]["base"]["sha"]
    h.github.set_file_content(REPO, MAPPING_PATH, BASE_MAPPING, ref=sha)
    return event


def submits(h: ActionHarness) -> list[str]:
    calls = h.sandbox_calls()
    return [c["body"]["changeSetId"] for c in calls if c["path"] == "/changeSets/submit"]


def merged_and_approved(h: ActionHarness) -> dict[str, Any]:
    """Pull request #2: synced, merged, its page submitted and then approved by a reviewer."""
    event = pull_request(h, ["docs/auth/login.md"])
    ok(h.run(event, event_name="pull_request_target"))
    h.github.update_pull_request(REPO, 2, **MERGED)
    merged = h.with_action(event, "closed", **MERGED)
    ok(h.run(merged, event_name="pull_request_target"))
    assert len(submits(h)) == 1
    h.admin("POST", "/approve", {"pageId": "67890"})
    return merged


def attacker_run(h: ActionHarness, victim: dict[str, Any]) -> dict[str, Any]:
    """A fork's own pull request #7 (another head commit), whose pull_request workflow uploaded
    an artifact naming the victim's number: the completed workflow_run event that follows."""
    head = victim["pull_request"]["head"]
    fork = {
        **head,
        "sha": ATTACKER_SHA,
        "ref": "innocent",
        "repo": {**head["repo"], "full_name": "mallory/Hello-World", "id": 991},
    }
    own = h.add_pull_request(load_payload("opened"), ["README.md"], number=7, head=fork)
    return workflow_run_event(own, listed=False)  # GitHub lists no fork pull request


# -- finding 1: workflow_run trusts the artifact's number ---------------------------------------


def test_a_forks_artifact_cannot_submit_another_merged_pull_request(h: ActionHarness) -> None:
    victim = merged_and_approved(h)
    (kept,) = h.change_sets(victim["pull_request"]["html_url"])
    h.api("/changeSets/archive", {"changeSetId": kept["id"]})  # finished: archived by hand
    upstream = attacker_run(h, victim)
    h.forget_calls()

    h.run(upstream, event_name="workflow_run", inputs={"pr-number": "2"})

    assert submits(h) == [], "a fork's run submitted pull request #2's pages again"
    assert h.sandbox_writes() == []
    assert h.github_writes() == []


# -- finding 2: a merge's rerun after the approval submits again --------------------------------


def test_a_rerun_of_the_merge_after_the_approval_submits_nothing(h: ActionHarness) -> None:
    merged = merged_and_approved(h)
    h.forget_calls()

    run = ok(h.run(merged, event_name="pull_request_target"))

    assert submits(h) == [], "the approved page went back to review"
    assert json.loads(run.outputs["result"]).get("alreadySubmitted") is True


def test_a_rerun_after_the_approved_page_changed_submits_it_again(h: ActionHarness) -> None:
    """The other side of finding 2: an approval of an older version leaves the page waiting."""
    merged = merged_and_approved(h)
    h.admin("POST", "/edit-page", {"pageId": "67890"})
    h.forget_calls()

    run = ok(h.run(merged, event_name="pull_request_target"))

    assert len(submits(h)) == 1, "the page edited after its approval was not submitted"
    assert "alreadySubmitted" not in json.loads(run.outputs["result"])


# -- finding 3: merge_group passes on a status someone else wrote -------------------------------


def test_merge_group_ignores_a_status_written_by_someone_else(h: ActionHarness) -> None:
    event = pull_request(h, ["drafts/idea.md"])  # page 88800: blocked
    ok(h.run(event, event_name="pull_request_target"))
    head = event["pull_request"]["head"]["sha"]
    assert [s["state"] for s in h.statuses(event)] == ["failure"]
    # Anyone with statuses: write (a person's token, another integration) on the same context.
    h.github.add_status(
        REPO, head, "success", context=CONTEXT, description="looks fine", creator=CODERTOCAT
    )
    h.github.add_commit(REPO, GROUP_SHA)

    ok(h.run(merge_group_event(event, GROUP_SHA), event_name="merge_group"))

    (status,) = h.statuses(event, GROUP_SHA)
    assert status["state"] == "failure", f"the queue passed: {status['description']!r}"


# -- finding 4 (fixed): a change set made by someone else with the instance's link -------------


def test_an_instance_does_not_adopt_a_change_set_someone_else_made(h: ActionHarness) -> None:
    event = pull_request(h, ["docs/auth/login.md"])
    link = f"{event['pull_request']['html_url']}#approvalflow-sync=handbook"
    h.api(
        "/changeSets",
        {
            "spaceId": "12345",
            "title": "Trivial typo fix, please approve",
            "referenceUrl": link,
            "pageRefs": [{"pageId": "67891"}],
        },
    )
    (planted,) = h.change_sets(link)
    planted_id = planted["id"]
    h.forget_calls()

    ok(h.run(event, event_name="pull_request_target", inputs={"instance": "handbook"}))

    ours = [cs for cs in h.change_sets(link) if cs["status"] == "open" and cs["id"] != planted_id]
    assert len(ours) == 1, "the run made no change set of its own"
    assert ours[0]["pageIds"] == ["67890"]


def plant(h: ActionHarness, link: str) -> dict[str, Any]:
    """A change set another user of the site made with the pull request's link."""
    known = {cs["id"] for cs in h.change_sets(link)}
    body = {"spaceId": "12345", "title": "Planted", "referenceUrl": link}
    h.api("/changeSets", {**body, "pageRefs": [{"pageId": "67891"}]})
    (planted,) = [cs for cs in h.change_sets(link) if cs["id"] not in known]
    return planted


def unchanged(h: ActionHarness, planted: dict[str, Any]) -> None:
    (now,) = [cs for cs in h.change_sets() if cs["id"] == planted["id"]]
    assert now == planted, "the planted change set was written to"


@pytest.mark.parametrize("merged", [True, False])
def test_a_planted_change_set_is_warned_of_and_never_written(
    h: ActionHarness, merged: bool
) -> None:
    event = pull_request(h, ["docs/auth/login.md"])
    planted = plant(h, event["pull_request"]["html_url"])

    run = ok(h.run(event, event_name="pull_request_target"))
    (warning,) = [w for w in run.annotations("warning") if planted["id"] in w.message]
    assert "not made by this action" in warning.message
    assert f"`{planted['id']}`" in run.summary
    (ours,) = [cs for cs in h.change_sets(planted["referenceUrl"]) if cs != planted]
    h.forget_calls()
    ok(h.run(event, event_name="pull_request_target"))
    assert h.sandbox_writes() == [], "a rerun wrote to ApprovalFlow"
    assert h.github_writes() == [], "a rerun wrote to GitHub"

    closed = {**MERGED} if merged else {"state": "closed", "merged": False}
    h.github.update_pull_request(REPO, 2, **closed)
    ok(h.run(h.with_action(event, "closed", **closed), event_name="pull_request_target"))
    if merged:
        assert submits(h) == [ours["id"]]
    else:
        archived = [cs["id"] for cs in h.change_sets() if cs["status"] != "open"]
        assert archived == [ours["id"]]
    unchanged(h, planted)


def test_a_sticky_comment_of_an_earlier_version_adopts_its_change_set_once(
    h: ActionHarness,
) -> None:
    """Upgrading makes no duplicate: the old comment has no record, so the linked change set
    is adopted as before, and recorded; one planted after that is left alone."""
    event = pull_request(h, ["docs/auth/login.md"])
    link = event["pull_request"]["html_url"]
    earlier = plant(h, link)
    h.github.add_issue_comment(REPO, 2, "<!-- approvalflow-sync:sticky -->\nold report")

    ok(h.run(event, event_name="pull_request_target"))
    (adopted,) = h.change_sets(link)
    assert adopted["id"] == earlier["id"]
    assert adopted["pageIds"] == ["67890"]
    (sticky,) = h.ours(event)
    record = f'<!-- approvalflow-sync:change-sets:json ["{earlier["id"]}"] -->'
    assert sticky["body"].splitlines()[1] == record

    planted = plant(h, link)
    run = ok(h.run(event, event_name="pull_request_target"))
    assert any(planted["id"] in w.message for w in run.annotations("warning"))
    unchanged(h, planted)


# -- finding 5: the README's workflow_run job is not serialised per pull request --------------


def submit_in_flight(h: ActionHarness) -> bool:
    return any(c["path"] == "/changeSets/submit" and c["status"] is None for c in h.sandbox_calls())


def test_two_runs_for_one_merge_submit_once(h: ActionHarness) -> None:
    event = pull_request(h, ["docs/auth/login.md"])
    ok(h.run(event, event_name="pull_request_target"))
    h.github.update_pull_request(REPO, 2, **MERGED)
    merged = h.with_action(event, "closed", **MERGED)
    upstream = attacker_run(h, event)
    # The merge run's submit is slow to answer; the other run starts meanwhile.
    h.admin("POST", "/faults", {"method": "POST", "path": "/changeSets/submit", "delay": 20})
    own = h.start(merged, event_name="pull_request_target")
    deadline = time.monotonic() + 60
    while not submit_in_flight(h) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert submit_in_flight(h), "the merge run never reached its submit"
    other = h.run(upstream, event_name="workflow_run", inputs={"pr-number": "2"})
    ok(own.wait())

    assert len(h.ours(merged, RESULT_MARKER)) == 1, "two result comments"
    assert h.statuses(merged)[0]["state"] == "success", h.statuses(merged)[0]["description"]
    assert other.returncode == 0
