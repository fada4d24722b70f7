"""A thin HTTP client for the sandbox's contract tests: API calls, admin calls, assertions.

It speaks plain httpx on purpose (not the project's client), so these tests pin the wire format
the real client parses, and a sandbox bug cannot hide behind a client that tolerates it.
"""

from __future__ import annotations

from typing import Any

import httpx

from approvalflow_sync.sandbox import DEFAULT_TOKEN, SandboxServer

DOCS = "12345"
"""The default seed's main space: one active workflow, pages 67890 to 67897."""
DOCS_WORKFLOW = "wf-docs-review"
ENG = "54321"
"""A second space with one workflow and pages 76540, 76541."""
DRAFTS = "99999"
"""A space with no workflow: pages 88800, 88801."""
NO_TOKEN = ""


class Sandbox:
    """Calls into one running sandbox through a shared httpx client."""

    def __init__(self, server: SandboxServer, http: httpx.Client) -> None:
        self.server = server
        self.http = http

    def call(
        self,
        method: str,
        path: str,
        body: object | None = None,
        *,
        params: dict[str, str] | None = None,
        token: str = DEFAULT_TOKEN,
    ) -> httpx.Response:
        """One API call; ``token=NO_TOKEN`` sends no Authorization header."""
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return self.http.request(
            method, self.server.base_url + path, json=body, params=params, headers=headers
        )

    def ok(self, method: str, path: str, body: object | None = None, **kwargs: Any) -> Any:
        """An API call that must succeed; its JSON."""
        response = self.call(method, path, body, **kwargs)
        assert response.status_code == 200, response.text
        data = response.json()
        assert data["success"] is True
        return data

    def refused(
        self, status: int, method: str, path: str, body: object | None = None, **kwargs: Any
    ) -> str:
        """An API call that must fail with ``status``; its error text."""
        response = self.call(method, path, body, **kwargs)
        assert response.status_code == status, response.text
        data = response.json()
        assert data["success"] is False
        error = data["error"]
        assert isinstance(error, str)
        return error

    def admin(self, path: str, body: object | None = None, *, method: str = "POST") -> Any:
        """An admin call that must succeed; its JSON."""
        response = self.http.request(method, f"{self.server.admin_url}/{path}", json=body)
        assert response.status_code == 200, response.text
        return response.json()

    def create(self, pages: list[str], space: str = DOCS, **fields: str) -> dict[str, Any]:
        """Create a change set of these pages; the change set."""
        body = {"spaceId": space, "title": "PR-1 docs", "pageRefs": refs(pages), **fields}
        change_set: dict[str, Any] = self.ok("POST", "/changeSets", body)["changeSet"]
        return change_set

    def detail(self, change_set_id: str) -> dict[str, Any]:
        """The change set's detail."""
        answer = self.ok("GET", "/changeSets/detail", params={"changeSetId": change_set_id})
        change_set: dict[str, Any] = answer["changeSet"]
        return change_set

    def rollup(self, change_set_id: str) -> str:
        """The change set's rollup state, as the detail shows it."""
        return str(self.detail(change_set_id)["rollupState"])

    def preflight(self, change_set_id: str) -> dict[str, Any]:
        """The change set's preflight answer."""
        answer: dict[str, Any] = self.ok(
            "POST", "/changeSets/preflight", {"changeSetId": change_set_id}
        )
        return answer

    def submit(self, change_set_id: str) -> dict[str, Any]:
        """The change set's submit answer."""
        answer: dict[str, Any] = self.ok(
            "POST", "/changeSets/submit", {"changeSetId": change_set_id}
        )
        return answer


def refs(pages: list[str]) -> list[dict[str, str]]:
    """``pageRefs`` for these page ids."""
    return [{"pageId": page} for page in pages]


def reasons(results: list[dict[str, Any]]) -> dict[str, str | None]:
    """Page id to blocking reason (None when the page can go)."""
    return {result["pageId"]: result.get("reason") for result in results}
