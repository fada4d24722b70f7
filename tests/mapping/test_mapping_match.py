"""Matcher: gitignore semantics, pages per file and files per page, the same as naive_match."""

from __future__ import annotations

from typing import AnyStr

import pytest
import re2

from approvalflow_sync.core.mapping import (
    Mapping,
    MappingError,
    PageKey,
    Rule,
    compile_mapping,
    load_mapping,
)
from approvalflow_sync.core.mapping import match as match_module
from naive_mapping import naive_match

SPACE = "1"


def mapping(*rules: tuple[tuple[str, ...], tuple[str, ...]]) -> Mapping:
    return Mapping(
        space=SPACE,
        rules=tuple(
            Rule(patterns=patterns, pages=pages, space=SPACE, line=index + 1)
            for index, (patterns, pages) in enumerate(rules)
        ),
    )


def selected(pattern: str, paths: list[str]) -> list[str]:
    """The paths one pattern maps, checked against the reference on the way."""
    rules = mapping(((pattern,), ("9",)))
    result = compile_mapping(rules).match(paths)
    assert result == naive_match(rules, paths)
    return list(result.pages_by_file)


PATHS = [
    "README.md",
    "docs/README.md",
    "docs/auth",
    "docs/auth/login.md",
    "docs/auth/sso/saml.md",
    "docs/authz.md",
    "other/docs/auth/x.md",
    "docs/api/a.md",
    "docs/api/v2/b.md",
    "docs/api/a.txt",
    "build/out.md",
    "src/build/x.py",
    "src/build",
]


@pytest.mark.parametrize(
    ("pattern", "expected"),
    [
        ("*.md", [p for p in PATHS if p.endswith(".md")]),
        ("README.md", ["README.md", "docs/README.md"]),
        ("/README.md", ["README.md"]),
        ("docs/auth", ["docs/auth", "docs/auth/login.md", "docs/auth/sso/saml.md"]),
        ("docs/auth/", ["docs/auth/login.md", "docs/auth/sso/saml.md"]),
        ("docs/auth/**", ["docs/auth/login.md", "docs/auth/sso/saml.md"]),
        ("/docs/auth/**/", ["docs/auth/login.md", "docs/auth/sso/saml.md"]),
        ("**/auth/*.md", ["docs/auth/login.md", "other/docs/auth/x.md"]),
        ("docs/api/*.md", ["docs/api/a.md"]),
        ("docs/api/**/*.md", ["docs/api/a.md", "docs/api/v2/b.md"]),
        ("docs/api/?.md", ["docs/api/a.md"]),
        ("build/", ["build/out.md", "src/build/x.py"]),
        ("build", ["build/out.md", "src/build/x.py", "src/build"]),
        ("/build", ["build/out.md"]),
        (
            "docs/auth*",
            ["docs/auth", "docs/auth/login.md", "docs/auth/sso/saml.md", "docs/authz.md"],
        ),
        ("docs", [p for p in PATHS if p.startswith("docs/") or "/docs/" in p]),
    ],
)
def test_gitignore_semantics(pattern: str, expected: list[str]) -> None:
    assert selected(pattern, PATHS) == expected


def test_exclusions_apply_to_their_own_rule_only() -> None:
    rules = mapping(
        (("docs/api/*.md", "!docs/api/draft-*.md"), ("10",)),
        (("docs/api/**",), ("20",)),
    )
    result = compile_mapping(rules).match(["docs/api/a.md", "docs/api/draft-b.md"])

    assert result.pages_by_file == {
        "docs/api/a.md": frozenset({PageKey(SPACE, "10"), PageKey(SPACE, "20")}),
        "docs/api/draft-b.md": frozenset({PageKey(SPACE, "20")}),
    }


def test_several_rules_naming_one_page_give_one_page_with_all_its_files() -> None:
    rules = mapping(
        (("docs/auth/**",), ("10",)),
        (("docs/sso.md",), ("10", "11")),
    )
    result = compile_mapping(rules).match(["docs/sso.md", "docs/auth/a.md", "src/x.py"])

    assert result.files_by_page == {
        PageKey(SPACE, "10"): ("docs/sso.md", "docs/auth/a.md"),
        PageKey(SPACE, "11"): ("docs/sso.md",),
    }
    assert list(result.files_by_page) == [PageKey(SPACE, "10"), PageKey(SPACE, "11")]
    assert result.pages_by_space == {SPACE: ("10", "11")}
    assert result.unmatched_files == ("src/x.py",)


def test_pages_are_in_numeric_order_and_files_in_the_given_order() -> None:
    rules = mapping((("b.md",), ("100",)), (("a.md",), ("9",)), (("*.md",), ("100",)))
    result = compile_mapping(rules).match(["b.md", "a.md"])

    assert list(result.files_by_page) == [PageKey(SPACE, "9"), PageKey(SPACE, "100")]
    assert result.files_by_page[PageKey(SPACE, "100")] == ("b.md", "a.md")


def test_pages_of_other_spaces_are_other_pages() -> None:
    text = (
        'space: "1"\npages:\n'
        "  - {path: docs/**, page: 5}\n"
        '  - {path: handbook/**, page: 6, space: "2"}\n'
    )
    result = compile_mapping(load_mapping(text, "m.yml")).match(["docs/a.md", "handbook/b.md"])

    assert result.pages_by_space == {"1": ("5",), "2": ("6",)}


def test_a_renamed_file_given_under_both_paths_maps_from_both() -> None:
    rules = mapping((("old/**",), ("1",)), (("new/**",), ("2",)))
    result = compile_mapping(rules).match(["new/a.md", "old/a.md"])

    assert result.files_by_page == {
        PageKey(SPACE, "1"): ("old/a.md",),
        PageKey(SPACE, "2"): ("new/a.md",),
    }


def test_a_path_given_twice_counts_once() -> None:
    rules = mapping((("a.md",), ("1",)))

    assert compile_mapping(rules).match(["a.md", "a.md"]).files_by_page == {
        PageKey(SPACE, "1"): ("a.md",)
    }


def test_no_paths_no_pages() -> None:
    result = compile_mapping(mapping((("a",), ("1",)))).match([])

    assert (result.pages_by_file, result.files_by_page, result.unmatched_files) == ({}, {}, ())


@pytest.mark.parametrize(
    "path",
    ["./docs/a.md", "/docs/a.md", "//docs/a.md", "docs//a.md", "docs/a.md/", "docs/a.md\n", ""],
)
def test_odd_paths_get_the_reference_answer(path: str) -> None:
    rules = mapping(
        (("docs/a.md",), ("1",)),
        (("a.md",), ("2",)),
        (("docs/",), ("3",)),
        (("docs/*.md",), ("4",)),
        (("**/a.md",), ("5",)),
    )

    assert compile_mapping(rules).match([path]) == naive_match(rules, [path])


def test_a_pattern_pathspec_rejects_is_a_mapping_error_when_compiling() -> None:
    rules = mapping((("docs/a\\",), ("1",)))

    with pytest.raises(MappingError, match="not a valid gitignore pattern"):
        compile_mapping(rules)


def test_unmatched_patterns_warn_with_the_rule_position() -> None:
    text = (
        'space: "1"\npages:\n'
        '  - path: ["docs/auth/**", "docs/gone/**", "!docs/auth/old/**"]\n    page: 5\n'
        '  - path: ["*.rst", "docs/gone/**"]\n    page: 6\n'
    )
    warnings = compile_mapping(load_mapping(text, "m.yml")).unmatched_patterns(
        ["docs/auth/a.md", "x.md"]
    )

    assert [(w.line, w.column, w.severity) for w in warnings] == [
        (3, 5, "warning"),
        (5, 5, "warning"),
        (5, 5, "warning"),
    ]
    assert [str(w) for w in warnings] == [
        "m.yml:3:5: pattern 'docs/gone/**' matches no file in the repository; fix the path or "
        "remove the pattern",
        "m.yml:5:5: pattern '*.rst' matches no file in the repository; fix the path or remove "
        "the pattern",
        "m.yml:5:5: pattern 'docs/gone/**' matches no file in the repository; fix the path or "
        "remove the pattern",
    ]


def test_a_pattern_matching_only_excluded_files_still_matches_something() -> None:
    rules = mapping((("docs/*.md", "!docs/draft.md"), ("1",)))

    assert compile_mapping(rules).unmatched_patterns(["docs/draft.md"]) == []


def test_matching_after_unmatched_patterns_is_unchanged() -> None:
    rules = mapping((("*.md",), ("1",)), (("*.txt",), ("2",)))
    matcher = compile_mapping(rules)
    before = matcher.match(["a.md", "b.txt"])

    assert len(matcher.unmatched_patterns(["a.md"])) == 1
    assert matcher.match(["a.md", "b.txt"]) == before


def test_globs_requiring_a_directory_match_exactly_what_pathspec_matches() -> None:
    patterns = ["**/topic/*.md", "*/topic/**", "a*/topic/b?/x.md", "**/topic/**/deep/*.txt",
                "**/[ab]/topic/*.md"]  # fmt: skip
    paths = ["topic/a.md", "x/topic/a.md", "x/y/topic/a.md", "x/topic", "x/topic.md",
             "x/topics/a.md", "x/topic/b/a.md", "abc/topic/b1/x.md", "q/topic/r/s/deep/f.txt",
             "a/topic/z.md", "c/topic/z.md", "deep/topic/deep/g.txt"]  # fmt: skip
    rules = mapping(*(((pattern,), (str(index + 1),)) for index, pattern in enumerate(patterns)))

    assert compile_mapping(rules).match(paths) == naive_match(rules, paths)


def test_names_in_upper_case_and_beyond_ascii_match_as_written() -> None:
    """RE2's prefilter compares literal pieces in lower case; the answer keeps the case."""
    rules = mapping((("**/README*.md",), ("1",)), (("Docs/*/ÉTÉ?.md",), ("2",)))
    paths = ["docs/README-x.md", "a/Readme.md", "Docs/x/ÉTÉ1.md", "docs/x/été1.md"]

    result = compile_mapping(rules).match(paths)

    assert result == naive_match(rules, paths)
    assert list(result.pages_by_file) == ["docs/README-x.md", "Docs/x/ÉTÉ1.md"]


class _SmallFilter(re2.Filter):
    """A FilteredRE2 that, like a real one past its memory bound, fails with over 3 expressions."""

    def __init__(self) -> None:
        super().__init__()
        self.count = 0

    def Add(self, pattern: AnyStr, options: re2.Options | None = None) -> int:  # noqa: N802
        self.count += 1
        return super().Add(pattern, options)

    def Compile(self) -> None:  # noqa: N802
        if self.count > 3:
            raise re2.error("failed to compile Filter")
        super().Compile()


def test_globs_beyond_what_one_filter_holds_are_split_and_match_the_same(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(re2, "Filter", _SmallFilter)
    monkeypatch.setattr(match_module, "_FILTER_SIZE", 5)
    globs = [f"**/t{n}/*.md" for n in range(12)]
    rules = mapping(*(((glob, f"!**/t{n}/x*"), (str(n + 1),)) for n, glob in enumerate(globs)))
    paths = [f"a/t{n}/{name}.md" for n in range(13) for name in ("p", "x")]

    result = compile_mapping(rules).match(paths)

    assert result == naive_match(rules, paths)
    assert len(result.files_by_page) == 12
