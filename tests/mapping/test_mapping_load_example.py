"""load_mapping: the documented example and the ways ids and patterns may be written."""

from __future__ import annotations

from pathlib import Path

import pytest

from approvalflow_sync.core.mapping import Mapping, PageKey, Rule, load_mapping, read_mapping
from approvalflow_sync.core.title_template import DEFAULT_TITLE_TEMPLATE

SOURCE = ".github/approvalflow.yml"

EXAMPLE = """\
space: "12345"                                  # default space id
confluence-url: https://acme.atlassian.net/wiki # optional: page links in comments
title-template: "PR-{number} {title}"           # optional
pages:
  - path: docs/auth/**                          # one pattern or a list
    page: "67890"                               # one page id or a list
  - path: ["docs/api/*.md", "!docs/api/draft-*.md"]
    page: ["67891", "67892"]
  - path: handbook/onboarding.md
    page: 70001
    space: "54321"                              # this rule's pages live in another space
"""


def test_the_documented_example_loads_exactly() -> None:
    assert load_mapping(EXAMPLE, SOURCE) == Mapping(
        space="12345",
        confluence_url="https://acme.atlassian.net/wiki",
        title_template="PR-{number} {title}",
        rules=(
            Rule(patterns=("docs/auth/**",), pages=("67890",), space="12345", line=5, column=5),
            Rule(
                patterns=("docs/api/*.md", "!docs/api/draft-*.md"),
                pages=("67891", "67892"),
                space="12345",
                line=7,
                column=5,
            ),
            Rule(
                patterns=("handbook/onboarding.md",),
                pages=("70001",),
                space="54321",
                line=9,
                column=5,
            ),
        ),
        source=SOURCE,
    )


def test_the_mapping_is_frozen() -> None:
    mapping = load_mapping(EXAMPLE, SOURCE)

    with pytest.raises(AttributeError, match="cannot assign to field 'space'"):
        mapping.space = "1"  # type: ignore[misc]
    with pytest.raises(AttributeError, match="cannot assign to field 'pages'"):
        mapping.rules[0].pages = ("1",)  # type: ignore[misc]
    with pytest.raises(AttributeError, match="cannot delete field 'source'"):
        del mapping.source


def test_rule_page_keys_carry_the_space() -> None:
    rule = load_mapping(EXAMPLE, SOURCE).rules[2]

    assert rule.page_keys == (PageKey("54321", "70001"),)


def test_optional_keys_have_defaults() -> None:
    mapping = load_mapping('space: "1"\npages:\n  - {path: a, page: "2"}\n', SOURCE)

    assert mapping.confluence_url is None
    assert mapping.title_template == DEFAULT_TITLE_TEMPLATE


@pytest.mark.parametrize(
    ("written", "kept"),
    [
        ('"0123"', "0123"),
        ("'0123'", "0123"),
        ("0123", "0123"),  # YAML 1.1 octal: the digits as written, not 83
        ("08", "08"),  # not octal, so YAML makes it text: the same digits
        ("70001", "70001"),
        ("123456789012345678901234567890", "123456789012345678901234567890"),
        ("!!str 42", "42"),
    ],
)
def test_page_ids_keep_the_digits_as_written(written: str, kept: str) -> None:
    mapping = load_mapping(f'space: "1"\npages:\n  - path: a\n    page: {written}\n', SOURCE)

    assert mapping.rules[0].pages == (kept,)


def test_space_may_be_an_unquoted_number() -> None:
    mapping = load_mapping("space: 0042\npages:\n  - {path: a, page: 7}\n", SOURCE)

    assert mapping.space == "0042"
    assert mapping.rules[0].space == "0042"


def test_repeated_patterns_and_pages_in_a_rule_count_once() -> None:
    text = 'space: "1"\npages:\n  - path: [a, b, a]\n    page: ["2", 2, "3"]\n'
    rule = load_mapping(text, SOURCE).rules[0]

    assert rule.patterns == ("a", "b")
    assert rule.pages == ("2", "3")


def test_block_lists_and_flow_mappings_are_both_fine() -> None:
    text = (
        "space: '1'\n"
        "pages:\n"
        "  - path:\n"
        "      - docs/a/**\n"
        "      - '!docs/a/old/**'\n"
        "    page:\n"
        "      - 5\n"
        "  - {path: '*.md', page: 6}\n"
    )
    rules = load_mapping(text, SOURCE).rules

    assert rules[0].patterns == ("docs/a/**", "!docs/a/old/**")
    assert rules[1] == Rule(patterns=("*.md",), pages=("6",), space="1", line=8, column=5)


def test_confluence_url_loses_its_trailing_slash_and_loopback_may_be_http() -> None:
    text = 'space: "1"\nconfluence-url: http://127.0.0.1:8080/wiki/\npages: [{path: a, page: 1}]\n'

    assert load_mapping(text, SOURCE).confluence_url == "http://127.0.0.1:8080/wiki"


def test_title_template_may_use_every_field_and_literal_braces() -> None:
    template = "{{docs}} #{number} {title} ({branch} → {base}, {repo})"
    text = f'space: "1"\ntitle-template: "{template}"\npages: [{{path: a, page: 1}}]\n'

    assert load_mapping(text, SOURCE).title_template == template


def test_windows_line_endings_and_a_byte_order_mark(tmp_path: Path) -> None:
    path = tmp_path / "approvalflow.yml"
    path.write_bytes(b'\xef\xbb\xbfspace: "1"\r\npages:\r\n  - path: a\r\n    page: 2\r\n')

    mapping = read_mapping(path)

    assert mapping.rules[0].line == 3
    assert mapping.source == str(path)


def test_read_mapping_reads_the_file(tmp_path: Path) -> None:
    path = tmp_path / "approvalflow.yml"
    path.write_text(EXAMPLE, encoding="utf-8")

    assert read_mapping(path) == load_mapping(EXAMPLE, str(path))
