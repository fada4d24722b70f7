"""parse_name_status and needs_git_fallback: pure functions, no git needed."""

from __future__ import annotations

import pytest

from approvalflow_sync.github.event import ChangedFile
from approvalflow_sync.github.git_files import FILES_CAP, needs_git_fallback, parse_name_status


def test_every_status_gets_githubs_name() -> None:
    output = (
        "A\0new.md\0"
        "M\0changed.md\0"
        "D\0gone.md\0"
        "T\0link.md\0"
        "R100\0old.md\0moved/old.md\0"
        "R087\0draft.md\0final.md\0"
        "C075\0template.md\0copy.md\0"
    )

    assert parse_name_status(output) == [
        ChangedFile("new.md", "added"),
        ChangedFile("changed.md", "modified"),
        ChangedFile("gone.md", "removed"),
        ChangedFile("link.md", "changed"),
        ChangedFile("moved/old.md", "renamed", "old.md"),
        ChangedFile("final.md", "renamed", "draft.md"),
        ChangedFile("copy.md", "copied", "template.md"),
    ]


def test_no_output_is_no_files() -> None:
    assert parse_name_status("") == []


@pytest.mark.parametrize(
    "name",
    [
        "with space.md",
        "tab\there.md",
        "new\nline.md",
        'double"quote.md',
        "single'quote.md",
        "back\\slash.md",
        "-leading-dash.md",
        "--output=x",
        "ünïcødé/日本語.md",
        "emoji 🎉.md",
        " leading and trailing ",
        "M",
        "R100",
        "latin1-\udce9.md",  # a non-UTF-8 byte, kept as os.fsdecode keeps it
    ],
)
def test_any_file_name_comes_back_exactly(name: str) -> None:
    output = f"M\0{name}\0R100\0{name}\0{name}.moved\0A\0after\0"

    assert parse_name_status(output) == [
        ChangedFile(name, "modified"),
        ChangedFile(f"{name}.moved", "renamed", name),
        ChangedFile("after", "added"),
    ]


def test_a_modification_with_a_dissimilarity_score_is_modified() -> None:
    # git diff -B prints a rewritten file as M with its dissimilarity index.
    assert parse_name_status("M092\0rewritten.md\0") == [ChangedFile("rewritten.md", "modified")]


@pytest.mark.parametrize(
    ("output", "message"),
    [
        ("U\0conflict.md\0", "unknown git diff status 'U'"),
        ("X\0odd.md\0", "unknown git diff status 'X'"),
        ("a.md\0", "unknown git diff status 'a.md'"),
        ("M\0a.md\0U\0b.md\0", "unknown git diff status 'U' in record 2"),
        ("\0", "unknown git diff status ''"),
    ],
)
def test_output_git_does_not_print_is_refused(output: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse_name_status(output)


@pytest.mark.parametrize(
    ("listed", "changed_files", "expected"),
    [
        (FILES_CAP, FILES_CAP + 1, True),
        (3000, 12_000, True),
        (3000, 3000, False),  # exactly at the cap: GitHub listed them all
        (2999, 3500, False),  # not cut by the cap (files changed since the event)
        (120, 121, False),
        (3000, None, False),  # the pull request's count is unknown
        (0, 0, False),
    ],
)
def test_the_fallback_is_needed_only_when_github_stopped_at_the_cap(
    listed: int, changed_files: int | None, expected: bool
) -> None:
    assert needs_git_fallback(listed, changed_files) is expected
