"""Every endpoint of the client against a scripted ApprovalFlow: what goes out, what comes back."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest
from approvalflow_fakes import (
    BASE_PATH,
    TOKEN,
    FakeApprovalFlow,
    body_of,
    change_set,
    make_client,
    ok,
)

from approvalflow_sync.approvalflow import models
from approvalflow_sync.approvalflow.client import ApprovalFlowClient
from approvalflow_sync.core.plan import linked_open


def assert_request(
    request: httpx.Request,
    method: str,
    path: str,
    *,
    query: dict[str, str] | None = None,
    body: dict[str, Any] | None = None,
) -> None:
    """The request went to ``path`` under the base URL, as ``method``, with exactly this input."""
    assert request.method == method
    assert request.url.scheme == "https"
    assert request.url.host == "api.atlassian.com"
    assert request.url.path == BASE_PATH + path
    assert dict(request.url.params) == (query or {})
    assert request.headers["Authorization"] == f"Bearer {TOKEN}"
    assert request.headers["Accept"] == "application/json"
    if body is None:
        assert request.content == b""
    else:
        assert request.headers["Content-Type"] == "application/json"
        assert body_of(request) == body


def test_list_change_sets() -> None:
    server = FakeApprovalFlow(ok(changeSets=[change_set("cs-1"), change_set("cs-2")]))

    found = make_client(server).list_change_sets("12345")

    assert_request(server.last, "GET", "/changeSets", query={"spaceId": "12345"})
    assert [cs.id for cs in found] == ["cs-1", "cs-2"]
    assert all(isinstance(cs, models.ChangeSet) for cs in found)
    assert found[0].page_ids == ["67890"]


def test_get_change_set_returns_pages_with_versions() -> None:
    detail = change_set(
        "cs-7",
        pageRefs=[
            {
                "pageId": "1",
                "currentPageVersion": 4,
                "approvedAtVersion": 3,
                "isStale": True,
                "versionDelta": 1,
            },
        ],
    )
    server = FakeApprovalFlow(ok(changeSet=detail))

    cs = make_client(server).get_change_set("cs-7")

    assert_request(server.last, "GET", "/changeSets/detail", query={"changeSetId": "cs-7"})
    assert cs.id == "cs-7"
    assert cs.pageRefs[0].isStale is True
    assert cs.pageRefs[0].versionDelta == 1


def test_get_change_set_accepts_a_flat_answer() -> None:
    server = FakeApprovalFlow(ok(**change_set("cs-7")))

    assert make_client(server).get_change_set("cs-7").id == "cs-7"


def test_create_change_set_sends_every_field() -> None:
    server = FakeApprovalFlow(ok(changeSet=change_set("cs-new")))

    cs = make_client(server).create_change_set(
        "12345",
        "PR-184 Auth docs update",
        ["67890", "67891"],
        summary="Updated pages.",
        reference_url="https://github.com/org/repo/pull/184",
    )

    assert_request(
        server.last,
        "POST",
        "/changeSets",
        body={
            "spaceId": "12345",
            "title": "PR-184 Auth docs update",
            "pageRefs": [{"pageId": "67890"}, {"pageId": "67891"}],
            "summary": "Updated pages.",
            "referenceUrl": "https://github.com/org/repo/pull/184",
        },
    )
    assert cs is not None
    assert cs.id == "cs-new"


def test_create_change_set_leaves_out_unset_optional_fields() -> None:
    server = FakeApprovalFlow(ok(changeSet=change_set("cs-new")))

    make_client(server).create_change_set("12345", "Title", [])

    assert body_of(server.last) == {"spaceId": "12345", "title": "Title", "pageRefs": []}


def test_update_change_set_sends_every_given_field() -> None:
    server = FakeApprovalFlow(ok(changeSet=change_set("cs-1", title="New title")))

    cs = make_client(server).update_change_set(
        "cs-1",
        title="New title",
        summary="New summary",
        reference_url="https://github.com/org/repo/pull/185",
        page_ids=["1", "2"],
    )

    assert_request(
        server.last,
        "POST",
        "/changeSets/update",
        body={
            "changeSetId": "cs-1",
            "title": "New title",
            "summary": "New summary",
            "referenceUrl": "https://github.com/org/repo/pull/185",
            "pageRefs": [{"pageId": "1"}, {"pageId": "2"}],
        },
    )
    assert cs is not None
    assert cs.title == "New title"


def test_update_change_set_sends_only_the_given_fields() -> None:
    server = FakeApprovalFlow(ok(changeSet=change_set("cs-1")))

    make_client(server).update_change_set("cs-1", summary="Only this")

    assert body_of(server.last) == {"changeSetId": "cs-1", "summary": "Only this"}


def test_update_change_set_with_no_pages_empties_the_list() -> None:
    server = FakeApprovalFlow(ok(changeSet=change_set("cs-1", pageRefs=[])))

    make_client(server).update_change_set("cs-1", page_ids=[])

    assert body_of(server.last) == {"changeSetId": "cs-1", "pageRefs": []}


def test_archive_change_set() -> None:
    server = FakeApprovalFlow(ok(changeSet=change_set("cs-1", status="archived")))

    cs = make_client(server).archive_change_set("cs-1")

    assert_request(server.last, "POST", "/changeSets/archive", body={"changeSetId": "cs-1"})
    assert cs is not None
    assert not cs.is_open


def test_submit_change_set_returns_partial_success() -> None:
    server = FakeApprovalFlow(
        ok(
            submittedCount=1,
            skippedCount=1,
            results=[
                {"pageId": "67890", "success": True, "workflowId": "wf-123"},
                {"pageId": "67893", "success": False, "reason": "No workflow assigned to page"},
            ],
        )
    )

    answer = make_client(server).submit_change_set("cs-1")

    assert_request(server.last, "POST", "/changeSets/submit", body={"changeSetId": "cs-1"})
    assert isinstance(answer, models.SubmitAnswer)
    assert (answer.submittedCount, answer.skippedCount) == (1, 1)
    assert answer.results[1].reason == "No workflow assigned to page"


def test_preflight_change_set() -> None:
    server = FakeApprovalFlow(
        ok(
            summary={"total": 2, "submittable": 1, "blocked": 1},
            results=[
                {"pageId": "67890", "canSubmit": True, "workflowId": "wf-123"},
                {
                    "pageId": "67893",
                    "canSubmit": False,
                    "reason": "Page already has a pending approval",
                },
            ],
        )
    )

    answer = make_client(server).preflight_change_set("cs-1")

    assert_request(server.last, "POST", "/changeSets/preflight", body={"changeSetId": "cs-1"})
    assert isinstance(answer, models.PreflightAnswer)
    assert answer.summary.blocked == 1
    assert answer.results[1].reason == "Page already has a pending approval"


def test_submit_page() -> None:
    server = FakeApprovalFlow(ok(pageId="67890", workflowId="wf-123"))

    answer = make_client(server).submit_page("67890")

    assert_request(server.last, "POST", "/pages/submit", body={"pageId": "67890"})
    assert isinstance(answer, models.PageSubmitAnswer)
    assert answer.workflowId == "wf-123"


def test_preflight_page() -> None:
    server = FakeApprovalFlow(ok(pageId="67893", canSubmit=False, reason="No workflow assigned"))

    answer = make_client(server).preflight_page("67893")

    assert_request(server.last, "POST", "/pages/preflight", body={"pageId": "67893"})
    assert isinstance(answer, models.PagePreflightAnswer)
    assert answer.canSubmit is False
    assert answer.reason == "No workflow assigned"


def test_a_trailing_slash_on_the_base_url_gives_no_double_slash() -> None:
    server = FakeApprovalFlow(ok(changeSets=[]))
    client = make_client(server, base_url="https://api.atlassian.com" + BASE_PATH + "/")

    client.list_change_sets("1")

    assert server.last.url.path == BASE_PATH + "/changeSets"


def test_query_values_are_encoded() -> None:
    server = FakeApprovalFlow(ok(changeSet=change_set("a&b=c")))

    make_client(server).get_change_set("a&b=c")

    assert dict(server.last.url.params) == {"changeSetId": "a&b=c"}


def test_client_works_as_a_context_manager_and_closes_its_http_client() -> None:
    http = httpx.Client(transport=httpx.MockTransport(FakeApprovalFlow(ok(changeSets=[]))))

    with ApprovalFlowClient("https://h.example/x", TOKEN, http=http) as client:
        assert client.list_change_sets("1") == []

    assert http.is_closed


# -- listing and finding ---------------------------------------------------------------------


def paged(pages: dict[str | None, dict[str, Any]]) -> Callable[[httpx.Request], httpx.Response]:
    """Answers ``GET /changeSets`` by the request's ``cursor`` parameter."""

    def answer(request: httpx.Request) -> httpx.Response:
        return ok(**pages[request.url.params.get("cursor")])

    return answer


@pytest.mark.parametrize("field", ["next", "cursor"])
def test_list_follows_a_cursor_field(field: str) -> None:
    server = FakeApprovalFlow(
        paged(
            {
                None: {"changeSets": [change_set("cs-1")], field: "p2"},
                "p2": {"changeSets": [change_set("cs-2")], field: "p3"},
                "p3": {"changeSets": [change_set("cs-3")]},
            }
        )
    )

    found = make_client(server).list_change_sets("12345")

    assert [cs.id for cs in found] == ["cs-1", "cs-2", "cs-3"]
    assert [dict(r.url.params) for r in server.requests] == [
        {"spaceId": "12345"},
        {"spaceId": "12345", "cursor": "p2"},
        {"spaceId": "12345", "cursor": "p3"},
    ]


def test_list_stops_on_a_repeated_cursor() -> None:
    server = FakeApprovalFlow(
        paged(
            {
                None: {"changeSets": [change_set("cs-1")], "next": "p2"},
                "p2": {"changeSets": [change_set("cs-2")], "next": "p3"},
                "p3": {"changeSets": [change_set("cs-3")], "next": "p2"},
            }
        )
    )

    found = make_client(server).list_change_sets("12345")

    assert len(server.requests) == 3
    assert [cs.id for cs in found] == ["cs-1", "cs-2", "cs-3"]


def test_list_does_not_loop_or_duplicate_when_the_server_ignores_the_cursor() -> None:
    server = FakeApprovalFlow(ok(changeSets=[change_set("cs-1"), change_set("cs-2")], next="p2"))

    found = make_client(server).list_change_sets("12345")

    assert len(server.requests) == 2
    assert [cs.id for cs in found] == ["cs-1", "cs-2"]


def test_find_change_sets_keeps_open_ones_linked_to_the_url_oldest_first() -> None:
    url = "https://github.com/org/repo/pull/184"
    server = FakeApprovalFlow(
        ok(
            changeSets=[
                change_set("cs-late", referenceUrl=url, createdAt="2026-03-28T09:00:00.000Z"),
                change_set(
                    "cs-other", referenceUrl=url + "0", createdAt="2026-03-01T00:00:00.000Z"
                ),
                change_set(
                    "cs-archived",
                    referenceUrl=url,
                    status="archived",
                    createdAt="2026-03-02T00:00:00.000Z",
                ),
                change_set("cs-early", referenceUrl=url, createdAt="2026-03-27T10:00:00.000Z"),
                change_set("cs-no-url", referenceUrl=None),
                change_set("cs-tie-b", referenceUrl=url, createdAt="2026-03-28T09:00:00.000Z"),
            ]
        )
    )

    found = linked_open(make_client(server).list_change_sets("12345"), url)

    assert [cs.id for cs in found] == ["cs-early", "cs-late", "cs-tie-b"]
    assert_request(server.last, "GET", "/changeSets", query={"spaceId": "12345"})


def test_find_change_sets_finds_nothing_in_an_empty_space() -> None:
    server = FakeApprovalFlow(ok(changeSets=[]))

    assert (
        linked_open(make_client(server).list_change_sets("12345"), "https://x.example/pr/1") == []
    )
