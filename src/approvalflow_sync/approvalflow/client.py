"""A typed client for the ApprovalFlow REST API: one method per endpoint, no environment read."""

from __future__ import annotations

from typing import Any, Protocol, TypeVar

import httpx
from pydantic import BaseModel, ValidationError

from approvalflow_sync.approvalflow import models
from approvalflow_sync.approvalflow.scopes import (
    PRODUCT_SCOPE,
    READ_APPROVAL,
    READ_CHANGE_SET,
    WRITE_APPROVAL,
    WRITE_CHANGE_SET,
)
from approvalflow_sync.errors import (
    APIConnectionError,
    APIError,
    APIResponseError,
    APIStatusError,
    APITimeoutError,
    AuthenticationError,
    BadRequestError,
    PermissionDeniedError,
    RateLimitError,
    ServerError,
)
from approvalflow_sync.retry import (
    RetryPolicy,
    describe_body,
    first_problem,
    hidden,
    json_of,
    maybe_sent,
    no_answer,
    send_retried,
)

Answer = TypeVar("Answer", bound=BaseModel)


class TokenSource(Protocol):
    """Where the client gets its bearer token; ``refresh`` (false: cannot) is tried after a 401."""

    def current(self) -> str: ...
    def refresh(self) -> bool: ...


class ApprovalFlowClient:
    """The nine endpoints of ApprovalFlow, with retries and one error tree."""

    def __init__(
        self,
        base_url: str,
        token: str | TokenSource,
        *,
        http: httpx.Client | None = None,
        retry: RetryPolicy | None = None,
        timeout: float = 30.0,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self._token = token
        """A plain access token, or a source that can refresh it after a 401."""
        self._http = http or httpx.Client(timeout=timeout)
        self._retry = retry or RetryPolicy()

    def __repr__(self) -> str:
        return f"ApprovalFlowClient(base_url={self.base_url!r})"

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> ApprovalFlowClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def list_change_sets(self, space_id: str) -> list[models.ChangeSet]:
        """Every change set of a space, archived ones included, each once; follows a cursor."""
        found: dict[str, models.ChangeSet] = {}
        params: dict[str, str] = {"spaceId": space_id}
        seen_cursors: set[str] = set()
        while True:
            answer = self._call(
                "GET", "/changeSets", models.ChangeSetList, READ_CHANGE_SET, params=params
            )
            for cs in answer.changeSets:
                found.setdefault(cs.id, cs)
            cursor = answer.next_cursor
            if not cursor or cursor in seen_cursors:
                return list(found.values())
            seen_cursors.add(cursor)
            params = {"spaceId": space_id, "cursor": cursor}

    def get_change_set(self, change_set_id: str) -> models.ChangeSet:
        """One change set, wrapped in ``changeSet`` or flat; without ``id``, the one asked for."""
        path = "/changeSets/detail"
        answer = self._call(
            "GET", path, models.Envelope, READ_CHANGE_SET, params={"changeSetId": change_set_id}
        )
        fields = {"id": change_set_id, **models.carried_change_set(answer)}
        return _parse(models.ChangeSet, fields, "GET", path)

    def create_change_set(
        self,
        space_id: str,
        title: str,
        page_ids: list[str],
        *,
        summary: str | None = None,
        reference_url: str | None = None,
    ) -> models.ChangeSet | None:
        """Create a change set: the new one if the answer carries it, else None (the caller
        finds it in the space's list by its link)."""
        sent = _body(
            spaceId=space_id,
            title=title,
            pageRefs=_page_refs(page_ids),
            summary=summary,
            referenceUrl=reference_url,
        )
        return self._write("/changeSets", sent)

    def update_change_set(
        self,
        change_set_id: str,
        *,
        title: str | None = None,
        summary: str | None = None,
        reference_url: str | None = None,
        page_ids: list[str] | None = None,
    ) -> models.ChangeSet | None:
        """Change the given fields only; ``page_ids`` replaces the whole page list."""
        sent = _body(
            changeSetId=change_set_id,
            title=title,
            summary=summary,
            referenceUrl=reference_url,
            pageRefs=None if page_ids is None else _page_refs(page_ids),
        )
        return self._write("/changeSets/update", sent)

    def archive_change_set(self, change_set_id: str) -> models.ChangeSet | None:
        """Archive a change set; it is read-only from then on."""
        return self._write("/changeSets/archive", {"changeSetId": change_set_id})

    def submit_change_set(self, change_set_id: str) -> models.SubmitAnswer:
        """Submit every eligible page; the others are skipped with a reason."""
        sent = {"changeSetId": change_set_id}
        return self._post("/changeSets/submit", sent, models.SubmitAnswer, WRITE_CHANGE_SET)

    def preflight_change_set(self, change_set_id: str) -> models.PreflightAnswer:
        """Dry run of submit: who could be submitted, who is blocked and why."""
        sent = {"changeSetId": change_set_id}
        return self._post("/changeSets/preflight", sent, models.PreflightAnswer, READ_CHANGE_SET)

    def submit_page(self, page_id: str) -> models.PageSubmitAnswer:
        """Submit one page (strict: a blocked page is refused with 400)."""
        sent = {"pageId": page_id}
        answer = self._post("/pages/submit", sent, models.PageSubmitAnswer, WRITE_APPROVAL)
        return answer if answer.pageId else answer.model_copy(update={"pageId": page_id})

    def preflight_page(self, page_id: str) -> models.PagePreflightAnswer:
        """Eligibility of one page."""
        sent = {"pageId": page_id}
        answer = self._post("/pages/preflight", sent, models.PagePreflightAnswer, READ_APPROVAL)
        return answer if answer.pageId else answer.model_copy(update={"pageId": page_id})

    def _write(self, path: str, sent: dict[str, Any]) -> models.ChangeSet | None:
        """A change-set write: done on any 2xx not saying ``success: false``, whatever the body."""
        return models.change_set_in(self._post(path, sent, models.Envelope, WRITE_CHANGE_SET))

    def _post(self, path: str, sent: dict[str, Any], answer: type[Answer], scope: str) -> Answer:
        return self._call("POST", path, answer, scope, json_body=sent)

    def _call(
        self,
        method: str,
        path: str,
        answer_type: type[Answer],
        scope: str,
        *,
        params: dict[str, str] | None = None,
        json_body: dict[str, Any] | None = None,
    ) -> Answer:
        """One call; those needing only a read scope (the preflights too) change nothing, so
        they are retried like a GET."""

        def request() -> httpx.Request:
            token = self._token if isinstance(self._token, str) else self._token.current()
            headers = {"Authorization": f"Bearer {token}", "Accept": "application/json"}
            url = self.base_url + path
            return self._http.build_request(
                method, url, params=params, json=json_body, headers=headers
            )

        def unsent(exc: httpx.RequestError) -> APIError:
            timeout = isinstance(exc, httpx.TimeoutException)
            kind = APITimeoutError if timeout else APIConnectionError
            return kind(no_answer(exc), method=method, path=path, maybe_applied=maybe_sent(exc))

        def send() -> httpx.Response:
            return send_retried(
                self._http,
                request,
                self._retry,
                idempotent=scope in (READ_CHANGE_SET, READ_APPROVAL),
                unsent=unsent,
                busy=lambda response: _refusal(response, method, path, scope),
            )

        response = send()
        if response.status_code == 401 and not isinstance(self._token, str):
            response = send() if self._token.refresh() else response
        status = response.status_code
        if status >= 400:
            raise _refusal(response, method, path, scope)
        data = json_of(response) if response.content.strip() else {}  # empty: a write done

        def refused(message: str, error: str | None = None) -> APIResponseError:
            return APIResponseError(message, method=method, path=path, status=status, error=error)

        if 300 <= status < 400:
            raise refused(
                f"answered {status} instead of a 2xx answer: a redirect to "
                f"{response.headers.get('Location', '')[:200]!r}, not followed, the token goes "
                f"to {self.base_url} only; check the base URL (a login page answers like this)"
            )
        if not isinstance(data, dict):
            raise refused(
                f"answered with {describe_body(response)} instead of a JSON object; "
                "check the base URL (a proxy or login page answers like this)"
            )
        if data.get("success") is False:
            error = _server_text(data, response)
            raise refused(f"refused with success false: {error or 'no error text'}", error)
        return _parse(answer_type, data, method, path)


def _body(**fields: Any) -> dict[str, Any]:
    """A request body of the documented fields given, the ``None`` ones left out."""
    return {name: value for name, value in fields.items() if value is not None}


def _page_refs(page_ids: list[str]) -> list[dict[str, str]]:
    return [{"pageId": page_id} for page_id in page_ids]


def _refusal(response: httpx.Response, method: str, path: str, scope: str) -> APIError:
    """The error an error status stands for, with the server's text."""
    data = json_of(response)
    body = data if isinstance(data, dict) else None
    return error_for_status(
        response.status_code,
        method=method,
        path=path,
        error=_server_text(body, response),
        scope=scope,
        non_json=f"answered with {describe_body(response)}" if body is None else None,
    )


def _server_text(body: dict[str, Any] | None, response: httpx.Response) -> str | None:
    """The server's ``error`` text, with the token blanked out should the server echo it."""
    token = response.request.headers.get("Authorization", "").removeprefix("Bearer ").strip()
    return hidden(body.get("error"), [token]) if body else None


def _parse(answer_type: type[Answer], body: dict[str, Any], method: str, path: str) -> Answer:
    try:
        return answer_type.model_validate(body)
    except ValidationError as exc:
        raise APIResponseError(
            f"the answer is not as documented: {first_problem(exc)}; check that the base "
            "URL is ApprovalFlow's API (another service or a proxy answers like this)",
            method=method,
            path=path,
            status=200,
        ) from None


_ADVICE: dict[int, tuple[type[APIStatusError], str]] = {
    400: (BadRequestError, ""),
    401: (AuthenticationError, " (the access token is missing, expired or revoked: get a new one)"),
    404: (APIStatusError, " (check the base URL: app id, environment id and cloud id)"),
    429: (RateLimitError, " (rate limited; retry later)"),
}


def error_for_status(
    status: int,
    *,
    method: str,
    path: str,
    error: str | None,
    scope: str,
    non_json: str | None = None,
) -> APIError:
    """The error class and message for an error status: the one place statuses map to classes."""
    text = error or non_json or "no error text"
    kind, advice = _ADVICE.get(status, (APIStatusError, ""))
    if status >= 500:
        kind, advice = ServerError, " (a failure on ApprovalFlow's side: try again later)"
    if status == 403:
        kind, advice = PermissionDeniedError, f" ({_permission_advice(text.lower(), scope)})"
    return kind(text + advice, method=method, path=path, status=status, error=error)


def _permission_advice(text: str, scope: str) -> str:
    """What to do about a 403, by what its text names: the licence, a scope, or neither."""
    if "licen" in text:
        return (
            "ApprovalFlow's licence is not active on this site: a site admin must activate it "
            "under Manage apps"
        )
    if "scope" in text:
        return f"this call needs the scope {scope}: add it to the OAuth app and consent again"
    return (
        f"check that the token has the scopes {PRODUCT_SCOPE} and {scope}, that ApprovalFlow's "
        "licence is active, and that a site admin enabled 'App REST APIs' for ApprovalFlow "
        "under Connected apps"
    )
