"""Two instances of the action on one pull request (issue 15), end to end.

The product docs run without an instance (today's configuration, unchanged), the handbook as
instance ``handbook`` with its own mapping file. Both map the page 67890, so both hold a change
set in space 12345 for the same pull request. Each run must leave the other's change sets,
sticky comment and status exactly as they were: through sync, merge and close.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from action_harness import (
    RESULT_MARKER,
    ActionHarness,
    ActionRun,
    by_space,
    harness,
    load_payload,
)
from approvalflow_sync.sandbox import SandboxServer

PRODUCT = """\
space: "12345"
pages:
  - path: docs/**
    page: "67890"
"""
HANDBOOK_FILE = ".github/handbook.yml"
HANDBOOK_MAPPING = """\
space: "54321"
pages:
  - path: handbook/**
    page: "76540"
  - path: docs/auth/**
    page: "67890"
    space: "12345"
"""
HANDBOOK = {"instance": "handbook", "mapping-file": HANDBOOK_FILE}
HANDBOOK_STICKY = "<!-- approvalflow-sync@handbook:sticky -->"
HANDBOOK_RESULT = "<!-- approvalflow-sync@handbook:result -->"
CONTEXT = "ApprovalFlow / preflight"
HANDBOOK_CONTEXT = "ApprovalFlow / preflight (handbook)"
FILES = ["docs/auth/login.md", "handbook/onboarding.md"]


@pytest.fixture
def h(tmp_path: Path, sandbox: SandboxServer) -> Iterator[ActionHarness]:
    with harness(tmp_path, sandbox, PRODUCT, ActionHarness) as action:
        action.write_mapping(HANDBOOK_MAPPING, HANDBOOK_FILE)
        yield action


def ok(run: ActionRun) -> ActionRun:
    assert run.returncode == 0, run.describe()
    assert "Traceback" not in run.stderr, run.describe()
    return run


def handbook_url(event: dict[str, Any]) -> str:
    return f"{event['pull_request']['html_url']}#approvalflow-sync=handbook"


def open_sets(h: ActionHarness, url: str) -> dict[str, Any]:
    return by_space([cs for cs in h.change_sets(url) if cs["status"] == "open"])


def contexts(h: ActionHarness, event: dict[str, Any]) -> dict[str, list[str]]:
    """Each status context's states, newest first."""
    found: dict[str, list[str]] = {}
    for status in h.statuses(event):
        found.setdefault(status["context"], []).append(status["state"])
    return found


def sync_both(h: ActionHarness, event: dict[str, Any]) -> tuple[ActionRun, ActionRun]:
    return ok(h.run(event)), ok(h.run(event, inputs=HANDBOOK))


def test_two_instances_sync_one_pull_request_side_by_side(h: ActionHarness) -> None:
    event = h.add_pull_request(load_payload("opened"), FILES)
    ok(h.run(event))
    product = open_sets(h, event["pull_request"]["html_url"])
    h.forget_calls()

    run = ok(h.run(event, inputs=HANDBOOK))

    handbook = open_sets(h, handbook_url(event))
    assert {space: cs["pageIds"] for space, cs in handbook.items()} == {
        "12345": ["67890"],
        "54321": ["76540"],
    }
    assert open_sets(h, event["pull_request"]["html_url"]) == product, "product's left alone"
    assert [c["path"] for c in h.sandbox_writes()] == ["/changeSets", "/changeSets"]
    assert "uplicate" not in run.stdout, "no duplicate archived or warned about"
    assert "(sync, instance handbook)" in run.stdout
    # Two sticky comments, one per instance; two statuses, one per context.
    (sticky,) = h.ours(event)
    (handbook_sticky,) = h.ours(event, HANDBOOK_STICKY)
    assert handbook_sticky["body"].splitlines()[2].startswith("### ApprovalFlow (handbook): ")
    assert "76540" in handbook_sticky["body"]
    assert "76540" not in sticky["body"]
    assert contexts(h, event) == {CONTEXT: ["success"], HANDBOOK_CONTEXT: ["success"]}

    # A rerun of either writes nothing: the other's change set in 12345 is no duplicate.
    for inputs in ({}, HANDBOOK):
        h.forget_calls()
        ok(h.run(event, inputs=inputs))
        assert h.sandbox_writes() == []
        assert h.github_writes() == []


def test_a_title_edited_in_confluence_keeps_the_change_set(h: ActionHarness) -> None:
    event = h.add_pull_request(load_payload("opened"), FILES)
    sync_both(h, event)
    kept = open_sets(h, handbook_url(event))["12345"]
    h.api("/changeSets/update", {"changeSetId": kept["id"], "title": "Renamed by a reviewer"})
    h.forget_calls()

    ok(h.run(h.with_action(event, "synchronize"), inputs=HANDBOOK))

    now = open_sets(h, handbook_url(event))["12345"]
    assert now["id"] == kept["id"]
    assert now["title"] == kept["title"], "set back to the template's"
    assert [(c["path"], c["body"]) for c in h.sandbox_writes()] == [
        ("/changeSets/update", {"changeSetId": kept["id"], "title": kept["title"]})
    ]


def test_the_merge_submits_each_instances_own_change_sets(h: ActionHarness) -> None:
    merged = h.add_pull_request(load_payload("closed.merged"), FILES)
    before = h.with_action(merged, "opened", merged=False, state="open", merged_at=None)
    sync_both(h, before)
    product = open_sets(h, merged["pull_request"]["html_url"])
    handbook = open_sets(h, handbook_url(merged))
    h.forget_calls()

    ok(h.run(merged))

    assert [c["body"]["changeSetId"] for c in h.sandbox_writes()] == [product["12345"]["id"]]
    (result,) = h.ours(merged, RESULT_MARKER)
    assert "Submitted 1 page for approval, 0 skipped" in result["body"]
    assert h.ours(merged, HANDBOOK_RESULT) == []
    assert contexts(h, merged)[HANDBOOK_CONTEXT] == ["success"], "the handbook's status untouched"

    h.forget_calls()
    run = ok(h.run(merged, inputs=HANDBOOK))
    submitted = [c["body"]["changeSetId"] for c in h.sandbox_writes()]
    assert sorted(submitted) == sorted(cs["id"] for cs in handbook.values())
    (handbook_result,) = h.ours(merged, HANDBOOK_RESULT)
    assert "Submitted 1 page for approval, 1 skipped" in handbook_result["body"], "67890 pending"
    assert (run.outputs["submitted"], run.outputs["skipped"]) == ("1", "1")
    assert h.ours(merged, RESULT_MARKER) == [result]

    # A rerun of either merge submits nothing and reads back its own result comment's counts.
    for inputs, counts in (({}, ("1", "0")), (HANDBOOK, ("1", "1"))):
        h.forget_calls()
        rerun = ok(h.run(merged, inputs=inputs))
        assert h.sandbox_writes() == []
        assert h.github_writes() == []
        assert (rerun.outputs["submitted"], rerun.outputs["skipped"]) == counts


def test_closing_archives_only_the_instances_own_change_sets(h: ActionHarness) -> None:
    event = h.add_pull_request(load_payload("opened"), FILES)
    sync_both(h, event)
    product = open_sets(h, event["pull_request"]["html_url"])
    (sticky,) = h.ours(event)
    statuses = h.statuses(event)
    h.forget_calls()
    closed = h.add_pull_request(load_payload("closed.unmerged"), FILES)

    ok(h.run(closed, inputs=HANDBOOK))

    assert open_sets(h, handbook_url(event)) == {}
    assert len(h.change_sets(handbook_url(event))) == 2
    assert open_sets(h, event["pull_request"]["html_url"]) == product
    assert h.ours(event) == [sticky], "the product's comment untouched"
    (handbook_sticky,) = h.ours(event, HANDBOOK_STICKY)
    assert "closed without merge" in handbook_sticky["body"]
    assert h.statuses(event) == statuses

    ok(h.run(closed))
    assert open_sets(h, event["pull_request"]["html_url"]) == {}


def test_a_bad_instance_name_stops_before_any_write(h: ActionHarness) -> None:
    event = h.add_pull_request(load_payload("opened"), FILES)
    run = h.run(event, inputs={"instance": "Hand Book"})
    assert run.returncode == 2, run.describe()
    (error,) = run.annotations("error")
    assert error.message.startswith("input instance: 'Hand Book' is not an instance name")
    assert "Traceback" not in run.stderr
    assert h.sandbox_writes() == []
    assert h.github_writes() == []
