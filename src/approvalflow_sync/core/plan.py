"""What to change in ApprovalFlow for a pull request: pure functions over typed values.

The plan compares what the pull request needs (its pages per space, the title, summary and link)
with the change sets that exist, and asks for the smallest set of writes: a rerun of the same
event plans none.
"""

from __future__ import annotations

import re
import string
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from approvalflow_sync.core.markdown import MARKER_APP
from approvalflow_sync.github.event import ChangedFile, PullRequest

if TYPE_CHECKING:  # annotations only: planning offline (``plan``) loads no pydantic
    from approvalflow_sync.approvalflow.models import ChangeSet

MAX_TITLE = 255
MAX_SUMMARY = 1000
_HTML_COMMENT = re.compile(r"<!--.*?(-->|$)", re.DOTALL)
_BLANK_LINES = re.compile(r"\n\s*\n(\s*\n)+")


@dataclass(frozen=True)
class Fields:
    title: str
    summary: str
    reference_url: str


@dataclass(frozen=True)
class SpacePlan:
    """The writes one space needs; the space's work does not depend on another space's."""

    space: str
    pages: tuple[str, ...]
    keep: ChangeSet | None = None
    """The change set kept for this pull request (the oldest when several exist)."""
    create: bool = False
    changes: Mapping[str, object] = field(default_factory=dict)
    """Keyword arguments for ``update_change_set``: only the fields that differ."""
    archive: tuple[str, ...] = ()
    """Duplicates, or all of them when no page maps any more."""
    duplicates: tuple[str, ...] = ()
    others: tuple[str, ...] = ()
    """Linked open change sets someone else made: never ours, not even right after a create."""


def changed_paths(files: Iterable[ChangedFile]) -> list[str]:
    """Every path the pull request touches: a rename counts under its old and its new path."""
    paths: dict[str, None] = {}
    for changed in files:
        paths[changed.path] = None
        if changed.previous_path:
            paths[changed.previous_path] = None
    return list(paths)


def render_title(template: str, pr: PullRequest) -> str:
    """The change set title from the template (fields checked when the mapping was loaded)."""
    values = {
        "number": pr.number,
        "title": pr.title,
        "branch": pr.head_ref,
        "base": pr.base_ref,
        "repo": pr.repo,
    }
    title = string.Formatter().vformat(template, (), values)
    title = " ".join(title.split())
    return title if len(title) <= MAX_TITLE else title[: MAX_TITLE - 1] + "…"


def summarise(body: str, limit: int = MAX_SUMMARY) -> str:
    """The pull request body without HTML comments (templates' hints), shortened at a word."""
    text = _HTML_COMMENT.sub("", body.replace("\r\n", "\n"))
    text = _BLANK_LINES.sub("\n\n", text).strip()
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    space = cut.rfind(" ")
    if space > limit // 2:
        cut = cut[:space]
    return cut.rstrip() + "…"


def reference_url(pr_url: str, instance: str = "") -> str:
    """The link that tells which change sets are this pull request's (and this instance's): an
    instance adds ``#approvalflow-sync=INSTANCE``, which GitHub ignores and Confluence edits keep.
    """
    return f"{pr_url}#{MARKER_APP}={instance}" if instance else pr_url


def desired_fields(pr: PullRequest, title_template: str, instance: str = "") -> Fields:
    return Fields(
        title=render_title(title_template, pr),
        summary=summarise(pr.body),
        reference_url=reference_url(pr.html_url, instance),
    )


def sort_pages(pages: Iterable[str]) -> tuple[str, ...]:
    """Page ids without repeats, in numeric order (a stable order means no needless update)."""
    return tuple(sorted(set(pages), key=lambda page: (len(page.lstrip("0")), page)))


def _changes(current: ChangeSet, fields: Fields, pages: tuple[str, ...]) -> dict[str, object]:
    changes: dict[str, object] = {}
    if current.title != fields.title:
        changes["title"] = fields.title
    if (current.summary or "") != fields.summary:
        changes["summary"] = fields.summary
    if current.referenceUrl != fields.reference_url:
        changes["reference_url"] = fields.reference_url
    if sort_pages(current.page_ids) != pages:
        changes["page_ids"] = list(pages)
    return changes


def linked_open(
    change_sets: Iterable[ChangeSet], reference_url: str, ours: Collection[str] | None = None
) -> list[ChangeSet]:
    """The open change sets linked to ``reference_url``, oldest first (the kept one first).

    Anyone on the site can set that link, so with ``ours`` (the ids our sticky comment records)
    only those count; None means no record to go by (see :func:`recorded`)."""
    mine = [
        cs
        for cs in change_sets
        if cs.referenceUrl == reference_url and cs.is_open and (ours is None or cs.id in ours)
    ]
    return sorted(mine, key=lambda cs: (cs.createdAt or "", cs.id))


def strangers(
    change_sets: Iterable[ChangeSet], reference_url: str, ours: Collection[str] | None
) -> list[str]:
    """Ids of linked open change sets we did not make: left alone, but named for a person."""
    linked = linked_open(change_sets, reference_url)
    return [] if ours is None else [cs.id for cs in linked if cs.id not in ours]


def recorded(data: object, *, has_sticky: bool) -> frozenset[str] | None:
    """The ids of our change sets from the sticky comment's embedded data; none before our first
    comment. A sticky comment without the record was written by an earlier version: None lets
    that run adopt the linked change sets once, as before, and record them (no duplicate)."""
    if not has_sticky:
        return frozenset()
    if isinstance(data, list) and all(isinstance(item, str) for item in data):
        return frozenset(data)
    return None


def plan_space(
    space: str,
    pages: Iterable[str],
    existing: Sequence[ChangeSet],
    fields: Fields,
    ours: Collection[str] | None = None,
) -> SpacePlan:
    """The writes for one space: create, update what differs, archive duplicates or leftovers."""
    wanted = sort_pages(pages)
    mine = linked_open(existing, fields.reference_url, ours)
    if not wanted:
        return SpacePlan(space=space, pages=(), archive=tuple(cs.id for cs in mine))
    if not mine:
        others = tuple(strangers(existing, fields.reference_url, ours or ()))
        return SpacePlan(space=space, pages=wanted, create=True, others=others)
    keep, *extra = mine
    duplicates = tuple(cs.id for cs in extra)
    return SpacePlan(
        space=space,
        pages=wanted,
        keep=keep,
        changes=_changes(keep, fields, wanted),
        archive=duplicates,
        duplicates=duplicates,
    )


def plan_sync(
    pages_by_space: Mapping[str, Iterable[str]],
    existing_by_space: Mapping[str, Sequence[ChangeSet]],
    fields: Fields,
    ours: Collection[str] | None = None,
) -> list[SpacePlan]:
    """A plan per space that has pages now or had a change set for this pull request."""
    spaces = sorted(set(pages_by_space) | set(existing_by_space))
    plans = [
        plan_space(
            space, pages_by_space.get(space, ()), existing_by_space.get(space, ()), fields, ours
        )
        for space in spaces
    ]
    return [plan for plan in plans if plan.pages or plan.archive]


def plan_archive(
    existing_by_space: Mapping[str, Sequence[ChangeSet]],
    reference_url: str,
    ours: Collection[str] | None = None,
) -> list[SpacePlan]:
    """Archive every open change set of the pull request (closed without merge): no page maps."""
    return plan_sync(
        {}, existing_by_space, Fields(title="", summary="", reference_url=reference_url), ours
    )
