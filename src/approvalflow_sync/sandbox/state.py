"""The sandbox's world and ApprovalFlow's rules, with no HTTP.

:class:`SandboxState` holds spaces, workflows, pages, approvals, change sets, tokens, the two
site switches and the OAuth side (:mod:`approvalflow_sync.sandbox.oauth`). Its methods are the
API's operations: they take the checked request (the models below) and answer the vendor's JSON
shapes; a refused operation raises :class:`RefusalError` with its status. One function,
:meth:`SandboxState.eligibility`, decides whether a page can be submitted, so preflight and
submit cannot disagree. Not thread-safe: the app holds one lock around every use.
"""

# ruff: noqa: N815 - records and requests keep the camelCase keys of the state file and the API

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Annotated, Any, TypeVar

from pydantic import AfterValidator, ConfigDict, Field, ValidationError

from approvalflow_sync.errors import ConfigError
from approvalflow_sync.sandbox.oauth import OAuthState
from approvalflow_sync.sandbox.seed import (
    Checked,
    PageSeed,
    Seed,
    Text,
    WorkflowSeed,
    first_problem,
    only_digits,
)

PRODUCT_SCOPE = "read:forge-app:confluence"
READ_CHANGE_SET = "read:change-set:custom"
WRITE_CHANGE_SET = "write:change-set:custom"
READ_APPROVAL = "read:approval:custom"
WRITE_APPROVAL = "write:approval:custom"
ALL_SCOPES = (PRODUCT_SCOPE, READ_CHANGE_SET, WRITE_CHANGE_SET, READ_APPROVAL, WRITE_APPROVAL)
"""Every scope the API knows; the default token has them all."""

DEFAULT_TOKEN = "sandbox-token"  # noqa: S105 - a well-known fake token, the sandbox's whole point
"""The access token every sandbox accepts, with all scopes."""

CREATED_BY = "sandbox-user"
"""The account id the sandbox puts on what it creates (the real one comes from the token)."""

STATE_FORMAT = 1

# The texts ApprovalFlow answers with; the vendor's own where the reference shows them.
UNAUTHORIZED = "Unauthorized: missing or invalid access token"
REST_API_OFF = "Forbidden"
LICENCE_INACTIVE = "Licence is not active for this site"
MISSING_SCOPE = "Token is missing required scope: {scope}"
SPACE_NOT_FOUND = "Space not found"
CHANGE_SET_NOT_FOUND = "Change set not found"
ARCHIVED = "Change set is archived and read-only"
PAGE_NOT_FOUND = "Page not found"
OTHER_SPACE = "Page belongs to another space"
PENDING_APPROVAL = "Page already has a pending approval"
NO_WORKFLOW = "No workflow assigned to page"
AMBIGUOUS_WORKFLOW = "Page has no assigned workflow and the space has several active workflows"

PENDING = "pending"
APPROVED = "approved"
REJECTED = "rejected"
OPEN = "open"
ARCHIVED_STATUSES = {"reference": "retired-v2", "rich": "archived"}
"""The ``status`` of an archived change set per answer mode: the reference does not document it,
so the reference mode carries a value no program can guess."""

T = TypeVar("T")


class RefusalError(Exception):
    """Raised when the sandbox refuses a call; ``message`` and ``status`` make the answer."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.message = message
        self.status = status


# -- what the API and the admin surface accept --------------------------------------------------

PageId = Annotated[str, AfterValidator(only_digits)]


class Call(Checked):
    """A request's parameters: strict types, other fields ignored."""

    model_config = ConfigDict(extra="ignore", strict=True)


class SpaceCall(Call):
    spaceId: Text


class ChangeSetCall(Call):
    changeSetId: Text


class _PageCall(Call):
    """A page id; also each item of ``pageRefs``, whose refusals name this class."""

    pageId: PageId


PageCall = _PageCall
PageRefs = Annotated[list[_PageCall], Field(min_length=1)]


class NewChangeSet(Call):
    spaceId: Text
    title: Text
    pageRefs: PageRefs
    summary: str | None = None
    referenceUrl: str | None = None


class ChangeSetUpdate(ChangeSetCall):
    """A missing (or null) field stays as it is; ``pageRefs`` replaces the pages."""

    title: Text | None = None
    summary: str | None = None
    referenceUrl: str | None = None
    pageRefs: PageRefs | None = None


class WorkflowSpec(Call):
    """``POST /_sandbox/workflows``: a new workflow, or what changes in one."""

    spaceId: Text
    id: Text
    name: Text | None = None
    active: bool | None = None


class Assignment(PageCall):
    workflowId: Text | None
    """Required; null removes the assignment."""


# -- what the sandbox stores: the state file's records ------------------------------------------


class Space(Checked):
    id: str
    key: str
    name: str


class Workflow(WorkflowSeed):
    """An approval workflow of one space; inactive ones are never used."""

    spaceId: str


class Page(PageSeed):
    """A Confluence page (also the body of ``POST /_sandbox/pages``); edits raise its version."""

    spaceId: Text


class Approval(Checked):
    """One submission of a page and what reviewers decided; the page's last one counts."""

    pageId: str
    version: int
    """The page's version when submitted: the one that gets approved."""
    workflowId: str
    changeSetId: str | None
    status: str = PENDING
    submittedAt: str
    decidedAt: str | None = None


class ChangeSet(Checked):
    """A change set: pages reviewed together; archived ones are read-only."""

    id: str
    spaceId: str
    title: str
    summary: str | None = None
    referenceUrl: str | None = None
    status: str = OPEN
    pageIds: list[str]
    createdAt: str
    createdBy: str = CREATED_BY


class _Saved(Seed):
    """A state file: the seed's shape (spaces, tokens, switches) plus what happened since."""

    format: int
    approvals: list[Approval] = Field(default_factory=list)
    changeSets: list[ChangeSet] = Field(default_factory=list)
    changeSetCounter: int | None = None
    oauth: dict[str, Any] = Field(default_factory=dict)


@dataclass(frozen=True)
class Eligibility:
    """Whether a page can be submitted now: the workflow it would go to, or why not."""

    page_id: str
    workflow_id: str | None = None
    reason: str | None = None

    def answer(self) -> dict[str, Any]:
        """The page's preflight result."""
        if self.workflow_id is None:
            return {"pageId": self.page_id, "canSubmit": False, "reason": self.reason}
        return {"pageId": self.page_id, "canSubmit": True, "workflowId": self.workflow_id}


def utc_now() -> datetime:
    """The default clock."""
    return datetime.now(timezone.utc)


class SandboxClock:
    """Another clock (the real one by default) plus an offset that tests move, only forward."""

    def __init__(self, base: Callable[[], datetime] = utc_now) -> None:
        self._base = base
        self.offset = timedelta(0)

    def __call__(self) -> datetime:
        return self._base() + self.offset

    def advance(self, seconds: float) -> None:
        """Move the clock forward: access tokens expire, reuse windows close, nothing goes back."""
        if seconds < 0:
            raise ValueError("the sandbox clock only moves forward")
        self.offset += timedelta(seconds=seconds)


def iso_time(moment: datetime) -> str:
    """ISO 8601 in UTC with milliseconds and ``Z``, as ApprovalFlow writes times."""
    utc = moment.astimezone(timezone.utc)
    return utc.strftime("%Y-%m-%dT%H:%M:%S.") + f"{utc.microsecond // 1000:03d}Z"


@dataclass
class SandboxState:
    """Everything the sandbox knows; build one with :meth:`from_seed` or :meth:`from_dict`."""

    spaces: dict[str, Space] = field(default_factory=dict)
    workflows: dict[str, Workflow] = field(default_factory=dict)
    pages: dict[str, Page] = field(default_factory=dict)
    approvals: dict[str, list[Approval]] = field(default_factory=dict)
    """Per page id, every submission in order; the last one is the page's approval state."""
    change_sets: dict[str, ChangeSet] = field(default_factory=dict)
    tokens: dict[str, frozenset[str]] = field(default_factory=dict)
    """Fixed access tokens (the default one, the seed's, the admin's); they never expire."""
    oauth: OAuthState = field(default_factory=OAuthState, repr=False)
    """The authorization server: OAuth apps, grants, codes and the tokens it issued."""
    licence_active: bool = True
    rest_api_enabled: bool = True
    change_set_counter: int = 0
    archived_status: str = ARCHIVED_STATUSES["reference"]
    """What ``status`` archiving sets (it depends on the answer mode)."""
    clock: Callable[[], datetime] = field(default=utc_now, repr=False, compare=False)

    # -- building and saving -------------------------------------------------------------------

    @classmethod
    def from_seed(cls, seed: Seed, clock: Callable[[], datetime] = utc_now) -> SandboxState:
        """A fresh state from a validated seed; the default token is always there."""
        state = cls(
            clock=clock,
            licence_active=seed.licence,
            rest_api_enabled=seed.restApi,
            oauth=OAuthState.from_seed(seed.oauthClients, ALL_SCOPES),
            tokens={DEFAULT_TOKEN: frozenset(ALL_SCOPES)}
            | {token.token: frozenset(token.scopes) for token in seed.tokens},
        )
        for space in seed.spaces:
            state.spaces[space.id] = Space(id=space.id, key=space.key, name=space.name)
            for wf in space.workflows:
                state.workflows[wf.id] = Workflow(**wf.model_dump(), spaceId=space.id)
            for page in space.pages:
                state.pages[page.id] = Page(**page.model_dump(), spaceId=space.id)
        return state

    def to_dict(self) -> dict[str, Any]:
        """The whole state as JSON-ready data: the seed's shape plus approvals and change sets."""

        def of(space: Space, items: Iterable[Workflow | Page]) -> list[dict[str, Any]]:
            return [it.model_dump(exclude={"spaceId"}) for it in items if it.spaceId == space.id]

        return {
            "format": STATE_FORMAT,
            "spaces": [
                {
                    **s.model_dump(),
                    "workflows": of(s, self.workflows.values()),
                    "pages": of(s, self.pages.values()),
                }
                for s in self.spaces.values()
            ],
            "tokens": [{"token": t, "scopes": sorted(s)} for t, s in self.tokens.items()],
            "licence": self.licence_active,
            "restApi": self.rest_api_enabled,
            "approvals": [a.model_dump() for history in self.approvals.values() for a in history],
            "changeSets": [c.model_dump() for c in self.change_sets.values()],
            "changeSetCounter": self.change_set_counter,
            "oauth": self.oauth.to_dict(),
        }

    @classmethod
    def from_dict(
        cls, data: object, source: str, clock: Callable[[], datetime] = utc_now
    ) -> SandboxState:
        """Rebuild a state saved by :meth:`to_dict`; ConfigError names ``source`` if it is bad."""
        refusal = f"{source}: not a sandbox state file (format {STATE_FORMAT})"
        try:
            saved = _Saved.model_validate(data)
        except ValidationError as exc:
            raise ConfigError(f"{refusal}: {first_problem(exc)}") from None
        if saved.format != STATE_FORMAT:
            raise ConfigError(refusal)
        state = cls.from_seed(saved, clock)
        for approval in saved.approvals:
            state.approvals.setdefault(approval.pageId, []).append(approval)
        state.change_sets = {change_set.id: change_set for change_set in saved.changeSets}
        state.change_set_counter = saved.changeSetCounter or len(saved.changeSets)
        try:
            state.oauth.load(saved.oauth)
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise ConfigError(f"{refusal}: oauth: {exc.__class__.__name__}: {exc}") from None
        return state

    # -- access --------------------------------------------------------------------------------

    def token_scopes(self, token: str | None) -> frozenset[str] | None:
        """The scopes of an access token the API accepts now; None when unknown or expired."""
        if not token:
            return None
        scopes = self.tokens.get(token)
        return scopes if scopes is not None else self.oauth.access_scopes(token, self.clock())

    def authorize(self, token: str | None, scope: str) -> None:
        """Check a call like the platform does: token, REST API switch, licence, then scopes."""
        scopes = self.token_scopes(token)
        if scopes is None:
            raise RefusalError(UNAUTHORIZED, 401)
        if not self.rest_api_enabled:
            raise RefusalError(REST_API_OFF, 403)
        if not self.licence_active:
            raise RefusalError(LICENCE_INACTIVE, 403)
        for needed in (PRODUCT_SCOPE, scope):
            if needed not in scopes:
                raise RefusalError(MISSING_SCOPE.format(scope=needed), 403)

    # -- the rules -----------------------------------------------------------------------------

    def eligibility(self, page_id: str, *, space_id: str | None, strict: bool) -> Eligibility:
        """Whether a page can be submitted, and to which workflow: the one place that decides.

        ``space_id`` is the change set's space (None for a single page). ``strict`` is the
        single-page rule: with several active workflows and none assigned, the page is blocked;
        a change set instead takes the space's first active workflow by id.
        """
        page = self.pages.get(page_id)
        latest = self._latest(page_id)
        if page is None:
            return Eligibility(page_id, reason=PAGE_NOT_FOUND)
        if space_id is not None and page.spaceId != space_id:
            return Eligibility(page_id, reason=OTHER_SPACE)
        if latest is not None and latest.status == PENDING:
            return Eligibility(page_id, reason=PENDING_APPROVAL)
        if page.workflow is not None:
            assigned = self.workflows.get(page.workflow)
            if assigned is None or not assigned.active:
                return Eligibility(page_id, reason=NO_WORKFLOW)
            return Eligibility(page_id, workflow_id=assigned.id)
        active = sorted(
            wf.id for wf in self.workflows.values() if wf.spaceId == page.spaceId and wf.active
        )
        if not active:
            return Eligibility(page_id, reason=NO_WORKFLOW)
        if len(active) > 1 and strict:
            return Eligibility(page_id, reason=AMBIGUOUS_WORKFLOW)
        return Eligibility(page_id, workflow_id=active[0])

    def rollup_state(self, change_set: ChangeSet) -> str:
        """The change set's state from each page's last approval (unknown pages have none)."""
        latest = [self._latest(page_id) for page_id in change_set.pageIds]
        statuses = [a.status if a is not None else None for a in latest]
        if REJECTED in statuses:
            return "has_rejections"
        if any(a is not None and a.status == APPROVED and self._is_stale(a) for a in latest):
            return "stale"
        if statuses and all(status == APPROVED for status in statuses):
            return "all_approved"
        if APPROVED in statuses:
            return "partially_approved"
        if PENDING in statuses:
            return "in_review"
        return "open"

    def _latest(self, page_id: str) -> Approval | None:
        history = self.approvals.get(page_id)
        return history[-1] if history else None

    def _last_approved(self, page_id: str) -> Approval | None:
        history = self.approvals.get(page_id, [])
        return next((a for a in reversed(history) if a.status == APPROVED), None)

    def _is_stale(self, approval: Approval) -> bool:
        page = self.pages.get(approval.pageId)
        return page is not None and page.version > approval.version

    # -- change sets ---------------------------------------------------------------------------

    def list_change_sets(self, call: SpaceCall) -> dict[str, Any]:
        """Every change set of a space, archived ones included, oldest first."""
        _found(self.spaces, call.spaceId, SPACE_NOT_FOUND)
        listed = [cs for cs in self.change_sets.values() if cs.spaceId == call.spaceId]
        return {"changeSets": [self._view(change_set) for change_set in listed]}

    def change_set_detail(self, call: ChangeSetCall) -> dict[str, Any]:
        """One change set with each page's versions and staleness."""
        change_set = self._change_set(call.changeSetId)
        pages = [self._page_versions(page_id) for page_id in change_set.pageIds]
        return {"changeSet": {**self._view(change_set), "pageRefs": pages}}

    def create_change_set(self, new: NewChangeSet) -> dict[str, Any]:
        """Create a change set; unknown pages are kept (preflight shows them blocked)."""
        _found(self.spaces, new.spaceId, SPACE_NOT_FOUND)
        change_set = ChangeSet(
            id=self._new_change_set_id(),
            spaceId=new.spaceId,
            title=new.title,
            summary=new.summary,
            referenceUrl=new.referenceUrl,
            pageIds=_page_ids(new.pageRefs),
            createdAt=iso_time(self.clock()),
        )
        self.change_sets[change_set.id] = change_set
        return {"changeSet": self._view(change_set)}

    def update_change_set(self, change: ChangeSetUpdate) -> dict[str, Any]:
        """Change the fields the request gives."""
        change_set = self._change_set(change.changeSetId, open_only=True)
        updates = change.model_dump(include={"title", "summary", "referenceUrl"}, exclude_none=True)
        if change.pageRefs is not None:
            updates["pageIds"] = _page_ids(change.pageRefs)
        updated = self.change_sets[change_set.id] = change_set.model_copy(update=updates)
        return {"changeSet": self._view(updated)}

    def archive_change_set(self, call: ChangeSetCall) -> dict[str, Any]:
        """Archive a change set; from then on it is read-only."""
        change_set = self._change_set(call.changeSetId, open_only=True)
        change_set.status = self.archived_status
        return {"changeSet": self._view(change_set)}

    def preflight_change_set(self, call: ChangeSetCall) -> dict[str, Any]:
        """What submit would do, page by page; changes nothing (archived ones allowed)."""
        results = [check.answer() for check in self._checks(self._change_set(call.changeSetId))]
        submittable = sum(result["canSubmit"] for result in results)
        total = len(results)
        summary = {"total": total, "submittable": submittable, "blocked": total - submittable}
        return {"summary": summary, "results": results}

    def submit_change_set(self, call: ChangeSetCall) -> dict[str, Any]:
        """Submit every eligible page of an open change set; the others are skipped."""
        change_set = self._change_set(call.changeSetId, open_only=True)
        results: list[dict[str, Any]] = []
        for check in self._checks(change_set):
            if check.workflow_id is None:
                results.append({"pageId": check.page_id, "success": False, "reason": check.reason})
                continue
            self._submit(check.page_id, check.workflow_id, change_set.id)
            results.append(
                {"pageId": check.page_id, "success": True, "workflowId": check.workflow_id}
            )
        submitted = sum(result["success"] for result in results)
        skipped = len(results) - submitted
        return {"submittedCount": submitted, "skippedCount": skipped, "results": results}

    def _checks(self, change_set: ChangeSet) -> Iterator[Eligibility]:
        for page_id in change_set.pageIds:
            yield self.eligibility(page_id, space_id=change_set.spaceId, strict=False)

    # -- single pages --------------------------------------------------------------------------

    def preflight_page(self, call: PageCall) -> dict[str, Any]:
        """Whether one page can be submitted on its own (the strict rule)."""
        return self.eligibility(call.pageId, space_id=None, strict=True).answer()

    def submit_page(self, call: PageCall) -> dict[str, Any]:
        """Submit one page; a blocked page is refused with its reason."""
        check = self.eligibility(call.pageId, space_id=None, strict=True)
        if check.workflow_id is None:
            raise RefusalError(check.reason or NO_WORKFLOW)
        self._submit(call.pageId, check.workflow_id, None)
        return {"pageId": call.pageId, "workflowId": check.workflow_id}

    def _submit(self, page_id: str, workflow_id: str, change_set_id: str | None) -> None:
        approval = Approval(
            pageId=page_id,
            version=self.pages[page_id].version,
            workflowId=workflow_id,
            changeSetId=change_set_id,
            submittedAt=iso_time(self.clock()),
        )
        self.approvals.setdefault(page_id, []).append(approval)

    # -- what people do in Confluence (the admin surface) --------------------------------------

    def add_page(self, page: Page) -> dict[str, Any]:
        """Create a page in a space, optionally with an assigned workflow."""
        _found(self.spaces, page.spaceId, SPACE_NOT_FOUND)
        if page.id in self.pages:
            raise RefusalError(f"Page {page.id} already exists")
        if page.workflow is not None:
            self._workflow_of(page.spaceId, page.workflow)
        self.pages[page.id] = page
        return page.model_dump()

    def put_workflow(self, spec: WorkflowSpec) -> dict[str, Any]:
        """Add a workflow to a space, or change the name or activity of one it has."""
        _found(self.spaces, spec.spaceId, SPACE_NOT_FOUND)
        workflow = self.workflows.get(spec.id)
        if workflow is None:
            workflow = self.workflows[spec.id] = Workflow(id=spec.id, spaceId=spec.spaceId)
        elif workflow.spaceId != spec.spaceId:
            raise RefusalError(f"Workflow {spec.id} belongs to another space")
        workflow.name = spec.name or workflow.name
        workflow.active = workflow.active if spec.active is None else spec.active
        return workflow.model_dump()

    def assign_workflow(self, assignment: Assignment) -> dict[str, Any]:
        """Assign a workflow of the page's space to the page, or remove the assignment."""
        page = _found(self.pages, assignment.pageId, PAGE_NOT_FOUND)
        if assignment.workflowId is not None:
            self._workflow_of(page.spaceId, assignment.workflowId)
        page.workflow = assignment.workflowId
        return page.model_dump()

    def decide(self, call: PageCall, status: str) -> dict[str, Any]:
        """Approve or reject the page's pending approval, at the version that was submitted."""
        _found(self.pages, call.pageId, PAGE_NOT_FOUND)
        latest = self._latest(call.pageId)
        if latest is None or latest.status != PENDING:
            raise RefusalError(f"Page {call.pageId} has no pending approval")
        latest.status = status
        latest.decidedAt = iso_time(self.clock())
        return latest.model_dump(
            include={"pageId", "status", "version", "workflowId", "changeSetId"}
        )

    def edit_page(self, call: PageCall) -> dict[str, Any]:
        """Someone edits the page: its version goes up by one."""
        page = _found(self.pages, call.pageId, PAGE_NOT_FOUND)
        page.version += 1
        return page.model_dump()

    # -- lookups and views ---------------------------------------------------------------------

    def _workflow_of(self, space_id: str, workflow_id: str) -> Workflow:
        workflow = self.workflows.get(workflow_id)
        if workflow is None or workflow.spaceId != space_id:
            raise RefusalError(f"Workflow {workflow_id} not found in space {space_id}")
        return workflow

    def _change_set(self, change_set_id: str, *, open_only: bool = False) -> ChangeSet:
        change_set = _found(self.change_sets, change_set_id, CHANGE_SET_NOT_FOUND)
        if open_only and change_set.status != OPEN:
            raise RefusalError(ARCHIVED)
        return change_set

    def _new_change_set_id(self) -> str:
        """Opaque-looking but deterministic ids, so runs and saved states repeat exactly."""
        while True:
            self.change_set_counter += 1
            digest = hashlib.sha256(f"change-set:{self.change_set_counter}".encode())
            candidate = "cs-" + digest.hexdigest()[:12]
            if candidate not in self.change_sets:
                return candidate

    def _view(self, change_set: ChangeSet) -> dict[str, Any]:
        return {
            **change_set.model_dump(exclude={"pageIds"}),
            "rollupState": self.rollup_state(change_set),
            "pageRefs": [{"pageId": page_id} for page_id in change_set.pageIds],
        }

    def _page_versions(self, page_id: str) -> dict[str, Any]:
        page = self.pages.get(page_id)
        approved = self._last_approved(page_id)
        current = page.version if page is not None else None
        at = approved.version if approved is not None else None
        delta = current - at if current is not None and at is not None else None
        return {
            "pageId": page_id,
            **({"title": page.title} if page is not None else {}),
            "currentPageVersion": current,
            "approvedAtVersion": at,
            "isStale": delta is not None and delta > 0,
            "versionDelta": delta,
        }


def _found(table: Mapping[str, T], key: str, missing: str) -> T:
    """``table[key]``, or a refusal saying it is ``missing``."""
    if key not in table:
        raise RefusalError(missing)
    return table[key]


def _page_ids(refs: list[_PageCall]) -> list[str]:
    """The pages' ids in order, each once."""
    return list(dict.fromkeys(ref.pageId for ref in refs))
