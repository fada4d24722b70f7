"""Hostile pull-request text through the whole program: it stays data, everywhere.

The title, body, head branch and file names of a pull request are written by whoever opened it.
They carry shell (``$(...)``, backticks, ``;``, newlines), workflow commands (``::set-output``,
``::add-mask::``, ``::error::``, ``##[error]``, an escaped ``%0A``), markdown and HTML (``|``,
``<details>``, the sticky comment's own marker, an ``@team`` mention, a ``javascript:`` link).
ApprovalFlow's error text, quoted in the retry log, gets the same treatment. Two runs (opened,
then a push adding a file) against a conversation that already holds a person's comment
starting with the marker; the checks read the log as the runner does, the outputs file as the
runner does, and the comment as GitHub renders tables.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from reliability_support import (
    NUMBER,
    OWN_COMMANDS,
    REPO,
    STICKY_MARKER,
    ActionRun,
    Harness,
    no_traceback,
    runner_commands,
    table_lines,
)

from approvalflow_sync.sandbox import DEFAULT_TOKEN, SandboxServer
from fakes.github import ACTIONS_TOKEN, CODERTOCAT, FakeGitHub

MAPPING = """\
space: "12345"
pages:
  - path: docs/**
    page: "67890"
  - path: drafts/**
    page: "88800"
    space: "99999"
"""
COMMANDS = (
    "\n::set-output name=x::y\n::add-mask::Failed\n::error::boom\n##[error]x %0A::warning::x\n"
)
MARKUP = f"| {STICKY_MARKER} <details> @org/team [x](javascript:alert(1))"
HUMAN = f"{STICKY_MARKER}\nI wrote this by hand; the bot must leave it alone."
OUTPUT_NAMES = {
    "change-set-ids",
    "pages",
    "submittable",
    "blocked",
    "submitted",
    "skipped",
    "result",
}
COLUMNS = 5


@dataclass(frozen=True)
class Hostile:
    """Both runs and what they were given."""

    root: Path
    files: list[list[str]]
    """The pull request's files in each run."""
    opened: ActionRun
    pushed: ActionRun
    comments: list[dict[str, Any]]
    human_id: int
    second_run_writes: list[tuple[str, str]]


def shell(root: Path, tag: str) -> str:
    """Three ways to run ``touch`` if the text ever reached a shell."""
    return f"$(touch {root}/pwned-{tag}-1)`touch {root}/pwned-{tag}-2`; touch {root}/pwned-{tag}-3"


@pytest.fixture(scope="module")
def hostile(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Hostile]:
    root = tmp_path_factory.mktemp("untrusted")
    files = [
        f"docs/{shell(root, 'file')}{COMMANDS}{MARKUP}.md",
        f"drafts/{shell(root, 'draft')}{COMMANDS}{MARKUP}.md",  # blocked: a warning names it
        "docs/plain.md",
    ]
    with SandboxServer(host="127.0.0.1", port=0) as sandbox, FakeGitHub() as fake:
        h = Harness(root, fake, sandbox)
        try:
            h.write_mapping(MAPPING)
            head = {
                **h.opened([])["pull_request"]["head"],
                "ref": f"$(touch${{IFS}}{root}/pwned-b)",
            }
            event = h.opened(
                files,
                title=f"{MARKUP} {COMMANDS} {shell(root, 'title')}",
                body=f"{STICKY_MARKER}\n{shell(root, 'body')}\n{COMMANDS}\n{MARKUP}",
                head=head,
            )
            human_id = fake.add_issue_comment(REPO, NUMBER, HUMAN, author=CODERTOCAT)
            server_text = json.dumps({"success": False, "error": f"busy{COMMANDS}"})
            h.admin(
                "POST",
                "/faults",
                {"method": "GET", "path": "/changeSets", "status": 503, "body": server_text},
            )
            inputs = {"title-template": "PR-{number} {title} ({branch})"}
            opened = h.run(event, inputs=inputs)
            added = [*files, f"docs/{STICKY_MARKER}\n{MARKUP}.md"]
            fake.set_pull_request_files(REPO, NUMBER, added)
            fake.clear_calls()
            pushed = h.run(h.with_action(event, "synchronize"), inputs=inputs)
            yield Hostile(
                root,
                [files, added],
                opened,
                pushed,
                h.comments(event),
                human_id,
                h.github_writes(),
            )
        finally:
            h.close()


def runs(hostile: Hostile) -> list[ActionRun]:
    return [hostile.opened, hostile.pushed]


def test_the_runs_succeed(hostile: Hostile) -> None:
    for run in runs(hostile):
        assert run.returncode == 0, run.describe()
        no_traceback(run)
        assert run.annotations("error") == []


def test_no_text_ever_reaches_a_shell(hostile: Hostile) -> None:
    assert sorted(hostile.root.rglob("pwned*")) == []


MAPPING_FILE = ".github/approvalflow.yml"


def _about_the_mapping(line: str) -> bool:
    """The warning on a pattern that matches no file of the (empty) test checkout."""
    return line.startswith(f"::warning file={MAPPING_FILE},")


def test_the_log_holds_no_workflow_command_but_the_programs_own(hostile: Hostile) -> None:
    for run in runs(hostile):
        assert runner_commands(run.stderr) == [], "the program prints no command on stderr"
        found = [c for c in runner_commands(run.stdout) if not _about_the_mapping(c.line)]
        assert [c.form for c in found] == ["v2"] * len(found), "no ##[ outside our commands"
        assert {c.name for c in found} <= OWN_COMMANDS
        assert sorted(c.name for c in found) == ["add-mask", "add-mask", "warning"], found
        masked = {c.message for c in run.commands if c.name == "add-mask"}
        assert masked == {DEFAULT_TOKEN, ACTIONS_TOKEN}, "only the secrets are masked"
        (warning,) = [w for w in run.annotations("warning") if w.properties["file"] != MAPPING_FILE]
        assert warning.properties["file"] == hostile.files[0][1], "the name is data, intact"
    assert "retrying" in hostile.opened.stderr, "the server's text did reach the log"


def test_the_outputs_file_holds_exactly_the_programs_outputs(hostile: Hostile) -> None:
    for run, given in zip(runs(hostile), hostile.files, strict=True):
        assert set(run.outputs) == OUTPUT_NAMES
        result = json.loads(run.outputs["result"])
        files = {f for space in result["spaces"] for page in space["pages"] for f in page["files"]}
        assert files == set(given), "every name comes back exactly"
        assert json.loads(run.outputs["change-set-ids"]) == result["changeSetIds"]


def _cells(line: str) -> int:
    """The cells of a table row as GitHub splits it: at each pipe not escaped by a backslash."""
    return len(re.split(r"(?<!\\)\|", line.strip())) - 2


def _outside_code(line: str) -> str:
    """``line`` without its code spans (where markdown and HTML are shown, not rendered)."""
    return re.sub(r"(`+)(?!`).*?(?<!`)\1(?!`)", "", line)


def _check_report(markdown: str) -> None:
    rows = table_lines(markdown)
    assert len(rows) == 2 + 2, "a header, a separator and one row per page"
    assert [_cells(row) for row in rows] == [COLUMNS] * len(rows)
    for line in markdown.splitlines():
        rendered = _outside_code(line)
        assert STICKY_MARKER not in rendered
        assert "<details" not in rendered
        assert "<!--" not in rendered
        assert "](javascript:" not in rendered
        assert "@org" not in rendered, "no mention: the @ is broken with a zero-width space"


def test_the_sticky_comment_keeps_its_table_and_its_marker_on_the_first_line_only(
    hostile: Hostile,
) -> None:
    (ours,) = [c for c in hostile.comments if c["user"]["type"] == "Bot"]
    first, record, rest = ours["body"].split("\n", 2)
    assert first == STICKY_MARKER
    assert record.startswith("<!-- approvalflow-sync:change-sets:json [")  # ids: hidden
    _check_report(rest)
    assert "@&#8203;org/team" in rest


def test_the_job_summary_keeps_its_table(hostile: Hostile) -> None:
    for run in runs(hostile):
        _check_report(run.summary)


def test_a_persons_comment_starting_with_the_marker_is_never_edited(hostile: Hostile) -> None:
    by_id = {c["id"]: c for c in hostile.comments}
    assert by_id[hostile.human_id]["body"] == HUMAN
    assert len(hostile.comments) == 2, "the bot's comment came beside it, once"
    edits = [path for method, path in hostile.second_run_writes if method == "PATCH"]
    (ours,) = [c for c in hostile.comments if c["id"] != hostile.human_id]
    assert edits == [f"/repos/{REPO}/issues/comments/{ours['id']}"], "the second run edited ours"
