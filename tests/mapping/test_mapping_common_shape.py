"""The line reader of common mapping files agrees with the YAML reader on every file it takes.

``load_common_shape`` either declines (``None``: the YAML reader then reads and reports) or
answers the very mapping ``load_yaml`` answers, rule positions included. Hypothesis writes
files from a vocabulary of values chosen to sit on YAML's edges (numbers, booleans, null,
dates, quotes, indicators, colons, comments, odd indentation), and from arbitrary text.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from test_mapping_load_example import (
    EXAMPLE,  # the documented example (tests/mapping is on sys.path)
)

from approvalflow_sync.cli.demo import MAPPING as DEMO_MAPPING
from approvalflow_sync.core.mapping import Mapping, MappingError, load_mapping
from approvalflow_sync.core.mapping.common_shape import _OUTSIDE, load_common_shape
from approvalflow_sync.core.mapping.yaml_walk import load_yaml

ROOT = Path(__file__).parents[2]

VALUES = [
    "docs/a.md", "docs/**", "README.md", "*.md", "'*.md'", '"docs/*.md"', "'!docs/x/**'",
    '"!docs/x/**"', "docs/x.md # note", "docs/a b.md", "docs/a:b.md", "docs/a: b", "a:",
    "https://acme.atlassian.net/wiki", "http://example.com", "https://h/wiki?x=1",
    '"67890"', "'67890'", "67890", "0123", "1_000", "0x1F", "1.5", "+5", "-5", "12:30",
    "2024-01-01", "yes", "no", "on", "Off", "null", "NULL", "~", "true", "y", "n",
    "[docs/a.md, docs/b.md]", '["docs/**", "!docs/a.md"]', "[1, 2]", '["1", "1"]', "[]",
    "[a, b,]", "[docs/a.md,docs/b.md]", "[ a ]", '"a\\"b"', "'it''s'", '""', "''", "!tag x",
    "&anchor docs/a.md", "*alias", "|", ">", "{a: b}", "'#x'", "\\#x", "./docs/a.md",
    "docs/../x", '"PR-{number} {title}"', '"PR-{nope}"', '"{number!r}"', "docs//a.md",
    "docs/[ab].md", "'docs/[a'", "docs/é.md", "a #b", "a#b", "'a' # c", '"a"#c', "%x", "@x",
    "`x", "?x", "-x", ":x", ",x", ".md", "_x", "Yes.md", "notes", "on/x",
]  # fmt: skip
GOOD_PATHS = [
    "docs/a.md", "docs/**", "README.md", "'*.md'", '"docs/*.md"', "[docs/a.md, '!docs/b.md']",
    '["docs/**", "!docs/a.md"]', "docs/a:b.md", "notes", "Yes.md", "_x", "on/x", "docs/é.md",
    "docs/a b.md", "'docs/**' # all", "[ 'a/**' , b.md ]", "guides/**/*.md",
]  # fmt: skip
GOOD_IDS = ['"67890"', "'67890'", "67890", "0123", "[1, 2]", '["1", "1"]', "[ '3' ]", "4 # c"]
TEMPLATE = '"PR-{number}: {title}"'
KEYS = ["space", "pages", "path", "page", "confluence-url", "title-template", "spaces", "Path"]
INDENTS = ["", " ", "  ", "   ", "    ", "      "]


@st.composite
def lines(draw: st.DrawFn) -> str:
    """One line of a mapping-like file."""
    indent = draw(st.sampled_from(INDENTS))
    key = draw(st.sampled_from(KEYS))
    value = draw(st.sampled_from(VALUES))
    dash = draw(st.sampled_from(["", "", "- ", "-  ", "-"]))
    kind = draw(st.sampled_from(["pair", "pair", "pair", "key", "comment", "blank", "other"]))
    if kind == "pair":
        return f"{indent}{dash}{key}:{draw(st.sampled_from([' ', '  ', '']))}{value}"
    if kind == "key":
        return f"{indent}{dash}{key}:"
    if kind == "comment":
        return f"{indent}# {value}"
    if kind == "blank":
        return indent
    return draw(st.sampled_from(["---", "...", "\t- path: x", "pages:\t", "%YAML 1.1", value]))


def value(good: list[str]) -> st.SearchStrategy[str]:
    """Mostly a value that loads, sometimes one from the edges."""
    return st.one_of(st.sampled_from(good), st.sampled_from(good), st.sampled_from(VALUES))


@st.composite
def common_files(draw: st.DrawFn) -> str:
    """A file of the common shape with a few lines changed, dropped or added."""
    header = ['space: "1"']
    if draw(st.booleans()):
        header.append(f"confluence-url: {draw(value(['https://acme.atlassian.net/wiki/']))}")
    if draw(st.booleans()):
        header.append(f"title-template: {draw(value([TEMPLATE]))}")
    indent = draw(st.sampled_from(["", "  ", "    "]))
    body = ["pages:"]
    for _ in range(draw(st.integers(1, 4))):
        body.append(f"{indent}- path: {draw(value(GOOD_PATHS))}")
        body.append(f"{indent}  page: {draw(value(GOOD_IDS))}")
        if draw(st.booleans()):
            body.append(f"{indent}  space: {draw(value(GOOD_IDS))}")
    found = header + body if draw(st.booleans()) else body + header
    for _ in range(draw(st.sampled_from([0, 0, 0, 1, 2, 3]))):
        position = draw(st.integers(0, len(found)))
        action = draw(st.sampled_from(["insert", "replace", "drop"]))
        if action == "insert" or position == len(found):
            found.insert(position, draw(lines()))
        elif action == "replace":
            found[position] = draw(lines())
        else:
            del found[position]
    end = draw(st.sampled_from(["\n", "", "\r\n", "\n\n"]))
    return end.join(found) + end if end else "\n".join(found)


def yaml_answer(text: str) -> Mapping | list[str]:
    try:
        return load_yaml(text, "m.yml")
    except MappingError as error:
        return [str(problem) for problem in error.problems]


def assert_agrees(text: str) -> None:
    taken = load_common_shape(text, "m.yml")
    if taken is not None:
        assert yaml_answer(text) == taken


@settings(max_examples=3000, deadline=None)
@given(common_files())
@example('space: "1"\npages:\n  - path: docs/a.md\n    page: "2"\n')
@example('pages:\n- path: docs/a.md\n  page: 2\nspace: "1"\n')
@example('space: "1"\npages:\n  - path: 2024/notes.md\n    page: "2"\n')
@example('space: "1"\npages:\n' + '  - path: docs/a.md\n    page: "2"\n' * 2)
def test_a_common_file_loads_as_yaml_loads_it(text: str) -> None:
    assert_agrees(text)


@settings(max_examples=1500, deadline=None)
@given(st.lists(lines(), max_size=8).map("\n".join))
def test_any_mapping_like_lines_load_as_yaml_loads_them(text: str) -> None:
    assert_agrees(text)


@settings(max_examples=500, deadline=None)
@given(st.text(max_size=60))
def test_any_text_is_declined_or_loads_as_yaml_loads_it(text: str) -> None:
    assert_agrees(text)


@pytest.mark.parametrize(
    "text",
    [
        pytest.param(EXAMPLE, id="readme-example"),
        pytest.param(DEMO_MAPPING, id="demo"),
        pytest.param((ROOT / ".github/approvalflow.yml").read_text("utf-8"), id="this-repo"),
        pytest.param(
            "---\n# docs\nspace: '1'\npages:\n- path: [docs/a.md, 'docs/b/**']\n  page: [1, 2]\n",
            id="document-start-and-indentless-list",
        ),
        pytest.param('space: "1"\r\npages:\r\n  - path: docs/**\r\n    page: "2"\r\n', id="crlf"),
    ],
)
def test_the_common_shapes_take_the_line_reader(text: str) -> None:
    taken = load_common_shape(text, "m.yml")

    assert taken is not None
    assert taken == load_yaml(text, "m.yml") == load_mapping(text, "m.yml")


@pytest.mark.parametrize(
    "text",
    [
        'space: "1"\npages:\n  - path: docs/**\n    page: "2"\n    pgae: "3"\n',
        'space: "1"\npages:\n  - path: docs/**\n    page: abc\n',
        'space: "1"\npages:\n\t- path: docs/**\n    page: "2"\n',
        'space: "1"\npages:\n  - path:\n      - docs/**\n    page: "2"\n',
        'space: "1"\npages:\n  - path: &a docs/**\n    page: "2"\n',
    ],
    ids=["unknown-key", "bad-page", "tab", "block-list", "anchor"],
)
def test_other_shapes_and_problems_are_left_to_the_yaml_reader(text: str) -> None:
    assert load_common_shape(text, "m.yml") is None


def test_the_characters_left_to_yaml_are_those_outside_its_printable_set_and_line_breaks() -> None:
    printable = re.compile("[\n\x20-\x7e\xa0-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
    set_apart = {"\u2028", "\u2029", "\ufeff"}  # line breaks of YAML 1.1, a byte order mark

    declined = {chr(code) for code in range(0x110000) if _OUTSIDE.match(chr(code))}

    expected = {chr(code) for code in range(0x110000) if not printable.match(chr(code))}
    assert declined == expected | set_apart
