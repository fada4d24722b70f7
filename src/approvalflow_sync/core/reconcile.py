"""Reconcile's choice, per pull request, of the one flow that brings it up to date: the single
runs' own (sync, submit, archive), so it writes what the missed event would have; ``FOLLOW``
reports approval progress."""

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
    """What ``pr`` needs, given its open change sets' rollup states and how many of their pages
    preflight could submit now (asked of merged pull requests only).

    A merged pull request whose pages are all blocked is not submitted again (that would only
    skip them again), and one with no change set gets none: reconcile syncs while it is open.
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
