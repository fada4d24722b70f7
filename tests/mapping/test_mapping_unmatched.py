"""Unmatched patterns: each selecting one looked for among the repository's files, as pathspec.

The reference asks pathspec about every pattern and every file; the matcher must give the same
warnings, in the same order, for any files (odd shapes included).
"""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pathspec import GitIgnoreSpec
from test_mapping_match_properties import paths, rules

from approvalflow_sync.core.mapping import (
    Mapping,
    MappingError,
    Problem,
    Rule,
    compile_mapping,
)
from naive_mapping import naive_match


def reference(mapping: Mapping, files: list[str]) -> list[Problem]:
    """A warning for each selecting pattern of each rule that pathspec matches with no file."""
    problems = []
    for rule in mapping.rules:
        for pattern in (p for p in rule.patterns if not p.startswith("!")):
            spec = GitIgnoreSpec.from_lines([pattern], backend="re2")
            if not any(spec.match_file(file) for file in files):
                problems.append(
                    Problem(
                        mapping.source,
                        rule.line,
                        rule.column,
                        f"pattern {pattern!r} matches no file in the repository; fix the path or "
                        "remove the pattern",
                        severity="warning",
                    )
                )
    return problems


def rules_of(*patterns: tuple[str, ...]) -> Mapping:
    return Mapping(
        rules=tuple(
            Rule(patterns=chosen, pages=(str(index + 1),), space="1", line=index + 1)
            for index, chosen in enumerate(patterns)
        )
    )


@settings(max_examples=600, deadline=None)
@given(rules(), st.lists(paths(), max_size=20))
def test_unmatched_patterns_equal_pathspecs_answer(mapping: Mapping, files: list[str]) -> None:
    assert compile_mapping(mapping).unmatched_patterns(files) == reference(mapping, files)


@settings(max_examples=200, deadline=None)
@given(rules(), st.lists(paths(), max_size=20), st.lists(paths(), max_size=6))
def test_a_matcher_warns_the_same_and_matches_as_before(
    mapping: Mapping, files: list[str], changed: list[str]
) -> None:
    matcher = compile_mapping(mapping)

    assert matcher.unmatched_patterns(files) == reference(mapping, files)
    assert matcher.match(changed) == naive_match(mapping, changed)


@pytest.mark.parametrize(
    "files",
    [
        ["a/topic/b/topic/x.md", "topic.md"],
        ["./docs/x.md", "/guides/g1/x.md", "//area/x.md", "docs/\nx.md", "docs/"],
        ["area/topic-1/a.md", "area/topic-1/draft-b.md", "guides/g2/x.md", "README.md"],
        ["topic/x.md", "b/topic", "a/b/c/d.md", "a\n/b.md", "/x", ""],
        ["//a/x.md", "a\n/b.md", "docs/\nx.md", "a/b\n"],
    ],
)
def test_each_kind_of_pattern_against_odd_files(files: list[str]) -> None:
    mapping = rules_of(
        ("docs/x.md", "docs", "docs/", "guides/g1/**", "guides/g2/**"),
        ("**/topic/*.md", "!**/topic/draft-*.md", "**/topic-1/*.md", "topic/*"),
        ("README.md", "topic", "topic/", "**/b/**", "x", "b"),
        ("*.md", "a/*/c/*.md", "a/**/d.md", "area/", "/x", "docs/*"),
        ("a/b", "a/", "x.md", "**/a/**"),
    )

    assert compile_mapping(mapping).unmatched_patterns(files) == reference(mapping, files)


def test_a_pattern_pathspec_rejects_is_a_mapping_error_at_its_rule() -> None:
    mapping = rules_of(("docs/a.md",), ("docs/a\\",))

    with pytest.raises(MappingError, match="not a valid gitignore pattern") as raised:
        compile_mapping(mapping)

    assert [problem.line for problem in raised.value.problems] == [2]
