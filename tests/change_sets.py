"""Test helper: create a change set and learn it the way the program does, from the list."""

from __future__ import annotations

from approvalflow_sync.approvalflow.client import ApprovalFlowClient
from approvalflow_sync.approvalflow.models import ChangeSet
from approvalflow_sync.core.plan import linked_open


def create_and_find(
    client: ApprovalFlowClient,
    space: str,
    title: str,
    pages: list[str],
    *,
    reference_url: str,
    summary: str | None = None,
) -> ChangeSet:
    """The new change set, found in the space's list by its link (a write's answer may be bare)."""
    client.create_change_set(space, title, pages, summary=summary, reference_url=reference_url)
    return linked_open(client.list_change_sets(space), reference_url)[-1]
