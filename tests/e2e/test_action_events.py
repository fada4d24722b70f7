"""The action end to end: ``approvalflow-sync run`` as a subprocess in a runner environment.

Each test starts a fresh ApprovalFlow sandbox and a fake GitHub (both on loopback), seeds a pull
request from a real webhook payload, runs the program with the event file, ``GITHUB_OUTPUT``,
``GITHUB_STEP_SUMMARY`` and a workspace holding the mapping file, then checks what the servers
hold and what the step left behind (exit code, workflow commands, outputs, summary).
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from action_harness import (
    MAPPING_PATH,
    RESULT_MARKER,
    STICKY_MARKER,
    ActionHarness,
    ActionRun,
    by_space,
    harness,
    load_payload,
    parse_output_file,
    table_lines,
    workflow_dispatch_event,
    workflow_run_event,
)
from approvalflow_sync.sandbox import SandboxServer
from fakes.github import ACTIONS_READONLY_TOKEN, CODERTOCAT, FakeGitHub

CONTEXT = "ApprovalFlow / preflight"
SITE = "https://acme.atlassian.net/wiki"
NO_WORKFLOW = "No workflow assigned to page"
PENDING = "Page already has a pending approval"

MAPPING = f"""\
space: "12345"
confluence-url: {SITE}
pages:
  - path: docs/auth/**
    page: "67890"
  - path: ["docs/api/*.md", "!docs/api/draft-*.md"]
    page: ["67891", "67892"]
  - path: docs/**/users.md
    page: 67895
  - path: docs/guide
    page: "67894"
  - path: docs/errors.md
    page: "67896"
  - path: docs/changelog.md
    page: "67897"
  - path: handbook/onboarding.md
    page: 76540
    space: "54321"
  - path: drafts/**
    page: "88800"
    space: "99999"
"""

BODY = (
    "This is a pretty simple change that we need to pull into master.\r\n\r\n"
    "<!-- Describe your change here -->\r\nIt touches the docs.\r\n"
    "<!-- checklist: [ ] tests -->"
)
SUMMARY = "This is a pretty simple change that we need to pull into master.\n\nIt touches the docs."
MERGE_SHA = "1f6a8c2d9b3e4f5061728394a5b6c7d8e9f00112"


@pytest.fixture
def h(tmp_path: Path, sandbox: SandboxServer) -> Iterator[ActionHarness]:
    """A workspace with :data:`MAPPING`, a fake GitHub and the sandbox."""
    with harness(tmp_path, sandbox, MAPPING, ActionHarness) as action:
        yield action


def opened(h: ActionHarness, files: list[Any], **fields: Any) -> dict[str, Any]:
    """The real ``opened`` payload's pull request (with :data:`BODY`) seeded with ``files``."""
    return h.add_pull_request(load_payload("opened"), files, **{"body": BODY, **fields})


def ok(run: ActionRun) -> ActionRun:
    assert run.returncode == 0, run.describe()
    assert "Traceback" not in run.stderr, run.describe()
    return run


def titles(h: ActionHarness) -> set[str]:
    return {cs["title"] for cs in h.change_sets()}


def open_sets(h: ActionHarness, url: str) -> dict[str, Any]:
    return by_space([cs for cs in h.change_sets(url) if cs["status"] == "open"])


def write_paths(h: ActionHarness) -> list[str]:
    return [call["path"] for call in h.sandbox_writes()]


def docs_warnings(run: ActionRun) -> list[Any]:
    """Warnings on docs files; the test checkout holds only the mapping, whose patterns are
    also warned about as matching no file."""
    return [w for w in run.annotations("warning") if w.properties["file"] != MAPPING_PATH]


def make_pending(h: ActionHarness, page: str) -> None:
    """Someone submitted ``page`` on its own: it now has a pending approval (blocked)."""
    h.api("/pages/submit", {"pageId": page})


# -- 1. opened -----------------------------------------------------------------------------------


def test_opened_creates_a_change_set_per_space_and_reports_everywhere(h: ActionHarness) -> None:
    make_pending(h, "67897")
    h.forget_calls()
    files = [
        "docs/auth/login.md",
        "docs/api/users.md",
        "docs/api/draft-intro.md",
        "handbook/onboarding.md",
        "drafts/idea.md",
        "docs/changelog.md",
        "README.md",
    ]
    event = opened(h, files, merge_commit_sha=MERGE_SHA)
    pr = event["pull_request"]

    run = ok(h.run(event))

    # Change sets: one per space, title from the template, summary without HTML comments.
    sets = open_sets(h, pr["html_url"])
    assert sorted(sets) == ["12345", "54321", "99999"]
    assert {cs["title"] for cs in sets.values()} == {"PR-2 Update the README with new information."}
    assert {cs["summary"] for cs in sets.values()} == {SUMMARY}
    assert sets["12345"]["pageIds"] == ["67890", "67891", "67892", "67895", "67897"]
    assert sets["54321"]["pageIds"] == ["76540"]
    assert sets["99999"]["pageIds"] == ["88800"]
    preflighted = [c["body"] for c in h.sandbox_calls() if c["path"] == "/changeSets/preflight"]
    assert sorted(b["changeSetId"] for b in preflighted) == sorted(cs["id"] for cs in sets.values())

    # The commit status: on the head SHA only, failing, with the counts.
    (status,) = h.statuses(event)
    assert (status["context"], status["state"]) == (CONTEXT, "failure")
    assert status["description"] == "5 of 7 pages can be submitted, 2 blocked"
    assert status["target_url"].endswith("/Codertocat/Hello-World/actions/runs/4242")
    assert h.statuses(event, MERGE_SHA) == []

    # One sticky comment with the table.
    comments = h.comments(event)
    assert len(comments) == 1
    (sticky,) = h.ours(event)
    body = sticky["body"]
    assert f"[67890]({SITE}/pages/viewpage.action?pageId=67890)" in body
    row_88800 = next(line for line in table_lines(body) if "pageId=88800" in line)
    assert "`drafts/idea.md`" in row_88800
    assert f"⛔ blocked: {NO_WORKFLOW}" in row_88800
    row_67897 = next(line for line in table_lines(body) if "pageId=67897" in line)
    assert f"⛔ blocked: {PENDING}" in row_67897
    row_67891 = next(line for line in table_lines(body) if "pageId=67891" in line)
    assert "`docs/api/users.md`" in row_67891
    assert "draft-intro" not in body
    assert "README.md" not in body

    # The job summary holds the same table.
    assert table_lines(run.summary) == table_lines(body)
    assert len(table_lines(body)) == 2 + 7

    # Outputs.
    out = run.outputs
    assert json.loads(out["change-set-ids"]) == [sets[s]["id"] for s in ("12345", "54321", "99999")]
    assert (out["pages"], out["submittable"], out["blocked"]) == ("7", "5", "2")
    assert (out["submitted"], out["skipped"]) == ("0", "0")
    assert "\n" not in out["result"]
    result = json.loads(out["result"])
    assert (result["kind"], result["pages"], result["blocked"]) == ("sync", 7, 2)

    # A warning on each docs file whose page is blocked, and on no other file.
    warned = {w.properties["file"]: w.message for w in docs_warnings(run)}
    assert warned == {
        "drafts/idea.md": f"Confluence page 88800 is blocked: {NO_WORKFLOW}",
        "docs/changelog.md": f"Confluence page 67897 is blocked: {PENDING}",
    }
    assert any(c.name == "add-mask" for c in run.commands), "secrets are masked"


# -- 2. which files count ------------------------------------------------------------------------


def test_renames_removals_two_rules_and_exclusions(h: ActionHarness) -> None:
    files: list[Any] = [
        {
            "filename": "docs/guide/moved.md",
            "status": "renamed",
            "previous_filename": "docs/auth/old.md",
        },
        {"filename": "docs/errors.md", "status": "removed"},
        "docs/api/users.md",
        {"filename": "docs/api/draft-next.md", "status": "added"},
    ]
    event = opened(h, files)

    run = ok(h.run(event))

    sets = open_sets(h, event["pull_request"]["html_url"])
    assert list(sets) == ["12345"]
    assert sets["12345"]["pageIds"] == ["67890", "67891", "67892", "67894", "67895", "67896"]
    pages = {
        p["pageId"]: p["files"] for p in json.loads(run.outputs["result"])["spaces"][0]["pages"]
    }
    assert pages == {
        "67890": ["docs/auth/old.md"],  # the rename's old path
        "67894": ["docs/guide/moved.md"],  # and its new path
        "67896": ["docs/errors.md"],  # a removed file
        "67891": ["docs/api/users.md"],  # one file, two rules
        "67892": ["docs/api/users.md"],
        "67895": ["docs/api/users.md"],
    }
    assert "draft-next" not in run.outputs["result"]


# -- 3. reruns -----------------------------------------------------------------------------------


def test_rerun_of_the_same_event_writes_nothing(h: ActionHarness) -> None:
    event = opened(h, ["docs/auth/login.md", "handbook/onboarding.md", "drafts/idea.md"])
    first = ok(h.run(event))
    created = h.change_sets()
    (sticky,) = h.comments(event)

    reruns = []
    for _ in range(4):
        h.forget_calls()
        reruns.append(ok(h.run(event)))
        assert h.sandbox_writes() == []
        assert h.github_writes() == []

    assert json.loads(first.outputs["result"])["spaces"][0]["created"] is True
    assert json.loads(reruns[0].outputs["result"])["spaces"][0]["created"] is False
    assert all(run.outputs == reruns[0].outputs for run in reruns)
    changed = {k for k, v in first.outputs.items() if reruns[0].outputs[k] != v}
    assert changed == {"result"}, "only this run's own actions differ"

    assert h.change_sets() == created
    assert len(created) == 3
    assert h.comments(event) == [sticky]
    assert len(h.statuses(event)) == 1


# -- 4. synchronize ------------------------------------------------------------------------------


def test_synchronize_replaces_the_pages_and_edits_the_comment_in_place(h: ActionHarness) -> None:
    event = opened(h, ["docs/auth/login.md", "docs/api/users.md"])
    ok(h.run(event))
    url = event["pull_request"]["html_url"]
    before = open_sets(h, url)["12345"]
    (sticky,) = h.comments(event)
    h.forget_calls()

    payload = load_payload("synchronize")
    new_head = {**payload["pull_request"]["head"], "sha": "a" * 40}
    files = [
        "docs/auth/login.md",
        "docs/errors.md",
        "docs/guide/intro.md",
        "handbook/onboarding.md",
    ]
    pushed = h.add_pull_request(payload, files, body=BODY, head=new_head)
    ok(h.run(pushed))

    after = open_sets(h, url)
    assert after["12345"]["id"] == before["id"]
    assert after["12345"]["pageIds"] == ["67890", "67894", "67896"]
    assert after["54321"]["pageIds"] == ["76540"], "a new space gets its change set"
    updates = [c["body"] for c in h.sandbox_writes() if c["path"] == "/changeSets/update"]
    assert updates == [
        {
            "changeSetId": before["id"],
            "pageRefs": [{"pageId": p} for p in ("67890", "67894", "67896")],
        }
    ]
    (edited,) = h.comments(pushed)
    assert edited["id"] == sticky["id"]
    assert ("PATCH", f"/repos/Codertocat/Hello-World/issues/comments/{sticky['id']}") in (
        h.github_writes()
    )
    assert "`docs/errors.md`" in edited["body"]
    assert "docs/api/users.md" not in edited["body"]
    (status,) = h.statuses(pushed)
    assert status["description"] == "4 of 4 pages can be submitted"
    assert h.statuses(event) != [], "the old head keeps its status; the new head got its own"


# -- 5. edited -----------------------------------------------------------------------------------


def test_edited_title_updates_only_the_title(h: ActionHarness) -> None:
    event = opened(h, ["docs/auth/login.md", "handbook/onboarding.md"])
    ok(h.run(event))
    h.forget_calls()

    old = event["pull_request"]["title"]
    edited = h.with_action(event, "edited", title="Rewrite the login guide")
    edited["changes"] = {"title": {"from": old}}
    h.github.update_pull_request("Codertocat/Hello-World", 2, title="Rewrite the login guide")
    ok(h.run(edited))

    writes = h.sandbox_writes()
    assert [c["path"] for c in writes] == ["/changeSets/update", "/changeSets/update"]
    assert all(set(c["body"]) == {"changeSetId", "title"} for c in writes)
    assert titles(h) == {"PR-2 Rewrite the login guide"}
    assert {tuple(cs["pageIds"]) for cs in h.change_sets()} == {("67890",), ("76540",)}
    assert {cs["summary"] for cs in h.change_sets()} == {SUMMARY}


# -- 6. many files, many comments ----------------------------------------------------------------


def test_every_page_of_files_and_comments_is_read(h: ActionHarness) -> None:
    files = FakeGitHub.make_files(247)
    files[0] = "docs/auth/login.md"  # page 1 of the file list
    files[149] = "handbook/onboarding.md"  # page 2
    files += ["docs/errors.md", "docs/guide/a.md", "drafts/late.md"]  # page 3 (files 248-250)
    event = opened(h, files)
    repo = "Codertocat/Hello-World"
    for n in range(120):
        h.github.add_issue_comment(repo, 2, f"Review note {n}", author=CODERTOCAT)
    impostor = f"{STICKY_MARKER}\nA person wrote this; it must stay as it is."
    impostor_id = h.github.add_issue_comment(repo, 2, impostor, author=CODERTOCAT)
    ours_id = h.github.add_issue_comment(repo, 2, f"{STICKY_MARKER}\n### an old report")
    assert len(h.comments(event)) == 122

    run = ok(h.run(event))

    assert run.outputs["pages"] == "5"
    sets = open_sets(h, event["pull_request"]["html_url"])
    assert sets["12345"]["pageIds"] == ["67890", "67894", "67896"]
    assert sets["54321"]["pageIds"] == ["76540"]
    assert sets["99999"]["pageIds"] == ["88800"]
    file_pages = [c.query.get("page", ["1"])[0] for c in h.github.calls_to("GET", r"/files$")]
    assert sorted(file_pages) == ["1", "2", "3"]
    comment_pages = [c.query.get("page", ["1"])[0] for c in h.github.calls_to("GET", r"/comments$")]
    assert sorted(comment_pages) == ["1", "2"]

    comments = h.comments(event)
    assert len(comments) == 122, "no second sticky comment"
    by_id = {c["id"]: c for c in comments}
    assert by_id[impostor_id]["body"] == impostor
    assert by_id[ours_id]["body"] != f"{STICKY_MARKER}\n### an old report"
    assert "pageId=67896" in by_id[ours_id]["body"]
    assert h.github_writes().count(("PATCH", f"/repos/{repo}/issues/comments/{ours_id}")) == 1
    assert not any(path.endswith(f"/{impostor_id}") for _, path in h.github_writes())


# -- 7. merged -----------------------------------------------------------------------------------


def merged_pr(h: ActionHarness, files: list[Any]) -> dict[str, Any]:
    """The real merged payload, seeded with ``files``, as its ``closed`` event."""
    return h.add_pull_request(load_payload("closed.merged"), files)


def test_merge_submits_once_and_posts_one_result_comment(h: ActionHarness) -> None:
    make_pending(h, "67897")
    merged = merged_pr(h, ["docs/auth/login.md", "drafts/idea.md"])
    repo, number = "robvanderleek/create-issue-branch", 117
    before_merge = h.with_action(merged, "opened", merged=False, state="open", merged_at=None)
    ok(h.run(before_merge))
    (sticky,) = h.ours(merged)
    url = merged["pull_request"]["html_url"]

    files = ["docs/auth/login.md", "drafts/idea.md", "docs/errors.md", "docs/changelog.md"]
    h.github.set_pull_request_files(repo, number, files)
    h.forget_calls()
    run = ok(h.run(merged))

    sets = by_space(h.change_sets(url))
    assert sets["12345"]["pageIds"] == ["67890", "67896", "67897"], "brought up to date"
    submits = [c for c in h.sandbox_calls() if c["path"] == "/changeSets/submit"]
    assert sorted(c["body"]["changeSetId"] for c in submits) == sorted(
        [sets["12345"]["id"], sets["99999"]["id"]]
    )
    docs_calls = [
        c["path"] for c in h.sandbox_writes() if c["body"]["changeSetId"] == sets["12345"]["id"]
    ]
    assert docs_calls == ["/changeSets/update", "/changeSets/submit"], "updated, then submitted"

    (result,) = h.ours(merged, RESULT_MARKER)
    text = result["body"]
    assert "Submitted 2 pages for approval, 2 skipped" in text
    rows = {line.split("pageId=")[1][:5]: line for line in table_lines(text) if "pageId=" in line}
    assert "✅ submitted" in rows["67890"]
    assert "✅ submitted" in rows["67896"]
    assert f"⏭️ skipped: {PENDING}" in rows["67897"]
    assert f"⏭️ skipped: {NO_WORKFLOW}" in rows["88800"]
    assert table_lines(run.summary) == table_lines(text)
    assert (run.outputs["submitted"], run.outputs["skipped"]) == ("2", "2")
    (updated_sticky,) = h.ours(merged)
    assert updated_sticky["id"] == sticky["id"]
    assert result["html_url"] in updated_sticky["body"]
    status = h.statuses(merged)[0]  # newest first; the sync before the merge set one too
    assert (status["state"], status["description"]) == ("failure", "Submitted 2 pages, 2 skipped")

    comments = h.comments(merged)
    h.forget_calls()
    rerun = ok(h.run(merged))
    assert [c for c in h.sandbox_calls() if c["path"] == "/changeSets/submit"] == []
    assert h.sandbox_writes() == []
    assert h.comments(merged) == comments
    assert h.github_writes() == []
    assert (rerun.outputs["submitted"], rerun.outputs["skipped"]) == ("2", "2")
    assert result["html_url"] in rerun.summary


@pytest.mark.parametrize(
    "inputs",
    [
        {"comment": "false"},
        {"comment": "false", "status-context": ""},
    ],
    ids=["status-remembers", "review-state-remembers"],
)
def test_merge_rerun_without_result_comment_submits_once(
    h: ActionHarness, inputs: dict[str, str]
) -> None:
    merged = merged_pr(h, ["docs/auth/login.md"])
    ok(h.run(merged, inputs=inputs))
    first = [c for c in h.sandbox_calls() if c["path"] == "/changeSets/submit"]
    assert len(first) == 1
    h.forget_calls()
    rerun = ok(h.run(merged, inputs=inputs))
    assert [c for c in h.sandbox_calls() if c["path"] == "/changeSets/submit"] == []
    assert h.sandbox_writes() == []
    assert h.github_writes() == []
    assert json.loads(rerun.outputs["result"])["alreadySubmitted"] is True
    assert "already submitted" in rerun.summary


# -- 8. closed without merge ---------------------------------------------------------------------


def closed_unmerged(h: ActionHarness) -> dict[str, Any]:
    event = opened(h, ["docs/auth/login.md", "handbook/onboarding.md"])
    ok(h.run(event))
    h.forget_calls()
    return h.add_pull_request(load_payload("closed.unmerged"), ["docs/auth/login.md"], body=BODY)


def test_closed_without_merge_archives_and_says_so(h: ActionHarness) -> None:
    closed = closed_unmerged(h)
    ok(h.run(closed))

    sets = h.change_sets(closed["pull_request"]["html_url"])
    assert len(sets) == 2
    assert {cs["status"] for cs in sets} & {"open"} == set()
    assert sorted(write_paths(h)) == ["/changeSets/archive", "/changeSets/archive"]
    (sticky,) = h.comments(closed)
    assert "closed without merge" in sticky["body"]
    for cs in sets:
        assert f"archived `{cs['id']}`" in sticky["body"]


def test_closed_without_merge_keeps_the_change_sets_when_asked(h: ActionHarness) -> None:
    closed = closed_unmerged(h)
    run = ok(h.run(closed, inputs={"archive-on-close": "false"}))

    sets = h.change_sets(closed["pull_request"]["html_url"])
    assert {cs["status"] for cs in sets} == {"open"}
    assert h.sandbox_writes() == []
    (sticky,) = h.comments(closed)
    assert "kept open" in sticky["body"]
    assert "archived" not in sticky["body"].replace("archive-on-close", "")
    assert "kept open" in run.summary


def test_reopened_after_archive_gets_new_change_sets(h: ActionHarness) -> None:
    closed = closed_unmerged(h)
    ok(h.run(closed))
    url = closed["pull_request"]["html_url"]
    archived = {cs["id"] for cs in h.change_sets(url)}
    h.forget_calls()

    reopened = h.add_pull_request(
        load_payload("reopened"), ["docs/auth/login.md", "handbook/onboarding.md"], body=BODY
    )
    run = ok(h.run(reopened))

    fresh = open_sets(h, url)
    assert set(fresh) == {"12345", "54321"}
    assert {cs["id"] for cs in fresh.values()}.isdisjoint(archived)
    assert sorted(write_paths(h)) == ["/changeSets", "/changeSets"], "archived ones left alone"
    assert json.loads(run.outputs["change-set-ids"]) == [fresh["12345"]["id"], fresh["54321"]["id"]]


# -- 9. no docs pages ----------------------------------------------------------------------------


def test_a_pull_request_without_docs_pages_creates_nothing(h: ActionHarness) -> None:
    event = opened(h, ["README.md", "src/app.py"])
    run = ok(h.run(event))

    assert h.change_sets() == []
    assert h.sandbox_writes() == []
    assert h.comments(event) == []
    (status,) = h.statuses(event)
    assert (status["state"], status["description"]) == (
        "success",
        "No docs pages in this pull request",
    )
    assert run.outputs["pages"] == "0"
    assert json.loads(run.outputs["change-set-ids"]) == []


def test_when_the_docs_leave_the_pull_request_its_change_set_is_archived(h: ActionHarness) -> None:
    event = opened(h, ["docs/auth/login.md", "README.md"])
    ok(h.run(event))
    (sticky,) = h.comments(event)
    h.github.set_pull_request_files("Codertocat/Hello-World", 2, ["README.md"])
    h.forget_calls()

    ok(h.run(h.with_action(event, "synchronize")))

    (cs,) = h.change_sets()
    assert cs["status"] != "open"
    assert write_paths(h) == ["/changeSets/archive"]
    (updated,) = h.comments(event)
    assert updated["id"] == sticky["id"]
    assert "No docs pages in this pull request" in updated["body"]
    assert f"`{cs['id']}`" in updated["body"]
    statuses = h.statuses(event)
    assert statuses[0]["description"] == "No docs pages in this pull request"


# -- 10. other events ----------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["push", "labeled"])
def test_other_events_do_nothing(h: ActionHarness, kind: str) -> None:
    event = opened(h, ["docs/auth/login.md"])
    h.forget_calls()
    if kind == "push":
        payload = {
            "ref": "refs/heads/main",
            "before": "0" * 40,
            "after": "b" * 40,
            "repository": event["repository"],
        }
        run = ok(h.run(payload, event_name="push"))
    else:
        labeled = h.with_action(event, "labeled")
        labeled["label"] = {"name": "docs"}
        run = ok(h.run(labeled))

    (notice,) = run.annotations("notice")
    assert "Nothing to do" in notice.message
    assert h.github.calls == []
    assert h.sandbox_calls() == []
    assert run.outputs == {}


# -- 11. dry run ---------------------------------------------------------------------------------


def test_dry_run_writes_nothing_and_says_so(h: ActionHarness) -> None:
    event = opened(h, ["docs/auth/login.md", "drafts/idea.md"])
    run = ok(h.run(event, inputs={"dry-run": "true"}))

    assert h.change_sets() == []
    assert h.sandbox_writes() == []
    assert h.github_writes() == []
    assert run.summary.startswith("### ApprovalFlow: [dry run]")
    assert "would be created" in run.summary
    # Nothing is known of the pages before the change set holds them (its preflight is lenient,
    # the single-page one strict): the dry run says so instead of guessing.
    assert (run.outputs["pages"], run.outputs["blocked"], run.outputs["submittable"]) == (
        "2",
        "0",
        "0",
    )
    result = json.loads(run.outputs["result"])
    assert (result["dryRun"], result["unknown"]) == (True, 2)
    assert "2 not known yet" in run.summary
    assert run.summary.count("❔ not known before the change set holds the page") == 2
    assert not [c for c in h.sandbox_calls() if c["path"] == "/pages/preflight"]


# -- 12. pull_request_target ---------------------------------------------------------------------


TRIGGERS = {
    "pull_request_target": lambda event: event,
    "workflow_run": lambda event: workflow_run_event(event, listed=True),
    "workflow_dispatch": workflow_dispatch_event,
}
"""Each event whose workspace is not the pull request's, as it names the pull request."""


@pytest.mark.parametrize("trigger", list(TRIGGERS))
def test_the_mapping_comes_from_the_base_commit_outside_pull_request(
    h: ActionHarness, trigger: str
) -> None:
    h.write_mapping('space: "99999"\npages:\n  - path: "**"\n    page: "88801"\n')
    event = opened(h, ["docs/auth/login.md", "handbook/onboarding.md"])
    base_sha = event["pull_request"]["base"]["sha"]
    h.github.set_file_content(
        "Codertocat/Hello-World",
        ".github/approvalflow.yml",
        'space: "12345"\npages:\n  - path: docs/auth/**\n    page: "67890"\n',
        ref=base_sha,
    )

    number = "" if trigger == "pull_request_target" else "2"
    ok(h.run(TRIGGERS[trigger](event), event_name=trigger, inputs={"pr-number": number}))

    sets = by_space(h.change_sets())
    assert list(sets) == ["12345"]
    assert sets["12345"]["pageIds"] == ["67890"]
    (read,) = h.github.calls_to("GET", r"/contents/\.github/approvalflow\.yml$")
    assert read.query == {"ref": [base_sha]}


def unchecked(run: ActionRun) -> list[Any]:
    """The per-pattern "matches no file" warnings."""
    return [w for w in run.annotations("warning") if "matches no file" in w.message]


def test_pull_request_target_without_checkout_checks_no_pattern(h: ActionHarness) -> None:
    shutil.rmtree(h.workspace)  # the recommended pull_request_target job checks nothing out
    h.workspace.mkdir()
    event = opened(h, ["docs/auth/login.md"])
    h.github.set_file_content(
        "Codertocat/Hello-World", MAPPING_PATH, MAPPING, ref=event["pull_request"]["base"]["sha"]
    )
    run = ok(h.run(event, event_name="pull_request_target"))
    assert unchecked(run) == [], run.describe()
    assert "matches no file" not in run.stdout + run.summary
    assert run.annotations("notice") == []


def test_without_checkout_one_notice_replaces_the_pattern_warnings(h: ActionHarness) -> None:
    shutil.rmtree(h.workspace / ".git")
    run = ok(h.run(opened(h, ["docs/auth/login.md"])))
    assert unchecked(run) == [], run.describe()
    (notice,) = run.annotations("notice")
    assert "patterns were not checked" in notice.message
    assert "no checkout" in notice.message


def test_with_checkout_each_pattern_matching_no_file_is_warned(h: ActionHarness) -> None:
    (h.workspace / "docs" / "auth").mkdir(parents=True)
    (h.workspace / "docs" / "auth" / "login.md").write_text("# Login\n", encoding="utf-8")
    run = ok(h.run(opened(h, ["docs/auth/login.md"])))
    warned = {w.properties["line"] for w in unchecked(run)}
    assert len(warned) == 7, run.describe()  # every rule but docs/auth/**
    assert "4" not in warned  # docs/auth/** is on line 4
    assert run.annotations("notice") == []


def test_a_job_without_checkout_is_told_to_check_out(h: ActionHarness) -> None:
    shutil.rmtree(h.workspace)
    h.workspace.mkdir()
    run = h.run(opened(h, ["docs/auth/login.md"]))
    assert run.returncode == 2, run.describe()
    (error,) = run.annotations("error")
    assert "holds no checkout" in error.message
    assert "actions/checkout" in error.message
    assert h.sandbox_calls() == []


# -- 13. switches --------------------------------------------------------------------------------


def test_empty_status_context_turns_the_status_off(h: ActionHarness) -> None:
    event = opened(h, ["docs/auth/login.md"])
    ok(h.run(event, inputs={"status-context": ""}))
    assert h.statuses(event) == []
    assert h.github.calls_to("*", r"/statuses") == []
    assert len(h.ours(event)) == 1


def test_comment_false_posts_no_comment(h: ActionHarness) -> None:
    event = opened(h, ["docs/auth/login.md"])
    run = ok(h.run(event, inputs={"comment": "false"}))
    assert h.comments(event) == []
    assert len(h.statuses(event)) == 1
    assert "pageId=67890" in run.summary


def test_fail_on_blocked_fails_the_step_but_reports_everything(h: ActionHarness) -> None:
    event = opened(h, ["docs/auth/login.md", "drafts/idea.md"])
    run = h.run(event, inputs={"fail-on-blocked": "true"})

    assert run.returncode == 1, run.describe()
    assert any("fail-on-blocked" in e.message for e in run.annotations("error"))
    assert len(h.change_sets()) == 2
    assert h.statuses(event)[0]["state"] == "failure"
    assert len(h.ours(event)) == 1
    assert run.outputs["blocked"] == "1"
    assert f"⛔ blocked: {NO_WORKFLOW}" in run.summary
    assert [w.properties["file"] for w in docs_warnings(run)] == ["drafts/idea.md"]


# -- 14. missing GitHub permissions --------------------------------------------------------------


def test_a_read_only_token_fails_after_the_approvalflow_work(h: ActionHarness) -> None:
    event = opened(h, ["docs/auth/login.md"])
    run = h.run(event, token=ACTIONS_READONLY_TOKEN)

    assert run.returncode == 1, run.describe()
    assert len(h.change_sets()) == 1, "the ApprovalFlow work was done"
    errors = " ".join(e.message for e in run.annotations("error"))
    assert "pull-requests: write" in errors
    assert "statuses: write" in errors
    assert h.comments(event) == []
    assert h.statuses(event) == []
    assert run.outputs["pages"] == "1"
    assert "Traceback" not in run.stderr


# -- the harness itself --------------------------------------------------------------------------


def test_output_file_parser_reads_both_forms() -> None:
    text = "plain=one line\nmulti<<EOF\nfirst\n\nlast\nEOF\nplain=later wins\n"
    assert parse_output_file(text) == {"plain": "later wins", "multi": "first\n\nlast"}
    with pytest.raises(ValueError, match="never closes"):
        parse_output_file("name<<EOF\nvalue\n")
