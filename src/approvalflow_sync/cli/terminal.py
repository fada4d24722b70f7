"""Plain-text rendering of API answers for people at a terminal; server text is scrubbed."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

from approvalflow_sync.safe_text import scrub

if TYPE_CHECKING:
    from approvalflow_sync.approvalflow import models

_BREAKS = re.compile(r"[\t\r\n]")


def clean(value: object) -> str:
    """``value`` as one printable line."""
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    return _BREAKS.sub(" ", scrub(str(value)))


def table(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    """A left-aligned table with a header row, columns two spaces apart."""
    cells = [[clean(h) for h in headers], *[[clean(v) for v in row] for row in rows]]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]
    lines = ("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)) for row in cells)
    return "\n".join(line.rstrip() for line in lines)


def change_set_list(change_sets: Sequence[models.ChangeSet]) -> str:
    """One line per change set."""
    if not change_sets:
        return "No change sets in this space."
    rows = [
        (cs.id, cs.status, cs.rollupState, len(cs.pageRefs), cs.title, cs.referenceUrl)
        for cs in change_sets
    ]
    return table(("ID", "STATUS", "ROLLUP", "PAGES", "TITLE", "REFERENCE"), rows)


UNKNOWN = "—"
"""A value the answer does not give: a title (the reference promises none), a version."""

VERSIONS_LEGEND = (
    "VERSION: the page's version now. APPROVED V.: the version that was approved (— never).\n"
    "STALE: edited after its approval. DELTA: versions between the approved one and now."
)


def page_title(ref: object) -> str | None:
    """The page's title where the answer gives one (the sandbox's detail does)."""
    title = getattr(ref, "title", None)
    return title if isinstance(title, str) and title else None


def change_set(cs: models.ChangeSet) -> str:
    """A change set's fields, then its pages with their versions and a legend of the columns."""
    head = [
        ("id", cs.id),
        ("space", cs.spaceId),
        ("title", cs.title),
        ("summary", cs.summary),
        ("reference", cs.referenceUrl),
        ("status", cs.status),
        ("rollup", cs.rollupState),
        ("created", f"{clean(cs.createdAt)} by {clean(cs.createdBy)}"),
    ]
    fields = "\n".join(f"{name + ':':<11}{clean(value)}" for name, value in head)
    rows = [
        [
            UNKNOWN if value is None else value
            for value in (
                p.pageId,
                page_title(p),
                p.currentPageVersion,
                p.approvedAtVersion,
                p.isStale,
                p.versionDelta,
            )
        ]
        for p in cs.pageRefs
    ]
    pages = table(("PAGE", "TITLE", "VERSION", "APPROVED V.", "STALE", "DELTA"), rows)
    return f"{fields}\n\n{pages}\n\n{VERSIONS_LEGEND}"


def _results(
    head: str,
    said: str,
    rows: Sequence[tuple[str, object, object]],
    titles: Mapping[str, str] | None,
) -> str:
    """``head``, then a row per page: its title, what was ``said`` of it, its workflow or why."""
    cells = [(page, (titles or {}).get(page, UNKNOWN), *rest) for page, *rest in rows]
    return f"{head}\n\n{table(('PAGE', 'TITLE', said, 'WORKFLOW / REASON'), cells)}"


def preflight(answer: models.PreflightAnswer, titles: Mapping[str, str] | None = None) -> str:
    """The counts, then each page: can submit with its workflow, or blocked with the reason."""
    results = answer.results
    s = answer.summary
    total = len(results) if s.total is None else s.total
    can = sum(r.canSubmit is True for r in results) if s.submittable is None else s.submittable
    blocked = sum(r.canSubmit is False for r in results) if s.blocked is None else s.blocked
    rows = [(r.pageId, r.canSubmit, r.workflowId if r.canSubmit else r.reason) for r in results]
    head = f"{can} of {total} pages can be submitted, {blocked} blocked."
    return _results(head, "CAN SUBMIT", rows, titles)


def submitted_count(answer: models.SubmitAnswer) -> int:
    """Pages submitted: the answer's count, else its results that say so."""
    done = sum(r.success is True for r in answer.results)
    return done if answer.submittedCount is None else answer.submittedCount


def submit(answer: models.SubmitAnswer, titles: Mapping[str, str] | None = None) -> str:
    """The counts, then each page: submitted with its workflow, or skipped with the reason."""
    results = answer.results
    submitted = submitted_count(answer)
    done = sum(r.success is True for r in results)
    skipped = len(results) - done if answer.skippedCount is None else answer.skippedCount
    head = f"{submitted} submitted, {skipped} skipped."
    head += "" if submitted else " Nothing was submitted."
    rows = [
        (r.pageId, "submitted" if r.success else "skipped", r.workflowId if r.success else r.reason)
        for r in results
    ]
    return _results(head, "RESULT", rows, titles)


def page_preflight(answer: models.PagePreflightAnswer) -> str:
    """One line: can the page be submitted, and with which workflow or why not."""
    if answer.canSubmit is None:
        return f"Page {clean(answer.pageId)}: the answer does not say whether it can be submitted."
    if answer.canSubmit:
        workflow = clean(answer.workflowId)
        return f"Page {clean(answer.pageId)} can be submitted (workflow {workflow})."
    return f"Page {clean(answer.pageId)} is blocked: {clean(answer.reason)}"


def page_submit(answer: models.PageSubmitAnswer) -> str:
    """One line naming the page and, when the answer names it, its workflow."""
    if answer.workflowId is None:
        return f"Page {clean(answer.pageId)} submitted."
    return f"Page {clean(answer.pageId)} submitted (workflow {clean(answer.workflowId)})."
