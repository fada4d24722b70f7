"""No file name makes matching slow: RE2 runs in time linear in the path (issue 11).

Under ``pull_request_target`` a fork's author chooses the file names. Python's ``re`` takes
seconds on ``docs/**/*_*_*_*_*.md`` against ``docs/`` and 250 ``_``; RE2 cannot backtrack.
"""

from __future__ import annotations

import time

import pytest

from approvalflow_sync.core.mapping import Mapping, Rule, compile_mapping
from naive_mapping import naive_match

CASES = [
    ("docs/**/*_*_*_*_*.md", "docs/" + "_" * 250),
    ("docs/**/*_*_*_*_*.md", "docs/" + "_" * 4000 + ".m"),
    ("**/a*a*a*a*a*a*a*b", "a" * 3000),
    ("**/*a*a*a*a*a*/**/x", "/".join(["a" * 40] * 100)),
    ("a/**/**/**/**/**/**/b", "a/" + "x/" * 2000 + "c"),
    ("*?*?*?*?*?*?*?*?z", "?" * 3000),
    ("**/[a-z]*[a-z]*[a-z]*[a-z]*.md", "q" * 3000 + ".mdx"),
]


@pytest.mark.parametrize(("pattern", "path"), CASES, ids=range(len(CASES)))
def test_an_adversarial_file_name_is_matched_in_linear_time(pattern: str, path: str) -> None:
    mapping = Mapping(
        rules=(
            Rule(patterns=(pattern,), pages=("1",), space="1", line=1),
            Rule(patterns=("docs/a.md",), pages=("2",), space="1", line=2),
        )
    )
    paths = [path, path + "/", "x/" + path, path.replace("_", "-")]

    started = time.perf_counter()
    matcher = compile_mapping(mapping)
    result = matcher.match(paths)
    warnings = matcher.unmatched_patterns(paths)
    elapsed = time.perf_counter() - started

    assert elapsed < 1, f"{pattern!r} took {elapsed:.2f}s"
    assert result == naive_match(mapping, paths)
    assert [w.line for w in warnings][-1:] == [2]  # docs/a.md is in none of them


def test_many_globs_against_a_long_name_stay_fast() -> None:
    """A name holding the literal pieces of 500 globs: each is tried, each in linear time."""
    globs = [f"**/topic-{i}/*_*_*_*.md" for i in range(500)]
    mapping = Mapping(
        rules=tuple(
            Rule(patterns=(glob,), pages=(str(index + 1),), space="1", line=index + 1)
            for index, glob in enumerate(globs)
        )
    )
    path = "/".join(f"topic-{i}" for i in range(500)) + "/" + "_" * 1000

    started = time.perf_counter()
    result = compile_mapping(mapping).match([path])
    elapsed = time.perf_counter() - started

    assert elapsed < 1, f"took {elapsed:.2f}s"
    assert result.unmatched_files == (path,)
