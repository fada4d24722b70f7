"""The sandbox's API contract over real HTTP: shapes, rules, refusals and auth."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from sandbox_helpers import DOCS, DOCS_WORKFLOW, DRAFTS, ENG, NO_TOKEN, Sandbox, reasons, refs

from approvalflow_sync.sandbox import ALL_SCOPES, SandboxServer

CHANGE_SET_FIELDS = {
    "id",
    "spaceId",
    "title",
    "summary",
    "referenceUrl",
    "status",
    "rollupState",
    "pageRefs",
    "createdAt",
    "createdBy",
}
ISO_MS_Z = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")


@pytest.fixture(scope="module")
def http() -> Iterator[httpx.Client]:
    with httpx.Client(trust_env=False, timeout=5) as client:
        yield client


@pytest.fixture
def af(http: httpx.Client) -> Iterator[Sandbox]:
    with SandboxServer(answers="rich") as server:
        yield Sandbox(server, http)


# -- shapes --------------------------------------------------------------------------------------


def test_list_answers_every_change_set_of_the_space_archived_included(af: Sandbox) -> None:
    first = af.create(["67890"], referenceUrl="https://github.com/o/r/pull/1", summary="s")
    second = af.create(["67891", "67892"])
    af.create(["76540"], space=ENG)
    af.ok("POST", "/changeSets/archive", {"changeSetId": first["id"]})

    listed = af.ok("GET", "/changeSets", params={"spaceId": DOCS})["changeSets"]

    assert [cs["id"] for cs in listed] == [first["id"], second["id"]]
    assert [cs["status"] for cs in listed] == ["archived", "open"]
    for cs in listed:
        assert set(cs) == CHANGE_SET_FIELDS
        assert re.fullmatch(r"cs-[0-9a-f]+", cs["id"])
        assert ISO_MS_Z.match(cs["createdAt"])
        assert cs["createdBy"] == "sandbox-user"
        assert cs["spaceId"] == DOCS
    assert listed[0]["referenceUrl"] == "https://github.com/o/r/pull/1"
    assert listed[0]["summary"] == "s"
    assert listed[1]["pageRefs"] == [{"pageId": "67891"}, {"pageId": "67892"}]
    assert listed[1]["rollupState"] == "open"


def test_list_takes_the_space_from_a_json_body_too(af: Sandbox) -> None:
    created = af.create(["67890"])
    listed = af.ok("GET", "/changeSets", {"spaceId": DOCS})["changeSets"]
    assert [cs["id"] for cs in listed] == [created["id"]]


def test_list_refuses_a_missing_or_unknown_space(af: Sandbox) -> None:
    assert af.refused(400, "GET", "/changeSets") == "spaceId: Field required"
    assert af.refused(400, "GET", "/changeSets", params={"spaceId": "777"}) == "Space not found"


def test_create_collapses_duplicate_pages_and_keeps_unknown_ones(af: Sandbox) -> None:
    created = af.create(["67890", "999", "67890", "67891"])
    assert created["pageRefs"] == refs(["67890", "999", "67891"])
    assert created["status"] == "open"
    assert created["summary"] is None
    assert created["referenceUrl"] is None


def test_change_set_ids_are_distinct(af: Sandbox) -> None:
    ids = {af.create(["67890"])["id"] for _ in range(5)}
    assert len(ids) == 5


@pytest.mark.parametrize(
    ("body", "error"),
    [
        ({"title": "T", "pageRefs": refs(["67890"])}, "spaceId: Field required"),
        ({"spaceId": DOCS, "pageRefs": refs(["67890"])}, "title: Field required"),
        ({"spaceId": DOCS, "title": "  ", "pageRefs": refs(["67890"])},
         "title: must not be blank, got '  '"),
        ({"spaceId": DOCS, "title": "T"}, "pageRefs: Field required"),
        ({"spaceId": DOCS, "title": "T", "pageRefs": []},
         "pageRefs: List should have at least 1 item after validation, not 0"),
        ({"spaceId": DOCS, "title": "T", "pageRefs": "67890"},
         "pageRefs: Input should be a valid list, got '67890'"),
        ({"spaceId": DOCS, "title": "T", "pageRefs": [{}]}, "pageRefs[0].pageId: Field required"),
        ({"spaceId": DOCS, "title": "T", "pageRefs": [{"pageId": "1"}, {"pageId": "12a"}]},
         "pageRefs[1].pageId: must be a string of digits, got '12a'"),
        ({"spaceId": DOCS, "title": "T", "pageRefs": [{"pageId": 67890}]},
         "pageRefs[0].pageId: Input should be a valid string, got 67890"),
        ({"spaceId": DOCS, "title": "T", "pageRefs": ["67890"]},
         "pageRefs[0]: Input should be a valid dictionary or instance of _PageCall, got '67890'"),
        ({"spaceId": "777", "title": "T", "pageRefs": refs(["67890"])}, "Space not found"),
        ({"spaceId": DOCS, "title": "T", "pageRefs": refs(["1"]), "summary": 3},
         "summary: Input should be a valid string, got 3"),
    ],
)  # fmt: skip
def test_create_refuses_invalid_input_with_400(
    af: Sandbox, body: dict[str, Any], error: str
) -> None:
    assert af.refused(400, "POST", "/changeSets", body) == error
    assert af.ok("GET", "/changeSets", params={"spaceId": DOCS})["changeSets"] == []


def test_a_body_that_is_not_a_json_object_is_refused(af: Sandbox) -> None:
    response = af.http.post(
        af.server.base_url + "/changeSets",
        content=b"{not json",
        headers={"Authorization": "Bearer sandbox-token"},
    )
    assert response.status_code == 400
    assert response.json() == {"success": False, "error": "Request body is not valid JSON"}
    assert af.refused(400, "POST", "/changeSets", [1, 2]) == "Request body must be a JSON object"


def test_unknown_paths_answer_404_and_wrong_methods_405(af: Sandbox) -> None:
    assert af.refused(404, "GET", "/changeSetz") == "Not found"
    assert af.refused(405, "GET", "/changeSets/submit") == "Method not allowed"


def test_update_changes_only_the_given_fields_and_replaces_the_pages(af: Sandbox) -> None:
    created = af.create(["67890", "67891"], summary="old", referenceUrl="https://x/1")
    body = {"changeSetId": created["id"], "title": "New title", "pageRefs": refs(["67892"])}
    updated = af.ok("POST", "/changeSets/update", body)["changeSet"]
    assert updated["title"] == "New title"
    assert updated["summary"] == "old"
    assert updated["referenceUrl"] == "https://x/1"
    assert updated["pageRefs"] == refs(["67892"])
    assert updated["createdAt"] == created["createdAt"]
    assert af.detail(created["id"])["title"] == "New title"

    summary = af.ok("POST", "/changeSets/update", {"changeSetId": created["id"], "summary": "new"})
    assert summary["changeSet"]["summary"] == "new"
    assert summary["changeSet"]["pageRefs"] == refs(["67892"])


@pytest.mark.parametrize(
    ("body", "error"),
    [
        ({}, "changeSetId: Field required"),
        ({"changeSetId": "cs-nope"}, "Change set not found"),
        ({"changeSetId": "<id>", "title": ""}, "title: must not be blank, got ''"),
        (
            {"changeSetId": "<id>", "pageRefs": []},
            "pageRefs: List should have at least 1 item after validation, not 0",
        ),
    ],
)
def test_update_refuses_invalid_input(af: Sandbox, body: dict[str, Any], error: str) -> None:
    created = af.create(["67890"])
    body = {k: created["id"] if v == "<id>" else v for k, v in body.items()}
    assert af.refused(400, "POST", "/changeSets/update", body) == error
    assert af.detail(created["id"])["title"] == created["title"]


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/changeSets/detail"),
        ("POST", "/changeSets/update"),
        ("POST", "/changeSets/archive"),
        ("POST", "/changeSets/submit"),
        ("POST", "/changeSets/preflight"),
    ],
)
def test_an_unknown_change_set_is_a_400(af: Sandbox, method: str, path: str) -> None:
    if method == "GET":
        error = af.refused(400, method, path, params={"changeSetId": "cs-0000"})
    else:
        error = af.refused(400, method, path, {"changeSetId": "cs-0000"})
    assert error == "Change set not found"


# -- eligibility -----------------------------------------------------------------------------------


def test_every_blocking_reason_shows_in_preflight_and_submit(af: Sandbox) -> None:
    af.ok("POST", "/pages/submit", {"pageId": "67890"})  # now pending
    af.admin("workflows", {"spaceId": DOCS, "id": "wf-retired", "active": False})
    af.admin("pages/assign", {"pageId": "67892", "workflowId": "wf-retired"})
    pages = ["67890", "67891", "76540", "999", "67892"]
    expected = {
        "67890": "Page already has a pending approval",
        "67891": None,
        "76540": "Page belongs to another space",
        "999": "Page not found",
        "67892": "No workflow assigned to page",
    }
    cs = af.create(pages)

    preflight = af.preflight(cs["id"])
    assert reasons(preflight["results"]) == expected
    assert preflight["summary"] == {"total": 5, "submittable": 1, "blocked": 4}
    assert [r["pageId"] for r in preflight["results"]] == pages

    submit = af.submit(cs["id"])
    assert reasons(submit["results"]) == expected
    assert (submit["submittedCount"], submit["skippedCount"]) == (1, 4)
    assert submit["results"][1] == {"pageId": "67891", "success": True, "workflowId": DOCS_WORKFLOW}
    assert submit["results"][0] == {
        "pageId": "67890",
        "success": False,
        "reason": "Page already has a pending approval",
    }


def test_a_space_without_workflow_blocks_its_pages(af: Sandbox) -> None:
    cs = af.create(["88800", "88801"], space=DRAFTS)
    preflight = af.preflight(cs["id"])
    assert reasons(preflight["results"]) == dict.fromkeys(
        ["88800", "88801"], "No workflow assigned to page"
    )
    assert af.submit(cs["id"])["submittedCount"] == 0
    page = af.ok("POST", "/pages/preflight", {"pageId": "88800"})
    assert page["reason"] == "No workflow assigned to page"
    assert af.refused(400, "POST", "/pages/submit", {"pageId": "88800"}) == (
        "No workflow assigned to page"
    )


def test_submit_submits_exactly_the_pages_preflight_said_could_go(af: Sandbox) -> None:
    af.ok("POST", "/pages/submit", {"pageId": "67893"})
    cs = af.create(["67890", "67893", "999", "67891", "76541"])

    preflight = af.preflight(cs["id"])
    submit = af.submit(cs["id"])

    can = {r["pageId"]: r.get("workflowId") for r in preflight["results"] if r["canSubmit"]}
    did = {r["pageId"]: r.get("workflowId") for r in submit["results"] if r["success"]}
    assert can == did == {"67890": DOCS_WORKFLOW, "67891": DOCS_WORKFLOW}
    assert submit["submittedCount"] == preflight["summary"]["submittable"]
    assert submit["skippedCount"] == preflight["summary"]["blocked"]
    assert reasons(submit["results"]) == reasons(preflight["results"])
    after = af.preflight(cs["id"])
    assert after["summary"]["submittable"] == 0
    assert reasons(after["results"])["67890"] == "Page already has a pending approval"


def test_preflight_writes_nothing(af: Sandbox) -> None:
    cs = af.create(["67890", "67891"])
    before = af.admin("state", method="GET")
    first = af.preflight(cs["id"])
    assert af.preflight(cs["id"]) == first
    af.ok("POST", "/pages/preflight", {"pageId": "67890"})
    assert af.admin("state", method="GET") == before
    assert af.rollup(cs["id"]) == "open"


def test_single_page_submit_is_strict_while_change_set_submit_takes_the_first_workflow(
    af: Sandbox,
) -> None:
    af.admin("workflows", {"spaceId": DOCS, "id": "wf-a-legal", "name": "Legal"})
    ambiguous = "Page has no assigned workflow and the space has several active workflows"

    page = af.ok("POST", "/pages/preflight", {"pageId": "67890"})
    assert page == {"success": True, "pageId": "67890", "canSubmit": False, "reason": ambiguous}
    assert af.refused(400, "POST", "/pages/submit", {"pageId": "67890"}) == ambiguous

    cs = af.create(["67890"])
    preflight = af.preflight(cs["id"])["results"]
    assert preflight == [{"pageId": "67890", "canSubmit": True, "workflowId": "wf-a-legal"}]
    submit = af.submit(cs["id"])["results"]
    assert submit == [{"pageId": "67890", "success": True, "workflowId": "wf-a-legal"}]


def test_an_assigned_workflow_is_used_and_blocks_once_inactive(af: Sandbox) -> None:
    af.admin("workflows", {"spaceId": DOCS, "id": "wf-z-legal"})
    af.admin("pages/assign", {"pageId": "67890", "workflowId": "wf-z-legal"})
    page = af.ok("POST", "/pages/preflight", {"pageId": "67890"})
    assert (page["canSubmit"], page["workflowId"]) == (True, "wf-z-legal")

    af.admin("workflows", {"spaceId": DOCS, "id": "wf-z-legal", "active": False})
    page = af.ok("POST", "/pages/preflight", {"pageId": "67890"})
    assert (page["canSubmit"], page["reason"]) == (False, "No workflow assigned to page")
    cs = af.create(["67890"])
    assert reasons(af.submit(cs["id"])["results"]) == {"67890": "No workflow assigned to page"}


def test_single_page_submit_and_preflight_answer_their_shapes(af: Sandbox) -> None:
    preflight = af.ok("POST", "/pages/preflight", {"pageId": "67890"})
    assert preflight == {
        "success": True,
        "pageId": "67890",
        "canSubmit": True,
        "workflowId": DOCS_WORKFLOW,
    }
    submitted = af.ok("POST", "/pages/submit", {"pageId": "67890"})
    assert submitted == {"success": True, "pageId": "67890", "workflowId": DOCS_WORKFLOW}
    again = af.refused(400, "POST", "/pages/submit", {"pageId": "67890"})
    assert again == "Page already has a pending approval"

    unknown = af.ok("POST", "/pages/preflight", {"pageId": "999"})
    assert (unknown["canSubmit"], unknown["reason"]) == (False, "Page not found")
    assert af.refused(400, "POST", "/pages/submit", {"pageId": "999"}) == "Page not found"
    assert af.refused(400, "POST", "/pages/submit", {}) == "pageId: Field required"
    assert af.refused(400, "POST", "/pages/preflight", {"pageId": "x1"}) == (
        "pageId: must be a string of digits, got 'x1'"
    )


def test_a_rejected_or_approved_page_can_be_submitted_again(af: Sandbox) -> None:
    af.ok("POST", "/pages/submit", {"pageId": "67890"})
    af.admin("reject", {"pageId": "67890"})
    af.ok("POST", "/pages/submit", {"pageId": "67890"})
    af.admin("approve", {"pageId": "67890"})
    assert af.ok("POST", "/pages/preflight", {"pageId": "67890"})["canSubmit"] is True


# -- rollup and versions ------------------------------------------------------------------------


def test_rollup_goes_open_in_review_partially_all_approved_then_stale(af: Sandbox) -> None:
    cs = af.create(["67890", "67891"])["id"]
    assert af.rollup(cs) == "open"
    af.submit(cs)
    assert af.rollup(cs) == "in_review"
    af.admin("approve", {"pageId": "67890"})
    assert af.rollup(cs) == "partially_approved"
    af.admin("approve", {"pageId": "67891"})
    assert af.rollup(cs) == "all_approved"
    af.admin("edit-page", {"pageId": "67891"})
    assert af.rollup(cs) == "stale"
    listed = af.ok("GET", "/changeSets", params={"spaceId": DOCS})["changeSets"]
    assert listed[0]["rollupState"] == "stale"


def test_a_rejection_outranks_every_other_state(af: Sandbox) -> None:
    cs = af.create(["67890", "67891", "67892"])["id"]
    af.submit(cs)
    af.admin("approve", {"pageId": "67890"})
    af.admin("edit-page", {"pageId": "67890"})
    assert af.rollup(cs) == "stale"
    af.admin("reject", {"pageId": "67891"})
    assert af.rollup(cs) == "has_rejections"


def test_in_review_when_only_some_pages_are_pending(af: Sandbox) -> None:
    af.ok("POST", "/pages/submit", {"pageId": "67891"})
    cs = af.create(["67890", "67891"])["id"]
    assert af.rollup(cs) == "in_review"


def test_an_unknown_page_keeps_the_change_set_from_all_approved(af: Sandbox) -> None:
    cs = af.create(["67890", "999"])["id"]
    af.submit(cs)
    af.admin("approve", {"pageId": "67890"})
    assert af.rollup(cs) == "partially_approved"


def test_detail_gives_each_page_its_versions_and_staleness(af: Sandbox) -> None:
    cs = af.create(["67891", "999"])["id"]
    af.submit(cs)
    detail = af.detail(cs)
    assert set(detail) == CHANGE_SET_FIELDS
    assert detail["pageRefs"] == [
        {
            "pageId": "67891",
            "title": "Authentication",
            "currentPageVersion": 5,
            "approvedAtVersion": None,
            "isStale": False,
            "versionDelta": None,
        },
        {
            "pageId": "999",
            "currentPageVersion": None,
            "approvedAtVersion": None,
            "isStale": False,
            "versionDelta": None,
        },
    ]
    af.admin("approve", {"pageId": "67891"})
    page = af.detail(cs)["pageRefs"][0]
    assert (page["approvedAtVersion"], page["isStale"], page["versionDelta"]) == (5, False, 0)
    af.admin("edit-page", {"pageId": "67891"})
    af.admin("edit-page", {"pageId": "67891"})
    page = af.detail(cs)["pageRefs"][0]
    assert page["currentPageVersion"] == 7
    assert (page["approvedAtVersion"], page["isStale"], page["versionDelta"]) == (5, True, 2)


def test_an_approval_is_for_the_version_that_was_submitted(af: Sandbox) -> None:
    cs = af.create(["67890"])["id"]
    af.submit(cs)
    af.admin("edit-page", {"pageId": "67890"})
    approval = af.admin("approve", {"pageId": "67890"})["approval"]
    assert approval["version"] == 3
    page = af.detail(cs)["pageRefs"][0]
    assert (page["currentPageVersion"], page["approvedAtVersion"], page["isStale"]) == (4, 3, True)
    assert af.rollup(cs) == "stale"


# -- archived ------------------------------------------------------------------------------------


def test_an_archived_change_set_is_read_only(af: Sandbox) -> None:
    cs = af.create(["67890"])["id"]
    archived = af.ok("POST", "/changeSets/archive", {"changeSetId": cs})["changeSet"]
    assert archived["status"] == "archived"
    read_only = "Change set is archived and read-only"

    body = {"changeSetId": cs, "title": "late"}
    assert af.refused(400, "POST", "/changeSets/update", body) == read_only
    assert af.refused(400, "POST", "/changeSets/submit", {"changeSetId": cs}) == read_only
    assert af.refused(400, "POST", "/changeSets/archive", {"changeSetId": cs}) == read_only

    assert af.preflight(cs)["summary"] == {"total": 1, "submittable": 1, "blocked": 0}
    detail = af.detail(cs)
    assert (detail["status"], detail["title"]) == ("archived", "PR-1 docs")
    assert af.ok("POST", "/pages/preflight", {"pageId": "67890"})["canSubmit"] is True


# -- auth ----------------------------------------------------------------------------------------

ENDPOINTS: list[tuple[str, str, str, dict[str, Any]]] = [
    ("GET", "/changeSets", "read:change-set:custom", {"spaceId": DOCS}),
    ("GET", "/changeSets/detail", "read:change-set:custom", {"changeSetId": "<id>"}),
    ("POST", "/changeSets/preflight", "read:change-set:custom", {"changeSetId": "<id>"}),
    ("POST", "/changeSets", "write:change-set:custom",
     {"spaceId": DOCS, "title": "T", "pageRefs": refs(["67890"])}),
    ("POST", "/changeSets/update", "write:change-set:custom",
     {"changeSetId": "<id>", "title": "U"}),
    ("POST", "/changeSets/submit", "write:change-set:custom", {"changeSetId": "<id>"}),
    ("POST", "/changeSets/archive", "write:change-set:custom", {"changeSetId": "<id>"}),
    ("POST", "/pages/preflight", "read:approval:custom", {"pageId": "67891"}),
    ("POST", "/pages/submit", "write:approval:custom", {"pageId": "67891"}),
]  # fmt: skip
"""Every endpoint, the scope it needs besides the product scope, and a valid input."""


def _send(
    af: Sandbox, method: str, path: str, params: dict[str, Any], token: str
) -> httpx.Response:
    if "<id>" in params.values():
        existing = af.create(["67890"])["id"]
        params = {k: existing if v == "<id>" else v for k, v in params.items()}
    if method == "GET":
        return af.call(method, path, params=params, token=token)
    return af.call(method, path, params, token=token)


@pytest.mark.parametrize(("method", "path", "scope", "params"), ENDPOINTS)
def test_each_endpoint_needs_its_scope(
    af: Sandbox, method: str, path: str, scope: str, params: dict[str, Any]
) -> None:
    af.admin("tokens", {"token": "lacking", "scopes": [s for s in ALL_SCOPES if s != scope]})
    af.admin("tokens", {"token": "just-enough", "scopes": ["read:forge-app:confluence", scope]})

    refused = _send(af, method, path, params, "lacking")
    assert refused.status_code == 403
    assert refused.json() == {
        "success": False,
        "error": f"Token is missing required scope: {scope}",
    }
    allowed = _send(af, method, path, params, "just-enough")
    assert allowed.status_code == 200, allowed.text


@pytest.mark.parametrize(("method", "path", "scope", "params"), ENDPOINTS)
def test_every_endpoint_needs_the_product_scope(
    af: Sandbox, method: str, path: str, scope: str, params: dict[str, Any]
) -> None:
    af.admin("tokens", {"token": "no-product", "scopes": list(ALL_SCOPES[1:])})
    refused = _send(af, method, path, params, "no-product")
    assert refused.status_code == 403
    assert refused.json()["error"] == "Token is missing required scope: read:forge-app:confluence"


@pytest.mark.parametrize("token", [NO_TOKEN, "not-a-token"])
def test_a_missing_or_unknown_token_is_a_401(af: Sandbox, token: str) -> None:
    error = af.refused(401, "GET", "/changeSets", params={"spaceId": DOCS}, token=token)
    assert error == "Unauthorized: missing or invalid access token"


def test_a_non_bearer_authorization_is_a_401(af: Sandbox) -> None:
    response = af.http.get(
        af.server.base_url + "/changeSets",
        params={"spaceId": DOCS},
        headers={"Authorization": "Basic sandbox-token"},
    )
    assert response.status_code == 401


def test_an_inactive_licence_is_a_403_naming_the_licence(af: Sandbox) -> None:
    af.admin("licence", {"active": False})
    error = af.refused(403, "GET", "/changeSets", params={"spaceId": DOCS})
    assert error == "Licence is not active for this site"
    af.admin("licence", {"active": True})
    af.ok("GET", "/changeSets", params={"spaceId": DOCS})


def test_rest_api_off_is_a_vague_403_checked_after_the_token(af: Sandbox) -> None:
    af.admin("rest-api", {"enabled": False})
    af.admin("licence", {"active": False})
    assert af.refused(403, "GET", "/changeSets", params={"spaceId": DOCS}) == "Forbidden"
    assert af.refused(401, "GET", "/changeSets", params={"spaceId": DOCS}, token="nope") == (
        "Unauthorized: missing or invalid access token"
    )
    af.admin("rest-api", {"enabled": True})
    assert af.refused(403, "GET", "/changeSets", params={"spaceId": DOCS}) == (
        "Licence is not active for this site"
    )


def test_the_licence_is_checked_before_the_scopes(af: Sandbox) -> None:
    af.admin("tokens", {"token": "bare", "scopes": []})
    af.admin("licence", {"active": False})
    error = af.refused(403, "GET", "/changeSets", params={"spaceId": DOCS}, token="bare")
    assert error == "Licence is not active for this site"


def test_auth_is_checked_before_the_input(af: Sandbox) -> None:
    assert af.refused(401, "POST", "/changeSets", {}, token="nope").startswith("Unauthorized")
    af.admin("tokens", {"token": "reader", "scopes": ["read:forge-app:confluence"]})
    assert af.refused(403, "POST", "/changeSets", {}, token="reader") == (
        "Token is missing required scope: write:change-set:custom"
    )
