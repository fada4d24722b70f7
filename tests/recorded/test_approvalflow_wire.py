"""vcrpy cassettes pinning the wire format of each ApprovalFlow endpoint.

The cassettes were recorded against the sandbox in its reference mode (``APPROVALFLOW_RECORD=1``),
which answers writes with ``{"success": true}`` only, and are replayed with record
mode ``none``, so CI never records and needs no server. Requests match on method, path,
query and body: if the client ever sends a different shape, replay fails.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from approvalflow_sync.approvalflow.client import ApprovalFlowClient
from approvalflow_sync.cli.record import recorder
from approvalflow_sync.core.plan import linked_open
from approvalflow_sync.errors import BadRequestError
from approvalflow_sync.retry import RetryPolicy
from approvalflow_sync.sandbox import DEFAULT_TOKEN, SandboxServer

CASSETTES = Path(__file__).parent / "cassettes" / "approvalflow"
RECORDING = os.environ.get("APPROVALFLOW_RECORD") == "1"
REPLAY_BASE_URL = "http://127.0.0.1:9"
REFERENCE = "https://github.com/acme/docs/pull/7"

cassettes = recorder(CASSETTES, "all" if RECORDING else "none")


@pytest.fixture
def client() -> Iterator[ApprovalFlowClient]:
    """A client on the sandbox while recording, on a dead address while replaying."""
    if RECORDING:
        with SandboxServer(port=0) as server, _client(server.base_url, DEFAULT_TOKEN) as client:
            yield client
    else:
        with _client(REPLAY_BASE_URL, "replay-token") as client:
            yield client


def _client(base_url: str, token: str) -> ApprovalFlowClient:
    return ApprovalFlowClient(
        base_url, token, http=httpx.Client(trust_env=False), retry=RetryPolicy.no_backoff(1)
    )


def _new(client: ApprovalFlowClient, pages: list[str]) -> str:
    """Create a change set and learn its id from the list, as the reference answers nothing."""
    assert (
        client.create_change_set(
            "12345", "PR-7 Wire", pages, summary="Pinned.", reference_url=REFERENCE
        )
        is None
    )
    return linked_open(client.list_change_sets("12345"), REFERENCE)[-1].id


def test_create_and_list(client: ApprovalFlowClient) -> None:
    with cassettes.use_cassette("create_and_list.yaml"):
        cs_id = _new(client, ["67890", "67891"])
        listed = client.list_change_sets("12345")
    found = next(cs for cs in listed if cs.id == cs_id)
    assert (found.title, found.summary, found.referenceUrl) == ("PR-7 Wire", "Pinned.", REFERENCE)
    assert found.page_ids == ["67890", "67891"]
    assert (found.status, found.rollupState) == ("open", "open")
    assert found.createdAt


def test_detail(client: ApprovalFlowClient) -> None:
    with cassettes.use_cassette("detail.yaml"):
        cs_id = _new(client, ["67890"])
        detail = client.get_change_set(cs_id)
    (page,) = detail.pageRefs
    assert page.pageId == "67890"
    assert page.currentPageVersion == 3  # the built-in seed's version of 67890
    assert page.approvedAtVersion is None
    assert page.isStale is False


def test_update(client: ApprovalFlowClient) -> None:
    with cassettes.use_cassette("update.yaml"):
        cs_id = _new(client, ["67890"])
        assert client.update_change_set(cs_id, title="PR-7 Renamed", page_ids=["67892"]) is None
        updated = client.get_change_set(cs_id)
    assert (updated.title, updated.page_ids, updated.summary) == (
        "PR-7 Renamed",
        ["67892"],
        "Pinned.",
    )


def test_preflight_and_submit(client: ApprovalFlowClient) -> None:
    with cassettes.use_cassette("preflight_and_submit.yaml"):
        cs_id = _new(client, ["67893", "88800"])
        preflight = client.preflight_change_set(cs_id)
        submitted = client.submit_change_set(cs_id)
    assert (preflight.summary.total, preflight.summary.submittable) == (2, 1)
    blocked = next(r for r in preflight.results if not r.canSubmit)
    assert blocked.pageId == "88800"
    assert blocked.reason
    assert (submitted.submittedCount, submitted.skippedCount) == (1, 1)
    assert {r.pageId: r.success for r in submitted.results} == {"67893": True, "88800": False}


def test_archive_then_update_refused(client: ApprovalFlowClient) -> None:
    with cassettes.use_cassette("archive.yaml"):
        cs_id = _new(client, ["67890"])
        assert client.archive_change_set(cs_id) is None
        archived = client.get_change_set(cs_id)
        with pytest.raises(BadRequestError) as refused:
            client.update_change_set(cs_id, title="late")
    assert not archived.is_open
    assert archived.status != "archived", "the sandbox's reference mode hides the value"
    assert refused.value.status == 400
    assert refused.value.error == "Change set is archived and read-only"


def test_page_preflight_and_submit(client: ApprovalFlowClient) -> None:
    with cassettes.use_cassette("pages.yaml"):
        preflight = client.preflight_page("67894")
        submitted = client.submit_page("67894")
        with pytest.raises(BadRequestError) as again:
            client.submit_page("67894")
    assert (preflight.pageId, preflight.canSubmit) == ("67894", True)
    assert submitted.pageId == "67894", "filled in by the client: the answer does not name it"
    assert submitted.workflowId is None
    assert again.value.error == "Page already has a pending approval"


def test_cassettes_hold_no_credentials() -> None:
    texts = [path.read_text() for path in sorted(CASSETTES.glob("*.yaml"))]
    assert len(texts) == 6
    for text in texts:
        assert DEFAULT_TOKEN not in text
        assert "Bearer" not in text
        assert "authorization" not in text.lower()
