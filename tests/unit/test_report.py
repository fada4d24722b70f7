"""Rendering is pure: an outcome in, status, comments, summary, annotations and outputs out."""

from __future__ import annotations

import json
from dataclasses import replace

from approvalflow_sync.core import markdown as md
from approvalflow_sync.core import report
from approvalflow_sync.core.report import Kind, Outcome, PageRow, SpaceOutcome

CONFLUENCE = "https://acme.atlassian.net/wiki"
OK = PageRow("12345", "67890", ("docs/a.md", "docs/b.md"), can_submit=True)
BLOCKED = PageRow(
    "12345",
    "67891",
    ("docs/c.md",),
    can_submit=False,
    reason="Page already has a pending approval",
    approved_at=3,
    current_version=5,
    stale=True,
)
SPACE = SpaceOutcome("12345", "cs-1", "PR-7 Auth docs", created=True, pages=(OK, BLOCKED))
SYNCED = Outcome(kind=Kind.SYNC, spaces=(SPACE,))


def test_status_counts_pages_and_fails_on_a_blocked_one() -> None:
    assert report.status(SYNCED) == ("failure", "1 of 2 pages can be submitted, 1 blocked")
    clean = replace(SYNCED, spaces=(replace(SPACE, pages=(OK,)),))
    assert report.status(clean) == ("success", "1 of 1 page can be submitted")


def test_status_without_pages_says_so() -> None:
    assert report.status(Outcome(kind=Kind.SYNC)) == (
        "success",
        "No docs pages in this pull request",
    )


def test_status_after_submit() -> None:
    rows = (replace(OK, submitted=True), replace(BLOCKED, submitted=False))
    outcome = Outcome(kind=Kind.SUBMIT, spaces=(replace(SPACE, pages=rows),))
    assert report.status(outcome) == ("failure", "Submitted 1 page, 1 skipped")


def test_sticky_comment_starts_with_its_marker_and_shows_each_page() -> None:
    body = report.sticky_comment(SYNCED, CONFLUENCE)
    assert md.has_marker(body, report.STICKY)
    assert f"[67890]({CONFLUENCE}/pages/viewpage.action?pageId=67890)" in body
    assert "`docs/a.md`<br>`docs/b.md`" in body
    assert "blocked: Page already has a pending approval" in body
    assert "stale: approved v3, now v5 (+2)" in body


def test_comment_leaves_out_what_this_run_did_so_a_rerun_renders_the_same() -> None:
    rerun = replace(SYNCED, spaces=(replace(SPACE, created=False),))
    assert report.sticky_comment(rerun, None) == report.sticky_comment(SYNCED, None)
    assert "created" in report.summary(SYNCED, None)
    assert "unchanged" in report.summary(rerun, None)


def test_pages_link_only_when_the_site_is_known() -> None:
    assert "viewpage" not in report.sticky_comment(SYNCED, None)


def test_hostile_file_names_and_reasons_cannot_break_the_table() -> None:
    hostile = replace(
        BLOCKED,
        files=("docs/a|b`c<!--x-->.md",),
        reason="| injected | cell\n<details>",
    )
    table = report.pages_table([hostile], None)
    header, _rule, row = table.splitlines()
    assert row.count(" | ") == header.count(" | ")
    assert "<details>" not in row
    # inside a code span HTML is literal text, and GFM reads \| there as a pipe, not a cell edge
    assert "``docs/a\\|b`c<!--x-->.md``" in row


def test_file_lists_are_shortened() -> None:
    many = replace(OK, files=tuple(f"docs/{i}.md" for i in range(8)))
    assert "and 3 more" in report.pages_table([many], None)


def test_warnings_name_each_file_of_a_blocked_page() -> None:
    assert report.file_warnings(SYNCED) == [
        ("docs/c.md", "Confluence page 67891 is blocked: Page already has a pending approval")
    ]


def test_outputs() -> None:
    outputs = report.outputs(SYNCED)
    assert json.loads(outputs["change-set-ids"]) == ["cs-1"]
    assert (outputs["pages"], outputs["submittable"], outputs["blocked"]) == ("2", "1", "1")
    result = json.loads(outputs["result"])
    assert "\n" not in outputs["result"]
    assert result["kind"] == "sync"
    assert result["spaces"][0]["pages"][1]["reason"] == "Page already has a pending approval"


def test_result_comment_carries_the_data_a_rerun_needs_before_the_table() -> None:
    rows = (replace(OK, submitted=True), replace(BLOCKED, submitted=False))
    outcome = Outcome(kind=Kind.SUBMIT, spaces=(replace(SPACE, pages=rows),))
    body = report.result_comment(outcome, None)
    assert md.has_marker(body, report.RESULT)
    data = md.extract_json(body, report.RESULT_DATA)
    assert isinstance(data, dict)
    assert data["changeSetIds"] == ["cs-1"]
    assert data["outputs"]["submitted"] == "1"
    assert body.index("result-data") < body.index("| Page |")
    assert "skipped: Page already has a pending approval" in body


def test_a_dry_run_before_the_change_set_exists_marks_its_pages_unknown() -> None:
    unknown = PageRow("12345", "67890", ("docs/a.md",), reason=report.NOT_KNOWN_YET)
    space = SpaceOutcome("12345", None, "PR-7 Auth docs", created=True, pages=(unknown,))
    dry = Outcome(kind=Kind.SYNC, spaces=(space,), dry_run=True)

    summary = report.summary(dry, None)
    result = json.loads(report.outputs(dry)["result"])

    assert "0 of 1 page can go to review, 1 not known yet" in summary
    assert f"❔ {report.NOT_KNOWN_YET}" in summary
    assert (result["unknown"], result["blocked"], result["submittable"]) == (1, 0, 0)
    assert result["spaces"][0]["pages"][0]["canSubmit"] is None
    assert report.file_warnings(dry) == []


def test_approval_shows_what_is_known_of_the_versions() -> None:
    def approval(row: PageRow) -> str:
        return report.pages_table([row], None).splitlines()[-1].rsplit("|", 2)[-2].strip()

    assert approval(replace(OK, approved_at=None)) == "—"
    assert approval(replace(OK, approved_at=4)) == "approved v4"
    assert approval(replace(OK, approved_at=4, stale=True)) == "⚠️ stale: approved v4, edited since"
