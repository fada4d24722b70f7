"""The sandbox's admin surface over real HTTP: faults, latency, the call log, world changes."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from sandbox_helpers import DOCS, ENG, Sandbox, refs

from approvalflow_sync.sandbox import SandboxServer

CREATE = {"spaceId": DOCS, "title": "PR-9", "pageRefs": refs(["67890"])}


@pytest.fixture(scope="module")
def http() -> Iterator[httpx.Client]:
    with httpx.Client(trust_env=False, timeout=5) as client:
        yield client


@pytest.fixture
def af(http: httpx.Client) -> Iterator[Sandbox]:
    with SandboxServer(answers="rich") as server:
        yield Sandbox(server, http)


def titles(af: Sandbox) -> list[str]:
    listed = af.ok("GET", "/changeSets", params={"spaceId": DOCS})["changeSets"]
    return [cs["title"] for cs in listed]


def admin_refused(af: Sandbox, path: str, body: object, method: str = "POST") -> str:
    response = af.http.request(method, f"{af.server.admin_url}/{path}", json=body)
    assert response.status_code == 400, response.text
    data = response.json()
    assert data["ok"] is False
    error = data["error"]
    assert isinstance(error, str)
    return error


# -- faults --------------------------------------------------------------------------------------


def test_a_status_fault_answers_without_doing_the_work(af: Sandbox) -> None:
    af.admin("faults", {"method": "POST", "path": "/changeSets", "status": 503, "retryAfter": "2"})
    response = af.call("POST", "/changeSets", CREATE)
    assert response.status_code == 503
    assert response.headers["Retry-After"] == "2"
    assert response.json() == {"success": False, "error": "Injected fault"}
    assert titles(af) == []
    assert af.call("POST", "/changeSets", CREATE).status_code == 200
    assert titles(af) == ["PR-9"]


def test_a_retry_after_can_be_an_http_date(af: Sandbox) -> None:
    date = "Wed, 21 Oct 2037 07:28:00 GMT"
    af.admin("faults", {"path": "/changeSets", "status": 429, "retryAfter": date})
    response = af.call("GET", "/changeSets", params={"spaceId": DOCS})
    assert (response.status_code, response.headers["Retry-After"]) == (429, date)


def test_a_fault_lasts_count_matching_calls_then_expires(af: Sandbox) -> None:
    af.admin("faults", {"method": "GET", "path": "/changeSets", "count": 2})
    assert af.admin("faults", method="GET")["faults"][0]["count"] == 2
    assert af.call("POST", "/changeSets", CREATE).status_code == 200  # other method: untouched
    statuses = [af.call("GET", "/changeSets", params={"spaceId": DOCS}).status_code for _ in "abc"]
    assert statuses == [500, 500, 200]
    assert af.admin("faults", method="GET") == {"faults": []}


def test_deleting_faults_clears_them(af: Sandbox) -> None:
    af.admin("faults", {"path": "/changeSets", "count": 5})
    af.admin("faults", method="DELETE")
    assert af.call("GET", "/changeSets", params={"spaceId": DOCS}).status_code == 200


def test_a_delay_fault_slows_the_call_then_answers_normally(af: Sandbox) -> None:
    af.admin("faults", {"path": "/changeSets", "delay": 0.3})
    started = time.monotonic()
    response = af.call("POST", "/changeSets", CREATE)
    assert time.monotonic() - started >= 0.3
    assert response.status_code == 200
    started = time.monotonic()
    af.ok("POST", "/changeSets", CREATE)
    assert time.monotonic() - started < 0.3


def test_a_delay_with_a_status_waits_then_fails(af: Sandbox) -> None:
    af.admin("faults", {"path": "/changeSets", "delay": 0.2, "status": 502})
    started = time.monotonic()
    assert af.call("POST", "/changeSets", CREATE).status_code == 502
    assert time.monotonic() - started >= 0.2
    assert titles(af) == []


def test_a_delay_longer_than_the_client_timeout_times_out(af: Sandbox) -> None:
    af.admin("faults", {"path": "/changeSets/preflight", "delay": 0.5})
    with pytest.raises(httpx.ReadTimeout):
        af.http.post(
            af.server.base_url + "/changeSets/preflight",
            json={"changeSetId": "x"},
            headers={"Authorization": "Bearer sandbox-token"},
            timeout=0.1,
        )


def test_drop_before_closes_the_connection_and_does_nothing(af: Sandbox) -> None:
    af.admin("faults", {"path": "/changeSets", "method": "POST", "drop": "before"})
    with pytest.raises(httpx.RemoteProtocolError):
        af.call("POST", "/changeSets", CREATE)
    assert titles(af) == []
    calls = af.admin("calls", method="GET")["calls"]
    assert (calls[0]["path"], calls[0]["status"]) == ("/changeSets", None)


def test_drop_after_does_the_work_but_loses_the_answer(af: Sandbox) -> None:
    af.admin("faults", {"path": "/changeSets", "method": "POST", "drop": "after"})
    with pytest.raises(httpx.RemoteProtocolError):
        af.call("POST", "/changeSets", CREATE)
    assert titles(af) == ["PR-9"]
    assert af.admin("calls", method="GET")["calls"][0]["status"] is None


def test_a_fault_can_answer_a_non_json_body(af: Sandbox) -> None:
    page = "<html><body>Bad gateway</body></html>"
    af.admin("faults", {"path": "/changeSets/detail", "status": 502, "body": page})
    response = af.call("GET", "/changeSets/detail", params={"changeSetId": "cs-1"})
    assert response.status_code == 502
    assert response.headers["Content-Type"].startswith("text/html")
    assert response.text == page

    af.admin(
        "faults", {"path": "/changeSets", "status": 200, "body": "", "contentType": "text/plain"}
    )
    empty = af.call("GET", "/changeSets", params={"spaceId": DOCS})
    assert (empty.status_code, empty.content) == (200, b"")


def test_extra_headers_can_be_injected(af: Sandbox) -> None:
    headers = {"X-RateLimit-Reset": "2030-01-01T00:00:00Z", "RateLimit-Reason": "points"}
    af.admin("faults", {"path": "/changeSets", "status": 429, "headers": headers})
    response = af.call("GET", "/changeSets", params={"spaceId": DOCS})
    assert response.headers["RateLimit-Reason"] == "points"


@pytest.mark.parametrize(
    ("fault", "error"),
    [
        ({}, "path: Field required"),
        ({"path": "/changeSets", "count": 0},
         "count: Input should be greater than or equal to 1, got 0"),
        ({"path": "/changeSets", "status": 99},
         "status: Input should be greater than or equal to 100, got 99"),
        ({"path": "/changeSets", "drop": "during"},
         "drop: Input should be 'before' or 'after', got 'during'"),
        ({"path": "/changeSets", "delay": -1},
         "delay: Input should be greater than or equal to 0, got -1"),
    ],
)  # fmt: skip
def test_a_bad_fault_is_refused(af: Sandbox, fault: dict[str, Any], error: str) -> None:
    assert admin_refused(af, "faults", fault) == error


def test_latency_slows_every_api_call_but_not_the_admin_surface(af: Sandbox) -> None:
    af.admin("latency", {"seconds": 0.2})
    started = time.monotonic()
    af.admin("health", method="GET")
    assert time.monotonic() - started < 0.2
    started = time.monotonic()
    af.ok("GET", "/changeSets", params={"spaceId": DOCS})
    assert time.monotonic() - started >= 0.2
    af.admin("latency", {"seconds": 0})


def test_latency_from_the_constructor(http: httpx.Client) -> None:
    with SandboxServer(latency=0.15, answers="rich") as server:
        af = Sandbox(server, http)
        started = time.monotonic()
        af.ok("GET", "/changeSets", params={"spaceId": DOCS})
        assert time.monotonic() - started >= 0.15


# -- the call log --------------------------------------------------------------------------------


def test_the_call_log_keeps_api_calls_in_order_without_the_token(af: Sandbox) -> None:
    af.call("POST", "/changeSets", CREATE)
    af.call("GET", "/changeSets", params={"spaceId": DOCS}, token="wrong-token")
    af.admin("health", method="GET")
    af.call("GET", "/nowhere")

    calls = af.admin("calls", method="GET")["calls"]

    assert [(c["method"], c["path"], c["status"]) for c in calls] == [
        ("POST", "/changeSets", 200),
        ("GET", "/changeSets", 401),
        ("GET", "/nowhere", 404),
    ]
    assert calls[0]["body"] == CREATE
    assert calls[0]["query"] == {}
    assert calls[1]["query"] == {"spaceId": DOCS}
    assert calls[1]["body"] is None
    assert all(set(c) == {"method", "path", "query", "body", "status", "time"} for c in calls)
    text = json.dumps(calls)
    assert "sandbox-token" not in text
    assert "wrong-token" not in text
    assert "Authorization" not in text
    assert "Bearer" not in text


def test_deleting_the_call_log_empties_it(af: Sandbox) -> None:
    af.call("GET", "/changeSets", params={"spaceId": DOCS})
    af.admin("calls", method="DELETE")
    assert af.admin("calls", method="GET") == {"calls": []}


# -- the world ------------------------------------------------------------------------------------


def test_reset_goes_back_to_the_seed(af: Sandbox) -> None:
    af.create(["67890"])
    af.admin("edit-page", {"pageId": "67890"})
    af.admin("faults", {"path": "/changeSets"})
    af.admin("reset")
    assert af.admin("faults", method="GET") == {"faults": []}
    assert titles(af) == []
    state = af.admin("state", method="GET")
    page = next(p for p in state["spaces"][0]["pages"] if p["id"] == "67890")
    assert page["version"] == 3


def test_posting_a_seed_replaces_the_world_and_becomes_the_reset_point(af: Sandbox) -> None:
    seed = {
        "spaces": [{"id": "100", "key": "X", "workflows": [{"id": "wf-x"}], "pages": [{"id": "1"}]}]
    }
    af.admin("seed", seed)
    assert af.refused(400, "GET", "/changeSets", params={"spaceId": DOCS}) == "Space not found"
    af.create(["1"], space="100")
    af.admin("reset")
    assert af.ok("GET", "/changeSets", params={"spaceId": "100"})["changeSets"] == []
    assert af.ok("POST", "/pages/preflight", {"pageId": "1"})["workflowId"] == "wf-x"


def test_a_bad_seed_is_refused_and_changes_nothing(af: Sandbox) -> None:
    error = admin_refused(af, "seed", {"spaces": [{"id": "abc"}]})
    assert error == "seed: spaces[0].id: must be a string of digits, got 'abc'"
    assert af.ok("GET", "/changeSets", params={"spaceId": DOCS})["changeSets"] == []


def test_the_state_shows_the_whole_world(af: Sandbox) -> None:
    cs = af.create(["67890"])
    af.submit(cs["id"])
    state = af.admin("state", method="GET")
    assert [s["id"] for s in state["spaces"]] == [DOCS, ENG, "99999"]
    assert [c["id"] for c in state["changeSets"]] == [cs["id"]]
    assert state["approvals"][0]["pageId"] == "67890"
    assert state["approvals"][0]["status"] == "pending"
    assert (state["licence"], state["restApi"]) == (True, True)


def test_pages_can_be_added_with_a_version_and_workflow(af: Sandbox) -> None:
    af.admin("workflows", {"spaceId": ENG, "id": "wf-eng-2", "name": "Second"})
    page = af.admin(
        "pages",
        {"spaceId": ENG, "id": "70000", "title": "New", "version": 4, "workflow": "wf-eng-2"},
    )["page"]
    assert page == {
        "id": "70000",
        "spaceId": ENG,
        "title": "New",
        "version": 4,
        "workflow": "wf-eng-2",
    }
    cs = af.create(["70000"], space=ENG)
    assert af.submit(cs["id"])["results"][0]["workflowId"] == "wf-eng-2"
    assert af.detail(cs["id"])["pageRefs"][0]["currentPageVersion"] == 4


def test_an_assignment_can_be_removed(af: Sandbox) -> None:
    af.admin("workflows", {"spaceId": DOCS, "id": "wf-other", "active": True})
    af.admin("pages/assign", {"pageId": "67890", "workflowId": "wf-other"})
    af.admin("pages/assign", {"pageId": "67890", "workflowId": None})
    page = af.ok("POST", "/pages/preflight", {"pageId": "67890"})
    assert page["canSubmit"] is False  # two active workflows again, none assigned


@pytest.mark.parametrize(
    ("path", "body", "error"),
    [
        ("pages", {"spaceId": "777", "id": "1"}, "Space not found"),
        ("pages", {"spaceId": DOCS, "id": "67890"}, "Page 67890 already exists"),
        ("pages", {"spaceId": DOCS, "id": "x"}, "id: must be a string of digits, got 'x'"),
        ("pages", {"spaceId": DOCS, "id": "1", "workflow": "wf-eng-review"},
         "Workflow wf-eng-review not found in space 12345"),
        ("workflows", {"spaceId": ENG, "id": "wf-docs-review"},
         "Workflow wf-docs-review belongs to another space"),
        ("pages/assign", {"pageId": "67890", "workflowId": "wf-eng-review"},
         "Workflow wf-eng-review not found in space 12345"),
        ("pages/assign", {"pageId": "67890"},
         "workflowId: Field required"),
        ("approve", {"pageId": "67890"}, "Page 67890 has no pending approval"),
        ("reject", {"pageId": "67890"}, "Page 67890 has no pending approval"),
        ("edit-page", {"pageId": "999"}, "Page not found"),
        ("licence", {"active": "no"}, "active: Input should be a valid boolean, got 'no'"),
        ("rest-api", {}, "enabled: Field required"),
        ("tokens", {"token": "t", "scopes": "all"},
         "scopes: Input should be a valid list, got 'all'"),
        ("latency", {"seconds": "1"},
         "seconds: Input should be a valid number, got '1'"),
        # a thread would sleep that long (issue 12, item 8)
        ("latency", {"seconds": 1e308},
         "seconds: Input should be less than or equal to 60, got 1e+308"),
        ("faults", {"path": "/changeSets", "delay": 1e308},
         "delay: Input should be less than or equal to 60, got 1e+308"),
    ],
)  # fmt: skip
def test_admin_calls_refuse_bad_input(af: Sandbox, path: str, body: object, error: str) -> None:
    assert admin_refused(af, path, body) == error


def test_the_admin_surface_answers_404_and_405(af: Sandbox) -> None:
    missing = af.http.get(f"{af.server.admin_url}/nope")
    assert missing.status_code == 404
    assert missing.json()["ok"] is False
    assert af.http.get(f"{af.server.admin_url}/reset").status_code == 405


def test_health(af: Sandbox) -> None:
    assert af.admin("health", method="GET") == {"ok": True}
