"""load_mapping: every user mistake is a MappingError listing each problem where it is."""

from __future__ import annotations

from pathlib import Path

import pytest

from approvalflow_sync.core.mapping import MappingError, Problem, load_mapping, read_mapping
from approvalflow_sync.core.mapping.model import MAX_FILE_BYTES, MAX_REPORTED, MAX_RULES
from approvalflow_sync.errors import EXIT_CONFIG, ConfigError

SOURCE = ".github/approvalflow.yml"


def problems(text: str) -> list[Problem]:
    with pytest.raises(MappingError) as caught:
        load_mapping(text, SOURCE)
    return caught.value.problems


def only(text: str) -> Problem:
    found = problems(text)
    assert len(found) == 1, found
    return found[0]


def at(problem: Problem) -> tuple[int, int]:
    return problem.line, problem.column


def test_mapping_error_is_a_config_error_with_the_config_exit_code() -> None:
    with pytest.raises(ConfigError) as caught:
        load_mapping("", SOURCE)

    assert caught.value.exit_code == EXIT_CONFIG


def test_problem_renders_file_line_column_message() -> None:
    problem = Problem("m.yml", 3, 7, "something is wrong; fix it")

    assert str(problem) == "m.yml:3:7: something is wrong; fix it"
    assert problem.severity == "error"


def test_a_file_level_problem_has_no_position_in_its_text() -> None:
    assert str(Problem("m.yml", 0, 0, "missing")) == "m.yml: missing"


def test_empty_file() -> None:
    problem = only("")

    assert at(problem) == (1, 1)
    assert "empty" in problem.message
    assert str(problem).startswith(f"{SOURCE}:1:1: ")


def test_file_of_comments_only_is_empty() -> None:
    assert "empty" in only("# nothing here yet\n\n").message


def test_syntax_error_has_the_parser_position() -> None:
    problem = only('space: "1"\npages: [a, b\n')

    assert "invalid YAML" in problem.message
    assert at(problem) == (3, 1)


def test_unquoted_star_pattern_is_explained_as_an_alias() -> None:
    problem = only('space: "1"\npages:\n  - path: *.md\n    page: "2"\n')

    assert problem.line == 3
    assert "quote it" in problem.message
    assert "alias" in problem.message


def test_tab_indentation_is_named() -> None:
    found = problems('space: "1"\npages:\n  - path: a\n\tpage: "2"\n')

    assert [(p.line, p.column, p.message) for p in found] == [
        (4, 1, "tabs are not allowed for indentation in YAML; use spaces")
    ]


def test_every_tab_indented_line_is_reported() -> None:
    text = 'space: "1"\npages:\n\t- path: a\n\t  page: "2"\n'

    assert [at(p) for p in problems(text)] == [(3, 1), (4, 1)]


def test_tab_after_spaces_is_located_at_the_tab() -> None:
    problem = problems('space: "1"\npages:\n  - path: a\n  \tpage: "2"\n')[0]

    assert at(problem) == (4, 3)
    assert "tabs are not allowed" in problem.message


def test_two_documents() -> None:
    problem = only('space: "1"\n---\nspace: "2"\n')

    assert "more than one YAML document" in problem.message
    assert problem.line == 2


def test_control_character() -> None:
    problem = only('space: "1"\npages: \x07\n')

    assert at(problem) == (2, 8)
    assert "not allowed" in problem.message


@pytest.mark.parametrize(
    ("text", "kind"),
    [("- a\n- b\n", "a list"), ("just text\n", "the text 'just text'")],
)
def test_top_level_must_be_a_mapping(text: str, kind: str) -> None:
    problem = only(text)

    assert at(problem) == (1, 1)
    assert f"must be a mapping of keys (space, pages, ...), not {kind}" in problem.message


def test_unknown_top_level_key_suggests_the_closest() -> None:
    text = 'space: "1"\nconfluence_url: https://a.example/wiki\npages:\n  - {path: a, page: "2"}\n'
    problem = only(text)

    assert at(problem) == (2, 1)
    assert problem.message == (
        "unknown key 'confluence_url' in the top level; did you mean 'confluence-url'?"
    )


def test_unknown_key_far_from_any_lists_the_keys() -> None:
    problem = only('space: "1"\nreviewers: [a]\npages:\n  - {path: a, page: "2"}\n')

    assert problem.message.endswith("the keys are space, confluence-url, title-template, pages")


def test_unknown_rule_key_suggests_the_closest() -> None:
    text = 'space: "1"\npages:\n  - path: a\n    page: "2"\n    spaces: "3"\n'
    problem = only(text)

    assert at(problem) == (5, 5)
    assert problem.message == "unknown key 'spaces' in this rule; did you mean 'space'?"


def test_duplicate_key() -> None:
    problem = only('space: "1"\nspace: "2"\npages:\n  - {path: a, page: "2"}\n')

    assert at(problem) == (2, 1)
    assert "'space' is given twice in the top level (first at line 1)" in problem.message


def test_missing_pages() -> None:
    problem = only('space: "1"\n')

    assert at(problem) == (1, 1)
    assert "no 'pages' list" in problem.message


def test_pages_not_a_list() -> None:
    problem = only('space: "1"\npages:\n  docs/**: "2"\n')

    assert at(problem) == (3, 3)
    assert "pages must be a list of rules" in problem.message


def test_empty_pages() -> None:
    problem = only('space: "1"\npages: []\n')

    assert at(problem) == (2, 8)
    assert "pages is empty" in problem.message


def test_rule_not_a_mapping() -> None:
    problem = only('space: "1"\npages:\n  - docs/**\n')

    assert at(problem) == (3, 5)
    assert "a rule must be a mapping with 'path' and 'page'" in problem.message


def test_rule_without_page() -> None:
    problem = only('space: "1"\npages:\n  - path: docs/**\n')

    assert at(problem) == (3, 5)
    assert "this rule has no 'page'" in problem.message


def test_rule_without_path() -> None:
    problem = only('space: "1"\npages:\n  - page: "2"\n')

    assert at(problem) == (3, 5)
    assert "this rule has no 'path'" in problem.message


@pytest.mark.parametrize(
    ("value", "column"),
    [
        ('"12a"', 11),
        ("abc", 11),
        ("-5", 11),
        ("0x1F", 11),
        ("1_000", 11),
        ("1.5", 11),
        ("1e5", 11),
        ("true", 11),
        ('" 12"', 11),
        ('["1", "x"]', 17),
        ('"٣"', 11),
    ],
)
def test_page_id_must_be_digits(value: str, column: int) -> None:
    problem = only(f'space: "1"\npages:\n  - path: a\n    page: {value}\n')

    assert at(problem) == (4, column)
    assert "is not a page id; give its digits" in problem.message


def test_empty_page() -> None:
    problem = only('space: "1"\npages:\n  - path: a\n    page:\n')

    assert problem.line == 4
    assert "an empty value is not a page id" in problem.message


def test_empty_page_list() -> None:
    problem = only('space: "1"\npages:\n  - path: a\n    page: []\n')

    assert at(problem) == (4, 11)
    assert "the list is empty" in problem.message


def test_space_must_be_digits() -> None:
    problem = only('space: DOCS\npages:\n  - {path: a, page: "2"}\n')

    assert at(problem) == (1, 8)
    assert "not a space id; give the space's numeric id (not its key)" in problem.message


def test_space_is_required_unless_every_rule_has_its_own() -> None:
    text = 'pages:\n  - {path: a, page: "2", space: "9"}\n  - {path: b, page: "3"}\n'
    problem = only(text)

    assert at(problem) == (1, 1)
    assert "space: missing, and the rules at lines 3 have no space of their own" in (
        problem.message
    )


def test_every_rule_with_its_own_space_needs_no_default() -> None:
    mapping = load_mapping('pages:\n  - {path: a, page: "2", space: "9"}\n', SOURCE)

    assert mapping.space is None
    assert mapping.rules[0].space == "9"


@pytest.mark.parametrize(
    ("pattern", "column", "words"),
    [
        ('""', 11, "empty pattern"),
        ('"   "', 11, "empty pattern"),
        ('"!"', 11, "a lone '!' excludes nothing"),
        ('["a", ""]', 17, "empty pattern"),
        ('"#notes.md"', 11, "comment in gitignore syntax"),
        ('"!!a"', 11, "starts with two '!'"),
        ('"./docs/a.md"', 11, "drop the leading './'"),
        ('"docs/../a.md"', 11, "'..' never matches"),
        ('"docs\\\\auth\\\\a.md"', 11, "separate directories with '/'"),
        ('"/"', 11, "matches nothing"),
        ('"docs/[ab"', 11, "character class"),
        ('"docs/a\\\\"', 11, "not a valid gitignore pattern"),
        ("2024", 11, "is not text; quote it"),
        ("{a: b}", 11, "expected text, found a mapping"),
    ],
)
def test_invalid_patterns(pattern: str, column: int, words: str) -> None:
    problem = only(f'space: "1"\npages:\n  - path: {pattern}\n    page: "2"\n')

    assert at(problem) == (3, column)
    assert words in problem.message


def test_unquoted_exclusion_is_read_as_a_tag_and_explained() -> None:
    text = 'space: "1"\npages:\n  - path:\n      - docs/**\n      - !docs/draft.md\n    page: "2"\n'
    problem = only(text)

    assert at(problem) == (5, 9)
    assert problem.message == (
        "path: '!docs/draft.md' was read as a YAML tag because it starts with '!'; "
        'quote it: "!docs/draft.md"'
    )


def test_rule_of_exclusions_only() -> None:
    problem = only('space: "1"\npages:\n  - path: ["!a", "!b"]\n    page: "2"\n')

    assert at(problem) == (3, 11)
    assert "every pattern of this rule excludes ('!')" in problem.message


def test_empty_path_list() -> None:
    problem = only('space: "1"\npages:\n  - path: []\n    page: "2"\n')

    assert at(problem) == (3, 11)
    assert "path: the list is empty" in problem.message


def test_duplicate_rules_name_both_lines() -> None:
    text = (
        'space: "1"\npages:\n'
        '  - path: [docs/a/**, docs/b.md]\n    page: ["2", "3"]\n'
        '  - path: [docs/b.md, docs/a/**]\n    page: [3, "2"]\n'
    )
    problem = only(text)

    assert at(problem) == (5, 5)
    assert problem.message == (
        "this rule repeats the rule at line 3 (same path and page); remove one of them"
    )


def test_same_path_with_other_pages_is_not_a_duplicate() -> None:
    text = 'space: "1"\npages:\n  - {path: a, page: "2"}\n  - {path: a, page: "3"}\n'

    assert len(load_mapping(text, SOURCE).rules) == 2


def test_same_page_in_two_spaces() -> None:
    text = (
        'space: "1"\npages:\n  - path: a\n    page: "7"\n'
        '  - path: b\n    page: ["8", "7"]\n    space: "99"\n'
    )
    problem = only(text)

    assert at(problem) == (6, 17)
    assert problem.message.startswith(
        "page 7 is in space 99 here but in space 1 at line 3; a page belongs to one space"
    )


@pytest.mark.parametrize(
    ("template", "words"),
    [
        ('"PR-{nmber}"', "unknown field {nmber}; use {number}, {title}, {branch}, {base}, {repo}"),
        ('"PR-{}"', "unknown field {}"),
        ('"{title.upper}"', "unknown field {title.upper}"),
        ('"PR-{number:05d}"', "without a format or conversion"),
        ('"{title!r}"', "without a format or conversion"),
        ('"PR-{number"', "for literal braces"),
        ('"PR-}"', "for literal braces"),
        ('""', "title-template is empty"),
        ("42", "is not text; quote it"),
    ],
)
def test_invalid_title_template(template: str, words: str) -> None:
    problem = only(f'space: "1"\ntitle-template: {template}\npages:\n  - {{path: a, page: "2"}}\n')

    assert at(problem) == (2, 17)
    assert words in problem.message


@pytest.mark.parametrize(
    ("url", "words"),
    [
        ("http://acme.atlassian.net/wiki", "uses plain http; use https"),
        ("acme.atlassian.net/wiki", "is not an absolute URL"),
        ("https://acme.atlassian.net/wiki?x=1", "has a query or fragment"),
    ],
)
def test_invalid_confluence_url(url: str, words: str) -> None:
    problem = only(f'space: "1"\nconfluence-url: {url}\npages:\n  - {{path: a, page: "2"}}\n')

    assert at(problem) == (2, 17)
    assert words in problem.message


def test_all_problems_are_collected_in_one_pass_in_file_order() -> None:
    text = (
        "spac: 1\n"  # 1: unknown key
        'title-template: "{nope}"\n'  # 2: unknown field
        "pages:\n"
        '  - path: ""\n'  # 4: empty pattern
        "    page: abc\n"  # 5: not a page id
        "  - page: 3\n"  # 6: no path
    )
    found = problems(text)

    assert [at(p) for p in found] == [(1, 1), (1, 1), (2, 17), (4, 11), (5, 11), (6, 5)]
    assert "did you mean 'space'?" in found[0].message
    assert "space: missing" in found[1].message


def test_the_message_shows_the_first_problems_and_counts_the_rest() -> None:
    rules = "".join(f"  - path: a{i}\n    page: x\n" for i in range(MAX_REPORTED + 5))
    with pytest.raises(MappingError) as caught:
        load_mapping(f'space: "1"\npages:\n{rules}', SOURCE)

    lines = str(caught.value).splitlines()
    assert lines[0] == f"{SOURCE}: {MAX_REPORTED + 5} problems"
    assert lines[1].startswith(f"{SOURCE}:4:11: page:")
    assert lines[-1] == "... and 5 more problems"
    assert len(caught.value.problems) == MAX_REPORTED + 5


def test_a_file_over_5_mb_is_refused_before_parsing() -> None:
    text = "# " + "x" * MAX_FILE_BYTES + "\n"
    problem = only(text)

    assert at(problem) == (1, 1)
    assert "over the 5 MB" in problem.message


def test_more_than_the_rule_limit_is_refused() -> None:
    rules = '  - {path: a, page: "1"}\n' * (MAX_RULES + 1)
    problem = only(f'space: "1"\npages:\n{rules}')

    assert at(problem) == (3, 3)
    assert f"{MAX_RULES + 1:,} rules, over the limit of {MAX_RULES:,}" in problem.message


def test_aliases_cannot_multiply_the_work() -> None:
    big = ", ".join(f'"{i}"' for i in range(50_000))
    text = f'space: "1"\npages:\n  - path: a\n    page: &ids [{big}]\n'
    text += "  - path: b\n    page: *ids\n" * 20
    found = problems(text)

    assert any("patterns and page ids in all" in p.message for p in found)


def test_read_mapping_missing_file(tmp_path: Path) -> None:
    path = tmp_path / ".github" / "approvalflow.yml"
    with pytest.raises(MappingError) as caught:
        read_mapping(path)

    assert str(caught.value) == (
        f"{path}: mapping file {path} does not exist; create it, or set the mapping-file input "
        "to the mapping file's path"
    )


def test_read_mapping_directory(tmp_path: Path) -> None:
    with pytest.raises(MappingError, match="is a directory"):
        read_mapping(tmp_path)


def test_read_mapping_not_utf8_points_at_the_byte(tmp_path: Path) -> None:
    path = tmp_path / "m.yml"
    path.write_bytes('space: "1"\npages: [{path: "é\xe9"}]\n'.encode("latin-1"))
    with pytest.raises(MappingError) as caught:
        read_mapping(path)

    problem = caught.value.problems[0]
    assert at(problem) == (2, 17)
    assert problem.message == "the file is not UTF-8 text (byte 0xe9); save it as UTF-8"


def test_read_mapping_unreadable(tmp_path: Path) -> None:
    path = tmp_path / "m.yml"
    path.write_text('space: "1"\n', encoding="utf-8")
    path.chmod(0)
    try:
        if _readable(path):
            pytest.skip("running as a user who can read any file")
        with pytest.raises(MappingError, match="cannot be read"):
            read_mapping(path)
    finally:
        path.chmod(0o644)


def _readable(path: Path) -> bool:
    try:
        path.read_bytes()
    except PermissionError:
        return False
    return True


def test_read_mapping_over_the_limit_is_refused_without_reading(tmp_path: Path) -> None:
    path = tmp_path / "m.yml"
    with path.open("wb") as handle:
        handle.truncate(MAX_FILE_BYTES + 1)
    with pytest.raises(MappingError, match="over the 5 MB"):
        read_mapping(path)
