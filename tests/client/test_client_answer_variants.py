"""Every endpoint fed every answer the vendor's reference allows, and what the client makes of it.

The reference leaves open: whether ``success`` appears on a 2xx answer, what create, update,
archive and the single-page calls answer (``{"success": true}`` alone, nothing, the change set
flat or wrapped), whether detail wraps the change set and where its version fields sit, the
archived ``status`` value, and whether ``pageRefs`` items are objects or bare ids. One table: an
endpoint, a variant, the answer, and the result in a plain form.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest
from approvalflow_fakes import FakeApprovalFlow, change_set, make_client

from approvalflow_sync.approvalflow import models
from approvalflow_sync.approvalflow.client import ApprovalFlowClient
from approvalflow_sync.errors import APIResponseError

EMPTY = None
"""An empty body (200, no content)."""
CS = change_set("cs-1")
ODD = "closed-archived-v2"
VERSIONS = {"currentPageVersion": 4, "approvedAtVersion": 3, "isStale": True}


def _ids(cs: models.ChangeSet | None) -> object:
    return None if cs is None else (cs.id, cs.is_open, cs.page_ids)


def _listed(c: ApprovalFlowClient) -> object:
    return [_ids(cs) for cs in c.list_change_sets("12345")]


def _detail(c: ApprovalFlowClient) -> object:
    cs = c.get_change_set("cs-1")
    versions = [
        (r.pageId, r.currentPageVersion, r.approvedAtVersion, r.isStale) for r in cs.pageRefs
    ]
    return (cs.id, cs.is_open, versions)


def _create(c: ApprovalFlowClient) -> object:
    return _ids(c.create_change_set("12345", "T", ["67890"]))


def _update(c: ApprovalFlowClient) -> object:
    return _ids(c.update_change_set("cs-1", title="T"))


def _archive(c: ApprovalFlowClient) -> object:
    return _ids(c.archive_change_set("cs-1"))


def _submit(c: ApprovalFlowClient) -> object:
    a = c.submit_change_set("cs-1")
    return (a.submittedCount, [(r.pageId, r.success, r.reason) for r in a.results])


def _preflight(c: ApprovalFlowClient) -> object:
    a = c.preflight_change_set("cs-1")
    return (a.summary.blocked, [(r.pageId, r.canSubmit, r.reason) for r in a.results])


def _page_submit(c: ApprovalFlowClient) -> object:
    a = c.submit_page("67890")
    return (a.pageId, a.workflowId)


def _page_preflight(c: ApprovalFlowClient) -> object:
    a = c.preflight_page("67890")
    return (a.pageId, a.canSubmit, a.reason)


Call = Callable[[ApprovalFlowClient], object]
OPEN_CS = ("cs-1", True, ["67890"])
SUBMIT = {
    "submittedCount": 1,
    "skippedCount": 1,
    "results": [
        {"pageId": "67890", "success": True, "workflowId": "wf-1"},
        {"pageId": "67893", "success": False, "reason": "No workflow assigned to page"},
    ],
}
SUBMITTED = (1, [("67890", True, None), ("67893", False, "No workflow assigned to page")])
PREFLIGHT = {
    "summary": {"total": 2, "submittable": 1, "blocked": 1},
    "results": [
        {"pageId": "67890", "canSubmit": True, "workflowId": "wf-1"},
        {"pageId": "67893", "canSubmit": False, "reason": "Page already has a pending approval"},
    ],
}
CHECKED = (1, [("67890", True, None), ("67893", False, "Page already has a pending approval")])

CASES: list[tuple[str, Call, str, dict[str, Any] | None, object]] = [
    # list: documented shape; success, status, page refs and extra fields vary
    ("list", _listed, "documented", {"success": True, "changeSets": [CS]}, [OPEN_CS]),
    ("list", _listed, "minimal", {"changeSets": [{"id": "cs-1"}]}, [("cs-1", True, [])]),
    ("list", _listed, "missing success", {"changeSets": [CS]}, [OPEN_CS]),
    (
        "list",
        _listed,
        "unknown status",
        {"changeSets": [{**CS, "status": ODD}]},
        [("cs-1", False, ["67890"])],
    ),
    (
        "list",
        _listed,
        "bare page ids",
        {"changeSets": [{**CS, "pageRefs": ["1", 2]}]},
        [("cs-1", True, ["1", "2"])],
    ),
    (
        "list",
        _listed,
        "extra fields",
        {"success": True, "changeSets": [{**CS, "x": 1}], "y": 2},
        [OPEN_CS],
    ),
    # detail: wrapped or flat, version fields flat, wrapped or missing
    (
        "detail",
        _detail,
        "wrapped",
        {"success": True, "changeSet": {**CS, "pageRefs": [{"pageId": "67890", **VERSIONS}]}},
        ("cs-1", True, [("67890", 4, 3, True)]),
    ),
    (
        "detail",
        _detail,
        "flat",
        {**CS, "pageRefs": [{"pageId": "67890", **VERSIONS}]},
        ("cs-1", True, [("67890", 4, 3, True)]),
    ),
    (
        "detail",
        _detail,
        "versions wrapped",
        {"changeSet": {**CS, "pageRefs": [{"pageId": "67890", "versions": VERSIONS}]}},
        ("cs-1", True, [("67890", 4, 3, True)]),
    ),
    (
        "detail",
        _detail,
        "versions missing",
        {"success": True, "changeSet": CS},
        ("cs-1", True, [("67890", None, None, None)]),
    ),
    ("detail", _detail, "minimal", {"success": True}, ("cs-1", True, [])),
    ("detail", _detail, "empty body", EMPTY, ("cs-1", True, [])),
    (
        "detail",
        _detail,
        "unknown status",
        {**CS, "status": ODD, "pageRefs": []},
        ("cs-1", False, []),
    ),
    (
        "detail",
        _detail,
        "bare page ids",
        {**CS, "pageRefs": [67890]},
        ("cs-1", True, [("67890", None, None, None)]),
    ),
    (
        "detail",
        _detail,
        "extra fields",
        {"changeSet": {**CS, "x": 1}, "y": 2},
        ("cs-1", True, [("67890", None, None, None)]),
    ),
]
for _name, _call in (("create", _create), ("update", _update), ("archive", _archive)):
    CASES += [
        (_name, _call, "minimal", {"success": True}, None),
        (_name, _call, "empty body", EMPTY, None),
        (_name, _call, "missing success", {"other": 1}, None),
        (_name, _call, "flat", {"success": True, **CS}, OPEN_CS),
        (_name, _call, "wrapped", {"changeSet": CS}, OPEN_CS),
        (
            _name,
            _call,
            "unknown status",
            {"changeSet": {**CS, "status": ODD}},
            ("cs-1", False, ["67890"]),
        ),
        (_name, _call, "bare page ids", {**CS, "pageRefs": ["67890"]}, OPEN_CS),
        (_name, _call, "extra fields", {"changeSet": {**CS, "x": 1}, "y": 2}, OPEN_CS),
    ]
CASES += [
    ("submit", _submit, "documented", {"success": True, **SUBMIT}, SUBMITTED),
    ("submit", _submit, "missing success", SUBMIT, SUBMITTED),
    ("submit", _submit, "extra fields", {**SUBMIT, "auditId": "a-1"}, SUBMITTED),
    ("submit", _submit, "minimal", {"success": True}, (None, [])),
    ("submit", _submit, "empty body", EMPTY, (None, [])),
    ("preflight", _preflight, "documented", {"success": True, **PREFLIGHT}, CHECKED),
    ("preflight", _preflight, "missing success", PREFLIGHT, CHECKED),
    ("preflight", _preflight, "extra fields", {**PREFLIGHT, "x": [1]}, CHECKED),
    ("preflight", _preflight, "minimal", {"success": True}, (None, [])),
    ("page submit", _page_submit, "minimal", {"success": True}, ("67890", None)),
    ("page submit", _page_submit, "empty body", EMPTY, ("67890", None)),
    ("page submit", _page_submit, "flat", {"pageId": "67890", "workflowId": "wf-1"},
     ("67890", "wf-1")),
    ("page submit", _page_submit, "extra fields", {"workflowId": "wf-1", "approvalId": "a"},
     ("67890", "wf-1")),
    ("page preflight", _page_preflight, "flat", {"pageId": "67890", "canSubmit": True},
     ("67890", True, None)),
    ("page preflight", _page_preflight, "without page id",
     {"success": True, "canSubmit": False, "reason": "Blocked"}, ("67890", False, "Blocked")),
    ("page preflight", _page_preflight, "minimal", {"success": True}, ("67890", None, None)),
    ("page preflight", _page_preflight, "extra fields", {"canSubmit": True, "x": 1},
     ("67890", True, None)),
]  # fmt: skip


def answer(body: dict[str, Any] | None) -> httpx.Response:
    return httpx.Response(200, content=b"") if body is None else httpx.Response(200, json=body)


@pytest.mark.parametrize(
    ("call", "body", "expected"),
    [
        pytest.param(call, body, expected, id=f"{name}: {variant}")
        for name, call, variant, body, expected in CASES
    ],
)
def test_every_endpoint_reads_every_answer_the_reference_allows(
    call: Call, body: dict[str, Any] | None, expected: object
) -> None:
    assert call(make_client(FakeApprovalFlow(answer(body)))) == expected


@pytest.mark.parametrize(
    "call",
    [
        _listed,
        _detail,
        _create,
        _update,
        _archive,
        _submit,
        _preflight,
        _page_submit,
        _page_preflight,
    ],
)
def test_success_false_is_an_error_on_every_endpoint(call: Call) -> None:
    refused = httpx.Response(200, json={"success": False, "error": "No"})

    with pytest.raises(APIResponseError, match="success false: No"):
        call(make_client(FakeApprovalFlow(refused)))


def test_a_list_without_its_change_sets_is_an_error() -> None:
    with pytest.raises(APIResponseError, match="changeSets: Field required"):
        _listed(make_client(FakeApprovalFlow(answer({"success": True}))))


def test_nulls_read_as_left_out_and_a_null_status_is_not_open() -> None:
    server = FakeApprovalFlow(
        httpx.Response(
            200,
            json={
                "success": True,
                "changeSets": [
                    {"id": "cs-1", "status": None, "title": None, "pageRefs": None},
                    {"id": "cs-2", "summary": None, "rollupState": None},
                ],
            },
        )
    )

    first, second = make_client(server).list_change_sets("12345")

    assert (first.title, first.page_ids, first.is_open) == ("", [], False)
    assert (second.summary, second.is_open) == (None, True)
