"""The sandbox's default mode answers what the vendor's reference shows and nothing more.

Writes answer ``{"success": true}``; an archived change set carries a status no program can
guess; detail answers flat; parameters are read only where the reference puts them; and the API
answers under both documented base URL paths, for the right ids only.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from sandbox_helpers import DOCS, Sandbox, refs

from approvalflow_sync.approvalflow.base_url import build_base_url
from approvalflow_sync.sandbox import APP_ID, CLOUD_ID, ENVIRONMENT_ID, SandboxServer

LINK = "https://github.com/acme/docs/pull/9"


@pytest.fixture
def af() -> Iterator[Sandbox]:
    with SandboxServer() as server, httpx.Client(trust_env=False, timeout=5) as http:
        yield Sandbox(server, http)


def listed(af: Sandbox) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = af.ok("GET", "/changeSets", params={"spaceId": DOCS})[
        "changeSets"
    ]
    return found


def test_writes_answer_success_and_nothing_else(af: Sandbox) -> None:
    body = {"spaceId": DOCS, "title": "T", "pageRefs": refs(["67890"]), "referenceUrl": LINK}
    assert af.ok("POST", "/changeSets", body) == {"success": True}
    (cs,) = listed(af)
    update = {"changeSetId": cs["id"], "title": "T2"}
    assert af.ok("POST", "/changeSets/update", update) == {"success": True}
    assert af.ok("POST", "/pages/submit", {"pageId": "67894"}) == {"success": True}
    assert af.ok("POST", "/changeSets/archive", {"changeSetId": cs["id"]}) == {"success": True}


def test_an_archived_change_set_has_an_unguessable_status_and_is_read_only(af: Sandbox) -> None:
    af.ok("POST", "/changeSets", {"spaceId": DOCS, "title": "T", "pageRefs": refs(["67890"])})
    (cs,) = listed(af)
    af.ok("POST", "/changeSets/archive", {"changeSetId": cs["id"]})

    (archived,) = listed(af)
    assert archived["status"] not in ("open", "archived")
    assert "archiv" not in str(archived["status"])
    refused = af.refused(400, "POST", "/changeSets/update", {"changeSetId": cs["id"], "title": "x"})
    assert refused == "Change set is archived and read-only"


def test_detail_answers_flat_and_single_page_preflight_without_page_id(af: Sandbox) -> None:
    af.ok("POST", "/changeSets", {"spaceId": DOCS, "title": "T", "pageRefs": refs(["67890"])})
    (cs,) = listed(af)

    detail = af.ok("GET", "/changeSets/detail", params={"changeSetId": cs["id"]})
    preflight = af.ok("POST", "/pages/preflight", {"pageId": "67890"})

    assert "changeSet" not in detail
    assert detail["id"] == cs["id"]
    assert detail["pageRefs"][0]["currentPageVersion"] == 3
    assert "pageId" not in preflight
    assert preflight["canSubmit"] is True


def test_parameters_are_read_only_where_the_reference_puts_them(af: Sandbox) -> None:
    af.ok("POST", "/changeSets", {"spaceId": DOCS, "title": "T", "pageRefs": refs(["67890"])})
    (cs,) = listed(af)

    in_body = af.call("GET", "/changeSets/detail", {"changeSetId": cs["id"]})
    in_query = af.call("POST", "/changeSets/archive", params={"changeSetId": cs["id"]})

    assert (in_body.status_code, in_body.json()["error"]) == (400, "changeSetId: Field required")
    assert (in_query.status_code, in_query.json()["error"]) == (400, "changeSetId: Field required")


@pytest.mark.parametrize("form", ["cloud-id", "site"])
def test_the_api_answers_under_the_documented_base_url_paths(af: Sandbox, form: str) -> None:
    parts = {"app_id": APP_ID, "environment_id": ENVIRONMENT_ID}
    where = {"cloud_id": CLOUD_ID} if form == "cloud-id" else {"site": "acme.atlassian.net"}
    base = af.server.url_for(build_base_url(**parts, **where))

    answer = af.http.get(
        base + "/changeSets",
        params={"spaceId": DOCS},
        headers={"Authorization": "Bearer sandbox-token"},
    )
    wrong = af.http.get(
        base.replace(APP_ID, "0" * 8) + "/changeSets",
        params={"spaceId": DOCS},
        headers={"Authorization": "Bearer sandbox-token"},
    )

    assert answer.json() == {"success": True, "changeSets": []}
    assert wrong.status_code == 404
    (call,) = af.admin("calls", method="GET")["calls"]  # the wrong ids reached no endpoint
    assert call["path"] == "/changeSets"


def test_a_chunked_body_is_refused_with_a_clear_line(af: Sandbox) -> None:
    def chunks() -> Iterator[bytes]:
        yield b'{"pageId": "67890"}'

    answer = af.http.post(
        af.server.base_url + "/pages/preflight",
        content=chunks(),
        headers={"Authorization": "Bearer sandbox-token"},
    )

    assert answer.status_code == 400
    assert "Content-Length" in answer.json()["error"]
