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
    assert not cs.is_archived


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


def test_unknown_fields_are_kept_on_envelopes() -> None:
    answer = models.ChangeSetList.model_validate(
        {"success": True, "changeSets": [], "requestId": "r-1"}
    )

    assert answer.model_extra == {"requestId": "r-1"}


@pytest.mark.parametrize("state", models.ROLLUP_STATES)
def test_known_rollup_states_pass_through(state: str) -> None:
    assert models.ChangeSet.model_validate(change_set_json(rollupState=state)).rollupState == state


def test_unknown_rollup_state_stays_plain_text() -> None:
    cs = models.ChangeSet.model_validate(change_set_json(rollupState="awaiting_legal"))

    assert cs.rollupState == "awaiting_legal"
    assert type(cs.rollupState) is str


def test_archived_status_is_reported() -> None:
    assert models.ChangeSet.model_validate(change_set_json(status="archived")).is_archived


def test_optional_fields_may_be_absent() -> None:
    cs = models.ChangeSet.model_validate({"id": "cs-1", "spaceId": "1", "title": "T"})

    assert cs.summary is None
    assert cs.referenceUrl is None
    assert cs.rollupState is None
    assert cs.pageRefs == []
    assert cs.status == "open"


@pytest.mark.parametrize("field", ["id", "spaceId", "title"])
def test_change_set_missing_a_required_field_is_rejected(field: str) -> None:
    data = change_set_json()
    del data[field]

    with pytest.raises(ValidationError) as caught:
        models.ChangeSet.model_validate(data)

    assert caught.value.errors()[0]["loc"] == (field,)


def test_page_ref_without_page_id_is_rejected() -> None:
    with pytest.raises(ValidationError):
        models.ChangeSet.model_validate(change_set_json(pageRefs=[{"title": "no id"}]))


DETAIL_PAGES = [
    {
        "pageId": "67890",
        "currentPageVersion": 7,
        "approvedAtVersion": 5,
        "isStale": True,
        "versionDelta": 2,
    },
    {"pageId": "67891", "currentPageVersion": 1, "approvedAtVersion": None, "isStale": False},
]


def test_detail_wrapped_in_change_set_parses_page_versions() -> None:
    answer = models.ChangeSetAnswer.model_validate(
        {"success": True, "changeSet": change_set_json(pageRefs=DETAIL_PAGES)}
    )

    first, second = answer.changeSet.pageRefs
    assert (first.currentPageVersion, first.approvedAtVersion) == (7, 5)
    assert first.isStale is True
    assert first.versionDelta == 2
    assert second.approvedAtVersion is None
    assert second.versionDelta is None


def test_detail_given_flat_is_the_same_as_wrapped() -> None:
    flat = models.ChangeSetAnswer.model_validate(
        {"success": True, **change_set_json(pageRefs=DETAIL_PAGES)}
    )
    wrapped = models.ChangeSetAnswer.model_validate(
        {"success": True, "changeSet": change_set_json(pageRefs=DETAIL_PAGES)}
    )

    assert flat.success is True
    assert flat.changeSet == wrapped.changeSet
    assert flat.changeSet.model_extra == {}, "success/error must not leak into the change set"


def test_answer_without_change_set_is_rejected() -> None:
    with pytest.raises(ValidationError) as caught:
        models.ChangeSetAnswer.model_validate({"success": True})

    assert caught.value.errors()[0]["loc"] == ("changeSet",)


def test_answer_without_success_is_rejected() -> None:
    with pytest.raises(ValidationError) as caught:
        models.ChangeSetList.model_validate({"changeSets": []})

    assert caught.value.errors()[0]["loc"] == ("success",)


def test_list_without_change_sets_is_rejected() -> None:
    with pytest.raises(ValidationError) as caught:
        models.ChangeSetList.model_validate({"success": True})

    assert caught.value.errors()[0]["loc"] == ("changeSets",)


@pytest.mark.parametrize(
    ("fields", "expected"),
    [({}, None), ({"next": "n-2"}, "n-2"), ({"cursor": "c-2"}, "c-2"), ({"next": ""}, None)],
)
def test_list_cursor_comes_from_next_or_cursor(
    fields: dict[str, str], expected: str | None
) -> None:
    answer = models.ChangeSetList.model_validate({"success": True, "changeSets": [], **fields})

    assert answer.next_cursor == expected


def test_documented_submit_answer_parses() -> None:
    answer = models.SubmitAnswer.model_validate(
        {
            "success": True,
            "submittedCount": 5,
            "skippedCount": 2,
            "results": [
                {"pageId": "67890", "success": True, "workflowId": "wf-123"},
                {"pageId": "67893", "success": False, "reason": "No workflow assigned to page"},
            ],
        }
    )

    assert (answer.submittedCount, answer.skippedCount) == (5, 2)
    assert answer.results[0].workflowId == "wf-123"
    assert answer.results[1].success is False
    assert answer.results[1].reason == "No workflow assigned to page"


def test_submit_answer_without_counts_is_rejected() -> None:
    with pytest.raises(ValidationError):
        models.SubmitAnswer.model_validate({"success": True, "results": []})


def test_documented_preflight_answer_parses() -> None:
    answer = models.PreflightAnswer.model_validate(
        {
            "success": True,
            "summary": {"total": 7, "submittable": 5, "blocked": 2},
            "results": [
                {"pageId": "67890", "canSubmit": True, "workflowId": "wf-123"},
                {
                    "pageId": "67893",
                    "canSubmit": False,
                    "reason": "Page already has a pending approval",
                },
            ],
        }
    )

    assert (answer.summary.total, answer.summary.submittable, answer.summary.blocked) == (7, 5, 2)
    assert [r.canSubmit for r in answer.results] == [True, False]
    assert answer.results[1].reason == "Page already has a pending approval"


def test_page_preflight_answer_carries_the_page_fields() -> None:
    answer = models.PagePreflightAnswer.model_validate(
        {"success": True, "pageId": "67893", "canSubmit": False, "reason": "Blocked by policy"}
    )

    assert answer.success is True
    assert answer.pageId == "67893"
    assert answer.canSubmit is False
    assert answer.reason == "Blocked by policy"


def test_page_preflight_answer_without_can_submit_is_rejected() -> None:
    with pytest.raises(ValidationError):
        models.PagePreflightAnswer.model_validate({"success": True, "pageId": "1"})


def test_page_submit_answer_parses() -> None:
    answer = models.PageSubmitAnswer.model_validate(
        {"success": True, "pageId": "67890", "workflowId": "wf-1", "approvalId": "ap-9"}
    )

    assert answer.workflowId == "wf-1"
    assert answer.model_extra == {"approvalId": "ap-9"}
