"""Requests in, answers out: the API, OAuth and admin routes, faults, the call log, no sockets.

:class:`SandboxApp` turns a parsed :class:`Request` into a :class:`Response`, or into None when an
injected fault says to close the connection without answering. It holds the one lock around the
state, the call log and the faults; it sleeps (latency, delays) outside the lock so a slow call
never stalls the others. Saving the state is a function passed in, called under the lock after
every change so saves keep their order.

The OAuth routes (``/authorize``, ``/oauth/token``, ``/oauth/token/accessible-resources``) share
the API's call log, faults and latency; their log entries keep no secret (no code, token, client
secret or state), only the parameters that say what was asked.
"""

from __future__ import annotations

import json
import logging
import re
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Annotated, Any, Literal, TypeVar
from urllib.parse import parse_qsl

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError

from approvalflow_sync.errors import ConfigError
from approvalflow_sync.sandbox import oauth
from approvalflow_sync.sandbox import state as rules
from approvalflow_sync.sandbox.oauth import CLOUD_ID
from approvalflow_sync.sandbox.seed import (
    Checked,
    OAuthClientSeed,
    Seed,
    Text,
    TokenSeed,
    first_problem,
    only_digits,
    validate_seed,
)
from approvalflow_sync.sandbox.state import (
    ForbiddenError,
    InvalidRequestError,
    RefusalError,
    SandboxClock,
    SandboxState,
    UnauthorizedError,
)

log = logging.getLogger("approvalflow_sync.sandbox")

ADMIN_PREFIX = "/_sandbox"
JSON_TYPE = "application/json; charset=utf-8"
INJECTED_FAULT = "Injected fault"

Params = Mapping[str, object]
Saver = Callable[[dict[str, Any]], None]


@dataclass(frozen=True)
class Request:
    """One HTTP request as the app needs it; the token is kept apart and never logged."""

    method: str
    path: str
    query: Mapping[str, str] = field(default_factory=dict)
    body: bytes = b""
    token: str | None = None
    content_type: str = ""


@dataclass(frozen=True)
class Response:
    """One answer: status, body bytes, content type and extra headers."""

    status: int
    body: bytes
    content_type: str = JSON_TYPE
    headers: tuple[tuple[str, str], ...] = ()


def json_response(
    status: int, payload: object, headers: tuple[tuple[str, str], ...] = ()
) -> Response:
    """A JSON answer."""
    return Response(status, json.dumps(payload, ensure_ascii=False).encode(), JSON_TYPE, headers)


def api_error(status: int, message: str, headers: tuple[tuple[str, str], ...] = ()) -> Response:
    """ApprovalFlow's failure shape."""
    return json_response(status, {"success": False, "error": message}, headers)


def _admin_error(status: int, message: str) -> Response:
    return json_response(status, {"ok": False, "error": message})


# -- request parameters ------------------------------------------------------------------------


M = TypeVar("M", bound=BaseModel)
PageId = Annotated[str, AfterValidator(only_digits)]


class _Request(Checked):
    model_config = ConfigDict(extra="ignore", strict=True)


class _SpaceCall(_Request):
    spaceId: Text


class _ChangeSetCall(_Request):
    changeSetId: Text


class _PageCall(_Request):
    pageId: PageId


PageRefs = Annotated[list[_PageCall], Field(min_length=1)]


class _NewChangeSet(_Request):
    spaceId: Text
    title: Text
    pageRefs: PageRefs
    summary: str | None = None
    referenceUrl: str | None = None


class _ChangeSetUpdate(_ChangeSetCall):
    title: Text | None = None
    summary: str | None = None
    referenceUrl: str | None = None
    pageRefs: PageRefs | None = None


Seconds = Annotated[float, Field(ge=0)]
MAX_DELAY_SECONDS = 60.0
"""The longest latency or fault delay: a handler thread sleeps that long."""
Delay = Annotated[float, Field(ge=0, le=MAX_DELAY_SECONDS)]


class _FaultSpec(_Request):
    path: Text
    method: Text | None = None
    count: int = Field(default=1, ge=1)
    status: int | None = Field(default=None, ge=100, le=599)
    retryAfter: str | int | float | None = None
    delay: Delay = 0.0
    drop: Literal["before", "after"] | None = None
    body: str | None = None
    contentType: str | None = None
    headers: dict[str, str] = Field(default_factory=dict)


class _NewPage(_Request):
    spaceId: Text
    id: PageId
    title: Text | None = None
    version: int = 1
    workflow: Text | None = None


class _WorkflowSpec(_Request):
    spaceId: Text
    id: Text
    name: Text | None = None
    active: bool | None = None


class _Assignment(_PageCall):
    workflowId: Text | None
    """Required; null removes the assignment."""


class _Switch(_Request):
    active: bool | None = None
    enabled: bool | None = None
    approve: bool | None = None


class _Seconds(_Request):
    seconds: Delay = 0.0
    advance: Seconds | None = None


class _Revoke(_Request):
    refreshToken: Text


def _read(model: type[M], params: Params) -> M:
    """The request's parameters checked by ``model``; a refusal names the field otherwise."""
    try:
        return model.model_validate(params)
    except ValidationError as exc:
        raise InvalidRequestError(first_problem(exc)) from None


# -- the API -----------------------------------------------------------------------------------


Answers = Literal["reference", "rich"]
"""``reference``: only what the vendor's reference shows; ``rich``: the change set everywhere."""

APP_ID = "7d9b1e4c-2f3a-4b5c-9d8e-0a1b2c3d4e5f"
ENVIRONMENT_ID = "e3c2b1a0-9f8e-4d7c-8b6a-5f4e3d2c1b0a"
"""The ids of the sandbox's ApprovalFlow app, for the base URL built from its parts."""
_REAL_PATHS = (
    re.compile(
        r"^/svc/confluence/(?P<cloud>[^/]+)/apps/(?P<app>[^/]+)_(?P<env>[^/_]+)(?P<rest>/.*)?$"
    ),
    re.compile(r"^/gateway/api/svc/confluence/apps/(?P<app>[^/]+)_(?P<env>[^/_]+)(?P<rest>/.*)?$"),
)
"""The two documented base URL forms; the API also answers at the root, for short URLs."""


def _nothing(answer: dict[str, Any]) -> dict[str, Any]:
    return {}


def _flat(answer: dict[str, Any]) -> dict[str, Any]:
    return dict(answer["changeSet"])


def _without_page_id(answer: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in answer.items() if key != "pageId"}


def _same(answer: dict[str, Any]) -> dict[str, Any]:
    return answer


@dataclass(frozen=True)
class Endpoint:
    """One API endpoint: its scope, where its parameters are read, what it does to the state.

    ``run`` gives the rich answer; ``reference`` cuts it down to what the reference shows.
    """

    scope: str
    run: Callable[[SandboxState, Params], dict[str, Any]]
    where: Literal["query", "body", "either"] = "body"
    reference: Callable[[dict[str, Any]], dict[str, Any]] = _same


def _list(state: SandboxState, p: Params) -> dict[str, Any]:
    return {"changeSets": state.list_change_sets(_read(_SpaceCall, p).spaceId)}


def _detail(state: SandboxState, p: Params) -> dict[str, Any]:
    return {"changeSet": state.change_set_detail(_read(_ChangeSetCall, p).changeSetId)}


def _create(state: SandboxState, p: Params) -> dict[str, Any]:
    new = _read(_NewChangeSet, p)
    pages = [ref.pageId for ref in new.pageRefs]
    return {
        "changeSet": state.create_change_set(
            new.spaceId, new.title, pages, summary=new.summary, reference_url=new.referenceUrl
        )
    }


def _update(state: SandboxState, p: Params) -> dict[str, Any]:
    change = _read(_ChangeSetUpdate, p)
    pages = None if change.pageRefs is None else [ref.pageId for ref in change.pageRefs]
    return {
        "changeSet": state.update_change_set(
            change.changeSetId,
            title=change.title,
            summary=change.summary,
            reference_url=change.referenceUrl,
            page_ids=pages,
        )
    }


def _archive(state: SandboxState, p: Params) -> dict[str, Any]:
    return {"changeSet": state.archive_change_set(_read(_ChangeSetCall, p).changeSetId)}


def _submit(state: SandboxState, p: Params) -> dict[str, Any]:
    return state.submit_change_set(_read(_ChangeSetCall, p).changeSetId)


def _preflight(state: SandboxState, p: Params) -> dict[str, Any]:
    return state.preflight_change_set(_read(_ChangeSetCall, p).changeSetId)


def _page_submit(state: SandboxState, p: Params) -> dict[str, Any]:
    return state.submit_page(_read(_PageCall, p).pageId)


def _page_preflight(state: SandboxState, p: Params) -> dict[str, Any]:
    return state.preflight_page(_read(_PageCall, p).pageId)


API: dict[str, dict[str, Endpoint]] = {
    "/changeSets": {
        "GET": Endpoint(rules.READ_CHANGE_SET, _list, "either"),
        "POST": Endpoint(rules.WRITE_CHANGE_SET, _create, reference=_nothing),
    },
    "/changeSets/detail": {"GET": Endpoint(rules.READ_CHANGE_SET, _detail, "query", _flat)},
    "/changeSets/update": {"POST": Endpoint(rules.WRITE_CHANGE_SET, _update, reference=_nothing)},
    "/changeSets/archive": {"POST": Endpoint(rules.WRITE_CHANGE_SET, _archive, reference=_nothing)},
    "/changeSets/submit": {"POST": Endpoint(rules.WRITE_CHANGE_SET, _submit)},
    "/changeSets/preflight": {"POST": Endpoint(rules.READ_CHANGE_SET, _preflight)},
    "/pages/submit": {"POST": Endpoint(rules.WRITE_APPROVAL, _page_submit, reference=_nothing)},
    "/pages/preflight": {
        "POST": Endpoint(rules.READ_APPROVAL, _page_preflight, reference=_without_page_id)
    },
}
"""Path, then method, to endpoint: the nine calls of the vendor's reference."""


# -- faults ------------------------------------------------------------------------------------


@dataclass
class Fault:
    """What the next ``remaining`` matching API calls suffer instead of (or besides) an answer."""

    path: str
    method: str | None = None
    remaining: int = 1
    status: int | None = None
    retry_after: str | None = None
    delay: float = 0.0
    drop: str | None = None
    body: str | None = None
    content_type: str | None = None
    headers: dict[str, str] = field(default_factory=dict)

    @classmethod
    def from_params(cls, p: Params) -> Fault:
        """Read a fault from the admin call's body."""
        spec = _read(_FaultSpec, p)
        return cls(
            path=spec.path if spec.path == "/" else spec.path.rstrip("/"),
            method=spec.method.upper() if spec.method else None,
            remaining=spec.count,
            status=spec.status,
            retry_after=None if spec.retryAfter is None else str(spec.retryAfter),
            delay=spec.delay,
            drop=spec.drop,
            body=spec.body,
            content_type=spec.contentType,
            headers=spec.headers,
        )

    def matches(self, method: str, path: str) -> bool:
        """Whether a call is one this fault aims at."""
        return self.path == path and self.method in (None, method)

    @property
    def answers(self) -> bool:
        """True when the fault answers in place of the API; a bare delay only slows the call."""
        if self.drop is not None:
            return False
        given = (self.status, self.body, self.retry_after, self.content_type)
        return any(item is not None for item in given) or bool(self.headers) or not self.delay

    def response(self) -> Response:
        """The injected answer: the raw body if given, else ApprovalFlow's failure shape."""
        status = self.status or 500
        headers = tuple(self.headers.items())
        if self.retry_after is not None:
            headers += (("Retry-After", self.retry_after),)
        if self.body is None:
            return api_error(status, INJECTED_FAULT, headers)
        content_type = self.content_type or "text/html; charset=utf-8"
        return Response(status, self.body.encode(), content_type, headers)

    def to_dict(self) -> dict[str, Any]:
        """The fault as the admin surface shows it."""
        return {
            "method": self.method,
            "path": self.path,
            "count": self.remaining,
            "status": self.status,
            "retryAfter": self.retry_after,
            "delay": self.delay,
            "drop": self.drop,
            "body": self.body,
            "contentType": self.content_type,
            "headers": self.headers,
        }


# -- the app -----------------------------------------------------------------------------------

AdminRoute = Callable[["SandboxApp", Params], object]


class SandboxApp:
    """The sandbox behind the sockets: state, call log, faults and latency under one lock."""

    def __init__(
        self,
        seed: Seed,
        state: SandboxState | None = None,
        *,
        latency: float = 0.0,
        save: Saver | None = None,
        sleep: Callable[[float], None] = time.sleep,
        answers: Answers = "reference",
    ) -> None:
        self.seed = seed
        self.answers: Answers = answers
        self.clock = SandboxClock(state.clock if state is not None else rules.utc_now)
        """The sandbox's clock; ``POST /_sandbox/clock`` moves it forward."""
        self.state = state if state is not None else SandboxState.from_seed(seed, self.clock)
        self.state.clock = self.clock
        self.state.archived_status = rules.ARCHIVED_STATUSES[answers]
        self.latency = latency
        self._save = save
        self._sleep = sleep
        self._lock = threading.Lock()
        self.calls: list[dict[str, Any]] = []
        self.faults: list[Fault] = []

    def handle(self, request: Request) -> Response | None:
        """Answer a request; None means close the connection without an answer."""
        path = _normalize(request.path)
        if path == ADMIN_PREFIX or path.startswith(ADMIN_PREFIX + "/"):
            return self._admin(request, path[len(ADMIN_PREFIX) :] or "/")
        for form in _REAL_PATHS:
            found = form.match(path)
            if found is not None:
                ids = (found.groupdict().get("cloud") or CLOUD_ID, found["app"], found["env"])
                if ids != (CLOUD_ID, APP_ID, ENVIRONMENT_ID):
                    return api_error(404, "Not found")
                path = found["rest"] or "/"
                break
        return self._api(request, path)

    # -- API calls -----------------------------------------------------------------------------

    def _api(self, request: Request, path: str) -> Response | None:
        is_oauth = path in OAUTH
        if is_oauth:
            body, body_error = _parse_oauth_body(request)
        else:
            body, body_error = _parse_body(request.body)
        call: dict[str, Any] = {
            "method": request.method,
            "path": path,
            "query": _without_secrets(request.query) if is_oauth else dict(request.query),
            "body": _without_secrets(body) if is_oauth and isinstance(body, dict) else body,
            "status": None,
            "time": rules.iso_time(rules.utc_now()),
        }
        with self._lock:
            self.calls.append(call)
            fault = self._take_fault(request.method, path)
            latency = self.latency
        if latency:
            self._sleep(latency)
        if fault is not None and fault.delay:
            self._sleep(fault.delay)
        if fault is not None and fault.drop == "before":
            return None
        if fault is not None and fault.answers:
            response = fault.response()
        else:
            response = self._run(request, path, body, body_error)
            if fault is not None and fault.drop == "after":
                return None
        with self._lock:
            call["status"] = response.status
        return response

    def _take_fault(self, method: str, path: str) -> Fault | None:
        for fault in self.faults:
            if fault.matches(method, path):
                fault.remaining -= 1
                if fault.remaining <= 0:
                    self.faults.remove(fault)
                return fault
        return None

    def _run(self, request: Request, path: str, body: object, body_error: str | None) -> Response:
        if path in OAUTH:
            return self._oauth(request, path, body, body_error)
        methods = API.get(path)
        if methods is None:
            return api_error(404, "Not found")
        endpoint = methods.get(request.method)
        if endpoint is None:
            return api_error(405, "Method not allowed", (("Allow", ", ".join(methods)),))
        with self._lock:
            before = self.state.revision
            try:
                self.state.authorize(request.token, endpoint.scope)
                answer = endpoint.run(self.state, _params(request, endpoint, body, body_error))
                if self.answers == "reference":
                    answer = endpoint.reference(answer)
            except UnauthorizedError as refusal:
                return api_error(401, refusal.message, (("WWW-Authenticate", "Bearer"),))
            except ForbiddenError as refusal:
                return api_error(403, refusal.message)
            except RefusalError as refusal:
                return api_error(400, refusal.message)
            except Exception:
                log.exception("sandbox: %s %s failed", request.method, path)
                return api_error(500, "Internal error in the sandbox")
            finally:
                self._save_if(self.state.revision != before)
        return json_response(200, {"success": True, **answer})

    def _oauth(self, request: Request, path: str, body: object, body_error: str | None) -> Response:
        route = OAUTH[path].get(request.method)
        if route is None:
            allow = ", ".join(OAUTH[path])
            return json_response(
                405,
                {"error": "invalid_request", "error_description": "Method not allowed"},
                (("Allow", allow),),
            )
        with self._lock:
            before = self.state.revision
            try:
                return route(self.state, request, body, body_error)
            except Exception:
                log.exception("sandbox: %s %s failed", request.method, path)
                return json_response(500, {"error": "server_error"})
            finally:
                self._save_if(self.state.revision != before)

    def _save_if(self, changed: bool) -> None:
        if changed and self._save is not None:
            self._save(self.state.to_dict())

    # -- the admin surface ---------------------------------------------------------------------

    def _admin(self, request: Request, path: str) -> Response:
        methods = ADMIN.get(path)
        if methods is None:
            return _admin_error(404, f"No sandbox admin path {ADMIN_PREFIX}{path}")
        route = methods.get(request.method)
        if route is None:
            return _admin_error(405, f"{ADMIN_PREFIX}{path} takes {', '.join(methods)}")
        body, body_error = _parse_body(request.body)
        if body_error is not None:
            return _admin_error(400, body_error)
        with self._lock:
            state, revision = self.state, self.state.revision
            try:
                answer = route(self, body if isinstance(body, dict) else {})
            except RefusalError as refusal:
                return _admin_error(400, refusal.message)
            except ConfigError as error:
                return _admin_error(400, str(error))
            finally:
                self._save_if(self.state is not state or self.state.revision != revision)
        return json_response(200, answer)

    def replace_state(self, state: SandboxState) -> None:
        """Swap in a new state and forget calls and faults (caller holds the lock)."""
        state.archived_status = rules.ARCHIVED_STATUSES[self.answers]
        self.state = state
        self.calls.clear()
        self.faults.clear()


def _ok(**extra: object) -> dict[str, object]:
    return {"ok": True, **extra}


def _admin_reset(app: SandboxApp, p: Params) -> object:
    app.replace_state(SandboxState.from_seed(app.seed, app.state.clock))
    return _ok()


def _admin_seed(app: SandboxApp, p: Params) -> object:
    app.seed = validate_seed(p, "seed")
    return _admin_reset(app, p)


def _admin_state(app: SandboxApp, p: Params) -> object:
    return app.state.to_dict()


def _admin_health(app: SandboxApp, p: Params) -> object:
    return {"ok": True}


def _admin_add_page(app: SandboxApp, p: Params) -> object:
    new = _read(_NewPage, p)
    page = app.state.add_page(
        new.spaceId, new.id, title=new.title, version=new.version, workflow=new.workflow
    )
    return _ok(page=page)


def _admin_put_workflow(app: SandboxApp, p: Params) -> object:
    spec = _read(_WorkflowSpec, p)
    workflow = app.state.put_workflow(spec.spaceId, spec.id, name=spec.name, active=spec.active)
    return _ok(workflow=workflow)


def _admin_assign(app: SandboxApp, p: Params) -> object:
    assignment = _read(_Assignment, p)
    return _ok(page=app.state.assign_workflow(assignment.pageId, assignment.workflowId))


def _admin_approve(app: SandboxApp, p: Params) -> object:
    return _ok(approval=app.state.decide(_read(_PageCall, p).pageId, rules.APPROVED))


def _admin_reject(app: SandboxApp, p: Params) -> object:
    return _ok(approval=app.state.decide(_read(_PageCall, p).pageId, rules.REJECTED))


def _admin_edit_page(app: SandboxApp, p: Params) -> object:
    return _ok(page=app.state.edit_page(_read(_PageCall, p).pageId))


def _switch(p: Params, name: Literal["active", "enabled", "approve"]) -> bool:
    value = getattr(_read(_Switch, p), name)
    if value is None:
        raise InvalidRequestError(f"{name}: Field required")
    return bool(value)


def _admin_licence(app: SandboxApp, p: Params) -> object:
    app.state.set_licence(_switch(p, "active"))
    return _ok(licence=app.state.licence_active)


def _admin_rest_api(app: SandboxApp, p: Params) -> object:
    app.state.set_rest_api(_switch(p, "enabled"))
    return _ok(restApi=app.state.rest_api_enabled)


def _admin_token(app: SandboxApp, p: Params) -> object:
    token = _read(TokenSeed, p)
    app.state.put_token(token.token, token.scopes)
    return _ok()


def _admin_calls(app: SandboxApp, p: Params) -> object:
    return {"calls": [dict(call) for call in app.calls]}


def _admin_clear_calls(app: SandboxApp, p: Params) -> object:
    app.calls.clear()
    return _ok()


def _admin_faults(app: SandboxApp, p: Params) -> object:
    return {"faults": [fault.to_dict() for fault in app.faults]}


def _admin_add_fault(app: SandboxApp, p: Params) -> object:
    fault = Fault.from_params(p)
    app.faults.append(fault)
    return _ok(fault=fault.to_dict())


def _admin_clear_faults(app: SandboxApp, p: Params) -> object:
    app.faults.clear()
    return _ok()


def _admin_latency(app: SandboxApp, p: Params) -> object:
    app.latency = _read(_Seconds, p).seconds
    return _ok(seconds=app.latency)


def _admin_clock(app: SandboxApp, p: Params) -> object:
    advance = _read(_Seconds, p).advance
    if advance is not None:
        app.clock.advance(advance)
    return _ok(now=rules.iso_time(app.clock()), offsetSeconds=app.clock.offset.total_seconds())


def _admin_oauth_client(app: SandboxApp, p: Params) -> object:
    spec = _read(OAuthClientSeed, p)
    client = oauth.OAuthClient(
        spec.clientId, spec.clientSecret, frozenset(spec.scopes), tuple(spec.callbackUrls)
    )
    app.state.oauth.register(client)
    app.state.revision += 1
    return _ok(clientId=client.client_id, scopes=sorted(client.scopes))


def _admin_oauth_revoke(app: SandboxApp, p: Params) -> object:
    if not app.state.oauth.revoke(_read(_Revoke, p).refreshToken):
        raise InvalidRequestError("Unknown refresh token (or it was already dropped as dead)")
    app.state.revision += 1
    return _ok()


def _admin_oauth_consent(app: SandboxApp, p: Params) -> object:
    app.state.oauth.auto_consent = _switch(p, "approve")
    app.state.revision += 1
    return _ok(approve=app.state.oauth.auto_consent)


ADMIN: dict[str, dict[str, AdminRoute]] = {
    "/health": {"GET": _admin_health},
    "/reset": {"POST": _admin_reset},
    "/seed": {"POST": _admin_seed},
    "/state": {"GET": _admin_state},
    "/pages": {"POST": _admin_add_page},
    "/workflows": {"POST": _admin_put_workflow},
    "/pages/assign": {"POST": _admin_assign},
    "/approve": {"POST": _admin_approve},
    "/reject": {"POST": _admin_reject},
    "/edit-page": {"POST": _admin_edit_page},
    "/licence": {"POST": _admin_licence},
    "/rest-api": {"POST": _admin_rest_api},
    "/tokens": {"POST": _admin_token},
    "/calls": {"GET": _admin_calls, "DELETE": _admin_clear_calls},
    "/faults": {"GET": _admin_faults, "POST": _admin_add_fault, "DELETE": _admin_clear_faults},
    "/latency": {"POST": _admin_latency},
    "/clock": {"GET": _admin_clock, "POST": _admin_clock},
    "/oauth/clients": {"POST": _admin_oauth_client},
    "/oauth/revoke": {"POST": _admin_oauth_revoke},
    "/oauth/consent": {"POST": _admin_oauth_consent},
}
"""Path under ``/_sandbox``, then method, to what it does; no auth, JSON in and out."""


# -- OAuth (Atlassian's authorization server) ---------------------------------------------------

OAuthRoute = Callable[[SandboxState, Request, object, str | None], Response]

_LOGGED_OAUTH_FIELDS = frozenset(
    ("grant_type", "client_id", "redirect_uri", "scope", "audience", "response_type", "prompt")
)
"""What the call log keeps of OAuth requests: never a code, token, client secret or state."""


def _without_secrets(params: Mapping[str, object]) -> dict[str, object]:
    return {k: v for k, v in params.items() if k in _LOGGED_OAUTH_FIELDS}


def _oauth_error(status: int, error: str, description: str) -> Response:
    return json_response(status, {"error": error, "error_description": description})


def _consent_page(
    state: SandboxState, request: Request, body: object, body_error: str | None
) -> Response:
    try:
        location = state.oauth.consent(request.query, state.clock())
    except oauth.ConsentPageError as problem:
        page = f"<!doctype html><title>Authorization failed</title><p>{problem.message}</p>"
        return Response(400, page.encode(), "text/html; charset=utf-8")
    return Response(302, b"", "text/plain; charset=utf-8", (("Location", location),))


def _token(state: SandboxState, request: Request, body: object, body_error: str | None) -> Response:
    if body_error is not None:
        return _oauth_error(400, "invalid_request", body_error)
    try:
        answer = state.oauth.token(body if isinstance(body, dict) else {}, state.clock())
    except oauth.OAuthRefusalError as refusal:
        return json_response(refusal.status, refusal.body())
    state.revision += 1
    return json_response(200, answer, (("Cache-Control", "no-store"),))


def _resources(
    state: SandboxState, request: Request, body: object, body_error: str | None
) -> Response:
    scopes = state.token_scopes(request.token)
    if scopes is None:
        return json_response(
            401, {"code": 401, "message": "Unauthorized"}, (("WWW-Authenticate", "Bearer"),)
        )
    return json_response(200, oauth.accessible_resources(scopes))


OAUTH: dict[str, dict[str, OAuthRoute]] = {
    "/authorize": {"GET": _consent_page},
    "/oauth/token": {"POST": _token},
    "/oauth/token/accessible-resources": {"GET": _resources},
}
"""Atlassian's authorization server on the same port: consent page, token endpoint, sites."""


def _parse_oauth_body(request: Request) -> tuple[object, str | None]:
    """A token request's body: JSON (Atlassian's documented form) or form-encoded."""
    if "application/x-www-form-urlencoded" in request.content_type.lower():
        try:
            text = request.body.decode("utf-8")
        except UnicodeDecodeError:
            return None, "Request body is not valid UTF-8"
        return dict(parse_qsl(text, keep_blank_values=True)), None
    return _parse_body(request.body)


def _params(request: Request, endpoint: Endpoint, body: object, body_error: str | None) -> Params:
    """The call's parameters, only where the reference puts them: query, body, or either."""
    if endpoint.where == "query":
        return request.query
    if body_error is not None:
        raise InvalidRequestError(body_error)
    fields = body if isinstance(body, dict) else {}
    return {**fields, **request.query} if endpoint.where == "either" else fields


def _normalize(path: str) -> str:
    return path if path == "/" else path.rstrip("/") or "/"


def _parse_body(raw: bytes) -> tuple[object, str | None]:
    """The JSON body (None when empty) and the problem with it, if any."""
    if not raw.strip():
        return None, None
    try:
        body = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        return None, "Request body is not valid JSON"
    if not isinstance(body, dict):
        return body, "Request body must be a JSON object"
    return body, None
