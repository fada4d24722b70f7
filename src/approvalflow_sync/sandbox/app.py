"""Requests in, answers out, no sockets: the API, OAuth and admin routes, faults, the call log.

One lock guards state, call log and faults; sleeps happen outside it, so a slow call never stalls
the others; ``save`` runs under it after each change, so saves keep their order."""

from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Annotated, Any, Literal, TypeVar
from urllib.parse import parse_qsl

from pydantic import (
    BaseModel,
    Field,
    ValidationError,
    create_model,
    model_validator,
)

from approvalflow_sync.errors import ConfigError, RefusalError
from approvalflow_sync.sandbox import oauth
from approvalflow_sync.sandbox.oauth import CLOUD_ID
from approvalflow_sync.sandbox.seed import (
    OAuthClientSeed,
    Seed,
    Text,
    TokenSeed,
    first_problem,
    validate_seed,
)
from approvalflow_sync.sandbox.state import (
    API,
    APPROVED,
    ARCHIVED_STATUSES,
    REJECTED,
    Assignment,
    Call,
    NewPage,
    PageCall,
    SandboxState,
    WorkflowSpec,
    iso_time,
)

ADMIN_PREFIX = "/_sandbox"
JSON_TYPE = "application/json; charset=utf-8"
HTML_TYPE = "text/html; charset=utf-8"

Headers = tuple[tuple[str, str], ...]
Params = Mapping[str, object]
Saver = Callable[[dict[str, Any]], None]
M = TypeVar("M", bound=BaseModel)


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
    status: int
    body: bytes
    content_type: str = JSON_TYPE
    headers: Headers = ()


def json_response(status: int, payload: object, headers: Headers = ()) -> Response:
    return Response(status, json.dumps(payload, ensure_ascii=False).encode(), JSON_TYPE, headers)


def api_error(status: int, message: str, headers: Headers = ()) -> Response:
    """ApprovalFlow's failure shape."""
    return json_response(status, {"success": False, "error": message}, headers)


def _read(model: type[M], params: object) -> M:
    """The parameters checked by ``model``; otherwise a refusal naming the field."""
    try:
        return model.model_validate(params)
    except ValidationError as exc:
        raise RefusalError(first_problem(exc)) from None


# -- the API -----------------------------------------------------------------------------------

Answers = Literal["reference", "rich"]
"""``reference``: only what the vendor's reference shows; ``rich``: the change set everywhere."""

APP_ID = "7d9b1e4c-2f3a-4b5c-9d8e-0a1b2c3d4e5f"
ENVIRONMENT_ID = "e3c2b1a0-9f8e-4d7c-8b6a-5f4e3d2c1b0a"
"""The ids of the sandbox's ApprovalFlow app, for the base URL built from its parts."""
_REAL_PATHS = re.compile(
    r"^(?:/svc/confluence/(?P<cloud>[^/]+)|/gateway/api/svc/confluence)"
    r"/apps/(?P<app>[^/]+)_(?P<env>[^/_]+)(?P<rest>/.*)?$"
)
"""The two documented base URL forms; the API also answers at the root, for short URLs."""


Seconds = Annotated[float, Field(ge=0)]
MAX_DELAY_SECONDS = 60.0
"""The longest latency or fault delay: a handler thread sleeps that long."""
Delay = Annotated[float, Field(ge=0, le=MAX_DELAY_SECONDS)]


class Fault(Call):
    """What the next ``count`` matching calls suffer instead of (or besides) an answer."""

    method: Text | None = None
    path: Text
    count: int = Field(default=1, ge=1)
    status: int | None = Field(default=None, ge=100, le=599)
    retryAfter: str | None = Field(default=None, strict=False, coerce_numbers_to_str=True)
    delay: Delay = 0.0
    drop: Literal["before", "after"] | None = None
    body: str | None = None
    contentType: str | None = None
    headers: dict[str, str] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _normalized(self) -> Fault:
        self.method = self.method and self.method.upper()
        self.path = _normalize(self.path)
        return self

    @property
    def answers(self) -> bool:
        """True when the fault answers in place of the API; a bare delay only slows the call."""
        if self.drop is not None:
            return False
        given = (self.status, self.body, self.retryAfter, self.contentType)
        return any(item is not None for item in given) or bool(self.headers) or not self.delay

    def response(self) -> Response:
        """The injected answer: the raw body if given, else ApprovalFlow's failure shape."""
        headers = tuple(self.headers.items())
        if self.retryAfter is not None:
            headers += (("Retry-After", self.retryAfter),)
        if self.body is None:
            return api_error(self.status or 500, "Injected fault", headers)
        return Response(
            self.status or 500, self.body.encode(), self.contentType or HTML_TYPE, headers
        )


# -- the app -----------------------------------------------------------------------------------


class SandboxApp:
    """The sandbox behind the sockets: state, call log, faults and latency under one lock."""

    def __init__(
        self,
        seed: Seed,
        state: SandboxState | None = None,
        *,
        latency: float = 0.0,
        save: Saver | None = None,
        answers: Answers = "reference",
    ) -> None:
        self.seed = seed
        self.answers: Answers = answers
        self.state = state if state is not None else SandboxState.from_seed(seed)
        self.state.archived_status = ARCHIVED_STATUSES[answers]
        self.latency = latency
        self._save = save
        self._lock = threading.Lock()
        self.calls: list[dict[str, Any]] = []
        self.faults: list[Fault] = []

    def handle(self, request: Request) -> Response | None:
        """Answer a request; None means close the connection without an answer."""
        path = _normalize(request.path)
        if path == ADMIN_PREFIX or path.startswith(ADMIN_PREFIX + "/"):
            return self._admin(request, path[len(ADMIN_PREFIX) :] or "/")
        found = _REAL_PATHS.match(path)
        if found is not None:
            ids = (found["cloud"] or CLOUD_ID, found["app"], found["env"])
            if ids != (CLOUD_ID, APP_ID, ENVIRONMENT_ID):
                return api_error(404, "Not found")
            path = found["rest"] or "/"
        return self._logged(request, path)

    def reset(self, seed: Seed | None = None) -> None:
        """Go back to the seed (a new one if given), forgetting calls and faults."""
        self.seed = seed or self.seed
        fresh = SandboxState.from_seed(self.seed)
        fresh.archived_status, fresh.offset = self.state.archived_status, self.state.offset
        self.state = fresh
        self.calls.clear()
        self.faults.clear()

    @contextmanager
    def _locked(self, changes: bool) -> Iterator[None]:
        """Hold the lock; save afterwards when the call may have changed the state."""
        with self._lock:
            try:
                yield
            finally:
                if changes and self._save is not None:
                    self._save(self.state.to_dict())

    def _logged(self, request: Request, path: str) -> Response | None:
        """An API or OAuth call: logged, then slowed, failed or dropped as faults say."""
        is_oauth = path in OAUTH
        try:
            body = _parse_body(request, form=is_oauth)
        except RefusalError:
            body = None
        shown = _without_secrets if is_oauth else dict
        call: dict[str, Any] = {
            "method": request.method,
            "path": path,
            "query": shown(request.query),
            "body": None if body is None else shown(body),
            "status": None,
            "time": iso_time(datetime.now(timezone.utc)),
        }
        with self._lock:
            self.calls.append(call)
            matching = (
                f for f in self.faults if f.path == path and f.method in (None, request.method)
            )
            fault = next(matching, None)
            if fault is not None:
                fault.count -= 1
                if fault.count <= 0:
                    self.faults.remove(fault)
            wait = self.latency + (fault.delay if fault is not None else 0.0)
        if wait:
            time.sleep(wait)
        if fault is not None and fault.drop == "before":
            return None
        if fault is not None and fault.answers:
            response = fault.response()
        elif is_oauth:
            response = self._oauth(request, path)
        else:
            response = self._api(request, path)
        if fault is not None and fault.drop == "after":
            return None
        with self._lock:
            call["status"] = response.status
        return response

    def _api(self, request: Request, path: str) -> Response:
        methods = API.get(path)
        if methods is None:
            return api_error(404, "Not found")
        endpoint = methods.get(request.method)
        if endpoint is None:
            return api_error(405, "Method not allowed", (("Allow", ", ".join(methods)),))
        with self._locked(endpoint.changes):
            try:
                self.state.authorize(request.token, endpoint.scope)
                params = _params(request, endpoint.where)
                answer = endpoint.run(self.state, _read(endpoint.model, params))
            except RefusalError as refusal:
                challenge = (("WWW-Authenticate", "Bearer"),) if refusal.status == 401 else ()
                return api_error(refusal.status, refusal.message, challenge)
        if self.answers == "reference":
            answer = endpoint.reference(answer)
        return json_response(200, {"success": True, **answer})

    def _oauth(self, request: Request, path: str) -> Response:
        route = OAUTH[path].get(request.method)
        if route is None:
            allow = (("Allow", ", ".join(OAUTH[path])),)
            return _oauth_error(405, "invalid_request", "Method not allowed", allow)
        with self._locked(request.method == "POST"):
            return route(self.state, request)

    def _admin(self, request: Request, path: str) -> Response:
        methods = ADMIN.get(path)
        if methods is None:
            return _admin_error(404, f"No sandbox admin path {ADMIN_PREFIX}{path}")
        route = methods.get(request.method)
        if route is None:
            return _admin_error(405, f"{ADMIN_PREFIX}{path} takes {', '.join(methods)}")
        try:
            params = _parse_body(request) or {}
            with self._locked(request.method != "GET"):
                answer = route(self, params)
        except (RefusalError, ConfigError) as error:
            return _admin_error(400, str(error))
        return json_response(200, answer)


# -- the admin surface -------------------------------------------------------------------------

AdminRoute = Callable[[SandboxApp, Params], object]


def _field(params: Params, name: str, kind: Any, default: Any = ...) -> Any:
    """The one field ``name`` of an admin request, checked like a model's field."""
    fields: dict[str, Any] = {name: (kind, default)}
    model = create_model("Admin", __base__=Call, **fields)
    return getattr(_read(model, params), name)


def _admin_error(status: int, message: str) -> Response:
    return json_response(status, {"ok": False, "error": message})


def _ok(**extra: object) -> dict[str, object]:
    return {"ok": True, **extra}


def _reset(app: SandboxApp, seed: Seed | None = None) -> object:
    app.reset(seed)
    return _ok()


def _licence(app: SandboxApp, p: Params) -> object:
    app.state.licence = _field(p, "active", bool)
    return _ok(licence=app.state.licence)


def _rest_api(app: SandboxApp, p: Params) -> object:
    app.state.restApi = _field(p, "enabled", bool)
    return _ok(restApi=app.state.restApi)


def _put_token(app: SandboxApp, p: Params) -> object:
    app.state.put_token(_read(TokenSeed, p))
    return _ok()


def _clear(items: list[Any]) -> object:
    items.clear()
    return _ok()


def _add_fault(app: SandboxApp, p: Params) -> object:
    app.faults.append(_read(Fault, p))
    return _ok(fault=app.faults[-1].model_dump())


def _latency(app: SandboxApp, p: Params) -> object:
    app.latency = _field(p, "seconds", Delay, 0.0)
    return _ok(seconds=app.latency)


def _clock(app: SandboxApp, p: Params) -> object:
    app.state.offset += timedelta(seconds=_field(p, "advance", Seconds | None, None) or 0)
    return _ok(now=iso_time(app.state.now()), offsetSeconds=app.state.offset.total_seconds())


def _oauth_client(app: SandboxApp, p: Params) -> object:
    client = _read(OAuthClientSeed, p)
    app.state.oauth.clients[client.clientId] = client
    return _ok(clientId=client.clientId, scopes=sorted(set(client.scopes)))


def _oauth_revoke(app: SandboxApp, p: Params) -> object:
    if not app.state.oauth.revoke(_field(p, "refreshToken", Text)):
        raise RefusalError("Unknown refresh token (or it was already dropped as dead)")
    return _ok()


def _oauth_consent(app: SandboxApp, p: Params) -> object:
    app.state.oauth.autoConsent = _field(p, "approve", bool)
    return _ok(approve=app.state.oauth.autoConsent)


ADMIN: dict[str, dict[str, AdminRoute]] = {
    "/health": {"GET": lambda app, p: _ok()},
    "/reset": {"POST": lambda app, p: _reset(app)},
    "/seed": {"POST": lambda app, p: _reset(app, validate_seed(p, "seed"))},
    "/state": {"GET": lambda app, p: app.state.to_dict()},
    "/pages": {"POST": lambda app, p: _ok(page=app.state.add_page(_read(NewPage, p)))},
    "/workflows": {
        "POST": lambda app, p: _ok(workflow=app.state.put_workflow(_read(WorkflowSpec, p)))
    },
    "/pages/assign": {
        "POST": lambda app, p: _ok(page=app.state.assign_workflow(_read(Assignment, p)))
    },
    "/approve": {
        "POST": lambda app, p: _ok(approval=app.state.decide(_read(PageCall, p), APPROVED))
    },
    "/reject": {
        "POST": lambda app, p: _ok(approval=app.state.decide(_read(PageCall, p), REJECTED))
    },
    "/edit-page": {"POST": lambda app, p: _ok(page=app.state.edit_page(_read(PageCall, p)))},
    "/licence": {"POST": _licence},
    "/rest-api": {"POST": _rest_api},
    "/tokens": {"POST": _put_token},
    "/calls": {
        "GET": lambda app, p: {"calls": [dict(call) for call in app.calls]},
        "DELETE": lambda app, p: _clear(app.calls),
    },
    "/faults": {
        "GET": lambda app, p: {"faults": [fault.model_dump() for fault in app.faults]},
        "POST": _add_fault,
        "DELETE": lambda app, p: _clear(app.faults),
    },
    "/latency": {"POST": _latency},
    "/clock": {"GET": _clock, "POST": _clock},
    "/oauth/clients": {"POST": _oauth_client},
    "/oauth/revoke": {"POST": _oauth_revoke},
    "/oauth/consent": {"POST": _oauth_consent},
}
"""Path under ``/_sandbox``, then method, to what it does; no auth, JSON in and out."""


# -- OAuth (Atlassian's authorization server) ---------------------------------------------------

OAuthRoute = Callable[[SandboxState, Request], Response]

_LOGGED_OAUTH_FIELDS = frozenset(
    ("grant_type", "client_id", "redirect_uri", "scope", "audience", "response_type", "prompt")
)
"""What the call log keeps of OAuth requests: never a code, token, client secret or state."""


def _without_secrets(params: Mapping[str, object]) -> dict[str, object]:
    return {k: v for k, v in params.items() if k in _LOGGED_OAUTH_FIELDS}


def _oauth_error(status: int, error: str, description: str, headers: Headers = ()) -> Response:
    return json_response(status, {"error": error, "error_description": description}, headers)


def _consent_page(state: SandboxState, request: Request) -> Response:
    try:
        location = state.oauth.consent(request.query, state.now())
    except RefusalError as problem:
        page = f"<!doctype html><title>Authorization failed</title><p>{problem.message}</p>"
        return Response(400, page.encode(), HTML_TYPE)
    return Response(302, b"", "text/plain; charset=utf-8", (("Location", location),))


def _token(state: SandboxState, request: Request) -> Response:
    try:
        answer = state.oauth.token(_parse_body(request, form=True) or {}, state.now())
    except RefusalError as refusal:
        return _oauth_error(refusal.status, refusal.error, refusal.message)
    return json_response(200, answer, (("Cache-Control", "no-store"),))


def _resources(state: SandboxState, request: Request) -> Response:
    scopes = state.token_scopes(request.token)
    if scopes is None:
        unauthorized = {"code": 401, "message": "Unauthorized"}
        return json_response(401, unauthorized, (("WWW-Authenticate", "Bearer"),))
    return json_response(200, oauth.accessible_resources(scopes))


OAUTH: dict[str, dict[str, OAuthRoute]] = {
    "/authorize": {"GET": _consent_page},
    "/oauth/token": {"POST": _token},
    "/oauth/token/accessible-resources": {"GET": _resources},
}
"""Atlassian's authorization server on the same port: consent page, token endpoint, sites."""


# -- reading requests --------------------------------------------------------------------------


def _normalize(path: str) -> str:
    return path if path == "/" else path.rstrip("/") or "/"


def _parse_body(request: Request, *, form: bool = False) -> dict[str, object] | None:
    """The body's fields, None when empty, or a refusal; OAuth also takes a form."""
    if form and "application/x-www-form-urlencoded" in request.content_type.lower():
        try:
            return dict(parse_qsl(request.body.decode("utf-8"), keep_blank_values=True))
        except UnicodeDecodeError:
            raise RefusalError("Request body is not valid UTF-8") from None
    if not request.body.strip():
        return None
    try:
        body = json.loads(request.body)
    except (ValueError, UnicodeDecodeError):
        raise RefusalError("Request body is not valid JSON") from None
    if not isinstance(body, dict):
        raise RefusalError("Request body must be a JSON object")
    return body


def _params(request: Request, where: str) -> Params:
    """The call's parameters, only where the reference puts them: query, body, or either."""
    if where == "query":
        return request.query
    fields = _parse_body(request) or {}
    return {**fields, **request.query} if where == "either" else fields
