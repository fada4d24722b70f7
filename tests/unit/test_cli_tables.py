"""The CLI's API commands with a stand-in client: what they print, and what they read back."""

from __future__ import annotations

import argparse
from typing import Any, cast

from approvalflow_sync.approvalflow.client import ApprovalFlowClient
from approvalflow_sync.approvalflow.models import ChangeSet
from approvalflow_sync.cli import api, terminal

LINK = "https://github.com/o/r/pull/7"


class WriteAnswersNothing:
    """A server whose write answers are ``{"success": true}`` and nothing else (allowed)."""

    def __init__(self, listed: list[ChangeSet]) -> None:
        self.listed = listed
        self.details: list[str] = []

    def create_change_set(self, *_args: object, **_kwargs: object) -> None:
        return None  # the answer named no change set: the reference documents none

    def list_change_sets(self, space_id: str) -> list[ChangeSet]:
        assert space_id == "100"
        return self.listed

    def get_change_set(self, change_set_id: str) -> ChangeSet:
        self.details.append(change_set_id)
        (found,) = [cs for cs in self.listed if cs.id == change_set_id]
        return found


def change_set(cs_id: str, created: str, title: str = "T", link: str | None = LINK) -> ChangeSet:
    return ChangeSet(
        id=cs_id,
        spaceId="100",
        title=title,
        referenceUrl=link,
        createdAt=created,
        pageRefs=[{"pageId": "1001", "currentPageVersion": 3}],
    )


def create(client: Any) -> tuple[object, str]:
    args = argparse.Namespace(
        space="100", title="T", pages=["1001"], summary=None, reference_url=LINK
    )
    return api._create(cast("ApprovalFlowClient", client), args)


def test_create_reads_the_new_change_set_back_from_the_list_and_the_detail() -> None:
    client = WriteAnswersNothing(
        [
            change_set("cs-old", "2026-01-01T00:00:00Z"),
            change_set("cs-new", "2026-02-01T00:00:00Z"),
            change_set("cs-other", "2026-03-01T00:00:00Z", title="Other"),
            change_set("cs-unlinked", "2026-03-01T00:00:00Z", link=None),
        ]
    )
    value, text = create(client)
    assert client.details == ["cs-new"], "the newest with its title and link, read in detail"
    assert isinstance(value, ChangeSet)
    assert value.id == "cs-new"
    assert text.startswith("Created cs-new.\n\nid:        cs-new\n")


def test_create_says_how_to_look_when_the_list_does_not_show_it() -> None:
    value, text = create(WriteAnswersNothing([]))
    assert value == {"success": True}
    assert "change-sets list --space 100` shows it" in text


def test_a_page_without_title_or_versions_shows_unknown() -> None:
    text = terminal.change_set(ChangeSet.model_validate(
        {"id": "cs-1", "spaceId": "1", "title": "T", "pageRefs": [{"pageId": "5"}]}
    ))  # fmt: skip
    rows = text.split("\n\n")[1].splitlines()
    assert rows[0].split() == ["PAGE", "TITLE", "VERSION", "APPROVED", "V.", "STALE", "DELTA"]
    assert rows[1].split() == ["5", "—", "—", "—", "—", "—"]
