"""The sandbox's world and ApprovalFlow's rules, with no HTTP: :class:`SandboxState` is the
state file's shape and its methods are the API's operations. Not thread-safe (the app locks)."""

# ruff: noqa: N815 - requests and records keep the camelCase keys of the API and the state file

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Annotated, Any, Literal, TypeVar

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from approvalflow_sync.errors import RefusalError
from approvalflow_sync.sandbox.oauth import OAuthState
from approvalflow_sync.sandbox.seed import (
    Checked,
    OAuthClientSeed,
    PageSeed,
    Seed,
    SpaceSeed,
    Text,
    TokenSeed,
    WorkflowSeed,
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

STATE_FORMAT = 2
"""2: the OAuth grants and tokens are one record shape (format 1 files are refused)."""

# The texts ApprovalFlow answers with more than once; the vendor's own where the reference has them.
PAGE_NOT_FOUND = "Page not found"
NO_WORKFLOW = "No workflow assigned to page"

PENDING = "pending"
APPROVED = "approved"
REJECTED = "rejected"
OPEN = "open"
ARCHIVED_STATUSES = {"reference": "retired-v2", "rich": "archived"}
"""The ``status`` of an archived change set per answer mode: the reference does not document it,
so the reference mode carries a value no program can guess."""

T = TypeVar("T")


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


class NewPage(PageSeed):
    spaceId: Text


class WorkflowSpec(Call):
    """A new workflow, or what changes in one."""

    spaceId: Text
    id: Text
    name: Text | None = None
    active: bool | None = None


class Assignment(PageCall):
    workflowId: Text | None
    """Required; null removes the assignment."""


# -- what the sandbox stores besides the seed's world --------------------------------------------


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
    createdBy: str = "sandbox-user"
    """The account id the sandbox puts on what it creates (the real one comes from the token)."""


@dataclass(frozen=True)
class Eligibility:
    """Whether a page can be submitted now: the workflow it would go to, or why not."""

    page_id: str
    workflow_id: str | None = None
    reason: str | None = None

    def answer(self, key: str = "canSubmit") -> dict[str, Any]:
        """The page's result in preflight (``canSubmit``) or submit (``success``)."""
        if self.workflow_id is None:
            return {"pageId": self.page_id, key: False, "reason": self.reason}
        return {"pageId": self.page_id, key: True, "workflowId": self.workflow_id}


Answer = dict[str, Any]
Cut = Callable[[Answer], Answer]
M = TypeVar("M", bound=BaseModel)
Run = Callable[["SandboxState", M], Answer]


@dataclass(frozen=True)
class Endpoint:
    """One API call: scope, parameters, where they are read, and the reference's cut of ``run``."""

    scope: str
    model: type[BaseModel]
    run: Callable[[SandboxState, Any], Answer]
    where: Literal["query", "body", "either"]
    reference: Cut

    @property
    def changes(self) -> bool:
        """Whether a call may change the state (and the state file)."""
        return self.scope in (WRITE_CHANGE_SET, WRITE_APPROVAL)


API: dict[str, dict[str, Endpoint]] = {}
"""Path, then method, to endpoint: the nine calls of the vendor's reference."""


def endpoint(
    method: str,
    path: str,
    scope: str,
    model: type[M],
    *,
    where: Literal["query", "body", "either"] = "body",
    reference: Cut = lambda answer: answer,
) -> Callable[[Run[M]], Run[M]]:
    """Register an operation of :class:`SandboxState` as the API's ``method`` on ``path``."""

    def register(run: Run[M]) -> Run[M]:
        API.setdefault(path, {})[method] = Endpoint(scope, model, run, where, reference)
        return run

    return register


def _nothing(answer: Answer) -> Answer:
    """The reference shows only ``success`` for the writes."""
    return {}


def _flat(answer: Answer) -> Answer:
    return dict(answer["changeSet"])


def _no_page_id(answer: Answer) -> Answer:
    return {key: value for key, value in answer.items() if key != "pageId"}


def iso_time(moment: datetime) -> str:
    """ISO 8601 in UTC with milliseconds and ``Z``, as ApprovalFlow writes times."""
    utc = moment.astimezone(timezone.utc)
    return utc.strftime("%Y-%m-%dT%H:%M:%S.") + f"{utc.microsecond // 1000:03d}Z"


class SandboxState(Seed):
    """Everything the sandbox knows: the seed's world, what happened since, the OAuth server."""

    format: Literal[2]
    """``STATE_FORMAT``: a state file of another format is refused."""
    approvals: list[Approval] = Field(default_factory=list)
    """Every submission in order; a page's last one is its approval state."""
    changeSets: list[ChangeSet] = Field(default_factory=list)
    changeSetCounter: int = 0
    oauth: OAuthState
    """The authorization server: OAuth apps, grants, codes and the tokens it issued."""
    oauthClients: list[OAuthClientSeed] = Field(default_factory=list, exclude=True)
    """The seed's OAuth apps: the state keeps them in ``oauth``."""
    archived_status: str = Field(default=ARCHIVED_STATUSES["reference"], exclude=True)
    """What ``status`` archiving sets (it depends on the answer mode)."""
    offset: timedelta = Field(default=timedelta(0), exclude=True)
    """How far ``POST /_sandbox/clock`` moved the sandbox's clock forward (never back)."""

    @classmethod
    def from_seed(cls, seed: Seed) -> SandboxState:
        """A fresh state from a validated seed; the default token is always there."""
        world = seed.model_dump()
        default = {"token": DEFAULT_TOKEN, "scopes": list(ALL_SCOPES)}
        tokens = {token["token"]: token for token in (default, *world["tokens"])}
        oauth = OAuthState.from_seed(seed.oauthClients, ALL_SCOPES)
        world |= {"tokens": list(tokens.values()), "oauth": oauth}
        return cls.model_validate({**world, "format": STATE_FORMAT})

    def now(self) -> datetime:
        """The sandbox's clock: the real one plus the offset tests move."""
        return datetime.now(timezone.utc) + self.offset

    def to_dict(self) -> dict[str, Any]:
        """The whole state as JSON-ready data."""
        return self.model_dump(mode="json")

    # -- access --------------------------------------------------------------------------------

    def token_scopes(self, token: str | None) -> frozenset[str] | None:
        """The scopes of an access token the API accepts now; None when unknown or expired."""
        if not token:
            return None
        fixed = [frozenset(known.scopes) for known in self.tokens if known.token == token]
        return fixed[0] if fixed else self.oauth.access_scopes(token, self.now())

    def authorize(self, token: str | None, scope: str) -> None:
        """Check a call like the platform does: token, REST API switch, licence, then scopes."""
        scopes = self.token_scopes(token)
        if scopes is None:
            raise RefusalError("Unauthorized: missing or invalid access token", 401)
        if not self.restApi:
            raise RefusalError("Forbidden", 403)
        if not self.licence:
            raise RefusalError("Licence is not active for this site", 403)
        for needed in (PRODUCT_SCOPE, scope):
            if needed not in scopes:
                raise RefusalError(f"Token is missing required scope: {needed}", 403)

    # -- the rules -----------------------------------------------------------------------------

    def eligibility(self, page_id: str, *, space_id: str | None, strict: bool) -> Eligibility:
        """Whether a page can be submitted, and to which workflow: the one place that decides, so
        preflight and submit agree. ``space_id``: a change set's space. ``strict`` (one page):
        several active workflows and none assigned block it; a change set takes the first."""
        found = self._find_page(page_id)
        latest = self._latest(page_id)
        if found is None:
            return Eligibility(page_id, reason=PAGE_NOT_FOUND)
        space, page = found
        if space_id is not None and space.id != space_id:
            return Eligibility(page_id, reason="Page belongs to another space")
        if latest is not None and latest.status == PENDING:
            return Eligibility(page_id, reason="Page already has a pending approval")
        active = sorted(wf.id for wf in space.workflows if wf.active)
        if page.workflow is not None:
            if page.workflow not in active:
                return Eligibility(page_id, reason=NO_WORKFLOW)
            return Eligibility(page_id, workflow_id=page.workflow)
        if not active:
            return Eligibility(page_id, reason=NO_WORKFLOW)
        if len(active) > 1 and strict:
            reason = "Page has no assigned workflow and the space has several active workflows"
            return Eligibility(page_id, reason=reason)
        return Eligibility(page_id, workflow_id=active[0])

    def rollup_state(self, change_set: ChangeSet) -> str:
        """The change set's state from each page's last approval (unknown pages have none)."""
        latest = [self._latest(page_id) for page_id in change_set.pageIds]
        statuses = [a.status if a is not None else None for a in latest]
        if REJECTED in statuses:
            return "has_rejections"
        versions = {page.id: page.version for space in self.spaces for page in space.pages}
        approved = [a for a in latest if a is not None and a.status == APPROVED]
        if any(versions.get(a.pageId, 0) > a.version for a in approved):
            return "stale"
        if statuses and all(status == APPROVED for status in statuses):
            return "all_approved"
        if APPROVED in statuses:
            return "partially_approved"
        if PENDING in statuses:
            return "in_review"
        return "open"

    def _latest(self, page_id: str, status: str | None = None) -> Approval | None:
        """The page's last approval (of this status if given)."""
        found = (a for a in reversed(self.approvals) if a.pageId == page_id)
        return next((a for a in found if status in (None, a.status)), None)

    # -- change sets ---------------------------------------------------------------------------

    @endpoint("GET", "/changeSets", READ_CHANGE_SET, SpaceCall, where="either")
    def list_change_sets(self, call: SpaceCall) -> dict[str, Any]:
        """Every change set of a space, archived ones included, oldest first."""
        self._space(call.spaceId)
        listed = [cs for cs in self.changeSets if cs.spaceId == call.spaceId]
        return {"changeSets": [self._view(change_set) for change_set in listed]}

    @endpoint(
        "GET", "/changeSets/detail", READ_CHANGE_SET, ChangeSetCall, where="query", reference=_flat
    )
    def change_set_detail(self, call: ChangeSetCall) -> dict[str, Any]:
        """One change set with each page's versions and staleness."""
        change_set = self._change_set(call.changeSetId)
        pages = [self._page_versions(page_id) for page_id in change_set.pageIds]
        return {"changeSet": {**self._view(change_set), "pageRefs": pages}}

    @endpoint("POST", "/changeSets", WRITE_CHANGE_SET, NewChangeSet, reference=_nothing)
    def create_change_set(self, new: NewChangeSet) -> dict[str, Any]:
        """Create a change set; unknown pages are kept (preflight shows them blocked)."""
        self._space(new.spaceId)
        change_set = ChangeSet(
            **new.model_dump(include={"spaceId", "title", "summary", "referenceUrl"}),
            id=self._new_change_set_id(),
            pageIds=_page_ids(new.pageRefs),
            createdAt=iso_time(self.now()),
        )
        self.changeSets.append(change_set)
        return {"changeSet": self._view(change_set)}

    @endpoint("POST", "/changeSets/update", WRITE_CHANGE_SET, ChangeSetUpdate, reference=_nothing)
    def update_change_set(self, change: ChangeSetUpdate) -> dict[str, Any]:
        """Change the fields the request gives."""
        change_set = self._change_set(change.changeSetId, open_only=True)
        updates = change.model_dump(include={"title", "summary", "referenceUrl"}, exclude_none=True)
        if change.pageRefs is not None:
            updates["pageIds"] = _page_ids(change.pageRefs)
        for name, value in updates.items():
            setattr(change_set, name, value)
        return {"changeSet": self._view(change_set)}

    @endpoint("POST", "/changeSets/archive", WRITE_CHANGE_SET, ChangeSetCall, reference=_nothing)
    def archive_change_set(self, call: ChangeSetCall) -> dict[str, Any]:
        """Archive a change set; from then on it is read-only."""
        change_set = self._change_set(call.changeSetId, open_only=True)
        change_set.status = self.archived_status
        return {"changeSet": self._view(change_set)}

    @endpoint("POST", "/changeSets/preflight", READ_CHANGE_SET, ChangeSetCall)
    def preflight_change_set(self, call: ChangeSetCall) -> dict[str, Any]:
        """What submit would do, page by page; changes nothing (archived ones allowed)."""
        results = [check.answer() for check in self._checks(self._change_set(call.changeSetId))]
        submittable = sum(result["canSubmit"] for result in results)
        total = len(results)
        summary = {"total": total, "submittable": submittable, "blocked": total - submittable}
        return {"summary": summary, "results": results}

    @endpoint("POST", "/changeSets/submit", WRITE_CHANGE_SET, ChangeSetCall)
    def submit_change_set(self, call: ChangeSetCall) -> dict[str, Any]:
        """Submit every eligible page of an open change set; the others are skipped."""
        change_set = self._change_set(call.changeSetId, open_only=True)
        checks = list(self._checks(change_set))
        for check in checks:
            if check.workflow_id is not None:
                self._submit(check.page_id, check.workflow_id, change_set.id)
        results = [check.answer("success") for check in checks]
        submitted = sum(result["success"] for result in results)
        skipped = len(results) - submitted
        return {"submittedCount": submitted, "skippedCount": skipped, "results": results}

    def _checks(self, change_set: ChangeSet) -> Iterator[Eligibility]:
        for page_id in change_set.pageIds:
            yield self.eligibility(page_id, space_id=change_set.spaceId, strict=False)

    # -- single pages --------------------------------------------------------------------------

    @endpoint("POST", "/pages/preflight", READ_APPROVAL, PageCall, reference=_no_page_id)
    def preflight_page(self, call: PageCall) -> dict[str, Any]:
        """Whether one page can be submitted on its own (the strict rule)."""
        return self.eligibility(call.pageId, space_id=None, strict=True).answer()

    @endpoint("POST", "/pages/submit", WRITE_APPROVAL, PageCall, reference=_nothing)
    def submit_page(self, call: PageCall) -> dict[str, Any]:
        """Submit one page; a blocked page is refused with its reason."""
        check = self.eligibility(call.pageId, space_id=None, strict=True)
        if check.workflow_id is None:
            raise RefusalError(check.reason or NO_WORKFLOW)
        self._submit(call.pageId, check.workflow_id, None)
        return {"pageId": call.pageId, "workflowId": check.workflow_id}

    def _submit(self, page_id: str, workflow_id: str, change_set_id: str | None) -> None:
        _, page = self._page(page_id)
        self.approvals.append(
            Approval(
                pageId=page_id,
                version=page.version,
                workflowId=workflow_id,
                changeSetId=change_set_id,
                submittedAt=iso_time(self.now()),
            )
        )

    # -- what people do in Confluence (the admin surface) --------------------------------------

    def add_page(self, new: NewPage) -> dict[str, Any]:
        """Create a page in a space, optionally with an assigned workflow."""
        space = self._space(new.spaceId)
        if self._find_page(new.id) is not None:
            raise RefusalError(f"Page {new.id} already exists")
        if new.workflow is not None:
            _workflow_of(space, new.workflow)
        space.pages.append(PageSeed.model_validate(new.model_dump(exclude={"spaceId"})))
        return new.model_dump()

    def put_workflow(self, spec: WorkflowSpec) -> dict[str, Any]:
        """Add a workflow to a space, or change the name or activity of one it has."""
        space = self._space(spec.spaceId)
        others = [wf for other in self.spaces if other is not space for wf in other.workflows]
        if any(wf.id == spec.id for wf in others):
            raise RefusalError(f"Workflow {spec.id} belongs to another space")
        workflow = next((wf for wf in space.workflows if wf.id == spec.id), None)
        if workflow is None:
            workflow = WorkflowSeed(id=spec.id)
            space.workflows.append(workflow)
        workflow.name = spec.name or workflow.name
        workflow.active = workflow.active if spec.active is None else spec.active
        return {**workflow.model_dump(), "spaceId": space.id}

    def assign_workflow(self, assignment: Assignment) -> dict[str, Any]:
        """Assign a workflow of the page's space to the page, or remove the assignment."""
        space, page = self._page(assignment.pageId)
        if assignment.workflowId is not None:
            _workflow_of(space, assignment.workflowId)
        page.workflow = assignment.workflowId
        return {**page.model_dump(), "spaceId": space.id}

    def decide(self, call: PageCall, status: str) -> dict[str, Any]:
        """Approve or reject the page's pending approval, at the version that was submitted."""
        self._page(call.pageId)
        latest = self._latest(call.pageId)
        if latest is None or latest.status != PENDING:
            raise RefusalError(f"Page {call.pageId} has no pending approval")
        latest.status = status
        latest.decidedAt = iso_time(self.now())
        return latest.model_dump(
            include={"pageId", "status", "version", "workflowId", "changeSetId"}
        )

    def edit_page(self, call: PageCall) -> dict[str, Any]:
        """Someone edits the page: its version goes up by one."""
        space, page = self._page(call.pageId)
        page.version += 1
        return {**page.model_dump(), "spaceId": space.id}

    def put_token(self, token: TokenSeed) -> None:
        """Grant an access token its scopes (replacing what it had)."""
        self.tokens = [known for known in self.tokens if known.token != token.token] + [token]

    # -- lookups and views ---------------------------------------------------------------------

    def _space(self, space_id: str) -> SpaceSeed:
        return _only([space for space in self.spaces if space.id == space_id], "Space not found")

    def _find_page(self, page_id: str) -> tuple[SpaceSeed, PageSeed] | None:
        pages = ((space, page) for space in self.spaces for page in space.pages)
        return next(((space, page) for space, page in pages if page.id == page_id), None)

    def _page(self, page_id: str) -> tuple[SpaceSeed, PageSeed]:
        found = self._find_page(page_id)
        if found is None:
            raise RefusalError(PAGE_NOT_FOUND)
        return found

    def _change_set(self, change_set_id: str, *, open_only: bool = False) -> ChangeSet:
        found = [cs for cs in self.changeSets if cs.id == change_set_id]
        change_set = _only(found, "Change set not found")
        if open_only and change_set.status != OPEN:
            raise RefusalError("Change set is archived and read-only")
        return change_set

    def _new_change_set_id(self) -> str:
        """Opaque-looking but deterministic ids, so runs and saved states repeat exactly."""
        self.changeSetCounter += 1
        digest = hashlib.sha256(f"change-set:{self.changeSetCounter}".encode())
        return "cs-" + digest.hexdigest()[:12]

    def _view(self, change_set: ChangeSet) -> dict[str, Any]:
        return {
            **change_set.model_dump(exclude={"pageIds"}),
            "rollupState": self.rollup_state(change_set),
            "pageRefs": [{"pageId": page_id} for page_id in change_set.pageIds],
        }

    def _page_versions(self, page_id: str) -> dict[str, Any]:
        found = self._find_page(page_id)
        approved = self._latest(page_id, APPROVED)
        current = found[1].version if found is not None else None
        at = approved.version if approved is not None else None
        delta = current - at if current is not None and at is not None else None
        return {
            "pageId": page_id,
            **({"title": found[1].title} if found is not None else {}),
            "currentPageVersion": current,
            "approvedAtVersion": at,
            "isStale": delta is not None and delta > 0,
            "versionDelta": delta,
        }


def _only(found: list[T], missing: str) -> T:
    """The first item found, or a refusal saying it is ``missing``."""
    if not found:
        raise RefusalError(missing)
    return found[0]


def _workflow_of(space: SpaceSeed, workflow_id: str) -> WorkflowSeed:
    found = [workflow for workflow in space.workflows if workflow.id == workflow_id]
    return _only(found, f"Workflow {workflow_id} not found in space {space.id}")


def _page_ids(refs: list[_PageCall]) -> list[str]:
    """The pages' ids in order, each once."""
    return list(dict.fromkeys(ref.pageId for ref in refs))
