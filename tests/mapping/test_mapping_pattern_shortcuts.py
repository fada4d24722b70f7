"""The shortcuts that spare pathspec on common patterns answer exactly as the long way (issue 6).

``classify`` answers a literal path by one regular expression, and ``pattern_problem`` accepts a
pattern without brackets or backslashes without compiling it: each is held equal to the checks
it skips, over arbitrary text and over pattern-like text.
"""

from __future__ import annotations

import re

from hypothesis import example, given, settings
from hypothesis import strategies as st
from pathspec.patterns.gitignore.spec import GitIgnoreSpecPattern

from approvalflow_sync.core.mapping import patterns
from approvalflow_sync.core.mapping.patterns import classify, compile_positive, pattern_problem

PIECES = ["docs", "a", "/", "//", "*", "**", "?", "[a]", "[", "\\", ".", "..", "./", " ", "\t",
          "#", "!", "\n", "\x85", "\u3000", "é", "a b", ".md"]  # fmt: skip

pattern_like = st.lists(st.sampled_from(PIECES), min_size=0, max_size=7).map("".join)
any_text = st.text(max_size=12)


@settings(max_examples=1500, deadline=None)
@given(st.one_of(pattern_like, any_text))
@example("docs/a.md")
@example(" docs/a.md")
@example("docs/a.md ")
@example("docs//a.md")
@example("#docs/a")
@example("docs/a\n")
def test_classify_shortcut_equals_the_segment_rules(body: str) -> None:
    assert classify(body) == patterns._classify_segments(body)


@settings(max_examples=1500, deadline=None)
@given(st.one_of(pattern_like, any_text))
@example("/")
@example("/ ")
@example("!/")
@example("./docs")
@example("docs/../x")
@example("docs/..")
@example("docs/..\n")
@example("\x85docs")
def test_pattern_problem_shortcut_equals_the_long_way(pattern: str) -> None:
    excluding = pattern.startswith("!")
    body = pattern[1:] if excluding else pattern

    long_way = patterns._body_problem(pattern, body, excluding=excluding)

    assert pattern_problem(pattern) == long_way


@settings(max_examples=1000, deadline=None)
@given(st.one_of(pattern_like, any_text))
def test_a_pattern_the_shortcut_accepts_compiles_to_an_expression(body: str) -> None:
    if patterns._FINE.fullmatch(body):
        assert compile_positive(body) is not None


def test_the_shortcuts_take_the_common_patterns() -> None:
    assert patterns._LITERAL_PATH.fullmatch("docs/s1/sub2/page-3.md")
    assert patterns._FINE.fullmatch("**/topic-1/*.md")
    assert patterns._FINE.fullmatch("guides/g1/**")
    assert not patterns._FINE.fullmatch("docs/[ab].md")


GLOB_PIECES = ["*", "**", "?", "a", "docs", "/", "x.md", "*.md", "a?c", ".", "-", "(", "+", "$",
               "é", " ", "\n", "#", "!", "{", "|", "^"]  # fmt: skip
glob_like = st.lists(st.sampled_from(GLOB_PIECES), min_size=1, max_size=8).map("".join)


@settings(max_examples=3000, deadline=None)
@given(st.one_of(glob_like, any_text))
@example("**")
@example("**/")
@example("*")
@example("*/")
@example("/**")
@example("**/**/a")
@example("a/**/**/b/")
@example("a/")
@example("/a")
@example("a\n")
def test_a_common_glob_gets_pathspecs_own_expression(body: str) -> None:
    if not patterns._COMMON_GLOB.fullmatch(body):
        return
    expression, include = GitIgnoreSpecPattern.pattern_to_regex(body)

    assert include is True
    assert patterns.glob_expression(body) == expression
    assert isinstance(compile_positive(body), patterns.Glob)


def test_the_common_globs_are_the_usual_ones() -> None:
    for body in ["docs/**", "**/topic/*.md", "*.md", "docs/api/v?/*.md", "/docs/", "README.md"]:
        assert patterns._COMMON_GLOB.fullmatch(body), body
    for body in ["docs/[ab].md", "a\\*", "#x", "!x", " x", "x ", "/"]:
        assert not patterns._COMMON_GLOB.fullmatch(body), body


NAME_PIECES = ["a", "b", "docs", "x.md", "a.md", "abc", ".", "..", "-", "\n", " ", "é", ""]
path_like = st.lists(st.sampled_from(NAME_PIECES), min_size=1, max_size=6).map("/".join)


@settings(max_examples=4000, deadline=None)
@given(glob_like, st.one_of(path_like, any_text))
@example("**", "a")
@example("**/", "a/b")
@example("**/", "a")
@example("*/", "a/b")
@example("a/**", "a")
@example("a/**", "a/b")
@example("a/**/b", "a/b")
@example("a/**/b", "a/x/y/b/c")
@example("**/a?c/*.md", "x/abc/y.md")
def test_a_common_glob_matches_what_pathspecs_expression_matches(body: str, path: str) -> None:
    if not patterns.is_common_glob(body):
        return
    expression, _ = GitIgnoreSpecPattern.pattern_to_regex(body)
    assert expression is not None

    assert bool(patterns.Glob(body).match_file(path)) == (re.search(expression, path) is not None)
