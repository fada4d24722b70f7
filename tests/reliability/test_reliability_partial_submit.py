"""A merge whose submit is partial: some pages submitted, others skipped with a reason.

A partial submit is a normal result, reported page by page everywhere (result comment, summary,
outputs, a warning on each file of a skipped page, the commit status); ``fail-on-blocked``
alone decides whether the step fails.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from reliability_support import (
    MAPPING,
    Harness,
    load_payload,
    no_traceback,
    table_lines,
)

from action_harness import harness
from approvalflow_sync.sandbox import SandboxServer

RESULT_MARKER = "<!-- approvalflow-sync:result -->"
NO_WORKFLOW = "No workflow assigned to page"
FILES = ["docs/auth/login.md", "docs/errors.md", "drafts/idea.md"]


@pytest.fixture
def h(tmp_path: Path, sandbox: SandboxServer) -> Iterator[Harness]:
    with harness(tmp_path, sandbox, MAPPING, Harness) as running:
        yield running


@pytest.mark.parametrize(("fail_on_blocked", "exit_code"), [("false", 0), ("true", 1)])
def test_a_partial_submit_is_reported_page_by_page_and_fail_on_blocked_decides_the_exit(
    h: Harness, fail_on_blocked: str, exit_code: int
) -> None:
    merged = h.add_pull_request(load_payload("closed.merged"), FILES)

    run = h.run(merged, inputs={"fail-on-blocked": fail_on_blocked})

    assert run.returncode == exit_code, run.describe()
    no_traceback(run)
    submits = [c for c in h.sandbox_calls() if c["path"] == "/changeSets/submit"]
    assert len(submits) == 2, "both spaces were submitted, the partial one included"

    (result,) = h.ours(merged, RESULT_MARKER)
    rows = {
        line.split("|")[1].strip(): line for line in table_lines(result["body"])[2:]
    }  # page id -> row
    assert set(rows) == {"67890", "67896", "88800"}
    assert "✅ submitted" in rows["67890"]
    assert "✅ submitted" in rows["67896"]
    assert f"⏭️ skipped: {NO_WORKFLOW}" in rows["88800"]
    assert "Submitted 2 pages for approval, 1 skipped" in result["body"]
    assert table_lines(run.summary) == table_lines(result["body"])

    assert (run.outputs["submitted"], run.outputs["skipped"]) == ("2", "1")
    spaces = json.loads(run.outputs["result"])["spaces"]
    reasons = {p["pageId"]: p["reason"] for space in spaces for p in space["pages"]}
    assert reasons["88800"] == NO_WORKFLOW
    # the checkout holds only the mapping, so its patterns also get "matches no file" warnings
    (warning,) = [
        w for w in run.annotations("warning") if w.properties["file"] != ".github/approvalflow.yml"
    ]
    assert warning.properties["file"] == "drafts/idea.md"
    assert f"Confluence page 88800 is skipped: {NO_WORKFLOW}" in warning.message
    status = h.statuses(merged)[0]
    assert (status["state"], status["description"]) == ("failure", "Submitted 2 pages, 1 skipped")

    errors = run.annotations("error")
    if fail_on_blocked == "true":
        (error,) = errors
        assert "fail-on-blocked" in error.message
        assert "1 pages blocked or skipped" in error.message
    else:
        assert errors == []
