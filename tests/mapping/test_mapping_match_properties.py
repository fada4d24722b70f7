"""Property tests: the indexed Matcher answers exactly as pathspec rule by rule (naive_match)."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st
from pathspec.util import normalize_file

from approvalflow_sync.core.mapping import Mapping, Rule, compile_mapping, naive_match
from approvalflow_sync.core.mapping.patterns import (
    Simple,
    classify,
    compile_positive,
    literal_prefix,
    needs_regex,
    normalize_path,
)

NAMES = ["docs", "a", "b", "auth", "README.md", "x.md", "api", "draft-1.md", ".hidden", "a b"]
GLOBS = ["*", "**", "?", "*.md", "a*", "?.md", "d*s", "[ab]", "x ", " a"]

segments = st.sampled_from(NAMES)
tokens = st.one_of(segments, st.sampled_from(GLOBS))


@st.composite
def patterns(draw: st.DrawFn, *, excluding: bool | None = None) -> str:
    body = "/".join(draw(st.lists(tokens, min_size=1, max_size=4)))
    if draw(st.booleans()):
        body = "/" + body
    if draw(st.booleans()):
        body += "/"
    negate = draw(st.booleans()) if excluding is None else excluding
    return "!" + body if negate else body


@st.composite
def paths(draw: st.DrawFn) -> str:
    path = "/".join(draw(st.lists(segments, min_size=1, max_size=5)))
    odd = draw(st.sampled_from(["", "", "", "", "./", "/", "//", "trailing", "double", "newline"]))
    if odd == "trailing":
        return path + "/"
    if odd == "double":
        return path.replace("/", "//", 1)
    if odd == "newline":
        return path.replace("/", "\n/", 1)
    return odd + path


@st.composite
def rules(draw: st.DrawFn) -> Mapping:
    found = []
    for line in range(1, draw(st.integers(1, 5)) + 1):
        chosen = [draw(patterns(excluding=False))]
        chosen += draw(st.lists(patterns(), max_size=3))
        pages = draw(st.lists(st.sampled_from(["1", "2", "3", "4"]), min_size=1, max_size=2))
        unique_pages = tuple(dict.fromkeys(pages))
        for page in unique_pages:
            space = "7" if int(page) % 2 else "8"
            found.append(
                Rule(
                    patterns=tuple(dict.fromkeys(chosen)),
                    pages=(page,),
                    space=space,
                    line=line,
                )
            )
    return Mapping(rules=tuple(found))


@settings(max_examples=400, deadline=None)
@given(rules(), st.lists(paths(), max_size=12))
def test_matcher_equals_naive(mapping: Mapping, files: list[str]) -> None:
    assert compile_mapping(mapping).match(files) == naive_match(mapping, files)


@settings(max_examples=600, deadline=None)
@given(patterns(excluding=False), paths())
def test_string_comparison_is_used_only_where_it_equals_the_regex(pattern: str, path: str) -> None:
    normalized = normalize_path(path)
    regex = compile_positive(pattern)
    matches = regex is not None and regex.match_file(normalized) is not None
    simple = classify(pattern)
    if simple is not None and not needs_regex(normalized):
        assert simple.matches(normalized) == matches
    prefix = literal_prefix(pattern)
    if prefix is not None and matches:
        assert normalized.startswith(prefix + "/")


def test_the_vocabulary_reaches_every_kind_of_index() -> None:
    kinds = {classify(p) for p in ["docs/a", "docs/a/", "README.md", "docs/", "**/api/**"]}

    assert {simple.kind for simple in kinds if simple is not None} == {
        "path",
        "under",
        "name",
        "dirname",
    }
    assert literal_prefix("docs/api/*.md") == "docs/api"
    assert literal_prefix("*.md") is None


@settings(max_examples=300, deadline=None)
@given(st.one_of(paths(), st.text(alphabet="/.\\ab\n", max_size=8)))
def test_normalize_path_is_pathspecs_normalize_file(path: str) -> None:
    assert normalize_path(path) == normalize_file(path)


def test_each_kind_of_simple_pattern_compares_as_documented() -> None:
    assert Simple("path", "docs/a").matches("docs/a")
    assert Simple("path", "docs/a").matches("docs/a/b.md")
    assert not Simple("path", "docs/a").matches("docs/ab")
    assert not Simple("under", "docs").matches("docs")
    assert Simple("under", "docs").matches("docs/x")
    assert Simple("name", "README.md").matches("a/README.md")
    assert Simple("dirname", "build").matches("a/build/x")
    assert not Simple("dirname", "build").matches("a/build")
