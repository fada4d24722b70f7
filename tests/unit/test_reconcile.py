"""Reconcile's pure parts: the step each pull request needs, the approval report, and the
time budget with its cursor (through stand-ins for the two servers)."""

from __future__ import annotations

import io
import time
from dataclasses import replace
from pathlib import Path
from typing import Any, cast

import pytest
from test_plan import PR

from approvalflow_sync.action.inputs import load_settings
from approvalflow_sync.action.reconcile import Reconcile, read_cursor, summary, write_cursor
from approvalflow_sync.action.runner import Runner
from approvalflow_sync.action.sync import Options
from approvalflow_sync.core import report
from approvalflow_sync.core.reconcile import Step, step
from approvalflow_sync.core.report import Approval
from approvalflow_sync.errors import ConfigError

MERGED = replace(PR, state="closed", merged=True, merge_commit_sha="m" * 40)
CLOSED = replace(PR, state="closed")


@pytest.mark.parametrize(
    ("pr", "rollups", "submittable", "expected"),
    [
        (PR, [], 0, Step.SYNC),
        (PR, ["in_review"], 0, Step.SYNC),
        (CLOSED, [], 0, Step.NONE),
        (CLOSED, ["open"], 0, Step.ARCHIVE),
        (MERGED, [], 0, Step.NONE),  # no change set was ever made: none is made after the merge
        (MERGED, ["open"], 2, Step.SUBMIT),
        (MERGED, ["open"], 0, Step.NONE),  # every page blocked: submitting again skips them again
        (MERGED, [None, "in_review"], 0, Step.FOLLOW),
        (MERGED, ["all_approved"], 0, Step.FOLLOW),
    ],
)
def test_the_step_each_pull_request_needs(
    pr: Any, rollups: list[str | None], submittable: int, expected: Step
) -> None:
    assert step(pr, rollups, submittable, archive_on_close=True) is expected


def test_a_closed_pull_request_keeps_its_change_sets_without_archive_on_close() -> None:
    assert step(CLOSED, ["open"], 0, archive_on_close=False) is Step.NONE


A = Approval("12345", "cs-1", "all_approved")
B = Approval("12345", "cs-2", "in_review")


@pytest.mark.parametrize(
    ("approvals", "expected"),
    [
        ([A], ("success", "All pages approved")),
        ([A, B], ("pending", "In review: 1 of 2 change sets all approved")),
        (
            [replace(B, rollup="partially_approved")],
            ("pending", "In review: 0 of 1 change set all approved"),
        ),
        (
            [A, replace(B, rollup="stale")],
            ("pending", "A page was edited after approval: it needs approval again"),
        ),
        (
            [A, replace(B, rollup="has_rejections", rejected=("1", "2"))],
            ("failure", "Rejected: 2 pages"),
        ),
        (
            [replace(B, rollup="something_new")],
            ("pending", "In review: 0 of 1 change set all approved"),
        ),
    ],
)
def test_the_approval_status(approvals: list[Approval], expected: tuple[str, str]) -> None:
    assert report.approval_status(approvals) == expected


def test_the_approval_section_names_rejected_pages_and_shows_unknown_states_as_text() -> None:
    rejected = Approval("12345", "cs-1", "has_rejections", rejected=("67891",))
    odd = Approval("12345", "cs-2", "<b>|`x`\n- [y](z)")
    section = report.approval_section([rejected, odd], "https://acme.atlassian.net/wiki")
    assert section.startswith("<!-- approvalflow-sync:approval -->\n")
    assert "⛔ rejected: page [67891](https://acme.atlassian.net/wiki/pages/" in section
    lines = section.splitlines()
    assert len(lines) == 5  # the marker, the heading, a blank line, one line per change set
    assert lines[4].endswith(": ❔ ``<b>|`x` - [y](z)``")  # a code span: shown as it came


def test_the_approval_section_replaces_the_last_one() -> None:
    sticky = "<!-- approvalflow-sync:sticky -->\n### ApprovalFlow: Submitted 2 pages\n"
    first = report.with_approval(sticky, report.approval_section([B], None))
    second = report.with_approval(first, report.approval_section([A], None))
    assert second.startswith(sticky.rstrip())
    assert second.count("approvalflow-sync:approval") == 1
    assert "all approved" in second
    assert "in review" not in second


class GitHub:
    def __init__(self, prs: list[Any]) -> None:
        self.prs = prs

    def pull_requests(self, repo: str, state: str, updated_since: str = "") -> list[Any]:
        return [pr for pr in self.prs if pr.state == state]


class ApprovalFlow:
    def list_change_sets(self, space: str) -> list[Any]:
        return []


def reconcile(tmp_path: Path, prs: list[Any]) -> Reconcile:
    settings = load_settings({
        "INPUT_BASE-URL": "https://api.atlassian.com/svc/confluence/c/apps/a_e",
        "INPUT_RESUME-FILE": "state/resume", "GITHUB_WORKSPACE": str(tmp_path),
        "GITHUB_REPOSITORY": "acme/docs",
    })  # fmt: skip
    options = Options("{title}", "", comment=False, dry_run=True, archive_on_close=True,
                      confluence_url=None, run_url=None)  # fmt: skip
    return Reconcile(
        settings, Runner(io.StringIO(), {}), gh=cast(Any, GitHub(prs)),
        af=cast(Any, ApprovalFlow()), pool=cast(Any, None), options=options,
        mapping=cast(Any, None), matcher=cast(Any, None), spaces=["12345"],
    )  # fmt: skip


def test_a_run_out_of_time_stops_and_the_next_resumes_where_it_stopped(tmp_path: Path) -> None:
    prs = [replace(CLOSED, number=n) for n in (3, 9, 5)]
    work = reconcile(tmp_path, prs)
    assert [pr.number for pr in work.pull_requests()] == [3, 5, 9]  # by number: stable
    done, stopped = work.run(work.pull_requests(), stop_at=time.monotonic() - 1)
    assert (done, stopped) == ([], 3)
    write_cursor(work.settings, 5)
    assert read_cursor(work.settings) == 5
    assert [pr.number for pr in work.pull_requests()] == [5, 9, 3]
    assert work.run(work.pull_requests(), stop_at=time.monotonic() + 60) == ([], None)
    write_cursor(work.settings, None)
    assert read_cursor(work.settings) == 0
    text = summary("acme/docs", [], 3, 5)
    assert "Nothing to do: 3 pull requests up to date." in text
    assert "resumes at pull request #5" in text


@pytest.mark.parametrize("name", ["since", "time-budget"])
def test_counts_must_be_whole_numbers(name: str) -> None:
    env = {"INPUT_BASE-URL": "https://api.atlassian.com/svc/confluence/c/apps/a_e"}
    with pytest.raises(ConfigError, match=f"input {name}: '0' is not a whole number"):
        load_settings({**env, f"INPUT_{name.upper()}": "0"})


def test_the_budget_is_read_as_each_pull_request_starts(tmp_path: Path) -> None:
    prs = [replace(CLOSED, number=n) for n in range(1, 7)]
    work = reconcile(tmp_path, prs)
    started: list[int] = []

    def slow(pr: Any) -> None:
        started.append(pr.number)
        time.sleep(2.0)

    work.one = slow  # type: ignore[method-assign]
    done, stopped = work.run(prs, stop_at=time.monotonic() + 1.0)
    assert sorted(started) == [1, 2, 3, 4]  # the four workers' first; then the budget was spent
    assert (done, stopped) == ([], 5)
