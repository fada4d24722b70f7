"""Reconcile's choice, per pull request, of the one flow that brings it up to date.

Pure: from the pull request as GitHub lists it and its open change sets as ApprovalFlow lists
them. The flows themselves are the single runs' (sync, submit, archive), so a reconcile with
work writes what the missed event would have written; ``FOLLOW`` reports approval progress.
"""

from __future__ import annotations

from collections.abc import Sequence
from enum import Enum

from approvalflow_sync.github.event import PullRequest

NOT_SUBMITTED = (None, "open")
"""Rollup states of a change set no submit has moved yet."""


class Step(str, Enum):
    SYNC = "sync"
    SUBMIT = "submit"
    ARCHIVE = "archive"
    FOLLOW = "follow"
    NONE = "none"


def step(
    pr: PullRequest, rollups: Sequence[str | None], submittable: int, *, archive_on_close: bool
) -> Step:
    """What ``pr`` needs, given the rollup states of its open change sets and how many of
    their pages preflight could submit now (asked of merged pull requests only).

    An open pull request is synced (a no-op when nothing changed). A merged one with pages
    still to submit is submitted (a change set whose pages are all blocked has nothing to
    submit: submitting it again would only skip them again); with none, its approvals are
    followed once a submit moved one. A merged pull request with no change set gets none
    made: reconcile syncs pull requests while they are open.
    """
    if pr.state == "open":
        return Step.SYNC
    if not rollups:
        return Step.NONE
    if not pr.merged:
        return Step.ARCHIVE if archive_on_close else Step.NONE
    if submittable:
        return Step.SUBMIT
    if all(rollup in NOT_SUBMITTED for rollup in rollups):
        return Step.NONE
    return Step.FOLLOW
