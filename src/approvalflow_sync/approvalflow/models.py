"""Wire models: the JSON shapes of the ApprovalFlow REST API, as the vendor documents them.

Every model keeps unknown fields (``extra="allow"``) because the vendor adds fields without
notice; only the fields the program reads are required. ``rollupState`` is plain text: the
known values are listed in :data:`ROLLUP_STATES`, an unknown one passes through unchanged.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

ROLLUP_STATES = (
    "open",
    "in_review",
    "partially_approved",
    "all_approved",
    "has_rejections",
    "stale",
)
"""The ``rollupState`` values the vendor announced; others may appear and are shown as they are."""


class WireModel(BaseModel):
    """Base of the wire models: unknown fields kept, field names as on the wire."""

    model_config = ConfigDict(extra="allow", populate_by_name=True)


class PageRef(WireModel):
    """A page of a change set; the detail endpoint adds the version fields."""

    pageId: str
    currentPageVersion: int | None = None
    """The page's version now (detail only)."""
    approvedAtVersion: int | None = None
    """The version that was approved; ``None`` when never approved (detail only)."""
    isStale: bool | None = None
    """True when the page was edited after its approval (detail only)."""
    versionDelta: int | None = None
    """Versions between the approved one and the current one (detail only)."""


class ChangeSet(WireModel):
    """A change set as listed, created, updated or shown."""

    id: str
    spaceId: str
    title: str
    summary: str | None = None
    referenceUrl: str | None = None
    status: str = "open"
    """``open`` or ``archived``; archived change sets are read-only."""
    rollupState: str | None = None
    pageRefs: list[PageRef] = Field(default_factory=list)
    createdAt: str | None = None
    createdBy: str | None = None

    @property
    def page_ids(self) -> list[str]:
        """The page ids in the server's order."""
        return [ref.pageId for ref in self.pageRefs]

    @property
    def is_archived(self) -> bool:
        """Whether the change set is archived (read-only)."""
        return self.status == "archived"


class Envelope(WireModel):
    """Every answer carries ``success``; failures carry ``error``."""

    success: bool
    error: str | None = None


class ChangeSetList(Envelope):
    """Answer of ``GET /changeSets``; a cursor is followed if the vendor ever adds one."""

    changeSets: list[ChangeSet]
    next: str | None = None
    cursor: str | None = None

    @property
    def next_cursor(self) -> str | None:
        """The cursor of the next page, if the answer names one."""
        return self.next or self.cursor


class ChangeSetAnswer(Envelope):
    """Answer carrying one change set: detail, create, update, archive.

    The vendor does not document whether the change set is wrapped in ``changeSet`` or given
    flat, so both are accepted.
    """

    changeSet: ChangeSet

    @model_validator(mode="before")
    @classmethod
    def _unwrap_flat(cls, data: Any) -> Any:
        if isinstance(data, dict) and "changeSet" not in data and "id" in data:
            inner = {k: v for k, v in data.items() if k not in ("success", "error")}
            return {"success": data.get("success"), "changeSet": inner}
        return data


class PageSubmitResult(WireModel):
    """One page's outcome in a submit."""

    pageId: str
    success: bool
    workflowId: str | None = None
    reason: str | None = None


class SubmitAnswer(Envelope):
    """Answer of ``POST /changeSets/submit``: partial success is a normal result."""

    submittedCount: int
    skippedCount: int
    results: list[PageSubmitResult]


class PagePreflight(WireModel):
    """One page's eligibility: ``reason`` is the vendor's free text, shown verbatim."""

    pageId: str
    canSubmit: bool
    workflowId: str | None = None
    reason: str | None = None


class PreflightSummary(WireModel):
    """Counts of a change-set preflight."""

    total: int
    submittable: int
    blocked: int


class PreflightAnswer(Envelope):
    """Answer of ``POST /changeSets/preflight``: a dry run of submit."""

    summary: PreflightSummary
    results: list[PagePreflight]


class PagePreflightAnswer(Envelope, PagePreflight):
    """Answer of ``POST /pages/preflight``: the per-page fields for one page."""


class PageSubmitAnswer(Envelope):
    """Answer of ``POST /pages/submit``."""

    pageId: str
    workflowId: str | None = None
