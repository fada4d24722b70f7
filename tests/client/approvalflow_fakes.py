"""A scripted ApprovalFlow behind ``httpx.MockTransport``, for the client tests (no network)."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import httpx

from approvalflow_sync.approvalflow.client import ApprovalFlowClient, TokenSource
from approvalflow_sync.retry import RetryPolicy

BASE_URL = "https://api.atlassian.com/svc/confluence/cloud-1/apps/app-1_env-1"
BASE_PATH = "/svc/confluence/cloud-1/apps/app-1_env-1"
TOKEN = "tok-SECRET-d41d8cd98f00b204"

Answer = httpx.Response | Exception | Callable[[httpx.Request], httpx.Response]


class FakeApprovalFlow:
    """Gives the scripted answers in order (the last one repeats) and records every request.

    An answer is a response, an exception to raise (``httpx.ConnectError`` …), or a function of
    the request.
    """

    def __init__(self, *answers: Answer) -> None:
        assert answers, "script at least one answer"
        self._answers = list(answers)
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        answer = self._answers.pop(0) if len(self._answers) > 1 else self._answers[0]
        if isinstance(answer, Exception):
            raise answer
        if isinstance(answer, httpx.Response):
            return answer
        return answer(request)

    @property
    def last(self) -> httpx.Request:
        """The most recent request."""
        return self.requests[-1]


def ok(**fields: Any) -> httpx.Response:
    """A 200 answer with ``"success": true`` and ``fields``."""
    return httpx.Response(200, json={"success": True, **fields})


def fail(status: int, error: str = "it failed", **headers: str) -> httpx.Response:
    """An error answer with the documented body."""
    return httpx.Response(status, json={"success": False, "error": error}, headers=headers or None)


def change_set(cs_id: str = "cs-1", **changes: Any) -> dict[str, Any]:
    """A change set as the vendor's reference shows it."""
    data: dict[str, Any] = {
        "id": cs_id,
        "spaceId": "12345",
        "title": "PR-184 Auth docs update",
        "summary": "Updated authentication pages.",
        "referenceUrl": "https://github.com/org/repo/pull/184",
        "status": "open",
        "rollupState": "in_review",
        "pageRefs": [{"pageId": "67890"}],
        "createdAt": "2026-03-27T10:00:00.000Z",
        "createdBy": "user-account-id",
    }
    data.update(changes)
    return data


def body_of(request: httpx.Request) -> Any:
    """The JSON body a request carried."""
    return json.loads(request.content)


class Sleeps:
    """A ``sleep`` that records the waits instead of waiting."""

    def __init__(self) -> None:
        self.waits: list[float] = []

    def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)


def make_client(
    server: FakeApprovalFlow,
    *,
    token: str | TokenSource = TOKEN,
    retry: RetryPolicy | None = None,
    base_url: str = BASE_URL,
) -> ApprovalFlowClient:
    """A client talking to ``server`` only, retrying at once unless ``retry`` says otherwise."""
    http = httpx.Client(transport=httpx.MockTransport(server))
    return ApprovalFlowClient(base_url, token, http=http, retry=retry or RetryPolicy.no_backoff())
