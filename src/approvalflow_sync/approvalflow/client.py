"""A typed client for the ApprovalFlow REST API: one method per endpoint.

The client takes an ``httpx.Client`` (tests pass one with ``httpx.MockTransport``) and a token
source; it reads no environment. The token goes into the ``Authorization`` header and nowhere
else: not in errors, logs or ``repr``.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, Protocol, TypedDict, TypeVar

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
    NotFoundError,
    PermissionDeniedError,
    RateLimitError,
    ServerError,
)
from approvalflow_sync.retry import (
    IDEMPOTENT_METHODS,
    RetryPolicy,
    describe_body,
    json_of,
    parse_retry_after,
    retrying,
    send_within,
)

Answer = TypeVar("Answer", bound=BaseModel)


class TokenSource(Protocol):
    """Where the client gets its bearer token; ``refresh`` is tried once after a 401."""

    def current(self) -> str:
        """The access token to send now."""
        ...

    def refresh(self) -> bool:
        """Get a new access token; false when this source cannot refresh."""
        ...


class StaticToken:
    """A fixed access token that cannot be refreshed."""

    def __init__(self, token: str) -> None:
        self._token = token

    def current(self) -> str:
        """The token given at construction."""
        return self._token

    def refresh(self) -> bool:
        """A fixed token has nothing to refresh to."""
        return False

    def __repr__(self) -> str:
        return "StaticToken(<hidden>)"


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
        self._token: TokenSource = StaticToken(token) if isinstance(token, str) else token
        self._http = http or httpx.Client(timeout=timeout)
        self._retry = retry or RetryPolicy()

    def __repr__(self) -> str:
        return f"ApprovalFlowClient(base_url={self.base_url!r})"

    def close(self) -> None:
        """Close the underlying HTTP connection pool."""
        self._http.close()

    def __enter__(self) -> ApprovalFlowClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # -- endpoints ---------------------------------------------------------------------------

    def list_change_sets(self, space_id: str) -> list[models.ChangeSet]:
        """Every change set of a space, archived ones included; follows a cursor if given.

        Each change set is listed once, even if a server ignoring the cursor repeats a page.
        """
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
        """One change set, each page with what the answer says of its versions.

        The change set may come wrapped in ``changeSet`` or flat; without an ``id`` it is the
        one asked for.
        """
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
        """Create a change set: the new one if the answer carries it, else None.

        Without it (and after an ambiguous failure) the caller finds it in the space's list by
        its link.
        """
        sent = models.NewChangeSet(
            spaceId=space_id,
            title=title,
            pageRefs=models.page_refs(page_ids),
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
        """Change the given fields only; ``page_ids`` replaces the whole page list.

        The change set if the answer carries it, else None (detail shows it).
        """
        sent = models.ChangeSetUpdate(
            changeSetId=change_set_id,
            title=title,
            summary=summary,
            referenceUrl=reference_url,
            pageRefs=None if page_ids is None else models.page_refs(page_ids),
        )
        return self._write("/changeSets/update", sent)

    def archive_change_set(self, change_set_id: str) -> models.ChangeSet | None:
        """Archive a change set; it is read-only from then on. The answer's change set, if any."""
        return self._write("/changeSets/archive", models.ChangeSetCall(changeSetId=change_set_id))

    def submit_change_set(self, change_set_id: str) -> models.SubmitAnswer:
        """Submit every eligible page; the others are skipped with a reason."""
        return self._call(
            "POST",
            "/changeSets/submit",
            models.SubmitAnswer,
            WRITE_CHANGE_SET,
            json_body=models.ChangeSetCall(changeSetId=change_set_id).body(),
        )

    def preflight_change_set(self, change_set_id: str) -> models.PreflightAnswer:
        """Dry run of submit: who could be submitted, who is blocked and why."""
        return self._call(
            "POST",
            "/changeSets/preflight",
            models.PreflightAnswer,
            READ_CHANGE_SET,
            json_body=models.ChangeSetCall(changeSetId=change_set_id).body(),
            idempotent=True,
        )

    def submit_page(self, page_id: str) -> models.PageSubmitAnswer:
        """Submit one page (strict: a blocked page is refused with 400)."""
        answer = self._call(
            "POST",
            "/pages/submit",
            models.PageSubmitAnswer,
            WRITE_APPROVAL,
            json_body=models.PageCall(pageId=page_id).body(),
        )
        return answer if answer.pageId else answer.model_copy(update={"pageId": page_id})

    def preflight_page(self, page_id: str) -> models.PagePreflightAnswer:
        """Eligibility of one page."""
        answer = self._call(
            "POST",
            "/pages/preflight",
            models.PagePreflightAnswer,
            READ_APPROVAL,
            json_body=models.PageCall(pageId=page_id).body(),
            idempotent=True,
        )
        return answer if answer.pageId else answer.model_copy(update={"pageId": page_id})

    def _write(self, path: str, sent: models.Sent) -> models.ChangeSet | None:
        """A change-set write: done on any 2xx not saying ``success: false``, whatever the body."""
        answer = self._call("POST", path, models.Envelope, WRITE_CHANGE_SET, json_body=sent.body())
        return models.change_set_in(answer)

    # -- transport ---------------------------------------------------------------------------

    def _call(
        self,
        method: str,
        path: str,
        answer_type: type[Answer],
        scope: str,
        *,
        params: dict[str, str] | None = None,
        json_body: dict[str, Any] | None = None,
        idempotent: bool | None = None,
    ) -> Answer:
        safe = method in IDEMPOTENT_METHODS if idempotent is None else idempotent
        deadline = self._retry.deadline()
        for attempt in retrying(self._retry, idempotent=safe, deadline=deadline):
            with attempt:
                body = self._send(method, path, scope, params, json_body, deadline=deadline)
        return _parse(answer_type, body, method, path)

    def _send(
        self,
        method: str,
        path: str,
        scope: str,
        params: dict[str, str] | None,
        json_body: dict[str, Any] | None,
        *,
        deadline: float,
    ) -> dict[str, Any]:
        response = self._request(method, path, params, json_body, deadline)
        if response.status_code == 401 and self._token.refresh():
            response = self._request(method, path, params, json_body, deadline)
        if 300 <= response.status_code < 400:
            location = response.headers.get("Location", "")[:200]
            raise APIResponseError(
                f"answered with a redirect to {location!r}, not followed: the token goes to "
                f"{self.base_url} only; check the base URL",
                method=method,
                path=path,
                status=response.status_code,
            )
        return _read_answer(response, method, path, scope)

    def _request(
        self,
        method: str,
        path: str,
        params: dict[str, str] | None,
        json_body: dict[str, Any] | None,
        deadline: float,
    ) -> httpx.Response:
        headers = {"Authorization": f"Bearer {self._token.current()}", "Accept": "application/json"}
        with _transport_errors(method, path):
            request = self._http.build_request(
                method, self.base_url + path, params=params, json=json_body, headers=headers
            )
            return send_within(self._http, request, deadline, self._retry.clock)


@contextmanager
def _transport_errors(method: str, path: str) -> Iterator[None]:
    """Turn httpx's transport errors into ours, telling whether a write may have happened."""
    try:
        yield
    except httpx.ConnectTimeout as exc:
        raise APITimeoutError(
            f"timed out connecting ({exc}); check the base URL and the network",
            method=method,
            path=path,
            maybe_applied=False,
        ) from exc
    except httpx.TimeoutException as exc:
        raise APITimeoutError(
            f"timed out waiting for the answer ({exc}); the request may have taken effect",
            method=method,
            path=path,
            maybe_applied=True,
        ) from exc
    except httpx.ConnectError as exc:
        raise APIConnectionError(
            f"could not connect ({exc.__class__.__name__}); check the base URL and the network",
            method=method,
            path=path,
            maybe_applied=False,
        ) from exc
    except httpx.TransportError as exc:
        raise APIConnectionError(
            f"the connection broke before an answer ({exc.__class__.__name__}); "
            "the request may have taken effect",
            method=method,
            path=path,
            maybe_applied=True,
        ) from exc


def _read_answer(response: httpx.Response, method: str, path: str, scope: str) -> dict[str, Any]:
    """The JSON object of an answer, or the error it stands for."""
    data = json_of(response)
    body = data if isinstance(data, dict) else None
    if response.status_code >= 400:
        raise error_for_status(
            response.status_code,
            method=method,
            path=path,
            error=_server_text(body, response),
            scope=scope,
            retry_after=parse_retry_after(response.headers.get("Retry-After")),
            non_json=f"answered with {describe_body(response)}" if body is None else None,
        )
    if not 200 <= response.status_code < 300:
        raise APIResponseError(
            f"answered {response.status_code} instead of a 2xx answer; check the base URL "
            "(a redirect to a login page answers like this)",
            method=method,
            path=path,
            status=response.status_code,
        )
    if body is None and not response.content.strip():
        return {}  # an empty 2xx answer: a write that says nothing more than that it was done
    if body is None:
        raise APIResponseError(
            f"answered with {describe_body(response)} instead of a JSON object; "
            "check the base URL (a proxy or login page answers like this)",
            method=method,
            path=path,
            status=response.status_code,
        )
    if body.get("success") is False:
        error = _server_text(body, response)
        raise APIResponseError(
            f"refused with success false: {error or 'no error text'}",
            method=method,
            path=path,
            status=response.status_code,
            error=error,
        )
    return body


def _server_text(body: dict[str, Any] | None, response: httpx.Response) -> str | None:
    """The server's ``error`` text, with the token blanked out should the server echo it."""
    error = body.get("error") if body else None
    if not isinstance(error, str):
        return None
    token = response.request.headers.get("Authorization", "").removeprefix("Bearer ").strip()
    return error.replace(token, "<hidden>") if len(token) >= 8 else error


def _parse(answer_type: type[Answer], body: dict[str, Any], method: str, path: str) -> Answer:
    try:
        return answer_type.model_validate(body)
    except ValidationError as exc:
        problem = exc.errors()[0]
        where = ".".join(str(part) for part in problem["loc"]) or "the answer"
        raise APIResponseError(
            f"the answer is not as documented: {where}: {problem['msg']}; check that the base "
            "URL is ApprovalFlow's API (another service or a proxy answers like this)",
            method=method,
            path=path,
            status=200,
        ) from None


class _Where(TypedDict):
    method: str
    path: str
    status: int
    error: str | None


def error_for_status(
    status: int,
    *,
    method: str,
    path: str,
    error: str | None,
    scope: str,
    retry_after: float | None = None,
    non_json: str | None = None,
) -> APIError:
    """The error class and message for an error status: the one place statuses map to classes."""
    text = error or non_json or "no error text"
    where: _Where = {"method": method, "path": path, "status": status, "error": error}
    if status == 400:
        return BadRequestError(text, **where)
    if status == 401:
        return AuthenticationError(
            f"{text} (the access token is missing, expired or revoked: get a new one)", **where
        )
    if status == 403:
        return _permission_error(text, scope, where)
    if status == 404:
        return NotFoundError(
            f"{text} (check the base URL: app id, environment id and cloud id)", **where
        )
    if status == 429:
        return RateLimitError(
            f"{text} (rate limited; retry later)", retry_after=retry_after, **where
        )
    if status >= 500:
        return ServerError(
            f"{text} (a failure on ApprovalFlow's side: try again later)",
            retry_after=retry_after,
            **where,
        )
    return APIStatusError(text, **where)


def _permission_error(text: str, scope: str, where: _Where) -> PermissionDeniedError:
    lowered = text.lower()
    if "licen" in lowered:
        return PermissionDeniedError(
            f"{text} (ApprovalFlow's licence is not active on this site: "
            "a site admin must activate it under Manage apps)",
            reason="licence",
            **where,
        )
    if "scope" in lowered:
        return PermissionDeniedError(
            f"{text} (this call needs the scope {scope}: add it to the OAuth app "
            "and consent again)",
            reason="scope",
            **where,
        )
    return PermissionDeniedError(
        f"{text} (check that the token has the scopes {PRODUCT_SCOPE} and {scope}, that "
        "ApprovalFlow's licence is active, and that a site admin enabled "
        "'App REST APIs' for ApprovalFlow under Connected apps)",
        reason="unknown",
        **where,
    )
