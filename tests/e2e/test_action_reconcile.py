"""Reconcile (issue 14): missed events healed, approvals reported back, nothing written twice.

Each scenario runs the single-event flow for what GitHub did deliver, changes the pull request
in the fake GitHub the way a dropped event would have left it, then runs ``mode: reconcile``
under a ``schedule`` event, as a scheduled workflow would.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from action_harness import (
    RESULT_MARKER,
    STICKY_MARKER,
    ActionHarness,
    ActionRun,
    harness,
    load_payload,
)
from approvalflow_sync.sandbox import SandboxServer

TWO_PAGES = (
    'space: "12345"\npages:\n  - path: docs/a.md\n    page: "67890"\n'
    '  - path: docs/b.md\n    page: "67891"\n'
)
APPROVAL_MARKER = "<!-- approvalflow-sync:approval -->"
APPROVAL_CONTEXT = "ApprovalFlow / approval"
MERGE_SHA = "9" * 40


def now() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def reconcile(h: ActionHarness, repo: str, **inputs: str) -> ActionRun:
    """A scheduled reconcile run of ``repo``; it must succeed."""
    run = h.run(
        {"schedule": "*/30 * * * *"},
        event_name="schedule",
        inputs={"mode": "reconcile", **inputs},
        env={"GITHUB_REPOSITORY": repo},
    )
    assert run.returncode == 0, run.describe()
    return run


def opened(h: ActionHarness, files: list[str]) -> tuple[dict[str, Any], str]:
    """A pull request whose opened event was delivered and synced."""
    event = h.add_pull_request(load_payload("opened"), files, updated_at=now())
    assert h.run(event).returncode == 0
    return event, event["repository"]["full_name"]


def merge_without_event(h: ActionHarness, event: Mapping[str, Any]) -> None:
    """GitHub merged the pull request, and the workflow of the merge never ran."""
    repo, number = event["repository"]["full_name"], event["pull_request"]["number"]
    h.github.add_commit(repo, MERGE_SHA)
    h.github.update_pull_request(
        repo, number, state="closed", merged=True, merged_at=now(), closed_at=now(),
        merge_commit_sha=MERGE_SHA, updated_at=now(),
    )  # fmt: skip


def approval_status(h: ActionHarness, event: Mapping[str, Any]) -> dict[str, Any]:
    (status, *_) = [s for s in h.statuses(event, MERGE_SHA) if s["context"] == APPROVAL_CONTEXT]
    return status


def sticky(h: ActionHarness, event: Mapping[str, Any]) -> str:
    (comment,) = h.ours(event, STICKY_MARKER)
    body: str = comment["body"]
    return body


def submits(h: ActionHarness) -> int:
    return sum(call["path"].endswith("/changeSets/submit") for call in h.sandbox_calls())


def test_a_dropped_merge_event_is_healed_and_approval_comes_back(
    tmp_path: Path, sandbox: SandboxServer
) -> None:
    with harness(tmp_path, sandbox, TWO_PAGES, ActionHarness) as h:
        event, repo = opened(h, ["docs/a.md", "docs/b.md"])
        merge_without_event(h, event)
        h.forget_calls()

        healed = reconcile(h, repo)

        assert submits(h) == 1, "the merged pull request's change set was not submitted"
        assert len(h.ours(event, RESULT_MARKER)) == 1  # what the merge run would have posted
        assert "/pull/2)" in healed.summary
        assert "submit" in healed.summary

        h.forget_calls()
        followed = reconcile(h, repo)
        assert submits(h) == 0, "submitted twice"
        assert approval_status(h, event)["state"] == "pending"
        assert "in review" in sticky(h, event).split(APPROVAL_MARKER)[1]
        assert "follow" in followed.summary
        h.forget_calls()
        reconcile(h, repo)  # still in review: read, nothing written
        assert h.sandbox_writes() == []
        assert h.github_writes() == []

        h.admin("POST", "/approve", {"pageId": "67890"})
        reconcile(h, repo)
        assert "partially approved" in sticky(h, event)
        assert approval_status(h, event)["state"] == "pending"

        h.admin("POST", "/approve", {"pageId": "67891"})
        reconcile(h, repo)
        text = sticky(h, event)
        assert "all approved" in text
        assert text.count(APPROVAL_MARKER) == 1, "the approval section was added twice"
        assert text.startswith(STICKY_MARKER)
        assert approval_status(h, event)["state"] == "success"

        h.forget_calls()
        quiet = reconcile(h, repo)
        assert h.sandbox_writes() == []
        assert h.github_writes() == []
        assert "Nothing to do" in quiet.summary
        assert "GitHub requests: " in quiet.summary
        # followed no further: one read of the merge commit's statuses, no comment read
        assert h.github.calls_to("GET", r"/comments$") == []


def test_a_rejected_page_is_reported_by_name_and_fails_the_status(
    tmp_path: Path, sandbox: SandboxServer
) -> None:
    with harness(tmp_path, sandbox, TWO_PAGES, ActionHarness) as h:
        event, repo = opened(h, ["docs/a.md", "docs/b.md"])
        merge_without_event(h, event)
        reconcile(h, repo)
        h.admin("POST", "/approve", {"pageId": "67890"})
        h.admin("POST", "/reject", {"pageId": "67891"})

        reconcile(h, repo)

        section = sticky(h, event).split(APPROVAL_MARKER)[1]
        assert "rejected: page 67891" in section
        assert "67890" not in section
        status = approval_status(h, event)
        assert status["state"] == "failure"
        assert status["description"] == "Rejected: 1 page"


def test_a_page_edited_after_approval_keeps_the_status_pending(
    tmp_path: Path, sandbox: SandboxServer
) -> None:
    one_page = 'space: "12345"\npages:\n  - path: docs/a.md\n    page: "67890"\n'
    with harness(tmp_path, sandbox, one_page, ActionHarness) as h:
        event, repo = opened(h, ["docs/a.md"])
        merge_without_event(h, event)
        reconcile(h, repo)
        h.admin("POST", "/approve", {"pageId": "67890"})
        h.admin("POST", "/edit-page", {"pageId": "67890"})

        reconcile(h, repo)

        assert "stale after approval" in sticky(h, event)
        assert approval_status(h, event)["state"] == "pending"


def test_open_and_closed_pull_requests_are_brought_up_to_date(
    tmp_path: Path, sandbox: SandboxServer
) -> None:
    with harness(tmp_path, sandbox, TWO_PAGES, ActionHarness) as h:
        event, repo = opened(h, ["docs/a.md"])
        pushed = h.add_pull_request(
            load_payload("opened"), ["docs/a.md"], number=7, updated_at=now(),
            html_url="https://github.com/Codertocat/Hello-World/pull/7",
        )  # fmt: skip
        assert h.run(pushed).returncode == 0
        h.github.set_pull_request_files(repo, 2, ["docs/a.md", "docs/b.md"])  # push: no event
        h.github.update_pull_request(repo, 7, state="closed", closed_at=now(), updated_at=now())
        url, closed_url = event["pull_request"]["html_url"], pushed["pull_request"]["html_url"]

        reconcile(h, repo)

        (kept,) = h.change_sets(url)
        assert sorted(kept["pageIds"]) == ["67890", "67891"]
        assert "2 pages" in sticky(h, event)
        (archived,) = h.change_sets(closed_url)
        assert archived["status"] != "open"

        h.forget_calls()
        reconcile(h, repo)
        assert h.sandbox_writes() == []
        assert h.github_writes() == []


def test_a_change_set_someone_else_linked_is_neither_submitted_nor_followed(
    tmp_path: Path, sandbox: SandboxServer
) -> None:
    """Review finding 4: only the change sets our sticky comment records are the pull request's."""
    with harness(tmp_path, sandbox, TWO_PAGES, ActionHarness) as h:
        event, repo = opened(h, ["docs/a.md"])
        link = event["pull_request"]["html_url"]
        (ours,) = h.change_sets(link)
        body = {"spaceId": "12345", "title": "Planted", "referenceUrl": link}
        h.api("/changeSets", {**body, "pageRefs": [{"pageId": "67891"}]})
        (planted,) = [cs for cs in h.change_sets(link) if cs["id"] != ours["id"]]
        merge_without_event(h, event)
        h.forget_calls()

        reconcile(h, repo)
        reconcile(h, repo)  # now follows the approval of ours alone

        submitted = [c["body"]["changeSetId"] for c in h.sandbox_calls() if "submit" in c["path"]]
        assert submitted == [ours["id"]]
        assert planted["id"] not in sticky(h, event)
        (now_planted,) = [cs for cs in h.change_sets(link) if cs["id"] == planted["id"]]
        assert now_planted == planted
