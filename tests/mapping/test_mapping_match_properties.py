"""Property tests: the indexed Matcher answers exactly as pathspec rule by rule (naive_match)."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from approvalflow_sync.mapping import Mapping, Rule, compile_mapping, naive_match
from approvalflow_sync.mapping.patterns import (
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


def _compare(simple: Simple, path: str) -> bool:
    """What each kind means, written independently of the index."""
    parts = path.split("/")
    if simple.kind == "path":
        return path == simple.text or path.startswith(simple.text + "/")
    if simple.kind == "under":
        return path.startswith(simple.text + "/")
    if simple.kind == "name":
        return simple.text in parts
    return simple.text in parts[:-1]


@settings(max_examples=600, deadline=None)
@given(patterns(excluding=False), paths())
def test_string_comparison_is_used_only_where_it_equals_the_regex(pattern: str, path: str) -> None:
    normalized = normalize_path(path)
    regex = compile_positive(pattern)
    matches = regex is not None and regex.match_file(normalized) is not None
    simple = classify(pattern)
    if simple is not None and not needs_regex(normalized):
        assert _compare(simple, normalized) == matches
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
