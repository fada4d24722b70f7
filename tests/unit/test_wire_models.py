"""Wire models: tolerant of what the vendor may add, strict about what the program reads."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from approvalflow_sync.approvalflow import models


def change_set_json(**changes: Any) -> dict[str, Any]:
    """A change set as the vendor's reference shows it, with ``changes`` applied."""
    data: dict[str, Any] = {
        "id": "cs-abc123",
        "spaceId": "12345",
        "title": "PR-184 Auth docs update",
        "summary": "Updated authentication pages for new token refresh flow.",
        "referenceUrl": "https://github.com/org/repo/pull/184",
        "status": "open",
        "rollupState": "in_review",
        "pageRefs": [{"pageId": "67890"}],
        "createdAt": "2026-03-27T10:00:00.000Z",
        "createdBy": "user-account-id",
    }
    data.update(changes)
    return data


def test_documented_change_set_parses_every_field() -> None:
    cs = models.ChangeSet.model_validate(change_set_json())

    assert cs.id == "cs-abc123"
    assert cs.spaceId == "12345"
    assert cs.title == "PR-184 Auth docs update"
    assert cs.referenceUrl == "https://github.com/org/repo/pull/184"
    assert cs.rollupState == "in_review"
    assert cs.page_ids == ["67890"]
    assert cs.createdAt == "2026-03-27T10:00:00.000Z"
    assert cs.is_open


def test_unknown_fields_are_kept_on_change_set_and_page_ref() -> None:
    data = change_set_json(
        approverCount=3, pageRefs=[{"pageId": "1", "spaceKey": "DOCS", "title": "Auth"}]
    )

    cs = models.ChangeSet.model_validate(data)

    assert cs.model_extra == {"approverCount": 3}
    assert cs.pageRefs[0].model_extra == {"spaceKey": "DOCS", "title": "Auth"}
    dumped = cs.model_dump(exclude_none=True)
    assert dumped["approverCount"] == 3
    assert dumped["pageRefs"][0]["spaceKey"] == "DOCS"


@pytest.mark.parametrize(
    "state",
    [
        "open",
        "in_review",
        "partially_approved",
        "all_approved",
        "has_rejections",
        "stale",
        "awaiting_legal",
    ],
)
def test_rollup_states_pass_through_as_plain_text(state: str) -> None:
    cs = models.ChangeSet.model_validate(change_set_json(rollupState=state))

    assert cs.rollupState == state
    assert type(cs.rollupState) is str


@pytest.mark.parametrize("status", ["archived", "closed-archived-v2", "OPEN", "", "closed"])
def test_every_status_but_open_is_not_open(status: str) -> None:
    assert not models.ChangeSet.model_validate(change_set_json(status=status)).is_open


def test_only_the_id_is_required() -> None:
    cs = models.ChangeSet.model_validate({"id": "cs-1"})

    assert (cs.spaceId, cs.title, cs.summary, cs.referenceUrl) == (None, "", None, None)
    assert (cs.rollupState, cs.pageRefs, cs.status) == (None, [], "open")
    with pytest.raises(ValidationError):
        models.ChangeSet.model_validate(change_set_json(id=None))


def test_page_refs_may_be_bare_ids_strings_or_numbers() -> None:
    cs = models.ChangeSet.model_validate(change_set_json(pageRefs=["1", 2, {"pageId": 3}]))

    assert cs.page_ids == ["1", "2", "3"]


@pytest.mark.parametrize(
    "ref",
    [
        {"pageId": "1", "currentPageVersion": 7, "approvedAtVersion": 5, "isStale": True},
        {
            "pageId": "1",
            "versions": {"currentPageVersion": 7, "approvedAtVersion": 5, "isStale": True},
        },
        {
            "pageId": "1",
            "version": {"currentPageVersion": "7", "approvedAtVersion": 5, "isStale": True},
        },
    ],
    ids=["flat", "wrapped", "wrapped-text"],
)
def test_version_fields_are_read_flat_or_wrapped(ref: dict[str, Any]) -> None:
    (page,) = models.ChangeSet.model_validate(change_set_json(pageRefs=[ref])).pageRefs

    assert (page.currentPageVersion, page.approvedAtVersion, page.isStale) == (7, 5, True)
    assert page.versionDelta is None


def test_version_fields_of_an_unexpected_type_read_as_unknown() -> None:
    odd = {
        "pageId": "1",
        "currentPageVersion": {"n": 7},
        "approvedAtVersion": "five",
        "isStale": [],
    }

    (page,) = models.ChangeSet.model_validate(change_set_json(pageRefs=[odd])).pageRefs

    assert (page.currentPageVersion, page.approvedAtVersion, page.isStale) == (None, None, None)


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ({}, None),
        ({"success": True}, None),
        ({"success": True, **change_set_json()}, "cs-abc123"),
        ({"changeSet": change_set_json()}, "cs-abc123"),
        ({"success": True, "changeSet": {"title": "no id"}}, None),
        ({"success": True, "id": {"not": "text"}}, None),
    ],
    ids=["empty", "success-only", "flat", "wrapped", "wrapped-without-id", "broken"],
)
def test_a_write_answer_carries_a_change_set_or_none(
    body: dict[str, Any], expected: str | None
) -> None:
    cs = models.change_set_in(models.Envelope.model_validate(body))

    assert (cs.id if cs else None) == expected
    if cs is not None:
        assert cs.model_extra == {}, "success/error must not leak into the change set"


def test_success_may_be_absent_but_a_list_needs_its_change_sets() -> None:
    assert models.ChangeSetList.model_validate({"changeSets": []}).success is None
    with pytest.raises(ValidationError) as caught:
        models.ChangeSetList.model_validate({"success": True})

    assert caught.value.errors()[0]["loc"] == ("changeSets",)


@pytest.mark.parametrize(
    ("fields", "expected"),
    [({}, None), ({"next": "n-2"}, "n-2"), ({"cursor": 7}, "7"), ({"next": ""}, None)],
)
def test_list_cursor_comes_from_next_or_cursor(
    fields: dict[str, Any], expected: str | None
) -> None:
    answer = models.ChangeSetList.model_validate({"success": True, "changeSets": [], **fields})

    assert answer.next_cursor == expected


def test_submit_and_preflight_answers_default_what_they_lack() -> None:
    submit = models.SubmitAnswer.model_validate({"success": True})
    preflight = models.PreflightAnswer.model_validate({})
    page = models.PagePreflightAnswer.model_validate({"success": True})

    assert (submit.submittedCount, submit.skippedCount, submit.results) == (None, None, [])
    assert (preflight.summary.total, preflight.results) == (None, [])
    assert (page.pageId, page.canSubmit) == (None, None)
