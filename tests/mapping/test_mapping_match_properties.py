"""Property tests: the indexed Matcher answers exactly as pathspec rule by rule (naive_match)."""

from __future__ import annotations

from hypothesis import example, given, settings
from hypothesis import strategies as st
from pathspec import GitIgnoreSpec
from pathspec.util import normalize_file

from approvalflow_sync.core.mapping import Mapping, Rule, compile_mapping
from approvalflow_sync.core.mapping.patterns import expression, pattern_problem, plain
from naive_mapping import naive_match

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


PIECES = ["docs", "a", "/", "//", "*", "**", "?", "[a]", "[", "\\", ".", "..", "./", " ", "\t",
          "#", "!", "\n", "\x85", "\u3000", "é", "a b", ".md"]  # fmt: skip
pattern_like = st.lists(st.sampled_from(PIECES), min_size=1, max_size=7).map("".join)


@settings(max_examples=1500, deadline=None)
@given(st.one_of(pattern_like, patterns(excluding=False), st.text(max_size=12)), paths())
@example("docs/a.md", "docs/a.md/")
@example("/docs", "docs\n")
@example("docs/**/", "docs/x")
@example("a b/c", "a b/c/d")
@example("docs/a", "//docs/a")
def test_plain_patterns_match_as_pathspec_does(body: str, path: str) -> None:
    kind = plain(body)
    if kind is None:
        return
    spec = GitIgnoreSpec.from_lines([body], backend="re2")
    text = normalize_file(path)
    below = text.startswith(kind[1] + "/")

    assert expression(body) is not None
    assert pattern_problem(body) is None
    assert bool(spec.match_file(path)) == (below or (kind[0] == "path" and text == kind[1]))


def test_the_common_patterns_are_plain() -> None:
    assert plain("docs/s1/sub2/page-3.md") == ("path", "docs/s1/sub2/page-3.md")
    assert plain("/README.md") == ("path", "README.md")
    for body in ["guides/g1/**", "/guides/g1/", "guides/g1/", "docs/**/"]:
        assert plain(body) == ("directory", body.strip("/").removesuffix("/**")), body
    for body in ["README.md", "docs/", "**/topic/*.md", "docs/[ab].md", " docs/a", "docs/a "]:
        assert plain(body) is None, body
