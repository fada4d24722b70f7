"""Globs bucketed by a directory they require agree with pathspec, path by path."""

from __future__ import annotations

import pytest

from approvalflow_sync.core.mapping import compile_mapping, load_mapping, naive_match
from approvalflow_sync.core.mapping.patterns import required_directory

PATTERNS = [
    "**/topic/*.md",
    "*/topic/**",
    "a*/topic/b?/x.md",
    "**/topic/**/deep/*.txt",
    "**/[ab]/topic/*.md",
]
PATHS = [
    "topic/a.md",
    "x/topic/a.md",
    "x/y/topic/a.md",
    "x/topic",
    "x/topic.md",
    "x/topics/a.md",
    "x/topic/b/a.md",
    "abc/topic/b1/x.md",
    "q/topic/r/s/deep/f.txt",
    "a/topic/z.md",
    "c/topic/z.md",
    "deep/topic/deep/g.txt",
]


@pytest.mark.parametrize(
    ("pattern", "directory"),
    [
        ("**/topic/*.md", "topic"),
        ("*/topic/**", "topic"),
        ("**/topic/**/deep/*.txt", "deep"),
        ("*.md", None),
        ("**/topic", None),
        ("**/to*ic/*.md", None),
        ("docs/topic/*.md", "topic"),
    ],
)
def test_the_required_directory_is_a_literal_segment_before_the_last(
    pattern: str, directory: str | None
) -> None:
    assert required_directory(pattern) == directory


def test_bucketed_globs_match_exactly_what_pathspec_matches() -> None:
    rules = "\n".join(
        f'  - path: "{pattern}"\n    page: "{index + 1}"' for index, pattern in enumerate(PATTERNS)
    )
    mapping = load_mapping(f'space: "1"\npages:\n{rules}\n', "m.yml")
    assert compile_mapping(mapping).match(PATHS) == naive_match(mapping, PATHS)
