"""Wire models of what ApprovalFlow answers, read leniently where the reference leaves things
open: ``success`` may be absent, a write may answer nothing or the change set flat or wrapped,
``pageRefs`` may be bare ids, version fields may be missing, flat or one level down.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any, ClassVar

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    ValidatorFunctionWrapHandler,
    WrapValidator,
    model_validator,
)

OPEN = "open"
"""The one ``status`` the reference documents; every other value is "not open, read-only"."""

VERSION_FIELDS = ("currentPageVersion", "approvedAtVersion", "isStale", "versionDelta")
"""Detail's per-page version fields; where exactly they sit is not documented."""


# -- what we receive -----------------------------------------------------------------------------


def _unknown_if_invalid(value: Any, handler: ValidatorFunctionWrapHandler) -> Any:
    """A value of the wrong type reads as unknown (None) instead of failing the answer."""
    try:
        return handler(value)
    except ValidationError:
        return None


MaybeInt = Annotated[int | None, WrapValidator(_unknown_if_invalid)]
MaybeBool = Annotated[bool | None, WrapValidator(_unknown_if_invalid)]


class Received(BaseModel):
    """Base of the answer models: unknown fields kept, numbers read as text where text is due, a
    ``null`` read as the field left out (the reference shows none; one must not fail an answer)."""

    model_config = ConfigDict(extra="allow", populate_by_name=True, coerce_numbers_to_str=True)

    nulls_kept: ClassVar[tuple[str, ...]] = ()
    """Fields where ``null`` says something (a change set's ``status``: not ``open``)."""

    @model_validator(mode="before")
    @classmethod
    def _null_is_absent(cls, data: Any) -> Any:
        if isinstance(data, dict):
            return {k: v for k, v in data.items() if v is not None or k in cls.nulls_kept}
        return data


class PageRef(Received):
    """A page of a change set; detail adds the version fields (each may be missing)."""

    pageId: str
    currentPageVersion: MaybeInt = None
    approvedAtVersion: MaybeInt = None
    """``None`` when never approved or not given."""
    isStale: MaybeBool = None
    versionDelta: MaybeInt = None

    @model_validator(mode="before")
    @classmethod
    def _bare_or_wrapped(cls, data: Any) -> Any:
        """A bare id becomes ``{"pageId": id}``; version fields one level down are lifted."""
        if isinstance(data, (str, int)) and not isinstance(data, bool):
            return {"pageId": str(data)}
        if not isinstance(data, Mapping):
            return data
        lifted = dict(data)
        for nested in data.values():
            if isinstance(nested, Mapping):
                for name in VERSION_FIELDS:
                    if name in nested and lifted.get(name) is None:
                        lifted[name] = nested[name]
        return lifted


class ChangeSet(Received):
    """A change set as listed or shown; only ``id`` is required."""

    id: str
    spaceId: str | None = None
    title: str = ""
    summary: str | None = None
    referenceUrl: str | None = None
    nulls_kept = ("status",)
    status: str | None = OPEN
    """``null`` (or any value but ``open``) is not open."""
    rollupState: str | None = None
    pageRefs: list[PageRef] = Field(default_factory=list)
    createdAt: str | None = None
    createdBy: str | None = None

    @property
    def page_ids(self) -> list[str]:
        return [ref.pageId for ref in self.pageRefs]

    @property
    def is_open(self) -> bool:
        """Only an open change set may be reused, updated or archived."""
        return self.status == OPEN


class Envelope(Received):
    """What every answer may carry: ``success`` (absent on some 2xx) and, on failure, ``error``."""

    success: bool | None = None
    error: str | None = None


def carried_change_set(answer: Envelope) -> dict[str, Any]:
    """The change-set fields of an answer: those under ``changeSet``, else the flat ones."""
    rest = answer.model_extra or {}
    wrapped = rest.get("changeSet")
    return dict(wrapped) if isinstance(wrapped, Mapping) else dict(rest)


def change_set_in(answer: Envelope) -> ChangeSet | None:
    """The change set a write's answer carries, or None when it carries none (or a broken one)."""
    fields = carried_change_set(answer)
    if "id" not in fields:
        return None
    try:
        return ChangeSet.model_validate(fields)
    except ValidationError:
        return None


class ChangeSetList(Envelope):
    """Answer of ``GET /changeSets``; a cursor is followed if the vendor ever adds one."""

    changeSets: list[ChangeSet]
    next: str | None = None
    cursor: str | None = None

    @property
    def next_cursor(self) -> str | None:
        return self.next or self.cursor


class PageSubmitResult(Received):
    """One page's outcome in a submit; only ``success: true`` counts as submitted."""

    pageId: str
    success: MaybeBool = None
    workflowId: str | None = None
    reason: str | None = None


class SubmitAnswer(Envelope):
    """Answer of ``POST /changeSets/submit``: partial success is a normal result."""

    submittedCount: MaybeInt = None
    skippedCount: MaybeInt = None
    results: list[PageSubmitResult] = Field(default_factory=list)


class PagePreflight(Received):
    """One page's eligibility: ``reason`` is the vendor's free text, shown verbatim."""

    pageId: str
    canSubmit: MaybeBool = None
    workflowId: str | None = None
    reason: str | None = None


class PreflightSummary(Received):
    """Counts of a change-set preflight."""

    total: MaybeInt = None
    submittable: MaybeInt = None
    blocked: MaybeInt = None


class PreflightAnswer(Envelope):
    """Answer of ``POST /changeSets/preflight``: a dry run of submit."""

    summary: PreflightSummary = Field(default_factory=PreflightSummary)
    results: list[PagePreflight] = Field(default_factory=list)


class PagePreflightAnswer(Envelope):
    """Answer of ``POST /pages/preflight``; the client fills ``pageId`` when it is absent."""

    pageId: str | None = None
    canSubmit: MaybeBool = None
    workflowId: str | None = None
    reason: str | None = None


class PageSubmitAnswer(Envelope):
    """Answer of ``POST /pages/submit`` (undocumented); the client fills ``pageId`` if absent."""

    pageId: str | None = None
    workflowId: str | None = None
