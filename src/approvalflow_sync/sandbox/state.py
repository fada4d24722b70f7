"""The sandbox's world and ApprovalFlow's rules, with no HTTP.

:class:`SandboxState` holds spaces, workflows, pages, approvals, change sets, tokens, the two
site switches and the OAuth side (:mod:`approvalflow_sync.sandbox.oauth`); its methods are the
API's operations and answer the vendor's JSON shapes as plain dicts. A refused operation raises
a :class:`RefusalError` whose kind the server turns into a status.
One function, :meth:`SandboxState.eligibility`, decides whether a page can be submitted, so
preflight and submit cannot disagree. The state is not thread-safe: the server holds one lock
around every use.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any

from approvalflow_sync.errors import ConfigError
from approvalflow_sync.sandbox.oauth import OAuthState
from approvalflow_sync.sandbox.seed import Seed, validate_seed

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


class RefusalError(Exception):
    """Raised when the sandbox refuses an operation; ``message`` is the answer's error text."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class InvalidRequestError(RefusalError):
    """Raised when a parameter is missing or invalid, or the object does not allow it (400)."""


class UnauthorizedError(RefusalError):
    """Raised when the access token is missing or unknown (401)."""


class ForbiddenError(RefusalError):
    """Raised when the REST API is off, the licence inactive or a scope missing (403)."""


@dataclass
class Space:
    """A Confluence space."""

    id: str
    key: str
    name: str


@dataclass
class Workflow:
    """An approval workflow of one space; inactive ones are never used."""

    id: str
    space_id: str
    name: str
    active: bool


@dataclass
class Page:
    """A Confluence page; every edit raises its version by one."""

    id: str
    space_id: str
    title: str
    version: int
    workflow: str | None = None
    """The workflow assigned to the page, if any."""


@dataclass
class Approval:
    """One submission of a page and what reviewers decided; the page's last one counts."""

    page_id: str
    version: int
    """The page's version when submitted: the one that gets approved."""
    workflow_id: str
    change_set_id: str | None
    status: str = PENDING
    submitted_at: str = ""
    decided_at: str | None = None


@dataclass
class ChangeSet:
    """A change set: pages reviewed together; archived ones are read-only."""

    id: str
    space_id: str
    title: str
    page_ids: list[str]
    summary: str | None = None
    reference_url: str | None = None
    status: str = OPEN
    created_at: str = ""
    created_by: str = CREATED_BY


@dataclass(frozen=True)
class Eligibility:
    """Whether a page can be submitted now, with the workflow it would go to or why not."""

    page_id: str
    workflow_id: str | None = None
    reason: str | None = None

    @property
    def can_submit(self) -> bool:
        """True when nothing blocks the page."""
        return self.reason is None


def utc_now() -> datetime:
    """The default clock."""
    return datetime.now(timezone.utc)


class SandboxClock:
    """The sandbox's clock: another clock (the real one by default) plus an offset tests move.

    It only moves forward: access tokens expire, reuse windows close, nothing goes back.
    """

    def __init__(self, base: Callable[[], datetime] = utc_now) -> None:
        self._base = base
        self.offset = timedelta(0)

    def __call__(self) -> datetime:
        return self._base() + self.offset

    def advance(self, seconds: float) -> None:
        """Move the clock forward by ``seconds`` (0 or more)."""
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
    revision: int = field(default=0, compare=False)
    """Raised by every change, so the server knows when to save."""

    # -- building and saving -------------------------------------------------------------------

    @classmethod
    def from_seed(cls, seed: Seed, clock: Callable[[], datetime] = utc_now) -> SandboxState:
        """A fresh state from a validated seed; the default token is always there."""
        state = cls(
            clock=clock,
            licence_active=seed.licence,
            rest_api_enabled=seed.restApi,
            oauth=OAuthState.from_seed(seed.oauthClients, ALL_SCOPES),
        )
        state.tokens[DEFAULT_TOKEN] = frozenset(ALL_SCOPES)
        for space in seed.spaces:
            state.spaces[space.id] = Space(space.id, space.key, space.name)
            for wf in space.workflows:
                state.workflows[wf.id] = Workflow(wf.id, space.id, wf.name, wf.active)
            for page in space.pages:
                state.pages[page.id] = Page(
                    page.id, space.id, page.title, page.version, page.workflow
                )
        for token in seed.tokens:
            state.tokens[token.token] = frozenset(token.scopes)
        return state

    def to_dict(self) -> dict[str, Any]:
        """The whole state as JSON-ready data: the seed's shape plus approvals and change sets."""
        return {
            "format": STATE_FORMAT,
            "spaces": [self._space_dict(space) for space in self.spaces.values()],
            "tokens": [
                {"token": token, "scopes": sorted(scopes)} for token, scopes in self.tokens.items()
            ],
            "licence": self.licence_active,
            "restApi": self.rest_api_enabled,
            "approvals": [
                {
                    "pageId": a.page_id,
                    "version": a.version,
                    "workflowId": a.workflow_id,
                    "changeSetId": a.change_set_id,
                    "status": a.status,
                    "submittedAt": a.submitted_at,
                    "decidedAt": a.decided_at,
                }
                for history in self.approvals.values()
                for a in history
            ],
            "changeSets": [
                {
                    "id": cs.id,
                    "spaceId": cs.space_id,
                    "title": cs.title,
                    "summary": cs.summary,
                    "referenceUrl": cs.reference_url,
                    "status": cs.status,
                    "pageIds": list(cs.page_ids),
                    "createdAt": cs.created_at,
                    "createdBy": cs.created_by,
                }
                for cs in self.change_sets.values()
            ],
            "changeSetCounter": self.change_set_counter,
            "oauth": self.oauth.to_dict(),
        }

    def _space_dict(self, space: Space) -> dict[str, Any]:
        return {
            "id": space.id,
            "key": space.key,
            "name": space.name,
            "workflows": [
                {"id": wf.id, "name": wf.name, "active": wf.active}
                for wf in self.workflows.values()
                if wf.space_id == space.id
            ],
            "pages": [
                {"id": p.id, "title": p.title, "version": p.version, "workflow": p.workflow}
                for p in self.pages.values()
                if p.space_id == space.id
            ],
        }

    @classmethod
    def from_dict(
        cls, data: object, source: str, clock: Callable[[], datetime] = utc_now
    ) -> SandboxState:
        """Rebuild a state saved by :meth:`to_dict`; ConfigError names ``source`` if it is bad."""
        if not isinstance(data, Mapping) or data.get("format") != STATE_FORMAT:
            raise ConfigError(f"{source}: not a sandbox state file (format {STATE_FORMAT})")
        world = {
            key: data[key] for key in ("spaces", "tokens", "licence", "restApi") if key in data
        }
        state = cls.from_seed(validate_seed(world, source), clock)
        try:
            for a in data.get("approvals", []):
                approval = Approval(
                    page_id=str(a["pageId"]),
                    version=int(a["version"]),
                    workflow_id=str(a["workflowId"]),
                    change_set_id=a["changeSetId"],
                    status=str(a["status"]),
                    submitted_at=str(a["submittedAt"]),
                    decided_at=a.get("decidedAt"),
                )
                state.approvals.setdefault(approval.page_id, []).append(approval)
            for c in data.get("changeSets", []):
                state.change_sets[str(c["id"])] = ChangeSet(
                    id=str(c["id"]),
                    space_id=str(c["spaceId"]),
                    title=str(c["title"]),
                    page_ids=[str(page_id) for page_id in c["pageIds"]],
                    summary=c.get("summary"),
                    reference_url=c.get("referenceUrl"),
                    status=str(c["status"]),
                    created_at=str(c["createdAt"]),
                    created_by=str(c.get("createdBy", CREATED_BY)),
                )
            state.change_set_counter = int(data.get("changeSetCounter", len(state.change_sets)))
            state.oauth.load(data.get("oauth", {}))
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise ConfigError(
                f"{source}: not a sandbox state file ({exc.__class__.__name__}: {exc})"
            ) from None
        return state

    def _changed(self) -> None:
        self.revision += 1

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
            raise UnauthorizedError(UNAUTHORIZED)
        if not self.rest_api_enabled:
            raise ForbiddenError(REST_API_OFF)
        if not self.licence_active:
            raise ForbiddenError(LICENCE_INACTIVE)
        for needed in (PRODUCT_SCOPE, scope):
            if needed not in scopes:
                raise ForbiddenError(MISSING_SCOPE.format(scope=needed))

    # -- the rules -----------------------------------------------------------------------------

    def eligibility(self, page_id: str, *, space_id: str | None, strict: bool) -> Eligibility:
        """Whether a page can be submitted, and to which workflow: the one place that decides.

        ``space_id`` is the change set's space (None for a single page). ``strict`` is the
        single-page rule: with several active workflows and none assigned, the page is blocked;
        a change set instead takes the space's first active workflow by id.
        """
        page = self.pages.get(page_id)
        if page is None:
            return Eligibility(page_id, reason=PAGE_NOT_FOUND)
        if space_id is not None and page.space_id != space_id:
            return Eligibility(page_id, reason=OTHER_SPACE)
        latest = self._latest(page_id)
        if latest is not None and latest.status == PENDING:
            return Eligibility(page_id, reason=PENDING_APPROVAL)
        if page.workflow is not None:
            assigned = self.workflows.get(page.workflow)
            if assigned is None or not assigned.active:
                return Eligibility(page_id, reason=NO_WORKFLOW)
            return Eligibility(page_id, workflow_id=assigned.id)
        active = sorted(
            wf.id for wf in self.workflows.values() if wf.space_id == page.space_id and wf.active
        )
        if not active:
            return Eligibility(page_id, reason=NO_WORKFLOW)
        if len(active) > 1 and strict:
            return Eligibility(page_id, reason=AMBIGUOUS_WORKFLOW)
        return Eligibility(page_id, workflow_id=active[0])

    def rollup_state(self, change_set: ChangeSet) -> str:
        """The change set's state from each page's last approval (unknown pages have none)."""
        latest = [self._latest(page_id) for page_id in change_set.page_ids]
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
        for approval in reversed(self.approvals.get(page_id, [])):
            if approval.status == APPROVED:
                return approval
        return None

    def _is_stale(self, approval: Approval) -> bool:
        page = self.pages.get(approval.page_id)
        return page is not None and page.version > approval.version

    # -- change sets ---------------------------------------------------------------------------

    def list_change_sets(self, space_id: str) -> list[dict[str, Any]]:
        """Every change set of a space, archived ones included, oldest first."""
        self._space(space_id)
        return [self._view(cs) for cs in self.change_sets.values() if cs.space_id == space_id]

    def change_set_detail(self, change_set_id: str) -> dict[str, Any]:
        """One change set with each page's versions and staleness."""
        change_set = self._change_set(change_set_id)
        view = self._view(change_set)
        view["pageRefs"] = [self._page_versions(page_id) for page_id in change_set.page_ids]
        return view

    def create_change_set(
        self,
        space_id: str,
        title: str,
        page_ids: list[str],
        summary: str | None = None,
        reference_url: str | None = None,
    ) -> dict[str, Any]:
        """Create a change set; unknown pages are kept (preflight shows them blocked)."""
        self._space(space_id)
        change_set = ChangeSet(
            id=self._new_change_set_id(),
            space_id=space_id,
            title=title,
            page_ids=_unique(page_ids),
            summary=summary,
            reference_url=reference_url,
            created_at=iso_time(self.clock()),
        )
        self.change_sets[change_set.id] = change_set
        self._changed()
        return self._view(change_set)

    def update_change_set(
        self,
        change_set_id: str,
        *,
        title: str | None = None,
        summary: str | None = None,
        reference_url: str | None = None,
        page_ids: list[str] | None = None,
    ) -> dict[str, Any]:
        """Change the given fields; ``page_ids`` replaces the list. None leaves a field alone."""
        change_set = self._open_change_set(change_set_id)
        if title is not None:
            change_set.title = title
        if summary is not None:
            change_set.summary = summary
        if reference_url is not None:
            change_set.reference_url = reference_url
        if page_ids is not None:
            change_set.page_ids = _unique(page_ids)
        self._changed()
        return self._view(change_set)

    def archive_change_set(self, change_set_id: str) -> dict[str, Any]:
        """Archive a change set; from then on it is read-only."""
        change_set = self._open_change_set(change_set_id)
        change_set.status = self.archived_status
        self._changed()
        return self._view(change_set)

    def preflight_change_set(self, change_set_id: str) -> dict[str, Any]:
        """What submit would do, page by page; changes nothing (archived ones allowed)."""
        change_set = self._change_set(change_set_id)
        checks = [self._lenient(change_set, page_id) for page_id in change_set.page_ids]
        submittable = sum(check.can_submit for check in checks)
        return {
            "summary": {
                "total": len(checks),
                "submittable": submittable,
                "blocked": len(checks) - submittable,
            },
            "results": [_preflight_result(check) for check in checks],
        }

    def submit_change_set(self, change_set_id: str) -> dict[str, Any]:
        """Submit every eligible page of an open change set; the others are skipped."""
        change_set = self._open_change_set(change_set_id)
        results: list[dict[str, Any]] = []
        for page_id in change_set.page_ids:
            check = self._lenient(change_set, page_id)
            if check.workflow_id is not None and check.can_submit:
                self._submit(page_id, check.workflow_id, change_set.id)
                results.append(
                    {"pageId": page_id, "success": True, "workflowId": check.workflow_id}
                )
            else:
                results.append({"pageId": page_id, "success": False, "reason": check.reason})
        submitted = sum(1 for result in results if result["success"])
        return {
            "submittedCount": submitted,
            "skippedCount": len(results) - submitted,
            "results": results,
        }

    def _lenient(self, change_set: ChangeSet, page_id: str) -> Eligibility:
        return self.eligibility(page_id, space_id=change_set.space_id, strict=False)

    # -- single pages --------------------------------------------------------------------------

    def preflight_page(self, page_id: str) -> dict[str, Any]:
        """Whether one page can be submitted on its own (the strict rule)."""
        return _preflight_result(self.eligibility(page_id, space_id=None, strict=True))

    def submit_page(self, page_id: str) -> dict[str, Any]:
        """Submit one page; a blocked page is refused with its reason."""
        check = self.eligibility(page_id, space_id=None, strict=True)
        if check.workflow_id is None or not check.can_submit:
            raise InvalidRequestError(check.reason or NO_WORKFLOW)
        self._submit(page_id, check.workflow_id, None)
        return {"pageId": page_id, "workflowId": check.workflow_id}

    def _submit(self, page_id: str, workflow_id: str, change_set_id: str | None) -> None:
        page = self.pages[page_id]
        approval = Approval(
            page_id=page_id,
            version=page.version,
            workflow_id=workflow_id,
            change_set_id=change_set_id,
            submitted_at=iso_time(self.clock()),
        )
        self.approvals.setdefault(page_id, []).append(approval)
        self._changed()

    # -- what people do in Confluence (the admin surface) --------------------------------------

    def add_page(
        self,
        space_id: str,
        page_id: str,
        title: str | None = None,
        version: int = 1,
        workflow: str | None = None,
    ) -> dict[str, Any]:
        """Create a page in a space, optionally with an assigned workflow."""
        self._space(space_id)
        if page_id in self.pages:
            raise InvalidRequestError(f"Page {page_id} already exists")
        if version < 1:
            raise InvalidRequestError("version must be 1 or more")
        if workflow is not None:
            self._workflow_of(space_id, workflow)
        page = Page(page_id, space_id, title or f"Page {page_id}", version, workflow)
        self.pages[page_id] = page
        self._changed()
        return _page_dict(page)

    def put_workflow(
        self, space_id: str, workflow_id: str, name: str | None = None, active: bool | None = None
    ) -> dict[str, Any]:
        """Add a workflow to a space, or change the name or activity of one it has."""
        self._space(space_id)
        workflow = self.workflows.get(workflow_id)
        if workflow is None:
            workflow = Workflow(workflow_id, space_id, name or workflow_id, active is not False)
            self.workflows[workflow_id] = workflow
        elif workflow.space_id != space_id:
            raise InvalidRequestError(f"Workflow {workflow_id} belongs to another space")
        else:
            workflow.name = name or workflow.name
            workflow.active = workflow.active if active is None else active
        self._changed()
        return {
            "id": workflow.id,
            "spaceId": space_id,
            "name": workflow.name,
            "active": workflow.active,
        }

    def assign_workflow(self, page_id: str, workflow_id: str | None) -> dict[str, Any]:
        """Assign a workflow of the page's space to the page, or remove the assignment."""
        page = self._page(page_id)
        if workflow_id is not None:
            self._workflow_of(page.space_id, workflow_id)
        page.workflow = workflow_id
        self._changed()
        return _page_dict(page)

    def decide(self, page_id: str, status: str) -> dict[str, Any]:
        """Approve or reject the page's pending approval, at the version that was submitted."""
        self._page(page_id)
        latest = self._latest(page_id)
        if latest is None or latest.status != PENDING:
            raise InvalidRequestError(f"Page {page_id} has no pending approval")
        latest.status = status
        latest.decided_at = iso_time(self.clock())
        self._changed()
        return {
            "pageId": page_id,
            "status": status,
            "version": latest.version,
            "workflowId": latest.workflow_id,
            "changeSetId": latest.change_set_id,
        }

    def edit_page(self, page_id: str) -> dict[str, Any]:
        """Someone edits the page: its version goes up by one."""
        page = self._page(page_id)
        page.version += 1
        self._changed()
        return _page_dict(page)

    def set_licence(self, active: bool) -> None:
        """Activate or lapse ApprovalFlow's licence on the site."""
        self.licence_active = active
        self._changed()

    def set_rest_api(self, enabled: bool) -> None:
        """The site admin's "App REST APIs" switch."""
        self.rest_api_enabled = enabled
        self._changed()

    def put_token(self, token: str, scopes: list[str]) -> None:
        """Grant an access token these scopes (replacing what it had)."""
        self.tokens[token] = frozenset(scopes)
        self._changed()

    # -- lookups -------------------------------------------------------------------------------

    def _space(self, space_id: str) -> Space:
        space = self.spaces.get(space_id)
        if space is None:
            raise InvalidRequestError(SPACE_NOT_FOUND)
        return space

    def _page(self, page_id: str) -> Page:
        page = self.pages.get(page_id)
        if page is None:
            raise InvalidRequestError(PAGE_NOT_FOUND)
        return page

    def _workflow_of(self, space_id: str, workflow_id: str) -> Workflow:
        workflow = self.workflows.get(workflow_id)
        if workflow is None or workflow.space_id != space_id:
            raise InvalidRequestError(f"Workflow {workflow_id} not found in space {space_id}")
        return workflow

    def _change_set(self, change_set_id: str) -> ChangeSet:
        change_set = self.change_sets.get(change_set_id)
        if change_set is None:
            raise InvalidRequestError(CHANGE_SET_NOT_FOUND)
        return change_set

    def _open_change_set(self, change_set_id: str) -> ChangeSet:
        change_set = self._change_set(change_set_id)
        if change_set.status != OPEN:
            raise InvalidRequestError(ARCHIVED)
        return change_set

    def _new_change_set_id(self) -> str:
        """Opaque-looking but deterministic ids, so runs and saved states repeat exactly."""
        while True:
            self.change_set_counter += 1
            digest = hashlib.sha256(f"change-set:{self.change_set_counter}".encode())
            candidate = "cs-" + digest.hexdigest()[:12]
            if candidate not in self.change_sets:
                return candidate

    # -- views ---------------------------------------------------------------------------------

    def _view(self, change_set: ChangeSet) -> dict[str, Any]:
        return {
            "id": change_set.id,
            "spaceId": change_set.space_id,
            "title": change_set.title,
            "summary": change_set.summary,
            "referenceUrl": change_set.reference_url,
            "status": change_set.status,
            "rollupState": self.rollup_state(change_set),
            "pageRefs": [{"pageId": page_id} for page_id in change_set.page_ids],
            "createdAt": change_set.created_at,
            "createdBy": change_set.created_by,
        }

    def _page_versions(self, page_id: str) -> dict[str, Any]:
        page = self.pages.get(page_id)
        approved = self._last_approved(page_id)
        current = page.version if page is not None else None
        at = approved.version if approved is not None else None
        ref: dict[str, Any] = {"pageId": page_id}
        if page is not None:
            ref["title"] = page.title
        ref.update(
            currentPageVersion=current,
            approvedAtVersion=at,
            isStale=current is not None and at is not None and current > at,
            versionDelta=current - at if current is not None and at is not None else None,
        )
        return ref


def _unique(page_ids: list[str]) -> list[str]:
    return list(dict.fromkeys(page_ids))


def _preflight_result(check: Eligibility) -> dict[str, Any]:
    if check.can_submit:
        return {"pageId": check.page_id, "canSubmit": True, "workflowId": check.workflow_id}
    return {"pageId": check.page_id, "canSubmit": False, "reason": check.reason}


def _page_dict(page: Page) -> dict[str, Any]:
    return {
        "id": page.id,
        "spaceId": page.space_id,
        "title": page.title,
        "version": page.version,
        "workflow": page.workflow,
    }
