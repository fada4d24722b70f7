"""GitHub misbehaving under the whole program: refused reads, rate limits, 5xx, a deleted comment.

The fake GitHub answers like the real one (``tests/fakes/github.py``); faults are injected per
route. The refused writes of a read-only token are covered by ``tests/e2e`` (test 14); here it
is the refused reads, the waits on a secondary rate limit, a comment write that keeps failing and
an edit of a comment deleted since it was listed. The rule throughout: a GitHub failure never
undoes or skips the ApprovalFlow work; it is reported and fails the step at the end.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from reliability_support import (
    MAPPING,
    NUMBER,
    REPO,
    STICKY_MARKER,
    ActionRun,
    Harness,
    no_traceback,
    table_lines,
)

from action_harness import harness
from approvalflow_sync.sandbox import SandboxServer

FILES = ["docs/auth/login.md", "handbook/onboarding.md"]
NOT_ACCESSIBLE = {"message": "Resource not accessible by integration", "documentation_url": "x"}
COMMENTS = rf"/issues/{NUMBER}/comments$"
FILES_ROUTE = rf"/pulls/{NUMBER}/files$"
COMMENT = r"/issues/comments/\d+$"
STATUSES = r"/statuses/[0-9a-f]{40}$"


@pytest.fixture
def h(tmp_path: Path, sandbox: SandboxServer) -> Iterator[Harness]:
    with harness(tmp_path, sandbox, MAPPING, Harness) as running:
        yield running


def open_sets(h: Harness) -> list[dict[str, Any]]:
    return [cs for cs in h.change_sets() if cs["status"] == "open"]


def one_error(run: ActionRun) -> str:
    assert run.returncode == 1, run.describe()
    no_traceback(run)
    (error,) = run.annotations("error")
    return error.message


# -- refused reads -------------------------------------------------------------------------------

REFUSED_READS = {
    "pull-request-files": ("pull_request", r"/pulls/\d+/files$", "pull-requests: read"),
    "commit-statuses": ("pull_request", r"/commits/[0-9a-f]{40}/statuses$", "statuses: read"),
    "mapping-file-at-the-base-commit": (
        "pull_request_target",
        r"/contents/\.github/approvalflow\.yml$",
        "contents: read",
    ),
}


@pytest.mark.parametrize("case", list(REFUSED_READS))
def test_a_refused_read_names_the_permission_and_writes_nothing(h: Harness, case: str) -> None:
    event_name, route, permission = REFUSED_READS[case]
    event = h.opened(FILES)
    h.github.set_file_content(
        REPO, ".github/approvalflow.yml", MAPPING, ref=event["pull_request"]["base"]["sha"]
    )
    h.github.inject("GET", route, 403, NOT_ACCESSIBLE)
    # ApprovalFlow's lists are still under way when GitHub refuses: they must end normally.
    h.admin("POST", "/faults", {"method": "GET", "path": "/changeSets", "delay": 0.5, "count": 3})

    run = h.run(event, event_name=event_name)

    message = one_error(run)
    assert "Resource not accessible by integration" in message
    assert f"add `{permission}` under `permissions:`" in message
    assert "retrying" not in run.stderr, "no request was cut off when the run stopped"
    assert all(c["status"] == 200 for c in h.sandbox_calls())
    assert h.sandbox_writes() == []
    assert h.github_writes() == []
    assert message in run.summary


# -- secondary rate limits -----------------------------------------------------------------------

RATE_LIMITED = {
    "403-on-creating-the-comment": ("POST", COMMENTS, 403),
    "429-on-creating-the-comment": ("POST", COMMENTS, 429),
    "403-on-the-commit-status": ("POST", STATUSES, 403),
    "403-on-editing-the-comment": ("PATCH", COMMENT, 403),
}


@pytest.mark.parametrize("case", list(RATE_LIMITED))
def test_a_secondary_rate_limit_is_waited_out_and_the_write_succeeds(h: Harness, case: str) -> None:
    method, route, status = RATE_LIMITED[case]
    event = h.opened(FILES)
    if method == "PATCH":  # a first run posts the comment; the files change; it must be edited
        assert h.run(event).returncode == 0
        h.github.set_pull_request_files(REPO, NUMBER, [*FILES, "docs/errors.md"])
        h.github.clear_calls()
    h.github.inject_secondary_rate_limit(method, route, retry_after=1, status=status)

    run = h.run(event)

    assert run.returncode == 0, run.describe()
    no_traceback(run)
    limited, retried = h.github.calls_to(method, route)
    assert (limited.status, limited.injected) == (status, True)
    assert retried.status in (200, 201)
    assert retried.started - limited.ended >= 0.9, "waited for retry-after"
    (sticky,) = h.ours(event)
    assert len(h.comments(event)) == 1
    assert len(h.statuses(event)) == (2 if method == "PATCH" else 1)
    if method == "PATCH":
        assert "docs/errors.md" in sticky["body"]


# -- 5xx: reads are retried, a write that may have applied is not ----------------------------------


def test_a_comment_write_that_keeps_failing_is_reported_after_the_approvalflow_work(
    h: Harness,
) -> None:
    event = h.opened(FILES)
    h.github.inject("POST", COMMENTS, 500, count=20)

    run = h.run(event)

    message = one_error(run)
    assert "GitHub create comment answered 500" in message
    assert "run the job again later" in message
    assert "the ApprovalFlow work was done" in message
    assert len(h.github.calls_to("POST", COMMENTS)) == 1, "a write that may have applied"
    # The ApprovalFlow work is kept, and everything else was still reported.
    assert len(open_sets(h)) == 2
    assert h.comments(event) == []
    (status,) = h.statuses(event)
    assert status["state"] == "success"
    assert run.outputs["pages"] == "2"
    assert len(table_lines(run.summary)) == 2 + 2


def test_a_single_5xx_on_a_read_is_retried(h: Harness) -> None:
    event = h.opened(FILES)
    h.github.inject("GET", FILES_ROUTE, 502, count=1)

    run = h.run(event)

    assert run.returncode == 0, run.describe()
    assert "retrying" in run.stderr
    assert [c.status for c in h.github.calls_to("GET", FILES_ROUTE)] == [502, 200]
    assert [c.status for c in h.github.calls_to("POST", COMMENTS)] == [201]
    assert len(h.ours(event)) == 1


# -- a comment deleted since it was listed -------------------------------------------------------


def test_editing_a_comment_deleted_since_it_was_listed_posts_a_new_one(h: Harness) -> None:
    event = h.opened(FILES)
    assert h.run(event).returncode == 0
    (first,) = h.ours(event)
    h.github.set_pull_request_files(REPO, NUMBER, [*FILES, "docs/errors.md"])
    h.github.clear_calls()
    h.github.inject("PATCH", COMMENT, 404)  # GitHub's answer to editing a deleted comment

    run = h.run(event)

    assert run.returncode == 0, run.describe()
    no_traceback(run)
    assert run.annotations("error") == []
    writes = h.github_writes()
    assert writes.index(("PATCH", f"/repos/{REPO}/issues/comments/{first['id']}")) < writes.index(
        ("POST", f"/repos/{REPO}/issues/{NUMBER}/comments")
    )
    newest = h.ours(event)[-1]
    assert newest["id"] != first["id"]
    assert newest["body"].startswith(STICKY_MARKER)
    assert "docs/errors.md" in newest["body"]
